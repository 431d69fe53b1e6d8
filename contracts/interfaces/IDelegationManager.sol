// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStrategy} from "./IStrategy.sol";

/// @title IDelegationManager
/// @notice Operators, stakers' delegation, queued withdrawals and the slashing-aware share accounting.
/// @dev Shaped like EigenLayer's slashing-era IDelegationManager. A staker's withdrawable shares are
///      `depositShares * depositScalingFactor * maxMagnitude` (WAD fixed point), so a slash touches only
///      the operator's max magnitude and never any staker's storage: O(1) in the number of stakers.
interface IDelegationManager {
    /// @notice A withdrawal as queued. Its keccak256 (abi.encode) is the withdrawal root.
    struct Withdrawal {
        address staker;
        address delegatedTo;
        address withdrawer;
        uint256 nonce;
        uint32 startBlock;
        IStrategy[] strategies;
        /// @dev deposit shares × deposit scaling factor: the max magnitude at completion is applied later
        uint256[] scaledShares;
    }

    /// @notice Parameters of one queued withdrawal.
    /// @dev `__deprecated_withdrawer` is ignored, as in EigenLayer: only the staker that queued a withdrawal
    ///      may complete it.
    struct QueuedWithdrawalParams {
        IStrategy[] strategies;
        uint256[] depositShares;
        address __deprecated_withdrawer;
    }

    /// @notice A signature (ECDSA, or EIP-1271 for a contract signer) and the last timestamp it is valid at.
    struct SignatureWithExpiry {
        bytes signature;
        uint256 expiry;
    }

    /// @notice Caller is not the StrategyManager.
    error OnlyStrategyManager();
    /// @notice Caller is not the AllocationManager.
    error OnlyAllocationManager();
    /// @notice The address is already registered as an operator.
    error AlreadyOperator();
    /// @notice The address is not a registered operator.
    error NotOperator();
    /// @notice The staker is already delegated.
    error AlreadyDelegated();
    /// @notice The staker is not delegated.
    error NotDelegated();
    /// @notice Operators are delegated to themselves for good and cannot undelegate.
    error OperatorsCannotUndelegate();
    /// @notice Caller may not act for this staker.
    error CallerCannotUndelegate();
    /// @notice Only the operator itself may do this.
    error CallerNotOperator();
    /// @notice The operator's max magnitude for the strategy is zero: no new stake may be delegated.
    error FullySlashed();
    /// @notice Zero amounts are not accepted.
    error InputZero();
    /// @notice Array lengths differ.
    error InputArrayLengthMismatch();
    /// @notice The withdrawal is not pending (never queued, or already completed).
    error WithdrawalNotQueued();
    /// @notice The withdrawal delay has not passed yet.
    error WithdrawalDelayNotElapsed();
    /// @notice Only the withdrawer may complete a withdrawal.
    error WithdrawerNotCaller();
    /// @notice The withdrawal asks for more deposit shares than the staker holds.
    error WithdrawalExceedsMax();
    /// @notice The delegation approver already used this salt.
    error SaltSpent();
    /// @notice The approver's signature is past its expiry.
    error SignatureExpired();
    /// @notice The signature is not the approver's over this delegation.
    error InvalidSignature();

    /// @notice `operator` registered and delegated itself; `delegationApprover` (zero: none) approves its stakers.
    event OperatorRegistered(address indexed operator, address delegationApprover);
    /// @notice An operator's delegation approver changed (zero: anyone may delegate).
    event DelegationApproverUpdated(address indexed operator, address newDelegationApprover);
    /// @notice An operator's metadata URI changed.
    event OperatorMetadataURIUpdated(address indexed operator, string metadataURI);
    /// @notice `staker` delegated to `operator`.
    event StakerDelegated(address indexed staker, address indexed operator);
    /// @notice `staker` undelegated from `operator`.
    event StakerUndelegated(address indexed staker, address indexed operator);
    /// @notice `staker` was undelegated by its operator or the operator's delegation approver.
    event StakerForceUndelegated(address indexed staker, address indexed operator);
    /// @notice An operator's delegated shares in a strategy grew.
    event OperatorSharesIncreased(address indexed operator, address staker, IStrategy strategy, uint256 shares);
    /// @notice An operator's delegated shares in a strategy fell (withdrawal or undelegation).
    event OperatorSharesDecreased(address indexed operator, address staker, IStrategy strategy, uint256 shares);
    /// @notice An operator's delegated shares were slashed.
    event OperatorSharesSlashed(address indexed operator, IStrategy strategy, uint256 totalSlashedShares);
    /// @notice A staker's deposit scaling factor changed.
    event DepositScalingFactorUpdated(address indexed staker, IStrategy strategy, uint256 newDepositScalingFactor);
    /// @notice A withdrawal was queued; `sharesToWithdraw` is what it would pay if no slash happens.
    event SlashingWithdrawalQueued(bytes32 withdrawalRoot, Withdrawal withdrawal, uint256[] sharesToWithdraw);
    /// @notice A withdrawal completed.
    event SlashingWithdrawalCompleted(bytes32 withdrawalRoot);

    /// @notice Registers the caller as an operator, delegated to itself for good.
    /// @param initDelegationApprover who must sign each staker's delegation to the operator (zero: anyone may
    ///        delegate without a signature)
    /// @param allocationDelay blocks before a new allocation becomes slashable
    /// @param metadataURI where the operator describes itself
    function registerAsOperator(address initDelegationApprover, uint32 allocationDelay, string calldata metadataURI)
        external;

    /// @notice Sets an operator's delegation approver (the operator only; zero: anyone may delegate).
    function modifyOperatorDetails(address operator, address newDelegationApprover) external;

    /// @notice Updates an operator's metadata URI (the operator only).
    function updateOperatorMetadataURI(address operator, string calldata metadataURI) external;

    /// @notice Delegates all of the caller's shares to `operator`; they are slashable at once.
    /// @dev When the operator has a delegation approver and the caller is not that approver, the approver must
    ///      have signed `calculateDelegationApprovalDigestHash(caller, operator, approver, approverSalt, expiry)`
    ///      (ECDSA, or EIP-1271 for a contract), `expiry >= block.timestamp`, and each salt is spent once per
    ///      approver. Otherwise the signature and salt are ignored. Reverts with FullySlashed if the operator's
    ///      max magnitude is 0 for a strategy the staker holds.
    function delegateTo(address operator, SignatureWithExpiry memory approverSignatureAndExpiry, bytes32 approverSalt)
        external;

    /// @notice Undelegates `staker` and queues a withdrawal of all its shares (the staker, its operator, or the
    ///         operator's delegation approver).
    /// @return withdrawalRoots the roots of the withdrawals queued (empty if the staker held nothing)
    function undelegate(address staker) external returns (bytes32[] memory withdrawalRoots);

    /// @notice Queues withdrawals of the caller's deposit shares; they stay slashable during the delay.
    function queueWithdrawals(QueuedWithdrawalParams[] calldata params) external returns (bytes32[] memory);

    /// @notice Completes a queued withdrawal after the delay, as tokens or back as shares.
    /// @dev Pays `scaledShares × maxMagnitude(at startBlock + delay)`: slashes during escrow apply.
    function completeQueuedWithdrawal(Withdrawal calldata withdrawal, IERC20[] calldata tokens, bool receiveAsTokens)
        external;

    /// @notice Completes several queued withdrawals.
    function completeQueuedWithdrawals(
        Withdrawal[] calldata withdrawals,
        IERC20[][] calldata tokens,
        bool[] calldata receiveAsTokens
    ) external;

    /// @notice Called by the StrategyManager after a deposit.
    function increaseDelegatedShares(address staker, IStrategy strategy, uint256 prevDepositShares, uint256 addedShares)
        external;

    /// @notice Called by the AllocationManager on a slash: reduces operator shares and slashes the queue.
    /// @return totalSharesSlashed shares (operator's + queued) set aside to burn or redistribute
    function slashOperatorShares(
        address operator,
        IStrategy strategy,
        uint64 prevMaxMagnitude,
        uint64 newMaxMagnitude,
        address recipient
    ) external returns (uint256 totalSharesSlashed);

    /// @notice Whether `staker` is delegated.
    function isDelegated(address staker) external view returns (bool);

    /// @notice Whether `operator` is registered.
    function isOperator(address operator) external view returns (bool);

    /// @notice Who approves delegations to `operator` (zero: anyone may delegate).
    function delegationApprover(address operator) external view returns (address);

    /// @notice Whether `approver` already spent `salt` on a delegation approval.
    function delegationApproverSaltIsSpent(address approver, bytes32 salt) external view returns (bool);

    /// @notice The EIP-712 digest a delegation approver signs to let `staker` delegate to `operator`.
    function calculateDelegationApprovalDigestHash(
        address staker,
        address operator,
        address approver,
        bytes32 approverSalt,
        uint256 expiry
    ) external view returns (bytes32);

    /// @notice This contract's EIP-712 domain separator.
    function domainSeparator() external view returns (bytes32);

    /// @notice The operator `staker` is delegated to (zero if none).
    function delegatedTo(address staker) external view returns (address);

    /// @notice Shares delegated to `operator` in `strategy` (slashing-adjusted).
    function operatorShares(address operator, IStrategy strategy) external view returns (uint256);

    /// @notice Shares delegated to `operator` in each strategy.
    function getOperatorShares(address operator, IStrategy[] calldata strategies)
        external
        view
        returns (uint256[] memory);

    /// @notice A staker's deposit scaling factor (WAD).
    function depositScalingFactor(address staker, IStrategy strategy) external view returns (uint256);

    /// @notice What a staker could withdraw now in each strategy, and its deposit shares.
    function getWithdrawableShares(address staker, IStrategy[] calldata strategies)
        external
        view
        returns (uint256[] memory withdrawableShares, uint256[] memory depositShares);

    /// @notice A pending withdrawal and what it would pay if completed now (slashes so far applied).
    function getQueuedWithdrawal(bytes32 withdrawalRoot)
        external
        view
        returns (Withdrawal memory withdrawal, uint256[] memory shares);

    /// @notice Roots of a staker's pending withdrawals.
    function getQueuedWithdrawalRoots(address staker) external view returns (bytes32[] memory);

    /// @notice Scaled shares queued for withdrawal from `operator` in the last MIN_WITHDRAWAL_DELAY blocks,
    ///         converted to shares at the current max magnitude: still slashable.
    function getSlashableSharesInQueue(address operator, IStrategy strategy) external view returns (uint256);

    /// @notice The root of a withdrawal.
    function calculateWithdrawalRoot(Withdrawal memory withdrawal) external pure returns (bytes32);

    /// @notice Blocks a queued withdrawal waits before completion.
    function minWithdrawalDelayBlocks() external view returns (uint32);

    /// @notice Number of withdrawals ever queued by `staker` (the next nonce).
    function cumulativeWithdrawalsQueued(address staker) external view returns (uint256);
}
