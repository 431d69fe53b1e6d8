// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IRewardsCoordinator, IStrategy, OperatorSet} from "./interfaces/IEigenLayer.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {DinEpochsBase} from "./DinEpochsBase.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinRegistryReader} from "./interfaces/IDinRegistryReader.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @title DinEpochsFinalizer
/// @notice The finalization steps of DinEpochs, which runs them by delegatecall on its own storage (called
///         directly, this contract has no epochs and no role in the service). See DinEpochs for the rules.
///         An epoch is finalized in three stages, each in pages so that no transaction grows with the
///         network: judging (operator ranges, every report's pages for the range), settling (the recorded
///         slashes, queued or held once every rule's failed stake is known) and paying (operator ranges,
///         every usage report's pages for the range, accrued per operator until flushRewards escrows whole
///         calculation intervals in the restaking core).
contract DinEpochsFinalizer is DinEpochsBase {
    using SafeERC20 for IERC20;

    /// @param registry_ the DinRegistry (as DinEpochs')
    /// @param slasher_ the DinSlasher (as DinEpochs')
    /// @param feeToken_ the fee token (as DinEpochs')
    constructor(IDinRegistry registry_, IDinSlasher slasher_, IERC20 feeToken_)
        DinEpochsBase(registry_, slasher_, feeToken_)
    {}

    /// @dev A run's head once it has no entry left (above every address).
    uint256 internal constant NONE = 1 << 160;
    /// @dev Bytes of a run's cursor in Runs.cursor: calldata position of the entry at it, end of its page,
    ///      index (in Runs.bounds, in pages) of its next page and past its last page, operator at it.
    uint256 internal constant CURSOR_BYTES = 0xa0;
    /// @dev Verdict flags above a judged operator's multiplier (bits 0-15): the rules it failed, rule r
    ///      (an IDinSlasher.Reason) at bit 15 + r.
    uint256 internal constant FAILED_AVAILABILITY = 1 << (15 + uint256(IDinSlasher.Reason.Unavailable));
    uint256 internal constant FAILED_LATENCY = 1 << (15 + uint256(IDinSlasher.Reason.SlowLatency));
    uint256 internal constant FAILED_DOWN = 1 << (15 + uint256(IDinSlasher.Reason.Down));

    /// @dev The consecutive pages a step takes of every report (or every usage report), merged by operator:
    ///      each run's cursor and every page's calldata bounds (start, end), run after run. Entries are read
    ///      straight from calldata once their page's hash matched the stored one: they are the clean
    ///      encoding submitted (each entry `stride` bytes, its operator first).
    struct Runs {
        uint256[] cursor;
        uint256[] bounds;
        uint256 stride;
        uint256 pages;
        uint256 entries;
        address from;
        address upTo;
    }

    /// @dev A judging or paying step: the network, the epoch and the operators in (from, upTo].
    struct Range {
        uint32 networkId;
        uint256 epoch;
        address from;
        address upTo;
    }

    /// @dev What one judging step adds up: its judged operators in ascending order with their verdicts
    ///      (multiplier and failed rules), then their stake and the correlated-failure sums.
    struct Judged {
        address[] operators;
        uint256[] verdicts;
        uint256 n;
        uint256 totalStake;
        uint256[RULES] failedStake;
        uint256[RULES] failedCount;
    }

    /// @notice See DinEpochs.finalizePage.
    function finalizePage(
        uint32 networkId,
        uint256 epoch,
        address upTo,
        uint256[] calldata firstPages,
        Metrics[][][] calldata reports,
        uint256[] calldata firstUsagePages,
        Usage[][][] calldata usage
    ) external whenNotPaused nonReentrant {
        EpochState storage state = _epochs[networkId][epoch];
        if (state.finalized) revert AlreadyFinalized();
        if (state.stage == Stage.Reporting) _start(epoch, state);
        if (state.stage != Stage.Judging) revert InvalidPage();
        address from = state.cursor;
        if (upTo <= from) revert InvalidPage();
        if (state.judge) {
            Range memory range = Range(networkId, epoch, from, upTo);
            Runs memory runs = _reportRuns(range, firstPages, reports);
            _judgeRange(range, runs, _usageRuns(range, firstUsagePages, usage));
        }
        if (upTo == LAST_OPERATOR) {
            state.stage = Stage.Settling;
            state.cursor = address(0);
            _correlate(networkId, epoch);
        } else {
            state.cursor = upTo;
        }
    }

    /// @notice See DinEpochs.settlePage.
    function settlePage(uint32 networkId, uint256 epoch, uint256 count) external whenNotPaused nonReentrant {
        EpochState storage state = _epochs[networkId][epoch];
        if (state.stage != Stage.Settling) revert InvalidPage();
        PendingSlash[] storage pending = _pending[networkId][epoch];
        bool[RULES] memory correlated = _tally[networkId][epoch].correlated;
        uint256 end = state.settled + count;
        if (end > pending.length) end = pending.length;
        for (uint256 i = state.settled; i < end; ++i) {
            PendingSlash memory p = pending[i];
            if (correlated[uint256(p.reason)]) {
                _hold(p.operator, networkId, epoch, p.reason, p.wad);
                continue;
            }
            try slasher.queueSlash(p.operator, networkId, p.wad, p.reason) {}
            catch (bytes memory data) {
                emit SlashQueueFailed(p.operator, networkId, p.reason, data);
                _hold(p.operator, networkId, epoch, p.reason, p.wad);
            }
        }
        state.settled = uint32(end);
        if (end < pending.length) return;
        state.stage = Stage.Paying;
        state.pool = _openPools(networkId, epoch);
    }

    /// @notice See DinEpochs.payPage.
    function payPage(
        uint32 networkId,
        uint256 epoch,
        address upTo,
        uint256[] calldata firstUsagePages,
        Usage[][][] calldata usage
    ) external whenNotPaused nonReentrant {
        EpochState storage state = _epochs[networkId][epoch];
        if (state.stage != Stage.Paying) revert InvalidPage();
        address from = state.cursor;
        if (upTo <= from) revert InvalidPage();
        if (state.judge) {
            Range memory range = Range(networkId, epoch, from, upTo);
            _payRange(range, state, _usageRuns(range, firstUsagePages, usage));
        }
        if (upTo != LAST_OPERATOR) {
            state.cursor = upTo;
            return;
        }
        address[] storage gateways = _usageReporters[networkId][epoch];
        for (uint256 u; u < gateways.length; ++u) {
            GatewayPool storage pool = _pools[networkId][epoch][gateways[u]];
            carriedFees[networkId][gateways[u]] += pool.fees - pool.paid;
        }
        state.stage = Stage.Finalized;
        state.finalized = true;
        emit EpochFinalized(networkId, epoch, state.reportCount, state.paid, state.pool - state.paid);
    }

    /// @notice See DinEpochs.flushRewards.
    function flushRewards(uint32 networkId) external whenNotPaused nonReentrant {
        (uint32 start, uint32 duration) = rewardsPeriod(networkId);
        uint256 total = accruedTotal[networkId];
        if (duration == 0 || total == 0) revert NothingToFlush();
        address[] storage operators = _accruedOperators[networkId];
        uint256 n = operators.length;
        IRewardsCoordinator.OperatorReward[] memory rewards = new IRewardsCoordinator.OperatorReward[](n);
        mapping(address => uint256) storage accrued = accruedRewards[networkId];
        for (uint256 i; i < n; ++i) {
            address operator = operators[i];
            rewards[i] = IRewardsCoordinator.OperatorReward(operator, accrued[operator]);
            delete accrued[operator];
        }
        delete _accruedOperators[networkId];
        accruedTotal[networkId] = 0;
        lastRewardsTimestamp[networkId] = uint256(start) + duration;
        _sortByOperator(rewards);
        IStrategy[] memory strategies = registry.getStrategies();
        IRewardsCoordinator.StrategyAndMultiplier[] memory weights =
            new IRewardsCoordinator.StrategyAndMultiplier[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            weights[i] = IRewardsCoordinator.StrategyAndMultiplier(strategies[i], uint96(WAD));
        }
        emit RewardsFlushed(networkId, start, duration, total, n);
        feeToken.safeTransfer(address(registry), total);
        registry.submitRewards(
            networkId,
            IRewardsCoordinator.OperatorDirectedRewardsSubmission({
                strategiesAndMultipliers: weights,
                token: IERC20(address(feeToken)),
                operatorRewards: rewards,
                startTimestamp: start,
                duration: duration,
                description: "din: epoch fees"
            })
        );
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev Starts finalization: before the report deadline only with `early` complete reports, after it with
    ///      however many; below `needed` nobody is judged or paid and the fees are carried.
    function _start(uint256 epoch, EpochState storage state) internal {
        (, uint256 end) = epochBounds(epoch);
        if (block.number < end) revert EpochNotOver();
        uint256 count = state.reportCount;
        (uint256 needed, uint256 early) = _thresholds(count);
        if (count < early && block.number <= reportDeadline(epoch)) revert NotFinalizable();
        state.stage = Stage.Judging;
        state.judge = count >= needed;
    }

    /// @dev The stored pages `first` .. `first + n - 1` of a report, checked to hold every operator of the
    ///      report in (from, upTo]: the page before ends at or below `from`, the last ends at or above `upTo`
    ///      unless it is the report's last page.
    function _run(Report storage report, uint256 first, uint256 n, address from, address upTo)
        internal
        view
        returns (Page[] storage pages)
    {
        pages = report.pages;
        if (n == 0 || first + n > pages.length) revert ReportsMismatch();
        if (first > 0 && pages[first - 1].last > from) revert ReportsMismatch();
        if (first + n < pages.length && pages[first + n - 1].last < upTo) revert ReportsMismatch();
    }

    /// @dev The step's pages of every complete report, checked against the stored ones (each report's pages
    ///      cover every operator of it in (from, upTo]), as runs with their cursors past `from`.
    function _reportRuns(Range memory range, uint256[] calldata firstPages, Metrics[][][] calldata reports)
        internal
        view
        returns (Runs memory runs)
    {
        address[] storage watchers = _reporters[range.networkId][range.epoch];
        mapping(address => Report) storage reported = _reports[range.networkId][range.epoch];
        if (reports.length != watchers.length || firstPages.length != reports.length) revert ReportsMismatch();
        uint256 pageCount;
        for (uint256 i; i < reports.length; ++i) {
            pageCount += reports[i].length;
        }
        runs = _newRuns(range, reports.length, pageCount, 0x80);
        for (uint256 i; i < reports.length; ++i) {
            Report storage report = reported[watchers[i]];
            _addRun(runs, i, report, firstPages[i], reports[i]);
        }
    }

    /// @dev ditto, for the usage reports.
    function _usageRuns(Range memory range, uint256[] calldata firstPages, Usage[][][] calldata usage)
        internal
        view
        returns (Runs memory runs)
    {
        address[] storage gateways = _usageReporters[range.networkId][range.epoch];
        mapping(address => Report) storage reported = _usage[range.networkId][range.epoch];
        if (usage.length != gateways.length || firstPages.length != usage.length) revert ReportsMismatch();
        uint256 pageCount;
        for (uint256 u; u < usage.length; ++u) {
            pageCount += usage[u].length;
        }
        runs = _newRuns(range, usage.length, pageCount, 0x40);
        for (uint256 u; u < usage.length; ++u) {
            Report storage report = reported[gateways[u]];
            _addRun(runs, u, report, firstPages[u], usage[u]);
        }
    }

    /// @dev Checks run i's pages against the report's stored pages from `first` on (they cover every operator
    ///      of the report in the range), records them and starts the run's cursor past the range's start.
    function _addRun(
        Runs memory runs,
        uint256 i,
        Report storage report,
        uint256 first,
        Metrics[][] calldata run
    ) internal view {
        Page[] storage pages = _run(report, first, run.length, runs.from, runs.upTo);
        uint256 begin = runs.pages;
        for (uint256 j; j < run.length; ++j) {
            _addPage(runs, run[j], pages[first + j].hash);
        }
        _startRun(runs, i, begin, runs.pages, runs.from);
    }

    /// @dev ditto, for a usage run.
    function _addRun(
        Runs memory runs,
        uint256 i,
        Report storage report,
        uint256 first,
        Usage[][] calldata run
    ) internal view {
        Page[] storage pages = _run(report, first, run.length, runs.from, runs.upTo);
        uint256 begin = runs.pages;
        for (uint256 j; j < run.length; ++j) {
            _addPage(runs, run[j], pages[first + j].hash);
        }
        _startRun(runs, i, begin, runs.pages, runs.from);
    }

    /// @dev Records page k's calldata bounds (a slice the ABI decoder checked lies within the calldata)
    ///      once it hashes to the stored page's hash.
    function _addPage(Runs memory runs, Metrics[] calldata page, bytes32 stored) internal pure {
        if (_hash(page) != stored) revert ReportsMismatch();
        uint256 offset;
        assembly {
            offset := page.offset
        }
        _setPage(runs, offset, page.length);
    }

    /// @dev ditto, for a usage page.
    function _addPage(Runs memory runs, Usage[] calldata page, bytes32 stored) internal pure {
        if (_hash(page) != stored) revert ReportsMismatch();
        uint256 offset;
        assembly {
            offset := page.offset
        }
        _setPage(runs, offset, page.length);
    }

    function _newRuns(Range memory range, uint256 count, uint256 pageCount, uint256 stride)
        internal
        pure
        returns (Runs memory runs)
    {
        (runs.from, runs.upTo) = (range.from, range.upTo);
        runs.cursor = new uint256[](count * (CURSOR_BYTES / 0x20));
        runs.bounds = new uint256[](2 * pageCount);
        runs.stride = stride;
    }

    function _setPage(Runs memory runs, uint256 offset, uint256 length) internal pure {
        uint256 size = length * runs.stride;
        uint256 k = runs.pages++;
        runs.entries += length;
        uint256[] memory bounds = runs.bounds;
        assembly ("memory-safe") {
            let b := add(add(bounds, 0x20), mul(k, 0x40))
            mstore(b, offset)
            mstore(add(b, 0x20), add(offset, size))
        }
    }

    /// @dev Points run i's cursor at its first entry above `from` (its pages are bounds[begin .. past)).
    function _startRun(Runs memory runs, uint256 i, uint256 begin, uint256 past, address from) internal pure {
        uint256 c = _cursor(runs, i);
        assembly ("memory-safe") {
            mstore(c, 0)
            mstore(add(c, 0x20), 0)
            mstore(add(c, 0x40), begin)
            mstore(add(c, 0x60), past)
        }
        uint256 bounds = _boundsData(runs);
        uint256 stride = runs.stride;
        _step(c, bounds, stride);
        uint256 key = uint256(uint160(from));
        while (_head(c) <= key) _step(c, bounds, stride);
    }

    /// @dev Memory address of run i's cursor.
    function _cursor(Runs memory runs, uint256 i) internal pure returns (uint256 c) {
        uint256[] memory cursor = runs.cursor;
        assembly ("memory-safe") {
            c := add(add(cursor, 0x20), mul(i, 0xa0))
        }
    }

    function _boundsData(Runs memory runs) internal pure returns (uint256 b) {
        uint256[] memory bounds = runs.bounds;
        assembly ("memory-safe") {
            b := add(bounds, 0x20)
        }
    }

    function _head(uint256 c) internal pure returns (uint256 head) {
        assembly ("memory-safe") {
            head := mload(add(c, 0x80))
        }
    }

    /// @dev Moves the cursor at `c` to its run's next entry (across pages, empty ones included) and loads
    ///      that entry's operator as its head (NONE past the run's last page).
    function _step(uint256 c, uint256 bounds, uint256 stride) internal pure {
        assembly ("memory-safe") {
            let ptr := add(mload(c), stride)
            let end := mload(add(c, 0x20))
            let head := NONE
            for {} 1 {} {
                if lt(ptr, end) {
                    head := calldataload(ptr)
                    break
                }
                let next := mload(add(c, 0x40))
                if eq(next, mload(add(c, 0x60))) { break }
                let b := add(bounds, mul(next, 0x40))
                ptr := mload(b)
                end := mload(add(b, 0x20))
                mstore(add(c, 0x40), add(next, 1))
            }
            mstore(c, ptr)
            mstore(add(c, 0x20), end)
            mstore(add(c, 0x80), head)
        }
    }

    /// @dev The smallest head of the runs (NONE once every run is exhausted).
    function _smallest(Runs memory runs) internal pure returns (uint256 min) {
        uint256[] memory cursor = runs.cursor;
        assembly ("memory-safe") {
            min := NONE
            let c := add(cursor, 0x20)
            for { let end := add(c, mul(mload(cursor), 0x20)) } lt(c, end) { c := add(c, 0xa0) } {
                let head := mload(add(c, 0x80))
                if lt(head, min) { min := head }
            }
        }
    }

    /// @dev Merges the reports' runs over (from, upTo], takes the verdicts, records multipliers, each usage
    ///      report's weights and the slashes to settle. O(watchers × operators in the range) merging, plus
    ///      sorting each operator's values (a few watchers).
    function _judgeRange(Range memory range, Runs memory reports, Runs memory usage) internal {
        (uint32 networkId, uint256 epoch) = (range.networkId, range.epoch);
        Judged memory j = _verdicts(networkId, epoch, range.upTo, reports);
        if (j.n == 0) return;
        _weigh(networkId, j);
        SlaTable memory sla = _sla;
        mapping(address => uint256) storage multipliers = _multiplier[networkId][epoch];
        PendingSlash[] storage pending = _pending[networkId][epoch];
        uint256[] memory weights = new uint256[](usage.cursor.length / (CURSOR_BYTES / 0x20));
        OperatorSet memory set = OperatorSet(address(registry), networkId);
        for (uint256 k; k < j.n; ++k) {
            address operator = j.operators[k];
            uint256 verdict = j.verdicts[k];
            // No slash is recorded while the clock is stopped: a jailed operator already answers for its
            // pending slash, and an ejected one has left the network. Neither earns anything.
            bool punishable =
                !registry.isJailed(operator, networkId) && allocationManager.isMemberOfOperatorSet(operator, set);
            if (verdict > type(uint16).max) {
                // Operators failing a rule earn nothing for the epoch.
                if (!punishable) continue;
                if (verdict & FAILED_DOWN != 0) pending.push(PendingSlash(operator, IDinSlasher.Reason.Down, sla.downWad));
                if (verdict & FAILED_AVAILABILITY != 0) {
                    pending.push(PendingSlash(operator, IDinSlasher.Reason.Unavailable, sla.availabilityWad));
                }
                if (verdict & FAILED_LATENCY != 0) {
                    pending.push(PendingSlash(operator, IDinSlasher.Reason.SlowLatency, sla.latencyWad));
                }
                continue;
            }
            if (!punishable || verdict == 0) continue;
            multipliers[operator] = verdict;
            _addWeights(usage, weights, operator, verdict);
        }
        address[] storage gateways = _usageReporters[networkId][epoch];
        for (uint256 u; u < weights.length; ++u) {
            if (weights[u] > 0) _pools[networkId][epoch][gateways[u]].weight += weights[u];
        }
        Tally storage tally = _tally[networkId][epoch];
        tally.totalStake += j.totalStake;
        for (uint256 r = 1; r < RULES; ++r) {
            if (j.failedCount[r] == 0) continue;
            tally.failedStake[r] += j.failedStake[r];
            tally.failedCount[r] += j.failedCount[r];
        }
    }

    /// @dev The verdict of every operator in (cursor, upTo] that more than half of the reports cover (a
    ///      minority cannot add or remove anyone): per metric the element at index floor(n/2) of the n
    ///      values sorted ascending. With liars a strict minority L < n/2 of the n values, at least
    ///      floor(n/2) + 1 > L values are at or below it and n - floor(n/2) = ceil(n/2) > L at or above it, so
    ///      it lies between two honest values: lying can push it neither below the lowest honest value nor
    ///      above the highest, in either direction. Emits OperatorJudged for each.
    function _verdicts(uint32 networkId, uint256 epoch, address upTo, Runs memory runs)
        internal
        returns (Judged memory j)
    {
        uint256 count = runs.cursor.length / (CURSOR_BYTES / 0x20);
        // A judged operator takes an entry of more than half of the runs.
        uint256 cap = runs.entries / (count / 2 + 1);
        j.operators = new address[](cap);
        j.verdicts = new uint256[](cap);
        SlaTable memory sla = _sla;
        uint256 values = _alloc(3 * count);
        uint256 limit = uint256(uint160(upTo));
        while (true) {
            uint256 next = _smallest(runs);
            if (next > limit) break;
            uint256 n = _collect(runs, next, values, count);
            if (2 * n <= count) continue;
            j.verdicts[j.n] = _verdict(networkId, epoch, next, sla, values, count, n);
            j.operators[j.n++] = address(uint160(next));
        }
    }

    /// @dev The verdict of the `n` values of each metric collected at `values` (`count` words apart), its
    ///      OperatorJudged event, and the multiplier with the failed rules' flags above it.
    function _verdict(
        uint32 networkId,
        uint256 epoch,
        uint256 operator,
        SlaTable memory sla,
        uint256 values,
        uint256 count,
        uint256 n
    ) internal returns (uint256 verdict) {
        uint256 a = _median(values, n);
        uint256 l = _median(values + count * 0x20, n);
        uint256 g = _median(values + count * 0x40, n);
        uint256 multiplier;
        (multiplier, verdict) = _flagged(sla, a, l, g);
        emit OperatorJudged(networkId, epoch, address(uint160(operator)), uint16(a), uint32(l), uint32(g), multiplier);
    }

    /// @dev The multiplier of a verdict, and with the flags of the rules it fails.
    function _flagged(SlaTable memory sla, uint256 a, uint256 l, uint256 g)
        internal
        pure
        returns (uint256 multiplier, uint256 verdict)
    {
        (uint256 m, uint64 downWad, uint64 availabilityWad, uint64 latencyWad) = _assess(sla, a, l, g);
        (multiplier, verdict) = (m, m);
        if (downWad > 0) verdict |= FAILED_DOWN;
        if (availabilityWad > 0) verdict |= FAILED_AVAILABILITY;
        if (latencyWad > 0) verdict |= FAILED_LATENCY;
    }

    /// @dev Adds up the judged operators' stake (one AllocationManager read for the step: the registry's
    ///      allocatedStake, operator by operator) and each rule's failed stake and count.
    function _weigh(uint32 networkId, Judged memory j) internal view {
        address[] memory operators = j.operators;
        uint256 n = j.n;
        assembly ("memory-safe") {
            mstore(operators, n)
        }
        uint256[][] memory stakes = allocationManager.getAllocatedStake(
            OperatorSet(address(registry), networkId), operators, registry.getStrategies()
        );
        for (uint256 k; k < n; ++k) {
            uint256[] memory perStrategy = stakes[k];
            uint256 stake;
            for (uint256 i; i < perStrategy.length; ++i) {
                stake += perStrategy[i];
            }
            j.totalStake += stake;
            uint256 verdict = j.verdicts[k];
            if (verdict <= type(uint16).max) continue;
            for (uint256 r = 1; r < RULES; ++r) {
                if (verdict & (1 << (15 + r)) == 0) continue;
                j.failedStake[r] += stake;
                ++j.failedCount[r];
            }
        }
    }

    /// @dev Copies operator `key`'s metrics from every run whose head it is into `values` (availability,
    ///      latency and lag, `count` words each) and moves those runs on; returns how many runs had it.
    function _collect(Runs memory runs, uint256 key, uint256 values, uint256 count) internal pure returns (uint256 n) {
        uint256[] memory cursor = runs.cursor;
        uint256 bounds = _boundsData(runs);
        uint256 c;
        assembly ("memory-safe") {
            c := add(cursor, 0x20)
        }
        for (uint256 i; i < count; ++i) {
            if (_head(c) == key) {
                assembly ("memory-safe") {
                    let ptr := mload(c)
                    let slot := add(values, mul(n, 0x20))
                    mstore(slot, and(calldataload(add(ptr, 0x20)), 0xffff))
                    mstore(add(slot, mul(count, 0x20)), and(calldataload(add(ptr, 0x40)), 0xffffffff))
                    mstore(add(slot, mul(count, 0x40)), and(calldataload(add(ptr, 0x60)), 0xffffffff))
                }
                ++n;
                _step(c, bounds, 0x80);
            }
            c += CURSOR_BYTES;
        }
    }

    /// @dev The element at index floor(n/2) of the `n` words at `values`, sorted in place (insertion sort:
    ///      n is a number of watchers, small).
    function _median(uint256 values, uint256 n) internal pure returns (uint256 median) {
        assembly ("memory-safe") {
            for { let i := 1 } lt(i, n) { i := add(i, 1) } {
                let v := mload(add(values, mul(i, 0x20)))
                let j := i
                for {} j {} {
                    let previous := mload(add(values, mul(sub(j, 1), 0x20)))
                    if iszero(gt(previous, v)) { break }
                    mstore(add(values, mul(j, 0x20)), previous)
                    j := sub(j, 1)
                }
                mstore(add(values, mul(j, 0x20)), v)
            }
            median := mload(add(values, mul(shr(1, n), 0x20)))
        }
    }

    /// @dev `words` words of fresh memory.
    function _alloc(uint256 words) internal pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := mload(0x40)
            mstore(0x40, add(p, mul(words, 0x20)))
        }
    }

    /// @dev Adds `operator`'s relays × multiplier to each usage report's weight; the usage cursors only move
    ///      forward because operators come in ascending order.
    function _addWeights(Runs memory usage, uint256[] memory weights, address operator, uint256 multiplier)
        internal
        pure
    {
        uint256 key = uint256(uint160(operator));
        uint256 bounds = _boundsData(usage);
        for (uint256 u; u < weights.length; ++u) {
            uint256 c = _cursor(usage, u);
            while (_head(c) < key) _step(c, bounds, 0x40);
            if (_head(c) != key) continue;
            weights[u] += multiplier * _relays(c);
            _step(c, bounds, 0x40);
        }
    }

    /// @dev The relays of the usage entry at cursor `c`.
    function _relays(uint256 c) internal pure returns (uint256 relays) {
        assembly ("memory-safe") {
            relays := and(calldataload(add(mload(c), 0x20)), 0xffffffffffffffff)
        }
    }

    /// @dev Marks the rules whose failed stake reached the correlated share of the judged stake with at least
    ///      MIN_CORRELATED_OPERATORS operators failing them: their slashes are held for governance. The share
    ///      rounds down, so a failure exactly at the share is held only when it truly reaches it.
    function _correlate(uint32 networkId, uint256 epoch) internal {
        Tally storage tally = _tally[networkId][epoch];
        uint256 total = tally.totalStake;
        for (uint256 r = 1; r < RULES; ++r) {
            if (tally.failedCount[r] < MIN_CORRELATED_OPERATORS || total == 0) continue;
            uint256 shareBps = tally.failedStake[r] * MAX_BPS / total;
            if (shareBps < correlatedShareBps) continue;
            tally.correlated[r] = true;
            emit CorrelatedFailure(networkId, epoch, IDinSlasher.Reason(r), shareBps, tally.failedCount[r]);
        }
    }

    function _hold(address operator, uint32 networkId, uint256 epoch, IDinSlasher.Reason reason, uint64 wad) internal {
        uint256 id = _held.length;
        _held.push(HeldSlash(operator, networkId, wad, reason, HeldStatus.Held, epoch));
        emit SlashHeld(id, operator, networkId, epoch, reason, wad);
    }

    /// @dev Each reporting gateway's pool is its fees paid into the epoch plus its carried fees (taken now, so
    ///      epochs finalizing at once never count one carry twice); gateways that paid but reported no usage
    ///      keep their fees, carried. Returns the epoch's pool, carried fees of non-reporters included.
    function _openPools(uint32 networkId, uint256 epoch) internal returns (uint256 pool) {
        address[] storage gateways = _usageReporters[networkId][epoch];
        for (uint256 u; u < gateways.length; ++u) {
            address gateway = gateways[u];
            uint256 fees = gatewayFees[networkId][epoch][gateway] + carriedFees[networkId][gateway];
            carriedFees[networkId][gateway] = 0;
            _pools[networkId][epoch][gateway].fees = fees;
            pool += fees;
        }
        address[] storage payers = _payers[networkId][epoch];
        for (uint256 i; i < payers.length; ++i) {
            address payer = payers[i];
            if (_usage[networkId][epoch][payer].complete) continue;
            uint256 fees = gatewayFees[networkId][epoch][payer];
            carriedFees[networkId][payer] += fees;
            pool += fees;
        }
    }

    /// @dev One paying step: each usage report's pool, total weight and what the step pays of it, the rewards.
    struct Payout {
        uint256[] fees;
        uint256[] weight;
        uint256[] paid;
        IRewardsCoordinator.OperatorReward[] rewards;
        uint256 n;
        uint256 total;
    }

    /// @dev Pays the operators in (from, upTo]: per usage report u, pool × relays × multiplier / total weight,
    ///      rounded down (the dust stays carried for its gateway), accrued per operator in this contract until
    ///      flushRewards escrows it for a whole elapsed calculation interval. Accruing is bookkeeping only: no
    ///      call leaves this contract, so nothing about the restaking core can stop an epoch from finalizing.
    function _payRange(Range memory range, EpochState storage state, Runs memory usage) internal {
        (uint32 networkId, uint256 epoch) = (range.networkId, range.epoch);
        Payout memory p = _rewardsIn(networkId, epoch, range.upTo, usage);
        if (p.n == 0) return;
        mapping(address => uint256) storage accrued = accruedRewards[networkId];
        address[] storage operators = _accruedOperators[networkId];
        for (uint256 i; i < p.n; ++i) {
            IRewardsCoordinator.OperatorReward memory r = p.rewards[i];
            uint256 before = accrued[r.operator];
            if (before == 0) operators.push(r.operator);
            accrued[r.operator] = before + r.amount;
        }
        accruedTotal[networkId] += p.total;
        state.paid += p.total;
        address[] storage gateways = _usageReporters[networkId][epoch];
        for (uint256 u; u < p.paid.length; ++u) {
            if (p.paid[u] > 0) _pools[networkId][epoch][gateways[u]].paid += p.paid[u];
        }
    }

    /// @dev Sorts rewards by operator, ascending (insertion sort: the list is in first-accrual order, and each
    ///      epoch pays in ascending order, so it is sorted but for the operators a later epoch added).
    function _sortByOperator(IRewardsCoordinator.OperatorReward[] memory rewards) internal pure {
        for (uint256 i = 1; i < rewards.length; ++i) {
            IRewardsCoordinator.OperatorReward memory r = rewards[i];
            uint256 j = i;
            while (j > 0 && rewards[j - 1].operator > r.operator) {
                rewards[j] = rewards[j - 1];
                --j;
            }
            rewards[j] = r;
        }
    }

    /// @dev The rewards of the operators in (cursor, upTo], merged over the usage runs in ascending order.
    function _rewardsIn(uint32 networkId, uint256 epoch, address upTo, Runs memory usage)
        internal
        view
        returns (Payout memory p)
    {
        uint256 count = usage.cursor.length / (CURSOR_BYTES / 0x20);
        mapping(address => GatewayPool) storage pools = _pools[networkId][epoch];
        address[] storage gateways = _usageReporters[networkId][epoch];
        p.fees = new uint256[](count);
        p.weight = new uint256[](count);
        p.paid = new uint256[](count);
        for (uint256 u; u < count; ++u) {
            GatewayPool storage pool = pools[gateways[u]];
            p.fees[u] = pool.fees;
            p.weight[u] = pool.weight;
        }
        p.rewards = new IRewardsCoordinator.OperatorReward[](usage.entries);
        mapping(address => uint256) storage multipliers = _multiplier[networkId][epoch];
        uint256 limit = uint256(uint160(upTo));
        while (true) {
            uint256 next = _smallest(usage);
            if (next > limit) break;
            _pay(usage, p, next, multipliers[address(uint160(next))]);
        }
    }

    /// @dev Adds operator `key`'s reward (the sum of its shares of every usage report that lists it) to the
    ///      payout and moves those usage runs on.
    function _pay(Runs memory usage, Payout memory p, uint256 key, uint256 multiplier) internal pure {
        uint256 bounds = _boundsData(usage);
        uint256 amount;
        uint256 c = _cursor(usage, 0);
        for (uint256 u; u < p.fees.length; ++u) {
            if (_head(c) == key) {
                uint256 relays = _relays(c);
                _step(c, bounds, 0x40);
                if (multiplier != 0 && relays != 0 && p.weight[u] != 0) {
                    uint256 share = p.fees[u] * relays * multiplier / p.weight[u];
                    p.paid[u] += share;
                    amount += share;
                }
            }
            c += CURSOR_BYTES;
        }
        if (amount == 0) return;
        p.rewards[p.n++] = IRewardsCoordinator.OperatorReward(address(uint160(key)), amount);
        p.total += amount;
    }

    /// @dev keccak256(abi.encode(page)) hashed straight from calldata in scratch memory (the free memory
    ///      pointer is not moved, so hashing every page of a step costs no memory growth). Dirty calldata
    ///      hashes differently from the clean encoding stored at submission: it fails the comparison.
    function _hash(Metrics[] calldata page) internal pure returns (bytes32 h) {
        assembly {
            let ptr := mload(0x40)
            let size := mul(page.length, 0x80)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), page.length)
            calldatacopy(add(ptr, 0x40), page.offset, size)
            h := keccak256(ptr, add(0x40, size))
        }
    }

    /// @dev ditto, for a usage page.
    function _hash(Usage[] calldata page) internal pure returns (bytes32 h) {
        assembly {
            let ptr := mload(0x40)
            let size := mul(page.length, 0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), page.length)
            calldatacopy(add(ptr, 0x40), page.offset, size)
            h := keccak256(ptr, add(0x40, size))
        }
    }
}
