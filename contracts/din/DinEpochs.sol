// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IRewardsCoordinator} from "../interfaces/IRewardsCoordinator.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IDinEpochs} from "./interfaces/IDinEpochs.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @title DinEpochs
/// @notice Each epoch (a fixed number of blocks), every active watcher posts one report per network with
///         every operator's availability, p50 latency and lag; the contract stores its hash and emits it.
///         After a quorum of reports, or after the report window, anyone finalizes the epoch by passing the
///         reports back: the contract takes the median per operator (an operator counts only when more than
///         half the reports cover it, so a lying minority changes nothing), turns SLA misses into queued
///         slashes (the operator is jailed, not deregistered), and splits the epoch's fee pool across
///         operators by relays served (reported by gateways) × performance multiplier, excluding jailed
///         operators. The split is escrowed in the restaking core's RewardsCoordinator as an
///         operator-directed submission: the operator's commission and its delegators' pro-rata shares are
///         paid by cumulative Merkle claims, whose gas does not depend on the number of delegators.
contract DinEpochs is IDinEpochs, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Holds the parameter setters: the DAO timelock.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May pause reports, fees and finalization: the guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Most operators a watcher's or gateway's report may list: keeps every finalization (about 30k gas
    ///         per operator plus calldata per report) well inside a block, whatever one reporter sends.
    uint256 public constant MAX_REPORT_LENGTH = 500;
    uint256 internal constant MAX_BPS = 10_000;
    uint256 internal constant WAD = 1e18;

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

    SlaTable internal _sla;
    EpochParams internal _epochParams;
    Segment[] internal _segments;
    mapping(uint32 networkId => mapping(uint256 epoch => EpochState)) internal _epochs;
    mapping(uint32 networkId => mapping(uint256 epoch => bytes32[])) internal _reportHashes;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address watcher => bool))) public hasReported;
    mapping(uint32 networkId => mapping(uint256 epoch => bytes32[])) internal _usageHashes;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => bool))) public hasReportedUsage;
    /// @notice Fees not paid out yet (rounding dust, epochs with nobody to pay): added to the next finalized pool.
    mapping(uint32 networkId => uint256) public carriedFees;
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

    /// @notice Pauses fees, usage, reports and finalization.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ───────────────────────────── fees and usage ─────────────────────────────

    /// @notice Pays `amount` fee tokens into the current epoch's pool of a network (anyone; gateways in practice).
    function payFees(uint32 networkId, uint256 amount) external whenNotPaused nonReentrant {
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        uint256 epoch = currentEpoch();
        _epochs[networkId][epoch].fees += amount;
        emit FeesPaid(networkId, epoch, msg.sender, amount);
        feeToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Reports relays served per operator in an epoch (active gateways; once per epoch and network;
    ///         operators strictly ascending). Only the hash is stored: finalize takes the reports back and
    ///         sums them, so a report costs calldata, not a storage slot per operator.
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
    }

    // ───────────────────────────── reports ─────────────────────────────

    /// @notice Posts the caller's report of an ended epoch (active watchers; once per epoch and network;
    ///         operators strictly ascending).
    function submitReport(uint32 networkId, uint256 epoch, Metrics[] calldata metrics) external whenNotPaused {
        if (!registry.isActiveWatcher(msg.sender)) revert InvalidCaller();
        if (!registry.networkExists(networkId)) revert UnknownNetwork(networkId);
        (, uint256 end) = epochBounds(epoch);
        if (block.number < end) revert EpochNotOver();
        if (block.number > end + _epochParams.reportWindow) revert ReportWindowOver();
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
    ///         submitted for it, each in submission order: medians,
    ///         SLA slashes queued, fee pool split and escrowed. Allowed once a quorum reported, or after the
    ///         report window with however many reports came (below the quorum nobody is judged or paid, and
    ///         the pool is carried to the next epoch).
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
        if (count < _epochParams.reportQuorum && block.number <= end + _epochParams.reportWindow) {
            revert NotFinalizable();
        }
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

        // Fewer reports than the quorum (the deadline passed): nobody is judged and the pool is carried,
        // so a lone watcher can neither slash nor pay anyone.
        address[] memory operators;
        uint256[] memory weights;
        uint256 totalWeight;
        if (count >= _epochParams.reportQuorum) {
            (operators, weights, totalWeight) = _judgeAll(networkId, epoch, reports, usage, bound);
        }
        _payout(networkId, epoch, count, operators, weights, totalWeight);
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
    ///      for each metric.
    struct Scratch {
        uint256[] cursor;
        uint256[] usageCursor;
        uint256[] availability;
        uint256[] latency;
        uint256[] lag;
    }

    /// @dev Merges the reports (each sorted by operator), takes the medians, queues slashes and returns the
    ///      operators with a positive reward weight, ascending. O(watchers² × operators), no storage loops.
    function _judgeAll(
        uint32 networkId,
        uint256 epoch,
        Metrics[][] calldata reports,
        Usage[][] calldata usage,
        uint256 bound
    ) internal returns (address[] memory operators, uint256[] memory weights, uint256 totalWeight) {
        operators = new address[](bound);
        weights = new uint256[](bound);
        Scratch memory scratch = Scratch(
            new uint256[](reports.length),
            new uint256[](usage.length),
            new uint256[](reports.length),
            new uint256[](reports.length),
            new uint256[](reports.length)
        );
        uint256 k;
        while (true) {
            (bool any, address next, uint256 w) = _step(networkId, epoch, reports, usage, scratch);
            if (!any) break;
            if (w == 0) continue;
            operators[k] = next;
            weights[k] = w;
            totalWeight += w;
            ++k;
        }
        assembly {
            mstore(operators, k)
            mstore(weights, k)
        }
    }

    /// @dev Judges the next operator in the merge; its weight is relays × multiplier (0 if not judged).
    function _step(
        uint32 networkId,
        uint256 epoch,
        Metrics[][] calldata reports,
        Usage[][] calldata usage,
        Scratch memory scratch
    ) internal returns (bool any, address next, uint256 weight) {
        (any, next) = _nextOperator(reports, scratch.cursor);
        if (!any) return (false, next, 0);
        uint256 n = _collect(reports, scratch, next);
        // Judged only when a majority of the reports cover it: a minority cannot add or remove anyone.
        if (2 * n <= reports.length) return (true, next, 0);
        uint256 multiplier = _judge(networkId, epoch, next, scratch, n);
        if (multiplier == 0) return (true, next, 0);
        weight = multiplier * _relays(usage, scratch.usageCursor, next);
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

    /// @dev Relays served by `operator`, summed over the usage reports (each sorted; cursors only move forward
    ///      because operators are judged in ascending order).
    function _relays(Usage[][] calldata usage, uint256[] memory cursor, address operator)
        internal
        pure
        returns (uint256 relays)
    {
        for (uint256 i; i < usage.length; ++i) {
            uint256 c = cursor[i];
            uint256 length = usage[i].length;
            while (c < length && usage[i][c].operator < operator) ++c;
            if (c < length && usage[i][c].operator == operator) relays += usage[i][c++].relays;
            cursor[i] = c;
        }
    }

    /// @dev Medians for `n` values; with an even count, the middle value that favours the operator
    ///      (higher availability, lower latency and lag), so one liar among two cannot hurt an operator.
    /// @return multiplier the performance multiplier in bps; 0 when slashed or jailed
    function _judge(uint32 networkId, uint256 epoch, address operator, Scratch memory scratch, uint256 n)
        internal
        returns (uint256)
    {
        uint16 a = uint16(_sorted(scratch.availability, n)[n / 2]);
        uint32 l = uint32(_sorted(scratch.latency, n)[(n - 1) / 2]);
        uint32 g = uint32(_sorted(scratch.lag, n)[(n - 1) / 2]);
        (uint256 multiplier, uint64 downWad, uint64 availabilityWad, uint64 latencyWad) = assess(a, l, g);
        emit OperatorJudged(networkId, epoch, operator, a, l, g, multiplier);
        if (downWad > 0) slasher.queueSlash(operator, networkId, downWad, IDinSlasher.Reason.Down);
        if (availabilityWad > 0) {
            slasher.queueSlash(operator, networkId, availabilityWad, IDinSlasher.Reason.Unavailable);
        }
        if (latencyWad > 0) slasher.queueSlash(operator, networkId, latencyWad, IDinSlasher.Reason.SlowLatency);
        // Slashed or jailed operators earn nothing for the epoch.
        if (downWad > 0 || availabilityWad > 0 || latencyWad > 0) return 0;
        if (registry.isJailed(operator, networkId)) return 0;
        return multiplier;
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

    /// @dev Splits the pool by weight, rounding down; whatever is not paid is carried to the next epoch.
    function _payout(
        uint32 networkId,
        uint256 epoch,
        uint256 reportCount,
        address[] memory operators,
        uint256[] memory weights,
        uint256 totalWeight
    ) internal {
        uint256 pool = _epochs[networkId][epoch].fees + carriedFees[networkId];
        uint256 paid;
        IRewardsCoordinator.OperatorReward[] memory rewards = new IRewardsCoordinator.OperatorReward[](operators.length);
        uint256 n;
        if (totalWeight > 0 && pool > 0) {
            for (uint256 i; i < operators.length; ++i) {
                uint256 amount = pool * weights[i] / totalWeight;
                if (amount == 0) continue;
                rewards[n++] = IRewardsCoordinator.OperatorReward(operators[i], amount);
                paid += amount;
            }
        }
        carriedFees[networkId] = pool - paid;
        emit EpochFinalized(networkId, epoch, reportCount, paid, pool - paid);
        if (n == 0) return;
        assembly {
            mstore(rewards, n)
        }
        _escrow(networkId, rewards, paid);
    }

    function _escrow(uint32 networkId, IRewardsCoordinator.OperatorReward[] memory rewards, uint256 total) internal {
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
