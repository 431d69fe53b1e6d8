// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IRewardsCoordinator} from "./interfaces/IEigenLayer.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {DinEpochsBase} from "./DinEpochsBase.sol";
import {IDinEpochs} from "./interfaces/IDinEpochs.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @title DinEpochs
/// @notice Each epoch (a fixed number of blocks), every active watcher posts one report per network with
///         every operator's availability, p50 latency and lag; the contract stores its hash and emits it.
///         Verdicts need reports from a majority of the admitted watcher set. Anyone finalizes an epoch in steps
///         (finalizePage, settlePage, payPage), passing the reports back page by page: before the report window's end only once so many reports are in that
///         the tolerated minority (fewer than half of the admitted watchers) is a strict minority of them,
///         after it with whatever was reported. Per operator the contract takes the order statistic at
///         index floor(n/2) of the n sorted values (an operator counts only when more than half the reports
///         cover it), so a lying minority of the reports cannot move a verdict outside the honest values.
///         SLA misses become queued slashes (the operator is jailed, not deregistered), except while the
///         operator is jailed or ejected, and except when a governed share of the network's stake failed
///         the same rule in the same epoch: those are held here for governance. Each gateway's fees for the
///         epoch are split by that gateway's own relay counts × performance multiplier, so a gateway moves
///         only what it paid. The split is escrowed in the restaking core's RewardsCoordinator as an
///         operator-directed submission; judging never waits on paying and paying never waits on a slash.
contract DinEpochs is DinEpochsBase {
    using SafeERC20 for IERC20;

    /// @notice The contract finalization steps run in (by delegatecall, on this contract's storage): split off
    ///         so that each stays under the 24,576-byte code size limit without linking libraries.
    address public immutable finalizer;

    /// @param registry_ the DinRegistry
    /// @param slasher_ the DinSlasher
    /// @param feeToken_ the fee token
    /// @param sla the initial SLA table
    /// @param epochParams initial epoch timing; epoch 0 starts at deployment
    /// @param admin receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE
    /// @param finalizer_ a DinEpochsFinalizer deployed with the same registry, slasher and fee token
    constructor(
        IDinRegistry registry_,
        IDinSlasher slasher_,
        IERC20 feeToken_,
        SlaTable memory sla,
        EpochParams memory epochParams,
        address admin,
        address finalizer_
    ) DinEpochsBase(registry_, slasher_, feeToken_) {
        finalizer = finalizer_;
        _validateSla(sla);
        _validateEpochParams(epochParams);
        slasher_.checkTiming(uint256(epochParams.epochLength) + epochParams.reportWindow, slasher_.vetoAndMargin(), 0);
        _sla = sla;
        _epochParams = epochParams;
        _segments.push(Segment({startBlock: uint64(block.number), startEpoch: 0, length: epochParams.epochLength}));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
        emit SlaTableSet(sla);
        emit EpochParamsSet(epochParams, 0, block.number);
    }

    // ───────────────────────────── governance ─────────────────────────────

    /// @notice Sets the SLA table (used by every finalization from now on).
    function setSlaTable(SlaTable calldata sla) external onlyRole(GOVERNANCE_ROLE) {
        _validateSla(sla);
        _sla = sla;
        emit SlaTableSet(sla);
    }

    /// @notice Sets epoch timing; a new length applies from the next epoch. Enforces the timing rule.
    function setEpochParams(EpochParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _validateEpochParams(params);
        slasher.checkTiming(uint256(params.epochLength) + params.reportWindow, slasher.vetoAndMargin(), 0);
        uint256 next = currentEpoch() + 1;
        (uint256 nextStart,) = epochBounds(next);
        Segment storage last = _segments[_segments.length - 1];
        if (last.startEpoch == next) last.length = params.epochLength;
        else _segments.push(Segment(uint64(nextStart), uint64(next), params.epochLength));
        _epochParams = params;
        emit EpochParamsSet(params, next, nextStart);
    }

    /// @notice Sets the correlated-failure share, within [MIN_CORRELATED_SHARE_BPS, MAX_CORRELATED_SHARE_BPS].
    function setCorrelatedShare(uint256 shareBps) external onlyRole(GOVERNANCE_ROLE) {
        if (shareBps < MIN_CORRELATED_SHARE_BPS || shareBps > MAX_CORRELATED_SHARE_BPS) revert InvalidParameter();
        correlatedShareBps = shareBps;
        emit CorrelatedShareSet(shareBps);
    }

    /// @notice Queues a held slash in the slasher (which jails the operator).
    function releaseHeldSlash(uint256 heldId) external onlyRole(GOVERNANCE_ROLE) nonReentrant {
        HeldSlash storage h = _requireHeld(heldId);
        h.status = HeldStatus.Released;
        uint256 slashId = slasher.queueSlash(h.operator, h.networkId, h.wad, h.reason);
        emit HeldSlashReleased(heldId, slashId);
    }

    /// @notice Drops a held slash: the operator keeps its stake.
    function dropHeldSlash(uint256 heldId) external onlyRole(GOVERNANCE_ROLE) {
        _requireHeld(heldId).status = HeldStatus.Dropped;
        emit HeldSlashDropped(heldId);
    }

    /// @notice Pauses fees, usage, reports and finalization for at most MAX_PAUSE_BLOCKS. Report windows
    ///         that overlap the pause resume after it, for as many blocks as they lost. A new pause waits as
    ///         long as the last one lasted, so chained pauses hold the contract for at most half the time.
    function pause() external onlyRole(PAUSER_ROLE) {
        if (paused()) revert EnforcedPause();
        uint256 readyAt = pauseReadyAt();
        if (block.number < readyAt) revert PauseCoolingDown(readyAt);
        _pauses.push(Pause(uint64(block.number), uint64(block.number + MAX_PAUSE_BLOCKS)));
        emit Paused(msg.sender);
    }

    /// @notice Lifts a pause before it expires.
    function unpause() external onlyRole(PAUSER_ROLE) {
        if (!paused()) revert ExpectedPause();
        _pauses[_pauses.length - 1].stop = uint64(block.number);
        emit Unpaused(msg.sender);
    }

    // ───────────────────────────── fees and usage ─────────────────────────────

    /// @notice Pays `amount` fee tokens into the current epoch of a network (active gateways). The fees are
    ///         recorded as the caller's: only its own usage report splits them.
    function payFees(uint32 networkId, uint256 amount) external whenNotPaused nonReentrant {
        if (!registry.isActiveGateway(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        uint256 epoch = currentEpoch();
        _epochs[networkId][epoch].fees += amount;
        if (gatewayFees[networkId][epoch][msg.sender] == 0) _payers[networkId][epoch].push(msg.sender);
        gatewayFees[networkId][epoch][msg.sender] += amount;
        emit FeesPaid(networkId, epoch, msg.sender, amount);
        feeToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Reports relays served per operator in an epoch in one page (active gateways; once per epoch
    ///         and network; operators strictly ascending; at most MAX_PAGE_LENGTH).
    function reportUsage(uint32 networkId, uint256 epoch, Usage[] calldata usage) external {
        reportUsagePage(networkId, epoch, 0, true, usage);
    }

    /// @notice Reports page `page` of the caller's usage of an epoch (active gateways; pages in order, each at
    ///         most MAX_PAGE_LENGTH operators, operators strictly ascending across pages; `last` completes the
    ///         report). Only each page's hash and last operator are stored: finalization takes them back.
    function reportUsagePage(uint32 networkId, uint256 epoch, uint256 page, bool last, Usage[] calldata usage)
        public
        whenNotPaused
    {
        if (!registry.isActiveGateway(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        if (epoch > currentEpoch()) revert FutureEpoch();
        _requireReporting(networkId, epoch);
        Report storage report = _usage[networkId][epoch][msg.sender];
        if (report.complete) revert UsageAlreadyReported();
        address previous = _checkPage(report, page, usage.length);
        for (uint256 i; i < usage.length; ++i) {
            if (usage[i].operator <= previous) revert NotSorted();
            previous = usage[i].operator;
        }
        report.pages.push(Page(keccak256(abi.encode(usage)), previous));
        emit UsageReported(networkId, epoch, msg.sender, page, usage);
        if (last) {
            report.complete = true;
            address[] storage reporters = _usageReporters[networkId][epoch];
            emit UsageCompleted(networkId, epoch, msg.sender, reporters.length);
            reporters.push(msg.sender);
        }
    }

    // ───────────────────────────── reports ─────────────────────────────

    /// @notice Posts the caller's report of an ended epoch in one page (active watchers; once per epoch and
    ///         network; operators strictly ascending; at most MAX_PAGE_LENGTH).
    function submitReport(uint32 networkId, uint256 epoch, Metrics[] calldata metrics) external {
        submitReportPage(networkId, epoch, 0, true, metrics);
    }

    /// @notice Posts page `page` of the caller's report of an ended epoch (active watchers; within the report
    ///         window; pages in order, each at most MAX_PAGE_LENGTH operators, operators strictly ascending
    ///         across pages). `last` completes the report: only complete reports count.
    function submitReportPage(uint32 networkId, uint256 epoch, uint256 page, bool last, Metrics[] calldata metrics)
        public
        whenNotPaused
    {
        if (!registry.isActiveWatcher(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        (, uint256 end) = epochBounds(epoch);
        if (block.number < end) revert EpochNotOver();
        if (block.number > reportDeadline(epoch)) revert ReportWindowOver();
        _requireReporting(networkId, epoch);
        Report storage report = _reports[networkId][epoch][msg.sender];
        if (report.complete) revert AlreadyReported();
        address previous = _checkPage(report, page, metrics.length);
        for (uint256 i; i < metrics.length; ++i) {
            if (metrics[i].operator <= previous) revert NotSorted();
            if (metrics[i].availabilityBps > MAX_BPS) revert InvalidParameter();
            previous = metrics[i].operator;
        }
        report.pages.push(Page(keccak256(abi.encode(metrics)), previous));
        emit ReportSubmitted(networkId, epoch, msg.sender, page, metrics);
        if (last) {
            report.complete = true;
            uint256 index = _epochs[networkId][epoch].reportCount++;
            _reporters[networkId][epoch].push(msg.sender);
            emit ReportCompleted(networkId, epoch, msg.sender, index);
        }
    }

    // ───────────────────────────── finalization (run in the finalizer) ─────────────────────────────

    /// @notice Judges the operators in (cursor, upTo] (anyone; the cursor starts at 0 and is the last `upTo`).
    ///         The first call starts finalization, under the rules of the contract's description, and freezes
    ///         reports and usage. `reports[i]` are consecutive pages of complete report i (completion order)
    ///         from page `firstPages[i]`, covering every operator of that report in the range; likewise
    ///         `usage` for the usage reports. Per operator covered by more than half of the reports: the
    ///         verdict, its performance multiplier, the slashes to settle. `upTo` = address(2^160 - 1) ends
    ///         judging and decides which rules failed together (correlated failures).
    function finalizePage(
        uint32, /* networkId */
        uint256, /* epoch */
        address, /* upTo */
        uint256[] calldata, /* firstPages */
        Metrics[][][] calldata, /* reports */
        uint256[] calldata, /* firstUsagePages */
        Usage[][][] calldata /* usage */
    ) external {
        _delegate();
    }

    /// @notice Queues (or holds for governance) up to `count` of the slashes judging recorded (anyone, after
    ///         judging). After the last one, each reporting gateway's fees (paid plus carried) become its pool
    ///         and the fees of gateways that reported no usage stay carried.
    function settlePage(uint32, /* networkId */ uint256, /* epoch */ uint256 /* count */ ) external {
        _delegate();
    }

    /// @notice Pays the operators in (cursor, upTo] (anyone, after settling): each usage report's relays ×
    ///         multiplier over its total, times its gateway's pool, rounded down, escrowed as one
    ///         operator-directed submission. `upTo` = address(2^160 - 1) ends the epoch: what was not paid
    ///         is carried for its gateway.
    function payPage(
        uint32, /* networkId */
        uint256, /* epoch */
        address, /* upTo */
        uint256[] calldata, /* firstUsagePages */
        Usage[][][] calldata /* usage */
    ) external {
        _delegate();
    }

    /// @notice Escrows a network's accrued rewards in the RewardsCoordinator (anyone, once a whole
    ///         calculation interval elapsed since the last flush): one operator-directed submission for the
    ///         network's operator set covering rewardsPeriod(networkId), operators ascending, every strategy
    ///         of the service weighted equally. Reverts (and keeps everything accrued) when the core refuses.
    function flushRewards(uint32 /* networkId */ ) external {
        _delegate();
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice The epoch the current block belongs to.
    function currentEpoch() public view returns (uint256) {
        Segment memory s = _segments[_segments.length - 1];
        uint256 i = _segments.length - 1;
        while (block.number < s.startBlock) s = _segments[--i];
        return s.startEpoch + (block.number - s.startBlock) / s.length;
    }

    /// @notice A slash held for governance.
    function getHeldSlash(uint256 heldId) external view returns (HeldSlash memory) {
        return _held[heldId];
    }

    /// @notice Blocks from an epoch's start to the end of its report window (the detection time of the
    ///         timing rule).
    function detectionBlocks() external view returns (uint256) {
        return uint256(_epochParams.epochLength) + _epochParams.reportWindow;
    }

    /// @notice The SLA table.
    function getSlaTable() external view returns (SlaTable memory) {
        return _sla;
    }

    /// @notice Epoch timing.
    function getEpochParams() external view returns (EpochParams memory) {
        return _epochParams;
    }

    /// @notice Complete usage reports received for an epoch.
    function usageReportCount(uint32 networkId, uint256 epoch) external view returns (uint256) {
        return _usageReporters[networkId][epoch].length;
    }

    /// @notice Whether a watcher's report of an epoch is complete.
    function hasReported(uint32 networkId, uint256 epoch, address watcher) external view returns (bool) {
        return _reports[networkId][epoch][watcher].complete;
    }

    /// @notice Whether a gateway's usage report of an epoch is complete.
    function hasReportedUsage(uint32 networkId, uint256 epoch, address gateway) external view returns (bool) {
        return _usage[networkId][epoch][gateway].complete;
    }

    /// @notice Pages a reporter (watcher, or gateway with `usage`) submitted for an epoch.
    function reportPages(uint32 networkId, uint256 epoch, address reporter, bool usage)
        external
        view
        returns (uint256)
    {
        return (usage ? _usage : _reports)[networkId][epoch][reporter].pages.length;
    }

    /// @notice Where an epoch's finalization stands: its stage, the last operator a judging or paying step
    ///         reached, and how many recorded slashes are settled of how many.
    function getFinalization(uint32 networkId, uint256 epoch)
        external
        view
        returns (Stage stage, address cursor, uint256 settled, uint256 slashes)
    {
        EpochState storage s = _epochs[networkId][epoch];
        return (s.stage, s.cursor, s.settled, _pending[networkId][epoch].length);
    }

    /// @notice Fees paid into an epoch, reports received and whether it is finalized.
    function getEpoch(uint32 networkId, uint256 epoch)
        external
        view
        returns (uint256 fees, uint256 reportCount, bool finalized)
    {
        EpochState memory s = _epochs[networkId][epoch];
        return (s.fees, s.reportCount, s.finalized);
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev Reports and usage are taken only before finalization starts.
    function _requireReporting(uint32 networkId, uint256 epoch) internal view {
        if (_epochs[networkId][epoch].stage != Stage.Reporting) revert FinalizationStarted();
    }

    /// @dev Checks that `page` is the report's next page, within MAX_PAGES and not too long; returns the operator the page's
    ///      first operator must be above (the previous page's last).
    function _checkPage(Report storage report, uint256 page, uint256 length) internal view returns (address) {
        uint256 n = report.pages.length;
        if (page != n) revert InvalidPage();
        if (n >= MAX_PAGES || length > MAX_PAGE_LENGTH) revert ReportTooLong();
        return n == 0 ? address(0) : report.pages[n - 1].last;
    }

    /// @dev Runs the call in the finalizer, on this contract's storage.
    function _delegate() internal {
        address target = finalizer;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }

    function _requireHeld(uint256 heldId) internal view returns (HeldSlash storage h) {
        if (heldId >= _held.length) revert NotHeld();
        h = _held[heldId];
        if (h.status != HeldStatus.Held) revert NotHeld();
    }

    function _validateSla(SlaTable memory sla) internal pure {
        if (
            sla.minAvailabilityBps > MAX_BPS || sla.floorAvailabilityBps >= sla.minAvailabilityBps
                || sla.availabilityWad > WAD || sla.latencyWad > WAD || sla.downWad > WAD
        ) revert InvalidParameter();
    }

    function _validateEpochParams(EpochParams memory p) internal pure {
        if (p.epochLength == 0 || p.reportWindow == 0 || p.reportQuorum == 0) revert InvalidParameter();
    }
}
