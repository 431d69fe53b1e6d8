// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {OperatorSet} from "./IAllocationManager.sol";
import {IStrategy} from "./IStrategy.sol";

/// @title IRewardsCoordinator
/// @notice AVS-funded rewards for past, interval-aligned periods, paid through cumulative two-level Merkle
///         claims.
/// @dev The subset of EigenLayer's IRewardsCoordinator that operator-set services use, with the same
///      function signatures (selectors), struct layouts, events and error names, so a service written against
///      this core deploys unchanged on EigenLayer's. An AVS escrows tokens directed per operator of one of
///      its operator sets, for a period that has ended; off chain, the rewards calculator splits each
///      operator's amount into the operator's commission (its operator-set split) and its stakers' pro-rata
///      shares, and publishes a root over earner leaves (earner, earnerTokenRoot), each earner's token root
///      over token leaves (token, cumulativeEarnings). A claim proves one earner leaf, then each token leaf
///      under it, and pays `cumulative − alreadyClaimed`: it never pays twice and costs O(log earners +
///      log tokens) hashes, with no per-staker bookkeeping in deposits or slashes.
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
        /// @dev strategies strictly ascending, each whitelisted
        StrategyAndMultiplier[] strategiesAndMultipliers;
        IERC20 token;
        /// @dev operators strictly ascending, amounts > 0
        OperatorReward[] operatorRewards;
        /// @dev a multiple of CALCULATION_INTERVAL_SECONDS
        uint32 startTimestamp;
        /// @dev a non-zero multiple of CALCULATION_INTERVAL_SECONDS, at most MAX_REWARDS_DURATION
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

    /// @notice An earner leaf of the distribution tree: the earner and the root of its token tree.
    struct EarnerTreeMerkleLeaf {
        address earner;
        bytes32 earnerTokenRoot;
    }

    /// @notice A leaf of an earner's token tree: what it earned of `token` in total so far.
    struct TokenTreeMerkleLeaf {
        IERC20 token;
        uint256 cumulativeEarnings;
    }

    /// @notice A claim of one or more tokens by one earner against one root. Proofs are concatenated 32-byte
    ///         siblings from the leaf up; the index's bits say on which side each sibling goes.
    struct RewardsMerkleClaim {
        uint32 rootIndex;
        uint32 earnerIndex;
        bytes earnerTreeProof;
        EarnerTreeMerkleLeaf earnerLeaf;
        uint32[] tokenIndices;
        bytes[] tokenTreeProofs;
        TokenTreeMerkleLeaf[] tokenLeaves;
    }

    /// @notice An operator's split with a pending change (`oldSplitBips` = type(uint16).max: never set before).
    struct OperatorSplit {
        uint16 oldSplitBips;
        uint16 newSplitBips;
        uint32 activatedAt;
    }

    /// @notice The caller may not make this call.
    error UnauthorizedCaller();
    /// @notice The operator set does not exist in the AllocationManager.
    error InvalidOperatorSet();
    /// @notice An empty list.
    error InputArrayLengthZero();
    /// @notice Parallel lists of different lengths.
    error InputArrayLengthMismatch();
    /// @notice A zero address.
    error InvalidAddressZero();
    /// @notice A zero amount.
    error AmountIsZero();
    /// @notice More than the calculation supports.
    error AmountExceedsMax();
    /// @notice A zero duration.
    error DurationIsZero();
    /// @notice Longer than MAX_REWARDS_DURATION.
    error DurationExceedsMax();
    /// @notice The duration is not a multiple of CALCULATION_INTERVAL_SECONDS.
    error InvalidDurationRemainder();
    /// @notice The start is not a multiple of CALCULATION_INTERVAL_SECONDS.
    error InvalidStartTimestampRemainder();
    /// @notice The start is more than MAX_RETROACTIVE_LENGTH in the past.
    error StartTimestampTooFarInPast();
    /// @notice The period has not ended: operator-directed rewards are retroactive.
    error SubmissionNotRetroactive();
    /// @notice Strategies must be strictly ascending.
    error StrategiesNotInAscendingOrder();
    /// @notice Operators must be strictly ascending.
    error OperatorsNotInAscendingOrder();
    /// @notice The strategy is not whitelisted.
    error StrategyNotWhitelisted();
    /// @notice The split must be at most 10000 bips.
    error SplitExceedsMax();
    /// @notice The operator's last split change has not taken effect yet.
    error PreviousSplitPending();
    /// @notice The root's calculation end must be after the previous root's.
    error NewRootMustBeForNewCalculatedPeriod();
    /// @notice The root's calculation end must be in the past.
    error RewardsEndTimestampNotElapsed();
    /// @notice The root index does not exist.
    error InvalidRootIndex();
    /// @notice No root has this hash.
    error InvalidRoot();
    /// @notice The root is disabled.
    error RootDisabled();
    /// @notice The root is not claimable yet.
    error RootNotActivated();
    /// @notice The root is already claimable and can no longer be disabled.
    error RootAlreadyActivated();
    /// @notice The earner index does not fit the proof's length.
    error InvalidEarnerLeafIndex();
    /// @notice A token index does not fit its proof's length.
    error InvalidTokenLeafIndex();
    /// @notice A proof is not a whole number of 32-byte siblings.
    error InvalidProofLength();
    /// @notice A proof does not lead to its root.
    error InvalidClaimProof();
    /// @notice Nothing new to claim.
    error EarningsNotGreaterThanClaimed();

    /// @notice An AVS escrowed operator-directed rewards for one of its operator sets.
    event OperatorDirectedOperatorSetRewardsSubmissionCreated(
        address indexed caller,
        bytes32 indexed operatorDirectedRewardsSubmissionHash,
        OperatorSet operatorSet,
        uint256 submissionNonce,
        OperatorDirectedRewardsSubmission operatorDirectedRewardsSubmission
    );
    /// @notice A root was published.
    event DistributionRootSubmitted(
        uint32 indexed rootIndex, bytes32 indexed root, uint32 indexed rewardsCalculationEndTimestamp, uint32 activatedAt
    );
    /// @notice A root was disabled before activation.
    event DistributionRootDisabled(uint32 indexed rootIndex);
    /// @notice An earner's token was claimed.
    event RewardsClaimed(
        bytes32 root,
        address indexed earner,
        address indexed claimer,
        address indexed recipient,
        IERC20 token,
        uint256 claimedAmount
    );
    /// @notice An earner named who claims for it.
    event ClaimerForSet(address indexed earner, address indexed oldClaimer, address indexed claimer);
    /// @notice An operator's split for an operator set changes at `activatedAt`.
    event OperatorSetSplitBipsSet(
        address indexed caller,
        address indexed operator,
        OperatorSet operatorSet,
        uint32 activatedAt,
        uint16 oldOperatorSetSplitBips,
        uint16 newOperatorSetSplitBips
    );
    /// @notice The rewards updater changed.
    event RewardsUpdaterSet(address indexed oldRewardsUpdater, address indexed newRewardsUpdater);
    /// @notice Who may disable a root before it activates, besides the updater and the owner, changed.
    event RootGuardianSet(address rootGuardian);

    /// @notice Escrows rewards of `operatorSet.avs` (the caller) directed to operators of `operatorSet`, for
    ///         periods that ended.
    function createOperatorDirectedOperatorSetRewardsSubmission(
        OperatorSet calldata operatorSet,
        OperatorDirectedRewardsSubmission[] calldata operatorDirectedRewardsSubmissions
    ) external;

    /// @notice Publishes a root of cumulative earnings (the rewards updater only); claimable after
    ///         `activationDelay`.
    function submitRoot(bytes32 root, uint32 rewardsCalculationEndTimestamp) external;

    /// @notice Disables a root before it activates (the rewards updater, the owner or the root guardian).
    function disableRoot(uint32 rootIndex) external;

    /// @notice Pays `cumulativeEarnings − cumulativeClaimed` of each token leaf to `recipient` (the earner's
    ///         claimer if it named one, else the earner).
    function processClaim(RewardsMerkleClaim calldata claim, address recipient) external;

    /// @notice Several claims at once.
    function processClaims(RewardsMerkleClaim[] calldata claims, address recipient) external;

    /// @notice Names who claims for the caller (zero: the caller itself).
    function setClaimerFor(address claimer) external;

    /// @notice Sets the operator's commission for an operator set, in bips; takes effect after
    ///         `activationDelay`.
    function setOperatorSetSplit(address operator, OperatorSet calldata operatorSet, uint16 split) external;

    /// @notice Changes the rewards updater (the owner only).
    function setRewardsUpdater(address rewardsUpdater) external;

    /// @notice Seconds every submission's start and duration are multiples of.
    function CALCULATION_INTERVAL_SECONDS() external view returns (uint32);

    /// @notice Longest period one submission may cover.
    function MAX_REWARDS_DURATION() external view returns (uint32);

    /// @notice Farthest in the past a submission may start.
    function MAX_RETROACTIVE_LENGTH() external view returns (uint32);

    /// @notice Seconds between a root's submission and when it can be claimed against (and a split change).
    function activationDelay() external view returns (uint32);

    /// @notice Operator commission (bips) where the operator set none.
    function defaultOperatorSplitBips() external view returns (uint16);

    /// @notice Who publishes roots.
    function rewardsUpdater() external view returns (address);

    /// @notice Who claims for an earner (zero: the earner).
    function claimerFor(address earner) external view returns (address);

    /// @notice What an earner has claimed so far in a token.
    function cumulativeClaimed(address earner, IERC20 token) external view returns (uint256);

    /// @notice Calculation end of the latest root.
    function currRewardsCalculationEndTimestamp() external view returns (uint32);

    /// @notice Submissions escrowed so far by an AVS (the next submission's nonce).
    function submissionNonce(address avs) external view returns (uint256);

    /// @notice Whether `hash` is keccak256(abi.encode(avs, nonce, submission)) of an escrowed submission.
    function isOperatorDirectedOperatorSetRewardsSubmissionHash(address avs, bytes32 hash)
        external
        view
        returns (bool);

    /// @notice The operator's commission for an operator set in bips now.
    function getOperatorSetSplit(address operator, OperatorSet calldata operatorSet) external view returns (uint16);

    /// @notice Number of roots published.
    function getDistributionRootsLength() external view returns (uint256);

    /// @notice A root by index.
    function getDistributionRootAtIndex(uint256 index) external view returns (DistributionRoot memory);

    /// @notice The latest root (whatever its state).
    function getCurrentDistributionRoot() external view returns (DistributionRoot memory);

    /// @notice The latest root that is activated and not disabled (all zero if none).
    function getCurrentClaimableDistributionRoot() external view returns (DistributionRoot memory);

    /// @notice Index of the latest root with hash `rootHash`.
    function getRootIndexFromHash(bytes32 rootHash) external view returns (uint32);

    /// @notice Reverts with the reason a claim's proofs or root are wrong; true otherwise. Does not check the
    ///         caller or what is left to claim.
    function checkClaim(RewardsMerkleClaim calldata claim) external view returns (bool);

    /// @notice Hash of an earner leaf: keccak256(abi.encodePacked(uint8(0), earner, earnerTokenRoot)).
    function calculateEarnerLeafHash(EarnerTreeMerkleLeaf calldata leaf) external pure returns (bytes32);

    /// @notice Hash of a token leaf: keccak256(abi.encodePacked(uint8(1), token, cumulativeEarnings)).
    function calculateTokenLeafHash(TokenTreeMerkleLeaf calldata leaf) external pure returns (bytes32);
}
