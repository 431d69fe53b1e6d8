// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IRewardsCoordinator} from "../interfaces/IRewardsCoordinator.sol";
import {IStrategyManager} from "../interfaces/IStrategyManager.sol";

/// @title RewardsCoordinator
/// @notice Escrows AVS rewards for past periods and pays cumulative Merkle claims.
/// @dev Why Merkle claims and not an on-chain accumulator: stakers must be paid pro rata to their stake
///      *during the past period*, across several strategies weighted by multipliers, net of each operator's
///      commission. An accumulator pays whoever holds shares when the reward arrives (a late depositor
///      would earn for a period it did not secure) and would add a per-token settlement to every deposit,
///      delegation and withdrawal. Here the split is computed off chain from the period's stake and
///      committed as one root; claiming checks one proof against it (O(log n) hashes, no loop over stakers
///      or operators) and pays `cumulative − claimed`, so no claim can pay twice.
contract RewardsCoordinator is IRewardsCoordinator, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Largest split: 100% in bips.
    uint16 public constant MAX_SPLIT_BIPS = 10_000;

    /// @notice Used to check strategies are whitelisted.
    IStrategyManager public immutable strategyManager;
    /// @notice Seconds between a root's submission and when it can be claimed against (and a split change).
    uint32 public immutable activationDelay;
    /// @inheritdoc IRewardsCoordinator
    uint16 public immutable defaultOperatorSplitBips;

    /// @notice Who publishes roots.
    address public rewardsUpdater;
    /// @notice Who may disable a root during its activation delay besides the updater and the owner (the
    ///         guardian of the service paying through this coordinator): the owner is a timelock, slower than
    ///         the delay, and a wrong root must be stoppable by someone who does not publish roots.
    address public rootGuardian;
    /// @notice Calculation end of the latest root.
    uint32 public currRewardsCalculationEndTimestamp;
    /// @notice Who may claim for an earner (besides the earner).
    mapping(address earner => address claimer) public claimerFor;
    /// @inheritdoc IRewardsCoordinator
    mapping(address earner => mapping(IERC20 token => uint256)) public cumulativeClaimed;
    /// @notice Submissions by nonce, per AVS.
    mapping(address avs => uint256) public submissionNonce;
    /// @notice Hashes of escrowed submissions, per AVS.
    mapping(address avs => mapping(bytes32 hash => bool)) public isOperatorDirectedAVSRewardsSubmissionHash;

    DistributionRoot[] internal _roots;
    mapping(address operator => mapping(address avs => OperatorSplit)) internal _operatorAVSSplit;

    /// @param strategyManager_ the StrategyManager
    /// @param owner_ the owner (the DAO's timelock in production)
    /// @param rewardsUpdater_ who publishes roots
    /// @param activationDelay_ seconds before a root is claimable
    /// @param defaultOperatorSplitBips_ default commission (1000 = 10%)
    constructor(
        IStrategyManager strategyManager_,
        address owner_,
        address rewardsUpdater_,
        uint32 activationDelay_,
        uint16 defaultOperatorSplitBips_
    ) Ownable(owner_) {
        if (defaultOperatorSplitBips_ > MAX_SPLIT_BIPS) revert SplitExceedsMax();
        strategyManager = strategyManager_;
        rewardsUpdater = rewardsUpdater_;
        activationDelay = activationDelay_;
        defaultOperatorSplitBips = defaultOperatorSplitBips_;
        emit RewardsUpdaterSet(rewardsUpdater_);
    }

    /// @inheritdoc IRewardsCoordinator
    function createOperatorDirectedRewardsSubmission(
        address avs,
        OperatorDirectedRewardsSubmission[] calldata submissions
    ) external nonReentrant {
        if (msg.sender != avs) revert InvalidCaller();
        for (uint256 i; i < submissions.length; ++i) {
            OperatorDirectedRewardsSubmission calldata s = submissions[i];
            uint256 total = _validate(s);
            uint256 nonce = submissionNonce[avs]++;
            bytes32 hash = keccak256(abi.encode(avs, nonce, s));
            isOperatorDirectedAVSRewardsSubmissionHash[avs][hash] = true;
            emit OperatorDirectedAVSRewardsSubmissionCreated(msg.sender, avs, hash, nonce, s);
            s.token.safeTransferFrom(msg.sender, address(this), total);
        }
    }

    /// @inheritdoc IRewardsCoordinator
    function submitRoot(bytes32 root, uint32 rewardsCalculationEndTimestamp) external {
        if (msg.sender != rewardsUpdater) revert UnauthorizedCaller();
        if (
            rewardsCalculationEndTimestamp <= currRewardsCalculationEndTimestamp
                || rewardsCalculationEndTimestamp >= block.timestamp
        ) revert InvalidCalculationEndTimestamp();
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
        if (block.timestamp >= r.activatedAt) revert RootAlreadyActivated();
        r.disabled = true;
        emit DistributionRootDisabled(rootIndex);
    }

    /// @inheritdoc IRewardsCoordinator
    function processClaim(RewardsClaim calldata claim, address recipient) external nonReentrant {
        _processClaim(claim, recipient);
    }

    /// @inheritdoc IRewardsCoordinator
    function processClaims(RewardsClaim[] calldata claims, address recipient) external nonReentrant {
        for (uint256 i; i < claims.length; ++i) {
            _processClaim(claims[i], recipient);
        }
    }

    /// @inheritdoc IRewardsCoordinator
    function setClaimerFor(address claimer) external {
        claimerFor[msg.sender] = claimer;
        emit ClaimerForSet(msg.sender, claimer);
    }

    /// @inheritdoc IRewardsCoordinator
    function setOperatorAVSSplit(address operator, address avs, uint16 splitBips) external {
        if (msg.sender != operator) revert InvalidCaller();
        if (splitBips > MAX_SPLIT_BIPS) revert SplitExceedsMax();
        uint16 current = getOperatorAVSSplit(operator, avs);
        uint32 activatedAt = uint32(block.timestamp) + activationDelay;
        _operatorAVSSplit[operator][avs] =
            OperatorSplit({oldSplitBips: current, newSplitBips: splitBips, activatedAt: activatedAt});
        emit OperatorAVSSplitBipsSet(operator, avs, activatedAt, current, splitBips);
    }

    /// @inheritdoc IRewardsCoordinator
    function setRewardsUpdater(address rewardsUpdater_) external onlyOwner {
        rewardsUpdater = rewardsUpdater_;
        emit RewardsUpdaterSet(rewardsUpdater_);
    }

    /// @notice Names who may disable a root before it activates (zero: nobody besides updater and owner).
    function setRootGuardian(address rootGuardian_) external onlyOwner {
        rootGuardian = rootGuardian_;
        emit RootGuardianSet(rootGuardian_);
    }

    /// @inheritdoc IRewardsCoordinator
    function getOperatorAVSSplit(address operator, address avs) public view returns (uint16) {
        OperatorSplit memory s = _operatorAVSSplit[operator][avs];
        if (s.activatedAt == 0) return defaultOperatorSplitBips;
        return block.timestamp >= s.activatedAt ? s.newSplitBips : s.oldSplitBips;
    }

    /// @inheritdoc IRewardsCoordinator
    function getDistributionRoot(uint32 rootIndex) external view returns (DistributionRoot memory) {
        return _roots[rootIndex];
    }

    /// @inheritdoc IRewardsCoordinator
    function getDistributionRootsLength() external view returns (uint256) {
        return _roots.length;
    }

    /// @inheritdoc IRewardsCoordinator
    function calculateLeaf(address earner, IERC20 token, uint256 cumulativeEarnings) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(earner, token, cumulativeEarnings))));
    }

    function _validate(OperatorDirectedRewardsSubmission calldata s) internal view returns (uint256 total) {
        if (s.strategiesAndMultipliers.length == 0 || s.operatorRewards.length == 0 || s.duration == 0) {
            revert InputZero();
        }
        if (uint256(s.startTimestamp) + s.duration > block.timestamp) revert SubmissionNotRetroactive();
        for (uint256 i; i < s.strategiesAndMultipliers.length; ++i) {
            address strategy = address(s.strategiesAndMultipliers[i].strategy);
            if (i > 0 && strategy <= address(s.strategiesAndMultipliers[i - 1].strategy)) revert NotSorted();
            if (!strategyManager.strategyIsWhitelistedForDeposit(s.strategiesAndMultipliers[i].strategy)) {
                revert StrategyNotWhitelisted();
            }
        }
        for (uint256 i; i < s.operatorRewards.length; ++i) {
            if (i > 0 && s.operatorRewards[i].operator <= s.operatorRewards[i - 1].operator) revert NotSorted();
            if (s.operatorRewards[i].amount == 0) revert InputZero();
            total += s.operatorRewards[i].amount;
        }
    }

    function _processClaim(RewardsClaim calldata claim, address recipient) internal {
        if (msg.sender != claim.earner && msg.sender != claimerFor[claim.earner]) revert InvalidCaller();
        if (claim.rootIndex >= _roots.length) revert InvalidRootIndex();
        DistributionRoot memory r = _roots[claim.rootIndex];
        if (r.disabled) revert RootDisabled();
        if (block.timestamp < r.activatedAt) revert RootNotActivatedYet();
        bytes32 leaf = calculateLeaf(claim.earner, claim.token, claim.cumulativeEarnings);
        if (!MerkleProof.verifyCalldata(claim.proof, r.root, leaf)) revert InvalidClaimProof();
        uint256 claimed = cumulativeClaimed[claim.earner][claim.token];
        if (claim.cumulativeEarnings <= claimed) revert EarningsNotGreaterThanClaimed();
        uint256 amount = claim.cumulativeEarnings - claimed;
        cumulativeClaimed[claim.earner][claim.token] = claim.cumulativeEarnings;
        emit RewardsClaimed(r.root, claim.earner, msg.sender, recipient, claim.token, amount);
        claim.token.safeTransfer(recipient, amount);
    }
}
