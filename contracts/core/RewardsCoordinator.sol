// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAllocationManager, OperatorSet} from "../interfaces/IAllocationManager.sol";
import {IRewardsCoordinator} from "../interfaces/IRewardsCoordinator.sol";
import {IStrategyManager} from "../interfaces/IStrategyManager.sol";
import {Merkle} from "../libraries/Merkle.sol";
import {OperatorSetLib} from "../libraries/OperatorSetLib.sol";

/// @title RewardsCoordinator
/// @notice Escrows operator-set rewards for past, interval-aligned periods and pays cumulative claims
///         proven through a two-level Merkle tree (earners, then each earner's tokens).
/// @dev Why Merkle claims and not an on-chain accumulator: stakers must be paid pro rata to their stake
///      *during the past period*, across several strategies weighted by multipliers, net of each operator's
///      commission. An accumulator pays whoever holds shares when the reward arrives (a late depositor
///      would earn for a period it did not secure) and would add a per-token settlement to every deposit,
///      delegation and withdrawal. Here the split is computed off chain from the period's stake and
///      committed as one root; claiming checks one earner proof and one proof per token (O(log n) hashes, no
///      loop over stakers or operators) and pays `cumulative − claimed`, so no claim can pay twice.
///      Periods are multiples of CALCULATION_INTERVAL_SECONDS so the calculation snapshots stake on a fixed
///      grid, the same for every submission.
contract RewardsCoordinator is IRewardsCoordinator, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using OperatorSetLib for OperatorSet;

    /// @notice Largest split: 100% in bips.
    uint16 public constant MAX_SPLIT_BIPS = 10_000;
    /// @notice Largest total of one submission the off-chain calculation handles.
    uint256 internal constant MAX_REWARDS_AMOUNT = 1e38 - 1;
    /// @dev Prefixes that keep an earner leaf from ever hashing like a token leaf (both are 1 + 20 + 32 bytes).
    uint8 internal constant EARNER_LEAF_SALT = 0;
    uint8 internal constant TOKEN_LEAF_SALT = 1;

    /// @notice Used to check strategies are whitelisted.
    IStrategyManager public immutable strategyManager;
    /// @notice Used to check operator sets exist.
    IAllocationManager public immutable allocationManager;
    /// @inheritdoc IRewardsCoordinator
    uint32 public immutable CALCULATION_INTERVAL_SECONDS;
    /// @inheritdoc IRewardsCoordinator
    uint32 public immutable MAX_REWARDS_DURATION;
    /// @inheritdoc IRewardsCoordinator
    uint32 public immutable MAX_RETROACTIVE_LENGTH;
    /// @inheritdoc IRewardsCoordinator
    uint32 public immutable activationDelay;
    /// @inheritdoc IRewardsCoordinator
    uint16 public immutable defaultOperatorSplitBips;

    /// @inheritdoc IRewardsCoordinator
    address public rewardsUpdater;
    /// @notice Who may disable a root during its activation delay besides the updater and the owner (the
    ///         guardian of the service paying through this coordinator): the owner is a timelock, slower than
    ///         the delay, and a wrong root must be stoppable by someone who does not publish roots.
    address public rootGuardian;
    /// @inheritdoc IRewardsCoordinator
    uint32 public currRewardsCalculationEndTimestamp;
    /// @inheritdoc IRewardsCoordinator
    mapping(address earner => address claimer) public claimerFor;
    /// @inheritdoc IRewardsCoordinator
    mapping(address earner => mapping(IERC20 token => uint256)) public cumulativeClaimed;
    /// @inheritdoc IRewardsCoordinator
    mapping(address avs => uint256) public submissionNonce;
    /// @inheritdoc IRewardsCoordinator
    mapping(address avs => mapping(bytes32 hash => bool)) public isOperatorDirectedOperatorSetRewardsSubmissionHash;

    DistributionRoot[] internal _roots;
    mapping(address operator => mapping(bytes32 operatorSetKey => OperatorSplit)) internal _operatorSetSplit;

    /// @notice Constructor parameters (a struct: too many for the stack one by one).
    struct Params {
        IStrategyManager strategyManager;
        IAllocationManager allocationManager;
        /// @dev the owner (the DAO's timelock in production)
        address owner;
        /// @dev who publishes roots
        address rewardsUpdater;
        /// @dev seconds before a root (or a split change) takes effect
        uint32 activationDelay;
        /// @dev default commission (1000 = 10%)
        uint16 defaultOperatorSplitBips;
        /// @dev the grid periods align to (EigenLayer mainnet: 1 day)
        uint32 calculationIntervalSeconds;
        /// @dev longest period, a multiple of the interval
        uint32 maxRewardsDuration;
        /// @dev farthest back a period may start, a multiple of the interval
        uint32 maxRetroactiveLength;
    }

    constructor(Params memory p) Ownable(p.owner) {
        if (p.defaultOperatorSplitBips > MAX_SPLIT_BIPS) revert SplitExceedsMax();
        if (
            p.calculationIntervalSeconds == 0 || p.maxRewardsDuration % p.calculationIntervalSeconds != 0
                || p.maxRetroactiveLength % p.calculationIntervalSeconds != 0
        ) revert InvalidDurationRemainder();
        strategyManager = p.strategyManager;
        allocationManager = p.allocationManager;
        rewardsUpdater = p.rewardsUpdater;
        activationDelay = p.activationDelay;
        defaultOperatorSplitBips = p.defaultOperatorSplitBips;
        CALCULATION_INTERVAL_SECONDS = p.calculationIntervalSeconds;
        MAX_REWARDS_DURATION = p.maxRewardsDuration;
        MAX_RETROACTIVE_LENGTH = p.maxRetroactiveLength;
        emit RewardsUpdaterSet(address(0), p.rewardsUpdater);
    }

    /// @inheritdoc IRewardsCoordinator
    function createOperatorDirectedOperatorSetRewardsSubmission(
        OperatorSet calldata operatorSet,
        OperatorDirectedRewardsSubmission[] calldata operatorDirectedRewardsSubmissions
    ) external nonReentrant {
        if (msg.sender != operatorSet.avs) revert UnauthorizedCaller();
        if (!allocationManager.isOperatorSet(operatorSet)) revert InvalidOperatorSet();
        for (uint256 i; i < operatorDirectedRewardsSubmissions.length; ++i) {
            OperatorDirectedRewardsSubmission calldata s = operatorDirectedRewardsSubmissions[i];
            uint256 total = _validate(s);
            uint256 nonce = submissionNonce[operatorSet.avs]++;
            bytes32 hash = keccak256(abi.encode(operatorSet.avs, nonce, s));
            isOperatorDirectedOperatorSetRewardsSubmissionHash[operatorSet.avs][hash] = true;
            emit OperatorDirectedOperatorSetRewardsSubmissionCreated(msg.sender, hash, operatorSet, nonce, s);
            s.token.safeTransferFrom(msg.sender, address(this), total);
        }
    }

    /// @inheritdoc IRewardsCoordinator
    function submitRoot(bytes32 root, uint32 rewardsCalculationEndTimestamp) external {
        if (msg.sender != rewardsUpdater) revert UnauthorizedCaller();
        if (rewardsCalculationEndTimestamp <= currRewardsCalculationEndTimestamp) {
            revert NewRootMustBeForNewCalculatedPeriod();
        }
        if (rewardsCalculationEndTimestamp >= block.timestamp) revert RewardsEndTimestampNotElapsed();
        uint32 activatedAt = uint32(block.timestamp) + activationDelay;
        uint32 index = uint32(_roots.length);
        _roots.push(
            DistributionRoot({
                root: root,
                rewardsCalculationEndTimestamp: rewardsCalculationEndTimestamp,
                activatedAt: activatedAt,
                disabled: false
            })
        );
        currRewardsCalculationEndTimestamp = rewardsCalculationEndTimestamp;
        emit DistributionRootSubmitted(index, root, rewardsCalculationEndTimestamp, activatedAt);
    }

    /// @inheritdoc IRewardsCoordinator
    function disableRoot(uint32 rootIndex) external {
        if (msg.sender != rewardsUpdater && msg.sender != owner() && msg.sender != rootGuardian) {
            revert UnauthorizedCaller();
        }
        if (rootIndex >= _roots.length) revert InvalidRootIndex();
        DistributionRoot storage r = _roots[rootIndex];
        if (r.disabled) revert RootDisabled();
        if (block.timestamp >= r.activatedAt) revert RootAlreadyActivated();
        r.disabled = true;
        emit DistributionRootDisabled(rootIndex);
    }

    /// @inheritdoc IRewardsCoordinator
    function processClaim(RewardsMerkleClaim calldata claim, address recipient) external nonReentrant {
        _processClaim(claim, recipient);
    }

    /// @inheritdoc IRewardsCoordinator
    function processClaims(RewardsMerkleClaim[] calldata claims, address recipient) external nonReentrant {
        for (uint256 i; i < claims.length; ++i) {
            _processClaim(claims[i], recipient);
        }
    }

    /// @inheritdoc IRewardsCoordinator
    function setClaimerFor(address claimer) external {
        address old = claimerFor[msg.sender];
        claimerFor[msg.sender] = claimer;
        emit ClaimerForSet(msg.sender, old, claimer);
    }

    /// @inheritdoc IRewardsCoordinator
    function setOperatorSetSplit(address operator, OperatorSet calldata operatorSet, uint16 split) external {
        if (msg.sender != operator) revert UnauthorizedCaller();
        if (!allocationManager.isOperatorSet(operatorSet)) revert InvalidOperatorSet();
        if (split > MAX_SPLIT_BIPS) revert SplitExceedsMax();
        OperatorSplit storage s = _operatorSetSplit[operator][operatorSet.key()];
        if (s.activatedAt != 0 && block.timestamp <= s.activatedAt) revert PreviousSplitPending();
        uint16 current = _splitOf(s);
        uint32 activatedAt = uint32(block.timestamp) + activationDelay;
        // Never set before: the old split is a flag meaning "the default" until the first change activates.
        s.oldSplitBips = s.activatedAt == 0 ? type(uint16).max : s.newSplitBips;
        s.newSplitBips = split;
        s.activatedAt = activatedAt;
        emit OperatorSetSplitBipsSet(msg.sender, operator, operatorSet, activatedAt, current, split);
    }

    /// @inheritdoc IRewardsCoordinator
    function setRewardsUpdater(address rewardsUpdater_) external onlyOwner {
        emit RewardsUpdaterSet(rewardsUpdater, rewardsUpdater_);
        rewardsUpdater = rewardsUpdater_;
    }

    /// @notice Names who may disable a root before it activates (zero: nobody besides updater and owner).
    function setRootGuardian(address rootGuardian_) external onlyOwner {
        rootGuardian = rootGuardian_;
        emit RootGuardianSet(rootGuardian_);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IRewardsCoordinator
    function getOperatorSetSplit(address operator, OperatorSet calldata operatorSet) external view returns (uint16) {
        return _splitOf(_operatorSetSplit[operator][operatorSet.key()]);
    }

    /// @inheritdoc IRewardsCoordinator
    function getDistributionRootsLength() external view returns (uint256) {
        return _roots.length;
    }

    /// @inheritdoc IRewardsCoordinator
    function getDistributionRootAtIndex(uint256 index) external view returns (DistributionRoot memory) {
        if (index >= _roots.length) revert InvalidRootIndex();
        return _roots[index];
    }

    /// @inheritdoc IRewardsCoordinator
    function getCurrentDistributionRoot() external view returns (DistributionRoot memory) {
        if (_roots.length == 0) revert InvalidRootIndex();
        return _roots[_roots.length - 1];
    }

    /// @inheritdoc IRewardsCoordinator
    function getCurrentClaimableDistributionRoot() external view returns (DistributionRoot memory r) {
        for (uint256 i = _roots.length; i > 0; --i) {
            r = _roots[i - 1];
            if (!r.disabled && block.timestamp >= r.activatedAt) return r;
        }
        return DistributionRoot(bytes32(0), 0, 0, false);
    }

    /// @inheritdoc IRewardsCoordinator
    function getRootIndexFromHash(bytes32 rootHash) external view returns (uint32) {
        for (uint256 i = _roots.length; i > 0; --i) {
            if (_roots[i - 1].root == rootHash) return uint32(i - 1);
        }
        revert InvalidRoot();
    }

    /// @inheritdoc IRewardsCoordinator
    function checkClaim(RewardsMerkleClaim calldata claim) external view returns (bool) {
        _checkClaim(claim);
        return true;
    }

    /// @inheritdoc IRewardsCoordinator
    function calculateEarnerLeafHash(EarnerTreeMerkleLeaf calldata leaf) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(EARNER_LEAF_SALT, leaf.earner, leaf.earnerTokenRoot));
    }

    /// @inheritdoc IRewardsCoordinator
    function calculateTokenLeafHash(TokenTreeMerkleLeaf calldata leaf) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(TOKEN_LEAF_SALT, leaf.token, leaf.cumulativeEarnings));
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev The split in force: the default until a first change activates, then the newest activated one.
    function _splitOf(OperatorSplit memory s) internal view returns (uint16) {
        if (s.activatedAt == 0) return defaultOperatorSplitBips;
        if (block.timestamp >= s.activatedAt) return s.newSplitBips;
        return s.oldSplitBips == type(uint16).max ? defaultOperatorSplitBips : s.oldSplitBips;
    }

    function _validate(OperatorDirectedRewardsSubmission calldata s) internal view returns (uint256 total) {
        uint32 interval = CALCULATION_INTERVAL_SECONDS;
        if (s.strategiesAndMultipliers.length == 0 || s.operatorRewards.length == 0) revert InputArrayLengthZero();
        if (s.duration == 0) revert DurationIsZero();
        if (s.duration > MAX_REWARDS_DURATION) revert DurationExceedsMax();
        if (s.duration % interval != 0) revert InvalidDurationRemainder();
        if (s.startTimestamp % interval != 0) revert InvalidStartTimestampRemainder();
        if (block.timestamp > MAX_RETROACTIVE_LENGTH && s.startTimestamp < block.timestamp - MAX_RETROACTIVE_LENGTH)
        {
            revert StartTimestampTooFarInPast();
        }
        // Operator-directed rewards pay for a period that is over: it ends strictly before this block.
        if (uint256(s.startTimestamp) + s.duration >= block.timestamp) revert SubmissionNotRetroactive();
        address previous;
        for (uint256 i; i < s.strategiesAndMultipliers.length; ++i) {
            address strategy = address(s.strategiesAndMultipliers[i].strategy);
            if (strategy <= previous) revert StrategiesNotInAscendingOrder();
            if (!strategyManager.strategyIsWhitelistedForDeposit(s.strategiesAndMultipliers[i].strategy)) {
                revert StrategyNotWhitelisted();
            }
            previous = strategy;
        }
        previous = address(0);
        for (uint256 i; i < s.operatorRewards.length; ++i) {
            OperatorReward calldata r = s.operatorRewards[i];
            if (r.operator == address(0)) revert InvalidAddressZero();
            if (r.operator <= previous) revert OperatorsNotInAscendingOrder();
            if (r.amount == 0) revert AmountIsZero();
            previous = r.operator;
            total += r.amount;
        }
        if (total > MAX_REWARDS_AMOUNT) revert AmountExceedsMax();
    }

    /// @dev The root is claimable and every proof leads to it: the earner leaf to the root, each token leaf to
    ///      the earner's token root. An index must fit its proof (index < 2^siblings), so no proof is valid
    ///      at two indices.
    function _checkClaim(RewardsMerkleClaim calldata claim) internal view returns (DistributionRoot memory r) {
        if (claim.rootIndex >= _roots.length) revert InvalidRootIndex();
        r = _roots[claim.rootIndex];
        if (r.disabled) revert RootDisabled();
        if (block.timestamp < r.activatedAt) revert RootNotActivated();
        uint256 n = claim.tokenIndices.length;
        if (claim.tokenTreeProofs.length != n || claim.tokenLeaves.length != n) revert InputArrayLengthMismatch();
        if (claim.earnerIndex >= _leafCount(claim.earnerTreeProof.length)) revert InvalidEarnerLeafIndex();
        if (
            !Merkle.verifyInclusionKeccak(
                claim.earnerTreeProof, r.root, calculateEarnerLeafHash(claim.earnerLeaf), claim.earnerIndex
            )
        ) revert InvalidClaimProof();
        for (uint256 i; i < n; ++i) {
            bytes calldata proof = claim.tokenTreeProofs[i];
            if (claim.tokenIndices[i] >= _leafCount(proof.length)) revert InvalidTokenLeafIndex();
            if (
                !Merkle.verifyInclusionKeccak(
                    proof,
                    claim.earnerLeaf.earnerTokenRoot,
                    calculateTokenLeafHash(claim.tokenLeaves[i]),
                    claim.tokenIndices[i]
                )
            ) revert InvalidClaimProof();
        }
    }

    /// @dev Leaves of a tree whose proofs are `proofLength` bytes (saturating: a longer proof fails anyway).
    function _leafCount(uint256 proofLength) internal pure returns (uint256) {
        uint256 depth = proofLength / 32;
        return depth >= 255 ? type(uint256).max : 1 << depth;
    }

    function _processClaim(RewardsMerkleClaim calldata claim, address recipient) internal {
        DistributionRoot memory r = _checkClaim(claim);
        address earner = claim.earnerLeaf.earner;
        address claimer = claimerFor[earner];
        if (claimer == address(0)) claimer = earner;
        if (msg.sender != claimer) revert UnauthorizedCaller();
        for (uint256 i; i < claim.tokenLeaves.length; ++i) {
            TokenTreeMerkleLeaf calldata leaf = claim.tokenLeaves[i];
            uint256 claimed = cumulativeClaimed[earner][leaf.token];
            if (leaf.cumulativeEarnings <= claimed) revert EarningsNotGreaterThanClaimed();
            uint256 amount = leaf.cumulativeEarnings - claimed;
            cumulativeClaimed[earner][leaf.token] = leaf.cumulativeEarnings;
            emit RewardsClaimed(r.root, earner, claimer, recipient, leaf.token, amount);
            leaf.token.safeTransfer(recipient, amount);
        }
    }
}
