// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IDinSlasher} from "./IDinSlasher.sol";

/// @title IDinEpochs
/// @notice SLA epochs of the DIN service: watchers' reports, the median per operator, the governed SLA
///         table, and the per-network fee pool split by relays served × performance multiplier.
interface IDinEpochs {
    /// @notice One operator's service in an epoch, as one watcher measured it.
    struct Metrics {
        address operator;
        /// @dev share of probes answered correctly, in bps (10000 = all)
        uint16 availabilityBps;
        uint32 p50LatencyMs;
        /// @dev mean blocks behind the network head
        uint32 lagBlocks;
    }

    /// @notice Relays one operator served in an epoch, as one gateway counted them.
    struct Usage {
        address operator;
        uint64 relays;
    }

    /// @notice The governed SLA table. Defaults follow DIN's published table.
    struct SlaTable {
        /// @dev below this availability the operator is slashed `availabilityWad` (9990 = 99.9%)
        uint16 minAvailabilityBps;
        /// @dev availability at which the performance multiplier reaches 0 (linear from 1.0 at the minimum)
        uint16 floorAvailabilityBps;
        /// @dev above this p50 latency the operator is slashed `latencyWad` (200 ms)
        uint32 maxP50LatencyMs;
        /// @dev above this lag the multiplier falls as maxLag / lag (no slash)
        uint32 maxLagBlocks;
        /// @dev 0.1% = 1e15
        uint64 availabilityWad;
        /// @dev 0.05% = 5e14
        uint64 latencyWad;
        /// @dev no answer all epoch: 2% = 2e16
        uint64 downWad;
    }

    /// @notice Epoch timing (blocks). `reportQuorum` is a floor on the reports a verdict needs, on top of a
    ///         majority of the admitted watcher set.
    struct EpochParams {
        uint32 epochLength;
        uint32 reportWindow;
        uint32 reportQuorum;
    }

    /// @notice An SLA slash held for governance: its rule failed for a governed share of the network's stake
    ///         in one epoch (a correlated failure, such as the served chain halting), or queueing it failed.
    struct HeldSlash {
        address operator;
        uint32 networkId;
        uint64 wad;
        IDinSlasher.Reason reason;
        HeldStatus status;
        uint256 epoch;
    }

    /// @notice What became of a held slash.
    enum HeldStatus {
        None,
        Held,
        Released,
        Dropped
    }

    /// @notice Where an epoch's finalization stands. Judging takes the reports page by page, in ascending
    ///         operator ranges; Settling queues or holds the recorded slashes in pages; Paying splits the fees
    ///         over the usage reports page by page; Finalized is the end.
    enum Stage {
        Reporting,
        Judging,
        Settling,
        Paying,
        Finalized
    }

    /// @notice Caller lacks the role, or is not an active watcher / gateway.
    /// @notice The guardian paused recently: a new pause waits as long as the last one lasted.
    error PauseCoolingDown(uint256 readyAt);
    error InvalidCaller();
    /// @notice A parameter is zero or out of range.
    error InvalidParameter();
    /// @notice The network does not exist.
    error UnknownNetwork(uint32 networkId);
    /// @notice The epoch has not ended yet.
    error EpochNotOver();
    /// @notice The report window of the epoch is over.
    error ReportWindowOver();
    /// @notice The epoch is already finalized.
    error AlreadyFinalized();
    /// @notice This watcher already reported the epoch.
    error AlreadyReported();
    /// @notice A page lists more than MAX_PAGE_LENGTH operators, or a report has more than MAX_PAGES pages.
    error ReportTooLong();
    /// @notice Operators in a report must be strictly ascending.
    error NotSorted();
    /// @notice Neither a quorum of reports nor the deadline is reached.
    error NotFinalizable();
    /// @notice The reports passed to finalize are not the ones submitted.
    error ReportsMismatch();
    /// @notice This gateway already reported the epoch's usage.
    error UsageAlreadyReported();
    /// @notice Usage can be reported for the current or a past epoch only.
    error FutureEpoch();

    /// @notice The held slash does not exist or was already released or dropped.
    error NotHeld();
    /// @notice A page is not the report's next one, or the epoch's finalization is not at the step called (or
    ///         the step's range does not start above the last one's).
    error InvalidPage();
    /// @notice Finalization of the epoch has begun: its reports and usage are frozen.
    error FinalizationStarted();
    /// @notice No accrued rewards, or no whole calculation interval elapsed since the last flush.
    error NothingToFlush();

    /// @notice Fees were paid into an epoch's pool.
    event FeesPaid(uint32 indexed networkId, uint256 indexed epoch, address indexed payer, uint256 amount);
    /// @notice One page of a gateway's usage report (its hash is stored; finalization re-supplies it).
    event UsageReported(
        uint32 indexed networkId, uint256 indexed epoch, address indexed gateway, uint256 page, Usage[] usage
    );
    /// @notice A gateway's usage report is complete: it is the epoch's usage report number `index`.
    event UsageCompleted(uint32 indexed networkId, uint256 indexed epoch, address indexed gateway, uint256 index);
    /// @notice One page of a watcher's report (its hash is stored; finalization re-supplies it).
    event ReportSubmitted(
        uint32 indexed networkId, uint256 indexed epoch, address indexed watcher, uint256 page, Metrics[] metrics
    );
    /// @notice A watcher's report is complete: it is the epoch's report number `index`.
    event ReportCompleted(uint32 indexed networkId, uint256 indexed epoch, address indexed watcher, uint256 index);
    /// @notice The median of an operator's metrics and its performance multiplier (bps).
    event OperatorJudged(
        uint32 indexed networkId,
        uint256 indexed epoch,
        address indexed operator,
        uint16 availabilityBps,
        uint32 p50LatencyMs,
        uint32 lagBlocks,
        uint256 multiplierBps
    );
    /// @notice An epoch was finalized: `paid` went to the RewardsCoordinator, `carried` to the next pool.
    event EpochFinalized(uint32 indexed networkId, uint256 indexed epoch, uint256 reports, uint256 paid, uint256 carried);
    /// @notice A rule failed for `failedStakeBps` of the judged stake of a network in one epoch, at or above
    ///         the correlated-failure share: its `count` slashes are held for governance instead of queued.
    event CorrelatedFailure(
        uint32 indexed networkId, uint256 indexed epoch, IDinSlasher.Reason reason, uint256 failedStakeBps, uint256 count
    );
    /// @notice A slash was held for governance (`heldId` indexes getHeldSlash).
    event SlashHeld(
        uint256 indexed heldId, address indexed operator, uint32 indexed networkId, uint256 epoch, IDinSlasher.Reason reason, uint64 wad
    );
    /// @notice Governance released a held slash: it is queued in the slasher as `slashId`.
    event HeldSlashReleased(uint256 indexed heldId, uint256 slashId);
    /// @notice Governance dropped a held slash.
    event HeldSlashDropped(uint256 indexed heldId);
    /// @notice An SLA slash could not be queued in the slasher: it is held for governance instead.
    event SlashQueueFailed(address indexed operator, uint32 indexed networkId, IDinSlasher.Reason reason, bytes data);
    /// @notice A network's accrued rewards were escrowed in the RewardsCoordinator as one operator-set
    ///         submission for [start, start + duration).
    event RewardsFlushed(uint32 indexed networkId, uint32 start, uint32 duration, uint256 amount, uint256 operators);
    /// @notice The share of a network's judged stake failing one rule that holds its slashes for governance.
    event CorrelatedShareSet(uint256 shareBps);
    /// @notice The SLA table changed.
    event SlaTableSet(SlaTable table);
    /// @notice Epoch parameters changed; a new length applies from `fromEpoch` (starting at `fromBlock`).
    event EpochParamsSet(EpochParams params, uint256 fromEpoch, uint256 fromBlock);
}
