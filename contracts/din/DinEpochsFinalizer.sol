// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {OperatorSet} from "../interfaces/IAllocationManager.sol";
import {IRewardsCoordinator} from "../interfaces/IRewardsCoordinator.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
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
///         every usage report's pages for the range, one escrow per page).
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

    /// @dev Cursors into page runs and per-step sums.
    struct Scratch {
        /// @dev each run's operator at its cursor (NONE once the run is exhausted)
        uint256[] head;
        uint256[] page;
        uint256[] offset;
        uint256[] usagePage;
        uint256[] usageOffset;
        uint256[] availability;
        uint256[] latency;
        uint256[] lag;
        uint256[] weights;
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
            _checkReports(networkId, epoch, from, upTo, firstPages, reports);
            _checkUsage(networkId, epoch, from, upTo, firstUsagePages, usage);
            _judgeRange(networkId, epoch, from, upTo, reports, usage);
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
            _checkUsage(networkId, epoch, from, upTo, firstUsagePages, usage);
            _payRange(networkId, epoch, state, from, upTo, usage);
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

    /// @notice See DinEpochs.escrow.
    function escrow(uint32 networkId, IRewardsCoordinator.OperatorReward[] calldata rewards, uint256 total)
        external
    {
        if (msg.sender != address(this)) revert InvalidCaller();
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

    function _checkReports(
        uint32 networkId,
        uint256 epoch,
        address from,
        address upTo,
        uint256[] calldata firstPages,
        Metrics[][][] calldata reports
    ) internal view {
        address[] storage watchers = _reporters[networkId][epoch];
        if (reports.length != watchers.length || firstPages.length != reports.length) revert ReportsMismatch();
        for (uint256 i; i < reports.length; ++i) {
            uint256 first = firstPages[i];
            Page[] storage pages = _run(_reports[networkId][epoch][watchers[i]], first, reports[i].length, from, upTo);
            for (uint256 j; j < reports[i].length; ++j) {
                if (_hash(reports[i][j]) != pages[first + j].hash) revert ReportsMismatch();
            }
        }
    }

    function _checkUsage(
        uint32 networkId,
        uint256 epoch,
        address from,
        address upTo,
        uint256[] calldata firstPages,
        Usage[][][] calldata usage
    ) internal view {
        address[] storage gateways = _usageReporters[networkId][epoch];
        if (usage.length != gateways.length || firstPages.length != usage.length) revert ReportsMismatch();
        for (uint256 u; u < usage.length; ++u) {
            uint256 first = firstPages[u];
            Page[] storage pages = _run(_usage[networkId][epoch][gateways[u]], first, usage[u].length, from, upTo);
            for (uint256 j; j < usage[u].length; ++j) {
                if (_hash(usage[u][j]) != pages[first + j].hash) revert ReportsMismatch();
            }
        }
    }

    /// @dev Merges the reports' runs over (from, upTo], takes the verdicts, records multipliers, each usage
    ///      report's weights and the slashes to settle. O(watchers² × operators in the range).
    function _judgeRange(
        uint32 networkId,
        uint256 epoch,
        address from,
        address upTo,
        Metrics[][][] calldata reports,
        Usage[][][] calldata usage
    ) internal {
        Scratch memory s;
        s.head = new uint256[](reports.length);
        s.page = new uint256[](reports.length);
        s.offset = new uint256[](reports.length);
        s.usagePage = new uint256[](usage.length);
        s.usageOffset = new uint256[](usage.length);
        s.availability = new uint256[](reports.length);
        s.latency = new uint256[](reports.length);
        s.lag = new uint256[](reports.length);
        s.weights = new uint256[](usage.length);
        for (uint256 i; i < reports.length; ++i) {
            _seek(reports[i], s, i, from);
        }
        while (true) {
            (bool any, address next) = _nextOperator(s, upTo);
            if (!any) break;
            uint256 n = _collect(reports, s, next);
            // Judged only when a majority of the reports cover it: a minority cannot add or remove anyone.
            if (2 * n <= reports.length) continue;
            uint256 multiplier = _judge(networkId, epoch, next, s, n);
            if (multiplier == 0) continue;
            _multiplier[networkId][epoch][next] = multiplier;
            for (uint256 u; u < usage.length; ++u) {
                s.weights[u] += multiplier * _relays(usage[u], s, u, next);
            }
        }
        address[] storage gateways = _usageReporters[networkId][epoch];
        for (uint256 u; u < usage.length; ++u) {
            if (s.weights[u] > 0) _pools[networkId][epoch][gateways[u]].weight += s.weights[u];
        }
        Tally storage tally = _tally[networkId][epoch];
        tally.totalStake += s.totalStake;
        for (uint256 r = 1; r < RULES; ++r) {
            if (s.failedCount[r] == 0) continue;
            tally.failedStake[r] += s.failedStake[r];
            tally.failedCount[r] += s.failedCount[r];
        }
    }

    /// @dev Moves run i's cursor to its first entry above `from` and records that entry's operator as its head.
    function _seek(Metrics[][] calldata run, Scratch memory s, uint256 i, address from) internal pure {
        uint256 j = s.page[i];
        uint256 k = s.offset[i];
        while (j < run.length && (k >= run[j].length || run[j][k].operator <= from)) {
            if (k >= run[j].length) {
                ++j;
                k = 0;
            } else {
                ++k;
            }
        }
        (s.page[i], s.offset[i]) = (j, k);
        s.head[i] = j < run.length ? uint256(uint160(run[j][k].operator)) : NONE;
    }

    /// @dev The smallest head at or below `upTo`.
    function _nextOperator(Scratch memory s, address upTo) internal pure returns (bool any, address next) {
        uint256 min = NONE;
        for (uint256 i; i < s.head.length; ++i) {
            if (s.head[i] < min) min = s.head[i];
        }
        if (min <= uint256(uint160(upTo))) return (true, address(uint160(min)));
    }

    /// @dev Copies `operator`'s metrics from every run whose head it is and moves those runs on.
    function _collect(Metrics[][][] calldata reports, Scratch memory s, address operator)
        internal
        pure
        returns (uint256 n)
    {
        uint256 key = uint256(uint160(operator));
        for (uint256 i; i < reports.length; ++i) {
            if (s.head[i] != key) continue;
            Metrics calldata m = reports[i][s.page[i]][s.offset[i]];
            s.availability[n] = m.availabilityBps;
            s.latency[n] = m.p50LatencyMs;
            s.lag[n] = m.lagBlocks;
            ++n;
            _seek(reports[i], s, i, operator);
        }
    }

    /// @dev Usage run u's relays for `operator` (0 if absent); its cursor only moves forward because operators
    ///      come in ascending order.
    function _relays(Usage[][] calldata run, Scratch memory s, uint256 u, address operator)
        internal
        pure
        returns (uint256 relays)
    {
        uint256 j = s.usagePage[u];
        uint256 k = s.usageOffset[u];
        while (j < run.length && (k >= run[j].length || run[j][k].operator < operator)) {
            if (k >= run[j].length) {
                ++j;
                k = 0;
            } else {
                ++k;
            }
        }
        if (j < run.length && run[j][k].operator == operator) relays = run[j][k++].relays;
        (s.usagePage[u], s.usageOffset[u]) = (j, k);
    }

    /// @dev The verdict for `n` values of each metric: the element at index floor(n/2) of the ascending sorted
    ///      values, for every metric. With liars a strict minority L < n/2 of the n values, at least
    ///      floor(n/2) + 1 > L values are at or below it and n - floor(n/2) = ceil(n/2) > L at or above it, so
    ///      it lies between two honest values: lying can push it neither below the lowest honest value nor
    ///      above the highest, in either direction.
    /// @return multiplier the performance multiplier in bps; 0 when failing a rule, jailed or ejected
    function _judge(uint32 networkId, uint256 epoch, address operator, Scratch memory s, uint256 n)
        internal
        returns (uint256)
    {
        (uint256 multiplier, uint64 downWad, uint64 availabilityWad, uint64 latencyWad) =
            _verdict(networkId, epoch, operator, s, n);
        // Operators failing a rule, jailed or ejected earn nothing for the epoch.
        if (_record(networkId, epoch, operator, s, downWad, availabilityWad, latencyWad)) return 0;
        return multiplier;
    }

    /// @dev The order statistics, their assessment and the OperatorJudged event.
    function _verdict(uint32 networkId, uint256 epoch, address operator, Scratch memory s, uint256 n)
        internal
        returns (uint256 multiplier, uint64 downWad, uint64 availabilityWad, uint64 latencyWad)
    {
        uint16 a = uint16(_sorted(s.availability, n)[n / 2]);
        uint32 l = uint32(_sorted(s.latency, n)[n / 2]);
        uint32 g = uint32(_sorted(s.lag, n)[n / 2]);
        (multiplier, downWad, availabilityWad, latencyWad) = assess(a, l, g);
        emit OperatorJudged(networkId, epoch, operator, a, l, g, multiplier);
    }

    /// @dev Records the operator's stake and rule failures; true when it earns nothing (failed, jailed or
    ///      ejected). No slash is recorded while the clock is stopped: a jailed operator already answers for
    ///      its pending slash, and an ejected one has left the network.
    function _record(
        uint32 networkId,
        uint256 epoch,
        address operator,
        Scratch memory s,
        uint64 downWad,
        uint64 availabilityWad,
        uint64 latencyWad
    ) internal returns (bool) {
        uint256 stake = IDinRegistryReader(address(registry)).allocatedStake(operator, networkId);
        s.totalStake += stake;
        bool punishable = !registry.isJailed(operator, networkId)
            && allocationManager.isMemberOfOperatorSet(operator, OperatorSet(address(registry), networkId));
        bool failed = downWad > 0 || availabilityWad > 0 || latencyWad > 0;
        if (failed) {
            PendingSlash[] storage pending = _pending[networkId][epoch];
            _fail(s, pending, operator, IDinSlasher.Reason.Down, downWad, stake, punishable);
            _fail(s, pending, operator, IDinSlasher.Reason.Unavailable, availabilityWad, stake, punishable);
            _fail(s, pending, operator, IDinSlasher.Reason.SlowLatency, latencyWad, stake, punishable);
        }
        return failed || !punishable;
    }

    /// @dev Counts a rule failure towards its rule's failed stake and, if the operator can be punished,
    ///      records the slash to settle.
    function _fail(
        Scratch memory s,
        PendingSlash[] storage pending,
        address operator,
        IDinSlasher.Reason reason,
        uint64 wad,
        uint256 stake,
        bool punishable
    ) internal {
        if (wad == 0) return;
        uint256 rule = uint256(reason);
        s.failedStake[rule] += stake;
        ++s.failedCount[rule];
        if (punishable) pending.push(PendingSlash(operator, reason, wad));
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
    ///      rounded down (the dust stays carried for its gateway), escrowed as one submission; if the escrow
    ///      fails, nothing of the page counts as paid and its gateways' shares are carried at the end.
    function _payRange(
        uint32 networkId,
        uint256 epoch,
        EpochState storage state,
        address from,
        address upTo,
        Usage[][][] calldata usage
    ) internal {
        Payout memory p = _rewardsIn(networkId, epoch, from, upTo, usage);
        if (p.n == 0) return;
        IRewardsCoordinator.OperatorReward[] memory rewards = p.rewards;
        uint256 n = p.n;
        assembly {
            mstore(rewards, n)
        }
        if (_escrowPage(networkId, epoch, rewards, p.total)) {
            state.paid += p.total;
            address[] storage gateways = _usageReporters[networkId][epoch];
            for (uint256 u; u < usage.length; ++u) {
                if (p.paid[u] > 0) _pools[networkId][epoch][gateways[u]].paid += p.paid[u];
            }
        }
    }

    /// @dev Escrows a paying step's rewards; only an escrow that succeeds counts as paid.
    function _escrowPage(
        uint32 networkId,
        uint256 epoch,
        IRewardsCoordinator.OperatorReward[] memory rewards,
        uint256 total
    ) internal returns (bool) {
        try this.escrow(networkId, rewards, total) {
            return true;
        } catch (bytes memory data) {
            emit PayoutFailed(networkId, epoch, total, data);
            return false;
        }
    }

    /// @dev The rewards of the operators in (from, upTo], merged over the usage runs in ascending order.
    function _rewardsIn(uint32 networkId, uint256 epoch, address from, address upTo, Usage[][][] calldata usage)
        internal
        view
        returns (Payout memory p)
    {
        p = _payout(networkId, epoch, usage);
        mapping(address => uint256) storage multipliers = _multiplier[networkId][epoch];
        Scratch memory s;
        s.usagePage = new uint256[](usage.length);
        s.usageOffset = new uint256[](usage.length);
        while (true) {
            (bool any, address next) = _nextUsage(usage, s, from, upTo);
            if (!any) break;
            from = next;
            _pay(usage, s, p, next, multipliers[next]);
        }
    }

    function _payout(uint32 networkId, uint256 epoch, Usage[][][] calldata usage)
        internal
        view
        returns (Payout memory p)
    {
        mapping(address => GatewayPool) storage pools = _pools[networkId][epoch];
        address[] storage gateways = _usageReporters[networkId][epoch];
        p.fees = new uint256[](usage.length);
        p.weight = new uint256[](usage.length);
        p.paid = new uint256[](usage.length);
        for (uint256 u; u < usage.length; ++u) {
            GatewayPool storage pool = pools[gateways[u]];
            p.fees[u] = pool.fees;
            p.weight[u] = pool.weight;
        }
        p.rewards = new IRewardsCoordinator.OperatorReward[](_entries(usage));
    }

    /// @dev Entries in the usage runs: the most operators a paying step can reward.
    function _entries(Usage[][][] calldata usage) internal pure returns (uint256 n) {
        for (uint256 u; u < usage.length; ++u) {
            for (uint256 j; j < usage[u].length; ++j) {
                n += usage[u][j].length;
            }
        }
    }

    /// @dev Adds `operator`'s reward (the sum of its shares of every usage report) to the payout.
    function _pay(Usage[][][] calldata usage, Scratch memory s, Payout memory p, address operator, uint256 multiplier)
        internal
        pure
    {
        uint256 amount;
        for (uint256 u; u < usage.length; ++u) {
            uint256 relays = _relays(usage[u], s, u, operator);
            if (multiplier == 0 || relays == 0 || p.weight[u] == 0) continue;
            uint256 share = p.fees[u] * relays * multiplier / p.weight[u];
            p.paid[u] += share;
            amount += share;
        }
        if (amount == 0) return;
        p.rewards[p.n++] = IRewardsCoordinator.OperatorReward(operator, amount);
        p.total += amount;
    }

    /// @dev The smallest operator above `after_` and at most `upTo` at the usage runs' cursors.
    function _nextUsage(Usage[][][] calldata usage, Scratch memory s, address after_, address upTo)
        internal
        pure
        returns (bool any, address next)
    {
        for (uint256 u; u < usage.length; ++u) {
            Usage[][] calldata run = usage[u];
            uint256 j = s.usagePage[u];
            uint256 k = s.usageOffset[u];
            while (j < run.length && (k >= run[j].length || run[j][k].operator <= after_)) {
                if (k >= run[j].length) {
                    ++j;
                    k = 0;
                } else {
                    ++k;
                }
            }
            (s.usagePage[u], s.usageOffset[u]) = (j, k);
            if (j == run.length) continue;
            address candidate = run[j][k].operator;
            if (candidate > upTo) continue;
            if (!any || candidate < next) next = candidate;
            any = true;
        }
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
}
