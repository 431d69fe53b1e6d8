// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAllocationManager, IRewardsCoordinator, OperatorSet} from "./interfaces/IEigenLayer.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDinEpochs} from "./interfaces/IDinEpochs.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinRegistryReader} from "./interfaces/IDinRegistryReader.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @title DinEpochsBase
/// @notice The state of the DIN epochs, shared by DinEpochs and the DinEpochsFinalizer its finalization steps
///         run in (by delegatecall, so both must lay out storage identically: both inherit exactly this).
abstract contract DinEpochsBase is IDinEpochs, AccessControl, Pausable, ReentrancyGuard {
    /// @notice Holds the parameter setters: the DAO timelock.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May pause reports, fees and finalization: the guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Most operators one page of a watcher's or gateway's report may list: a page of every watcher's
    ///         report fits one finalization step (calldata and gas) whatever the network's size.
    uint256 public constant MAX_PAGE_LENGTH = 64;
    /// @notice Most pages one report may have.
    uint256 public constant MAX_PAGES = 64;
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
    /// @dev The upper end of the last operator range of a finalization step.
    address internal constant LAST_OPERATOR = address(type(uint160).max);

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

    /// @dev One network's epoch. `cursor` is the last operator a Judging or Paying step reached; `judge` is
    ///      whether enough reports came for verdicts (decided when judging starts).
    struct EpochState {
        uint256 fees;
        uint32 reportCount;
        bool finalized;
        Stage stage;
        bool judge;
        address cursor;
        uint32 settled;
        uint256 pool;
        uint256 paid;
    }

    /// @dev One page of a report: its hash and its last (largest) operator.
    struct Page {
        bytes32 hash;
        address last;
    }

    /// @dev One reporter's report of an epoch, page by page; complete once its last page is in.
    struct Report {
        Page[] pages;
        bool complete;
    }

    /// @dev Per epoch, what judging adds up for the correlated-failure rule.
    struct Tally {
        uint256 totalStake;
        uint256[RULES] failedStake;
        uint256[RULES] failedCount;
        bool[RULES] correlated;
    }

    /// @dev An SLA slash judging recorded, settled after every page is judged.
    struct PendingSlash {
        address operator;
        IDinSlasher.Reason reason;
        uint64 wad;
    }

    /// @dev A reporting gateway's side of an epoch: its weights' sum (judging), its fees (paid plus carried,
    ///      taken when paying starts) and what was paid of them.
    struct GatewayPool {
        uint256 weight;
        uint256 fees;
        uint256 paid;
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
    /// @notice The restaking core's RewardsCoordinator (the registry's).
    IRewardsCoordinator public immutable rewardsCoordinator;
    /// @dev The coordinator's grid and bounds (immutable there too), read once at deployment.
    uint256 internal immutable _interval;
    uint256 internal immutable _maxDuration;
    uint256 internal immutable _maxRetroactive;

    SlaTable internal _sla;
    EpochParams internal _epochParams;
    Segment[] internal _segments;
    mapping(uint32 networkId => mapping(uint256 epoch => EpochState)) internal _epochs;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address watcher => Report))) internal _reports;
    /// @dev Watchers with a complete report, in completion order.
    mapping(uint32 networkId => mapping(uint256 epoch => address[])) internal _reporters;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => Report))) internal _usage;
    /// @dev Gateways with a complete usage report, in completion order.
    mapping(uint32 networkId => mapping(uint256 epoch => address[])) internal _usageReporters;
    mapping(uint32 networkId => mapping(uint256 epoch => address[])) internal _payers;
    /// @notice Fees a gateway paid into an epoch (each gateway's fees are split by its own usage report).
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => uint256))) public gatewayFees;
    /// @notice Fees of a gateway not paid out yet (rounding dust, epochs where none of its operators earned):
    ///         added to that gateway's fees of the next epoch it reports usage for.
    mapping(uint32 networkId => mapping(address gateway => uint256)) public carriedFees;
    /// @notice Share (bps) of a network's judged stake that, failing one rule in one epoch, holds that rule's
    ///         slashes for governance.
    uint256 public correlatedShareBps = 3334;
    HeldSlash[] internal _held;
    Pause[] internal _pauses;
    /// @notice End of the last rewards period flushed to the RewardsCoordinator for a network (seconds).
    mapping(uint32 networkId => uint256) public lastRewardsTimestamp;
    mapping(uint32 networkId => mapping(uint256 epoch => Tally)) internal _tally;
    mapping(uint32 networkId => mapping(uint256 epoch => PendingSlash[])) internal _pending;
    /// @dev Performance multiplier (bps) an operator earns with in an epoch (0: failed, jailed or ejected).
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address operator => uint256))) internal _multiplier;
    mapping(uint32 networkId => mapping(uint256 epoch => mapping(address gateway => GatewayPool))) internal _pools;
    /// @notice What finalized epochs paid an operator of a network that is not flushed to the
    ///         RewardsCoordinator yet (held by this contract until flushRewards).
    mapping(uint32 networkId => mapping(address operator => uint256)) public accruedRewards;
    /// @notice The sum of a network's accruedRewards.
    mapping(uint32 networkId => uint256) public accruedTotal;
    /// @dev Operators with accruedRewards, in the order they first accrued since the last flush.
    mapping(uint32 networkId => address[]) internal _accruedOperators;

    constructor(IDinRegistry registry_, IDinSlasher slasher_, IERC20 feeToken_) {
        registry = registry_;
        slasher = slasher_;
        feeToken = feeToken_;
        allocationManager = IDinRegistryReader(address(registry_)).allocationManager();
        _watcherSet = IDinRegistryReader(address(registry_)).WATCHER_SET();
        IRewardsCoordinator rc = IDinRegistryReader(address(registry_)).rewardsCoordinator();
        rewardsCoordinator = rc;
        _interval = rc.CALCULATION_INTERVAL_SECONDS();
        _maxDuration = rc.MAX_REWARDS_DURATION();
        _maxRetroactive = rc.MAX_RETROACTIVE_LENGTH();
    }

    /// @notice The period flushRewards would submit now: from the end of the last flushed period (the last
    ///         whole interval on a network's first flush; never earlier than the coordinator accepts) to the
    ///         last multiple of the coordinator's CALCULATION_INTERVAL_SECONDS strictly before this block.
    ///         `duration` 0: no whole interval elapsed since the last flush, nothing can be submitted yet.
    function rewardsPeriod(uint32 networkId) public view returns (uint32 start, uint32 duration) {
        uint256 interval = _interval;
        uint256 end = (block.timestamp - 1) / interval * interval;
        uint256 from = lastRewardsTimestamp[networkId];
        if (from == 0) from = end >= interval ? end - interval : 0;
        if (end >= _maxDuration && from < end - _maxDuration) from = end - _maxDuration;
        if (block.timestamp > _maxRetroactive) {
            uint256 earliest = (block.timestamp - _maxRetroactive + interval - 1) / interval * interval;
            if (from < earliest) from = earliest;
        }
        if (from >= end) return (0, 0);
        return (uint32(from), uint32(end - from));
    }

    /// @notice Whether a guardian pause is in force (it expires MAX_PAUSE_BLOCKS after it began).
    function paused() public view override returns (bool) {
        uint256 n = _pauses.length;
        return n > 0 && block.number < _pauses[n - 1].stop;
    }

    /// @notice Block at which the last guardian pause began (zero: never paused).
    function pausedFrom() public view returns (uint256) {
        uint256 n = _pauses.length;
        return n == 0 ? 0 : _pauses[n - 1].start;
    }

    /// @notice Block at which the last guardian pause ended or ends (exclusive; zero: never paused).
    function pausedUntil() public view returns (uint256) {
        uint256 n = _pauses.length;
        return n == 0 ? 0 : _pauses[n - 1].stop;
    }

    /// @notice The first block a new pause may start in: as many blocks after the last one's end as it lasted.
    function pauseReadyAt() public view returns (uint256) {
        return 2 * pausedUntil() - pausedFrom();
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

    /// @notice The performance multiplier (bps) of a median measurement under the current SLA table, and
    ///         the slash fractions it triggers (0 when none).
    function assess(uint16 availabilityBps, uint32 p50LatencyMs, uint32 lagBlocks)
        public
        view
        returns (uint256 multiplierBps, uint64 downWad, uint64 availabilityWad, uint64 latencyWad)
    {
        return _assess(_sla, availabilityBps, p50LatencyMs, lagBlocks);
    }

    /// @dev assess under `sla` (loaded once per finalization step).
    function _assess(SlaTable memory sla, uint256 availabilityBps, uint256 p50LatencyMs, uint256 lagBlocks)
        internal
        pure
        returns (uint256 multiplierBps, uint64 downWad, uint64 availabilityWad, uint64 latencyWad)
    {
        if (availabilityBps == 0) return (0, sla.downWad, 0, 0);
        if (availabilityBps < sla.minAvailabilityBps) availabilityWad = sla.availabilityWad;
        if (p50LatencyMs > sla.maxP50LatencyMs) latencyWad = sla.latencyWad;
        if (availabilityBps >= sla.minAvailabilityBps) {
            multiplierBps = MAX_BPS;
        } else if (availabilityBps > sla.floorAvailabilityBps) {
            multiplierBps = (availabilityBps - sla.floorAvailabilityBps) * MAX_BPS
                / (uint256(sla.minAvailabilityBps) - sla.floorAvailabilityBps);
        }
        if (p50LatencyMs > sla.maxP50LatencyMs) multiplierBps = multiplierBps * sla.maxP50LatencyMs / p50LatencyMs;
        if (lagBlocks > sla.maxLagBlocks) multiplierBps = multiplierBps * sla.maxLagBlocks / lagBlocks;
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
}
