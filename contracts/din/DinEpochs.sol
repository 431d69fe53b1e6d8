// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IAllocationManager, OperatorSet} from "../interfaces/IAllocationManager.sol";
import {IRewardsCoordinator} from "../interfaces/IRewardsCoordinator.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IDinEpochs} from "./interfaces/IDinEpochs.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinRegistryReader} from "./interfaces/IDinRegistryReader.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @title DinEpochs
/// @notice Each epoch (a fixed number of blocks), every active watcher posts one report per network with
///         every operator's availability, p50 latency and lag; the contract stores its hash and emits it.
///         Verdicts need reports from a majority of the admitted watcher set. Anyone finalizes an epoch by
///         passing the reports back: before the report window's end only once so many reports are in that
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
contract DinEpochs is IDinEpochs, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Holds the parameter setters: the DAO timelock.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May pause reports, fees and finalization: the guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Most operators a watcher's or gateway's report may list: keeps every finalization (about 30k gas
    ///         per operator plus calldata per report) well inside a block, whatever one reporter sends.
    uint256 public constant MAX_REPORT_LENGTH = 500;
    /// @notice Longest a guardian pause lasts: it expires by itself after this many blocks (3 days at 12 s).
    uint256 public constant MAX_PAUSE_BLOCKS = 21_600;
    /// @notice Bounds of the correlated-failure share governance may set (bps of a network's judged stake):
    ///         below 20% an ordinary bad day of a few large operators would escape slashing; above 50% a
    ///         network-wide failure would be slashed on everyone at once.
    uint256 public constant MIN_CORRELATED_SHARE_BPS = 2000;
    /// @notice ditto, the upper bound.
    uint256 public constant MAX_CORRELATED_SHARE_BPS = 5000;
    /// @notice Fewest operators failing one rule together that make a correlated failure: one operator
    ///         failing alone is an individual failure, however large its stake.
    uint256 public constant MIN_CORRELATED_OPERATORS = 2;
    uint256 internal constant MAX_BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    /// @dev Failures are counted per IDinSlasher.Reason (WrongData, index 0, is never an SLA rule).
    uint256 internal constant RULES = 4;

    /// @dev A guardian pause: from `start` until `stop` (exclusive; start + MAX_PAUSE_BLOCKS until lifted).
    struct Pause {
        uint64 start;
        uint64 stop;
    }

    /// @dev From `startEpoch` on, epochs are `length` blocks long starting at `startBlock`.
    struct Segment {
        uint64 startBlock;
        uint64 startEpoch;
        uint32 length;
    }

    /// @dev One network's epoch.
    struct EpochState {
        uint256 fees;
        uint32 reportCount;
        bool finalized;
    }

    /// @notice The service's registry.
    IDinRegistry public immutable registry;
    /// @notice The service's slasher.
    IDinSlasher public immutable slasher;
    /// @notice The token fees are paid in.
    IERC20 public immutable feeToken;
    /// @notice The restaking core's AllocationManager (the registry's).
    IAllocationManager public immutable allocationManager;
    uint32 internal immutable _watcherSet;

    SlaTable internal _sla;
    EpochParams internal _epochParams;
    Segment[] internal _segments;
    mapping(uint32 networkId => mapping(uint256 epoch => EpochState)) internal _epochs;
    mapping(uint32 networkId => mapping(uint256 epoch => bytes32[])) internal _reportHashes;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address watcher => bool))) public hasReported;
    mapping(uint32 networkId => mapping(uint256 epoch => bytes32[])) internal _usageHashes;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => bool))) public hasReportedUsage;
    mapping(uint32 networkId => mapping(uint256 epoch => address[])) internal _usageReporters;
    mapping(uint32 networkId => mapping(uint256 epoch => address[])) internal _payers;
    /// @notice Fees a gateway paid into an epoch (each gateway's fees are split by its own usage report).
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => uint256))) public gatewayFees;
    /// @notice Fees of a gateway not paid out yet (rounding dust, epochs where none of its operators earned, a
    ///         failed escrow): added to that gateway's fees of the next epoch it reports usage for.
    mapping(uint32 networkId => mapping(address gateway => uint256)) public carriedFees;
    /// @notice Share (bps) of a network's judged stake that, failing one rule in one epoch, holds that rule's
    ///         slashes for governance.
    uint256 public correlatedShareBps = 3334;
    HeldSlash[] internal _held;
    Pause[] internal _pauses;
    /// @notice End of the last rewards period escrowed for a network (seconds).
    mapping(uint32 networkId => uint256) public lastRewardsTimestamp;

    /// @param registry_ the DinRegistry
    /// @param slasher_ the DinSlasher
    /// @param feeToken_ the fee token
    /// @param sla the initial SLA table
    /// @param epochParams initial epoch timing; epoch 0 starts at deployment
    /// @param admin receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE
    constructor(
        IDinRegistry registry_,
        IDinSlasher slasher_,
        IERC20 feeToken_,
        SlaTable memory sla,
        EpochParams memory epochParams,
        address admin
    ) {
        registry = registry_;
        slasher = slasher_;
        feeToken = feeToken_;
        allocationManager = IDinRegistryReader(address(registry_)).allocationManager();
        _watcherSet = IDinRegistryReader(address(registry_)).WATCHER_SET();
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
    ///         that overlap the pause resume after it, for as many blocks as they lost.
    function pause() external onlyRole(PAUSER_ROLE) {
        if (paused()) revert EnforcedPause();
        _pauses.push(Pause(uint64(block.number), uint64(block.number + MAX_PAUSE_BLOCKS)));
        emit Paused(msg.sender);
    }

    /// @notice Lifts a pause before it expires.
    function unpause() external onlyRole(PAUSER_ROLE) {
        if (!paused()) revert ExpectedPause();
        _pauses[_pauses.length - 1].stop = uint64(block.number);
        emit Unpaused(msg.sender);
    }

    /// @notice Whether a guardian pause is in force (it expires MAX_PAUSE_BLOCKS after it began).
    function paused() public view override returns (bool) {
        uint256 n = _pauses.length;
        return n > 0 && block.number < _pauses[n - 1].stop;
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

    /// @notice Reports relays served per operator in an epoch (active gateways; once per epoch and network;
    ///         operators strictly ascending). Only the hash and the reporter are stored: finalize takes the
    ///         reports back and splits each gateway's fees by its own report.
    function reportUsage(uint32 networkId, uint256 epoch, Usage[] calldata usage) external whenNotPaused {
        if (!registry.isActiveGateway(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        if (epoch > currentEpoch()) revert FutureEpoch();
        if (_epochs[networkId][epoch].finalized) revert AlreadyFinalized();
        if (hasReportedUsage[networkId][epoch][msg.sender]) revert UsageAlreadyReported();
        if (usage.length > MAX_REPORT_LENGTH) revert ReportTooLong();
        for (uint256 i = 1; i < usage.length; ++i) {
            if (usage[i].operator <= usage[i - 1].operator) revert NotSorted();
        }
        hasReportedUsage[networkId][epoch][msg.sender] = true;
        bytes32[] storage hashes = _usageHashes[networkId][epoch];
        emit UsageReported(networkId, epoch, msg.sender, hashes.length, usage);
        hashes.push(keccak256(abi.encode(usage)));
        _usageReporters[networkId][epoch].push(msg.sender);
    }

    // ───────────────────────────── reports ─────────────────────────────

    /// @notice Posts the caller's report of an ended epoch (active watchers; once per epoch and network;
    ///         operators strictly ascending).
    function submitReport(uint32 networkId, uint256 epoch, Metrics[] calldata metrics) external whenNotPaused {
        if (!registry.isActiveWatcher(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        (, uint256 end) = epochBounds(epoch);
        if (block.number < end) revert EpochNotOver();
        if (block.number > reportDeadline(epoch)) revert ReportWindowOver();
        EpochState storage state = _epochs[networkId][epoch];
        if (state.finalized) revert AlreadyFinalized();
        if (hasReported[networkId][epoch][msg.sender]) revert AlreadyReported();
        if (metrics.length > MAX_REPORT_LENGTH) revert ReportTooLong();
        for (uint256 i; i < metrics.length; ++i) {
            if (i > 0 && metrics[i].operator <= metrics[i - 1].operator) revert NotSorted();
            if (metrics[i].availabilityBps > MAX_BPS) revert InvalidParameter();
        }
        hasReported[networkId][epoch][msg.sender] = true;
        uint256 index = state.reportCount++;
        _reportHashes[networkId][epoch].push(keccak256(abi.encode(metrics)));
        emit ReportSubmitted(networkId, epoch, msg.sender, index, metrics);
    }

    /// @notice Finalizes an epoch (anyone) with the watchers' reports and the gateways' usage reports
    ///         submitted for it, each in submission order: per-operator verdicts, SLA slashes queued (or held
    ///         for governance), each gateway's fees split and escrowed. Before the report deadline only once
    ///         `earlyReports` reports are in; after it with however many came. Below `neededReports` nobody is
    ///         judged or paid and the fees are carried.
    function finalize(uint32 networkId, uint256 epoch, Metrics[][] calldata reports, Usage[][] calldata usage)
        external
        whenNotPaused
        nonReentrant
    {
        EpochState storage state = _epochs[networkId][epoch];
        if (state.finalized) revert AlreadyFinalized();
        (, uint256 end) = epochBounds(epoch);
        if (block.number < end) revert EpochNotOver();
        uint256 count = state.reportCount;
        (uint256 needed, uint256 early) = _thresholds(count);
        if (count < early && block.number <= reportDeadline(epoch)) revert NotFinalizable();
        if (reports.length != count) revert ReportsMismatch();
        bytes32[] storage hashes = _reportHashes[networkId][epoch];
        uint256 bound;
        for (uint256 i; i < count; ++i) {
            if (keccak256(abi.encode(reports[i])) != hashes[i]) revert ReportsMismatch();
            bound += reports[i].length;
        }
        bytes32[] storage usageHashes = _usageHashes[networkId][epoch];
        if (usage.length != usageHashes.length) revert ReportsMismatch();
        for (uint256 i; i < usage.length; ++i) {
            if (keccak256(abi.encode(usage[i])) != usageHashes[i]) revert ReportsMismatch();
        }
        state.finalized = true;

        // Fewer reports than a majority of the watcher set (the deadline passed): nobody is judged and the
        // fees are carried, so a minority of watchers can neither slash nor pay anyone.
        Scratch memory scratch = _scratch(count, usage.length, count >= needed ? bound : 0);
        if (count >= needed) {
            _judgeAll(networkId, epoch, reports, usage, scratch);
            _settleSlashes(networkId, epoch, scratch);
        }
        _payout(networkId, epoch, count, scratch);
    }

    /// @notice Escrows a payout in the RewardsCoordinator (this contract only: finalize calls it so that a
    ///         failing escrow reverts the transfer with it and the fees are carried instead).
    function escrow(uint32 networkId, IRewardsCoordinator.OperatorReward[] calldata rewards, uint256 total)
        external
    {
        if (msg.sender != address(this)) revert InvalidCaller();
        _escrow(networkId, rewards, total);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice The epoch the current block belongs to.
    function currentEpoch() public view returns (uint256) {
        Segment memory s = _segments[_segments.length - 1];
        uint256 i = _segments.length - 1;
        while (block.number < s.startBlock) s = _segments[--i];
        return s.startEpoch + (block.number - s.startBlock) / s.length;
    }

    /// @notice First block of `epoch` and the first block after it.
    function epochBounds(uint256 epoch) public view returns (uint256 start, uint256 end) {
        uint256 i = _segments.length - 1;
        Segment memory s = _segments[i];
        while (epoch < s.startEpoch) s = _segments[--i];
        start = s.startBlock + (epoch - s.startEpoch) * s.length;
        end = start + s.length;
    }

    /// @notice The last block in which `epoch` accepts reports: its end plus the report window, plus the
    ///         blocks of every guardian pause that overlapped the window (the window resumes after a pause).
    function reportDeadline(uint256 epoch) public view returns (uint256 deadline) {
        (, uint256 end) = epochBounds(epoch);
        deadline = end + _epochParams.reportWindow;
        uint256 i = _pauses.length;
        while (i > 0 && _pauses[i - 1].stop > end) --i;
        for (; i < _pauses.length; ++i) {
            Pause memory p = _pauses[i];
            if (p.start > deadline) break;
            deadline += p.stop - (p.start > end ? p.start : end);
        }
    }

    /// @notice Active watchers: admitted and registered in the watcher set.
    function activeWatcherCount() public view returns (uint256 n) {
        address[] memory members = allocationManager.getMembers(OperatorSet(address(registry), _watcherSet));
        for (uint256 i; i < members.length; ++i) {
            if (registry.isActiveWatcher(members[i])) ++n;
        }
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

    /// @notice Usage reports received for an epoch.
    function usageReportCount(uint32 networkId, uint256 epoch) external view returns (uint256) {
        return _usageHashes[networkId][epoch].length;
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

    /// @notice The performance multiplier (bps) of a median measurement under the current SLA table, and
    ///         the slash fractions it triggers (0 when none).
    function assess(uint16 availabilityBps, uint32 p50LatencyMs, uint32 lagBlocks)
        public
        view
        returns (uint256 multiplierBps, uint64 downWad, uint64 availabilityWad, uint64 latencyWad)
    {
        SlaTable memory sla = _sla;
        if (availabilityBps == 0) return (0, sla.downWad, 0, 0);
        if (availabilityBps < sla.minAvailabilityBps) availabilityWad = sla.availabilityWad;
        if (p50LatencyMs > sla.maxP50LatencyMs) latencyWad = sla.latencyWad;
        if (availabilityBps >= sla.minAvailabilityBps) {
            multiplierBps = MAX_BPS;
        } else if (availabilityBps > sla.floorAvailabilityBps) {
            multiplierBps = (uint256(availabilityBps) - sla.floorAvailabilityBps) * MAX_BPS
                / (uint256(sla.minAvailabilityBps) - sla.floorAvailabilityBps);
        }
        if (p50LatencyMs > sla.maxP50LatencyMs) multiplierBps = multiplierBps * sla.maxP50LatencyMs / p50LatencyMs;
        if (lagBlocks > sla.maxLagBlocks) multiplierBps = multiplierBps * sla.maxLagBlocks / lagBlocks;
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev Per-finalization scratch space: one cursor per report and per usage report, one value per report
    ///      for each metric, the verdicts, each usage report's weights, and the slashes to settle.
    struct Scratch {
        uint256[] cursor;
        uint256[] usageCursor;
        uint256[] availability;
        uint256[] latency;
        uint256[] lag;
        address[] operators;
        uint256[] multipliers;
        uint256 judged;
        /// @dev weights[u][k]: usage report u's relays for operators[k] × its multiplier
        uint256[][] weights;
        address[] slashOperators;
        uint8[] slashReasons;
        uint64[] slashWads;
        uint256 slashes;
        uint256 totalStake;
        uint256[RULES] failedStake;
        uint256[RULES] failedCount;
    }

    function _scratch(uint256 reports, uint256 usages, uint256 bound) internal pure returns (Scratch memory s) {
        s.cursor = new uint256[](reports);
        s.usageCursor = new uint256[](usages);
        s.availability = new uint256[](reports);
        s.latency = new uint256[](reports);
        s.lag = new uint256[](reports);
        s.operators = new address[](bound);
        s.multipliers = new uint256[](bound);
        s.weights = new uint256[][](usages);
        for (uint256 u; u < usages; ++u) {
            s.weights[u] = new uint256[](bound);
        }
        s.slashOperators = new address[](2 * bound);
        s.slashReasons = new uint8[](2 * bound);
        s.slashWads = new uint64[](2 * bound);
    }

    /// @dev (needed, early) for `count` reports of an admitted set of N = max(active watchers, count):
    ///      needed = max(floor(N/2) + 1, reportQuorum); the tolerated minority is f = floor((N - 1) / 2)
    ///      (strictly less than half), and early = max(2f + 1, needed) — all N when N is odd — so no f
    ///      watchers racing to report first are ever half of the reports an early verdict uses.
    function _thresholds(uint256 count) internal view returns (uint256 needed, uint256 early) {
        uint256 n = activeWatcherCount();
        if (count > n) n = count;
        needed = n / 2 + 1;
        if (needed < _epochParams.reportQuorum) needed = _epochParams.reportQuorum;
        early = 2 * ((n == 0 ? 0 : n - 1) / 2) + 1;
        if (early < needed) early = needed;
    }

    /// @dev Merges the reports (each sorted by operator), takes the verdicts, records the slashes to settle and
    ///      each usage report's weights. O(watchers² × operators), no storage loops.
    function _judgeAll(
        uint32 networkId,
        uint256 epoch,
        Metrics[][] calldata reports,
        Usage[][] calldata usage,
        Scratch memory scratch
    ) internal {
        while (true) {
            (bool any, address next) = _nextOperator(reports, scratch.cursor);
            if (!any) break;
            uint256 n = _collect(reports, scratch, next);
            // Judged only when a majority of the reports cover it: a minority cannot add or remove anyone.
            if (2 * n <= reports.length) continue;
            uint256 multiplier = _judge(networkId, epoch, next, scratch, n);
            if (multiplier == 0) continue;
            uint256 k = scratch.judged++;
            scratch.operators[k] = next;
            scratch.multipliers[k] = multiplier;
            _relays(usage, scratch, next, k, multiplier);
        }
    }

    /// @dev The smallest operator at the reports' cursors.
    function _nextOperator(Metrics[][] calldata reports, uint256[] memory cursor)
        internal
        pure
        returns (bool any, address next)
    {
        for (uint256 i; i < reports.length; ++i) {
            if (cursor[i] < reports[i].length) {
                address candidate = reports[i][cursor[i]].operator;
                if (!any || candidate < next) next = candidate;
                any = true;
            }
        }
    }

    /// @dev Copies `operator`'s metrics from every report that has it at its cursor and advances those cursors.
    function _collect(Metrics[][] calldata reports, Scratch memory scratch, address operator)
        internal
        pure
        returns (uint256 n)
    {
        for (uint256 i; i < reports.length; ++i) {
            uint256 c = scratch.cursor[i];
            if (c < reports[i].length && reports[i][c].operator == operator) {
                Metrics calldata m = reports[i][c];
                scratch.availability[n] = m.availabilityBps;
                scratch.latency[n] = m.p50LatencyMs;
                scratch.lag[n] = m.lagBlocks;
                ++n;
                scratch.cursor[i] = c + 1;
            }
        }
    }

    /// @dev Records each usage report's weight for `operator` (relays × multiplier; each report sorted, cursors
    ///      only move forward because operators are judged in ascending order).
    function _relays(Usage[][] calldata usage, Scratch memory scratch, address operator, uint256 k, uint256 multiplier)
        internal
        pure
    {
        for (uint256 i; i < usage.length; ++i) {
            uint256 c = scratch.usageCursor[i];
            uint256 length = usage[i].length;
            while (c < length && usage[i][c].operator < operator) ++c;
            if (c < length && usage[i][c].operator == operator) scratch.weights[i][k] = multiplier * usage[i][c++].relays;
            scratch.usageCursor[i] = c;
        }
    }

    /// @dev The verdict for `n` values of each metric: the element at index floor(n/2) of the ascending sorted
    ///      values, for every metric. With liars a strict minority L < n/2 of the n values, at least
    ///      floor(n/2) + 1 > L values are at or below it and n - floor(n/2) = ceil(n/2) > L at or above it, so
    ///      it lies between two honest values: lying can push it neither below the lowest honest value nor
    ///      above the highest, in either direction.
    /// @return multiplier the performance multiplier in bps; 0 when failing a rule, jailed or ejected
    function _judge(uint32 networkId, uint256 epoch, address operator, Scratch memory scratch, uint256 n)
        internal
        returns (uint256)
    {
        (uint256 multiplier, uint64 downWad, uint64 availabilityWad, uint64 latencyWad) =
            _verdict(networkId, epoch, operator, scratch, n);
        // Operators failing a rule, jailed or ejected earn nothing for the epoch.
        if (_record(networkId, operator, scratch, downWad, availabilityWad, latencyWad)) return 0;
        return multiplier;
    }

    /// @dev The order statistics, their assessment and the OperatorJudged event.
    function _verdict(uint32 networkId, uint256 epoch, address operator, Scratch memory scratch, uint256 n)
        internal
        returns (uint256 multiplier, uint64 downWad, uint64 availabilityWad, uint64 latencyWad)
    {
        uint16 a = uint16(_sorted(scratch.availability, n)[n / 2]);
        uint32 l = uint32(_sorted(scratch.latency, n)[n / 2]);
        uint32 g = uint32(_sorted(scratch.lag, n)[n / 2]);
        (multiplier, downWad, availabilityWad, latencyWad) = assess(a, l, g);
        emit OperatorJudged(networkId, epoch, operator, a, l, g, multiplier);
    }

    /// @dev Records the operator's stake and rule failures; true when it earns nothing (failed, jailed or
    ///      ejected). No slash is recorded while the clock is stopped: a jailed operator already answers for
    ///      its pending slash, and an ejected one has left the network.
    function _record(
        uint32 networkId,
        address operator,
        Scratch memory scratch,
        uint64 downWad,
        uint64 availabilityWad,
        uint64 latencyWad
    ) internal view returns (bool) {
        uint256 stake = IDinRegistryReader(address(registry)).allocatedStake(operator, networkId);
        scratch.totalStake += stake;
        bool punishable = !registry.isJailed(operator, networkId) && _isMember(operator, networkId);
        _fail(scratch, operator, IDinSlasher.Reason.Down, downWad, stake, punishable);
        _fail(scratch, operator, IDinSlasher.Reason.Unavailable, availabilityWad, stake, punishable);
        _fail(scratch, operator, IDinSlasher.Reason.SlowLatency, latencyWad, stake, punishable);
        return downWad > 0 || availabilityWad > 0 || latencyWad > 0 || !punishable;
    }

    function _isMember(address operator, uint32 networkId) internal view returns (bool) {
        return allocationManager.isMemberOfOperatorSet(operator, OperatorSet(address(registry), networkId));
    }

    /// @dev Counts a rule failure towards its rule's failed stake and, if the operator can be punished,
    ///      records the slash to settle.
    function _fail(
        Scratch memory scratch,
        address operator,
        IDinSlasher.Reason reason,
        uint64 wad,
        uint256 stake,
        bool punishable
    ) internal pure {
        if (wad == 0) return;
        uint256 rule = uint256(reason);
        scratch.failedStake[rule] += stake;
        ++scratch.failedCount[rule];
        if (!punishable) return;
        uint256 i = scratch.slashes++;
        scratch.slashOperators[i] = operator;
        scratch.slashReasons[i] = uint8(reason);
        scratch.slashWads[i] = wad;
    }

    /// @dev Queues the recorded slashes, except a rule's whose failed stake reached the correlated share of the
    ///      judged stake with at least MIN_CORRELATED_OPERATORS operators failing it (held for governance). The share rounds down, so a failure exactly at the share is
    ///      held only when it truly reaches it. A slash the slasher refuses is held instead of reverting.
    function _settleSlashes(uint32 networkId, uint256 epoch, Scratch memory scratch) internal {
        bool[RULES] memory correlated;
        for (uint256 r = 1; r < RULES; ++r) {
            if (scratch.failedCount[r] < MIN_CORRELATED_OPERATORS || scratch.totalStake == 0) continue;
            uint256 shareBps = scratch.failedStake[r] * MAX_BPS / scratch.totalStake;
            if (shareBps < correlatedShareBps) continue;
            correlated[r] = true;
            emit CorrelatedFailure(networkId, epoch, IDinSlasher.Reason(r), shareBps, scratch.failedCount[r]);
        }
        for (uint256 i; i < scratch.slashes; ++i) {
            IDinSlasher.Reason reason = IDinSlasher.Reason(scratch.slashReasons[i]);
            address operator = scratch.slashOperators[i];
            uint64 wad = scratch.slashWads[i];
            if (correlated[uint256(reason)]) {
                _hold(operator, networkId, epoch, reason, wad);
                continue;
            }
            try slasher.queueSlash(operator, networkId, wad, reason) {}
            catch (bytes memory data) {
                emit SlashQueueFailed(operator, networkId, reason, data);
                _hold(operator, networkId, epoch, reason, wad);
            }
        }
    }

    function _hold(address operator, uint32 networkId, uint256 epoch, IDinSlasher.Reason reason, uint64 wad) internal {
        uint256 id = _held.length;
        _held.push(HeldSlash(operator, networkId, wad, reason, HeldStatus.Held, epoch));
        emit SlashHeld(id, operator, networkId, epoch, reason, wad);
    }

    function _requireHeld(uint256 heldId) internal view returns (HeldSlash storage h) {
        if (heldId >= _held.length) revert NotHeld();
        h = _held[heldId];
        if (h.status != HeldStatus.Held) revert NotHeld();
    }

    /// @dev Insertion sort of the first `n` values, in place (n is the number of watchers: small).
    function _sorted(uint256[] memory values, uint256 n) internal pure returns (uint256[] memory) {
        for (uint256 i = 1; i < n; ++i) {
            uint256 v = values[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > v) {
                values[j] = values[j - 1];
                --j;
            }
            values[j] = v;
        }
        return values;
    }

    /// @dev Splits each reporting gateway's fees (paid into the epoch, plus its carried fees) by its own usage
    ///      report's weights, rounding each amount down (in favour of the protocol: the dust stays carried for
    ///      that gateway). Fees of gateways that did not report, or whose operators all earned nothing, stay
    ///      carried. If the escrow fails, everything it would have paid is carried back to its gateways.
    function _payout(uint32 networkId, uint256 epoch, uint256 reportCount, Scratch memory scratch) internal {
        (uint256[] memory amounts, uint256[] memory gatewayPaid, uint256 paid, uint256 pool) =
            _split(networkId, epoch, scratch);
        pool += _carryNonReporters(networkId, epoch);
        IRewardsCoordinator.OperatorReward[] memory rewards = _rewards(scratch, amounts);
        if (rewards.length > 0) {
            try this.escrow(networkId, rewards, paid) {}
            catch (bytes memory data) {
                emit PayoutFailed(networkId, epoch, paid, data);
                address[] storage gateways = _usageReporters[networkId][epoch];
                for (uint256 u; u < gateways.length; ++u) {
                    carriedFees[networkId][gateways[u]] += gatewayPaid[u];
                }
                paid = 0;
            }
        }
        emit EpochFinalized(networkId, epoch, reportCount, paid, pool - paid);
    }

    /// @dev Each reporting gateway's split; what it does not pay is carried for it.
    function _split(uint32 networkId, uint256 epoch, Scratch memory scratch)
        internal
        returns (uint256[] memory amounts, uint256[] memory gatewayPaid, uint256 paid, uint256 pool)
    {
        address[] storage gateways = _usageReporters[networkId][epoch];
        amounts = new uint256[](scratch.judged);
        gatewayPaid = new uint256[](gateways.length);
        for (uint256 u; u < gateways.length; ++u) {
            address gateway = gateways[u];
            uint256 fees = gatewayFees[networkId][epoch][gateway] + carriedFees[networkId][gateway];
            pool += fees;
            uint256 spent = _splitOne(fees, scratch.weights[u], scratch.judged, amounts);
            gatewayPaid[u] = spent;
            paid += spent;
            carriedFees[networkId][gateway] = fees - spent;
        }
    }

    /// @dev Adds `fees` × weight / total weight (rounded down) to each operator's amount; returns the sum.
    function _splitOne(uint256 fees, uint256[] memory weights, uint256 judged, uint256[] memory amounts)
        internal
        pure
        returns (uint256 spent)
    {
        uint256 total;
        for (uint256 k; k < judged; ++k) {
            total += weights[k];
        }
        if (total == 0) return 0;
        for (uint256 k; k < judged; ++k) {
            uint256 amount = fees * weights[k] / total;
            amounts[k] += amount;
            spent += amount;
        }
    }

    /// @dev Gateways that paid into the epoch but reported no usage for it keep their fees, carried.
    function _carryNonReporters(uint32 networkId, uint256 epoch) internal returns (uint256 carried) {
        address[] storage payers = _payers[networkId][epoch];
        for (uint256 i; i < payers.length; ++i) {
            address payer = payers[i];
            if (hasReportedUsage[networkId][epoch][payer]) continue;
            uint256 fees = gatewayFees[networkId][epoch][payer];
            carriedFees[networkId][payer] += fees;
            carried += fees;
        }
    }

    function _rewards(Scratch memory scratch, uint256[] memory amounts)
        internal
        pure
        returns (IRewardsCoordinator.OperatorReward[] memory rewards)
    {
        rewards = new IRewardsCoordinator.OperatorReward[](scratch.judged);
        uint256 n;
        for (uint256 k; k < scratch.judged; ++k) {
            if (amounts[k] > 0) rewards[n++] = IRewardsCoordinator.OperatorReward(scratch.operators[k], amounts[k]);
        }
        assembly {
            mstore(rewards, n)
        }
    }

    function _escrow(uint32 networkId, IRewardsCoordinator.OperatorReward[] calldata rewards, uint256 total) internal {
        IStrategy[] memory strategies = registry.getStrategies();
        IRewardsCoordinator.StrategyAndMultiplier[] memory weights =
            new IRewardsCoordinator.StrategyAndMultiplier[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            weights[i] = IRewardsCoordinator.StrategyAndMultiplier(strategies[i], uint96(WAD));
        }
        // The period is the time since the last escrow of this network: stake is averaged over it.
        uint256 start = lastRewardsTimestamp[networkId];
        if (start == 0 || start >= block.timestamp) start = block.timestamp - 1;
        lastRewardsTimestamp[networkId] = block.timestamp;
        IRewardsCoordinator.OperatorDirectedRewardsSubmission memory submission = IRewardsCoordinator
            .OperatorDirectedRewardsSubmission({
            strategiesAndMultipliers: weights,
            token: IERC20(address(feeToken)),
            operatorRewards: rewards,
            startTimestamp: uint32(start),
            duration: uint32(block.timestamp - start),
            description: "din: epoch fees"
        });
        feeToken.safeTransfer(address(registry), total);
        registry.submitRewards(submission);
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
