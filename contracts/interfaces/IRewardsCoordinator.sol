// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStrategy} from "./IStrategy.sol";

/// @title IRewardsCoordinator
/// @notice AVS-funded rewards for past periods, paid through cumulative Merkle claims.
/// @dev Shaped like EigenLayer's IRewardsCoordinator (operator-directed rewards). An AVS escrows tokens
///      with a split per operator; off chain, the rewards calculator splits each operator's amount into the
///      operator's commission (its split, in bips) and its stakers' pro-rata shares, and publishes a root of
///      cumulative earnings per (earner, token). A claim verifies one proof and pays
///      `cumulative − alreadyClaimed`, so it can never pay twice and costs O(log n) hashes, independent of
///      how many stakers an operator has and with no per-staker bookkeeping in deposits or slashes.
interface IRewardsCoordinator {
    /// @notice Weight of a strategy when stakers' stake is summed across strategies.
    struct StrategyAndMultiplier {
        IStrategy strategy;
        uint96 multiplier;
    }

    /// @notice Reward for one operator (and, through it, its stakers).
    struct OperatorReward {
        address operator;
        uint256 amount;
    }

    /// @notice Rewards an AVS directs to operators for a past period.
    struct OperatorDirectedRewardsSubmission {
        StrategyAndMultiplier[] strategiesAndMultipliers;
        IERC20 token;
        /// @dev operators strictly ascending
        OperatorReward[] operatorRewards;
        uint32 startTimestamp;
        uint32 duration;
        string description;
    }

    /// @notice A published root of cumulative earnings.
    struct DistributionRoot {
        bytes32 root;
        uint32 rewardsCalculationEndTimestamp;
        uint32 activatedAt;
        bool disabled;
    }

    /// @notice A claim of one token by one earner against one root.
    struct RewardsClaim {
        uint32 rootIndex;
        address earner;
        IERC20 token;
        uint256 cumulativeEarnings;
        bytes32[] proof;
    }

    /// @notice An operator's split with a pending change.
    struct OperatorSplit {
        uint16 oldSplitBips;
        uint16 newSplitBips;
        uint32 activatedAt;
    }

    /// @notice Caller is not allowed.
    error InvalidCaller();
    /// @notice Caller is not the rewards updater.
    error UnauthorizedCaller();
    /// @notice Zero amounts or empty lists are not accepted.
    error InputZero();
    /// @notice The period must have ended: rewards are retroactive.
    error SubmissionNotRetroactive();
    /// @notice Operators or strategies must be strictly ascending.
    error NotSorted();
    /// @notice The strategy is not whitelisted.
    error StrategyNotWhitelisted();
    /// @notice The split must be at most 10000 bips.
    error SplitExceedsMax();
    /// @notice The root's calculation end must be after the previous one and in the past.
    error InvalidCalculationEndTimestamp();
    /// @notice The root index does not exist.
    error InvalidRootIndex();
    /// @notice The root is disabled.
    error RootDisabled();
    /// @notice The root is not active yet.
    error RootNotActivatedYet();
    /// @notice The root is already active and can no longer be disabled.
    error RootAlreadyActivated();
    /// @notice The Merkle proof does not match the root.
    error InvalidClaimProof();
    /// @notice Nothing new to claim.
    error EarningsNotGreaterThanClaimed();

    /// @notice An AVS escrowed operator-directed rewards.
    event OperatorDirectedAVSRewardsSubmissionCreated(
        address indexed caller,
        address indexed avs,
        bytes32 indexed submissionHash,
        uint256 submissionNonce,
        OperatorDirectedRewardsSubmission submission
    );
    /// @notice A root was published.
    event DistributionRootSubmitted(
        uint32 indexed rootIndex, bytes32 indexed root, uint32 rewardsCalculationEndTimestamp, uint32 activatedAt
    );
    /// @notice A root was disabled before activation.
    event DistributionRootDisabled(uint32 indexed rootIndex);
    /// @notice An earner claimed.
    event RewardsClaimed(
        bytes32 root, address indexed earner, address indexed claimer, address recipient, IERC20 token, uint256 amount
    );
    /// @notice An earner set who may claim for it.
    event ClaimerForSet(address indexed earner, address indexed claimer);
    /// @notice An operator's split for an AVS changes at `activatedAt`.
    event OperatorAVSSplitBipsSet(
        address indexed operator, address indexed avs, uint32 activatedAt, uint16 oldSplitBips, uint16 newSplitBips
    );
    /// @notice The rewards updater changed.
    event RewardsUpdaterSet(address rewardsUpdater);
    /// @notice Who may disable a root before it activates, besides the updater and the owner, changed.
    event RootGuardianSet(address rootGuardian);

    /// @notice Escrows rewards of `avs` (the caller) for past periods, directed per operator.
    function createOperatorDirectedRewardsSubmission(
        address avs,
        OperatorDirectedRewardsSubmission[] calldata submissions
    ) external;

    /// @notice Publishes a root of cumulative earnings (the rewards updater only); active after a delay.
    function submitRoot(bytes32 root, uint32 rewardsCalculationEndTimestamp) external;

    /// @notice Disables a root before it activates (the rewards updater, the owner or the root guardian).
    function disableRoot(uint32 rootIndex) external;

    /// @notice Claims `cumulativeEarnings − alreadyClaimed` for an earner (the earner or its claimer).
    function processClaim(RewardsClaim calldata claim, address recipient) external;

    /// @notice Claims several tokens or earners at once.
    function processClaims(RewardsClaim[] calldata claims, address recipient) external;

    /// @notice Lets `claimer` claim for the caller.
    function setClaimerFor(address claimer) external;

    /// @notice Sets the operator's commission for an AVS, in bips; takes effect after the activation delay.
    function setOperatorAVSSplit(address operator, address avs, uint16 splitBips) external;

    /// @notice Changes the rewards updater (the owner only).
    function setRewardsUpdater(address rewardsUpdater) external;

    /// @notice The operator's commission for an AVS in bips now.
    function getOperatorAVSSplit(address operator, address avs) external view returns (uint16);

    /// @notice A root by index.
    function getDistributionRoot(uint32 rootIndex) external view returns (DistributionRoot memory);

    /// @notice Number of roots published.
    function getDistributionRootsLength() external view returns (uint256);

    /// @notice What an earner has claimed so far in a token.
    function cumulativeClaimed(address earner, IERC20 token) external view returns (uint256);

    /// @notice The leaf of a claim: keccak256(bytes.concat(keccak256(abi.encode(earner, token, cumulative)))).
    function calculateLeaf(address earner, IERC20 token, uint256 cumulativeEarnings) external pure returns (bytes32);

    /// @notice Default operator commission in bips.
    function defaultOperatorSplitBips() external view returns (uint16);
}
