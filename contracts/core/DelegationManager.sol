// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IDelegationManager} from "../interfaces/IDelegationManager.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IStrategyManager} from "../interfaces/IStrategyManager.sol";
import {SlashingLib, WAD} from "../libraries/SlashingLib.sol";

/// @title DelegationManager
/// @notice Operators, delegation, queued withdrawals and slashing-aware share accounting.
/// @dev Staker storage holds deposit shares (StrategyManager) and a deposit scaling factor `k` (here); the
///      operator's max magnitude `m` lives in the AllocationManager. Withdrawable = `s · k · m`.
///      An operator may name a delegation approver: stakers then need its EIP-712 approval, one salt per
///      approval, to delegate to the operator (EigenLayer's rule).
contract DelegationManager is IDelegationManager, ReentrancyGuardTransient, EIP712 {
    using SlashingLib for uint256;
    using Checkpoints for Checkpoints.Trace224;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /// @notice The StrategyManager.
    IStrategyManager public immutable strategyManager;
    /// @notice The AllocationManager.
    IAllocationManager public immutable allocationManager;
    /// @notice Blocks a queued withdrawal waits; its shares stay slashable meanwhile.
    uint32 public immutable MIN_WITHDRAWAL_DELAY_BLOCKS;
    /// @notice EIP-712 type of a delegation approval (EigenLayer's, so its signing tools apply).
    bytes32 public constant DELEGATION_APPROVAL_TYPEHASH = keccak256(
        "DelegationApproval(address delegationApprover,address staker,address operator,bytes32 salt,uint256 expiry)"
    );

    mapping(address operator => bool) internal _isOperator;
    /// @inheritdoc IDelegationManager
    mapping(address operator => address approver) public delegationApprover;
    /// @inheritdoc IDelegationManager
    mapping(address approver => mapping(bytes32 salt => bool)) public delegationApproverSaltIsSpent;
    /// @inheritdoc IDelegationManager
    mapping(address staker => address operator) public delegatedTo;
    /// @inheritdoc IDelegationManager
    mapping(address operator => mapping(IStrategy strategy => uint256)) public operatorShares;
    /// @dev 0 means WAD (never set)
    mapping(address staker => mapping(IStrategy strategy => uint256)) internal _depositScalingFactor;
    /// @inheritdoc IDelegationManager
    mapping(address staker => uint256) public cumulativeWithdrawalsQueued;
    /// @dev A pending withdrawal as stored: its withdrawer is its staker, and staker, start block and nonce
    ///      share one slot (three storage slots, about 66k gas, less per queue than the interface struct).
    struct StoredWithdrawal {
        address staker;
        uint32 startBlock;
        uint64 nonce;
        address delegatedTo;
        IStrategy[] strategies;
        uint256[] scaledShares;
    }

    mapping(bytes32 root => StoredWithdrawal) internal _queuedWithdrawals;
    mapping(address staker => EnumerableSet.Bytes32Set) internal _stakerQueuedWithdrawalRoots;
    /// @dev cumulative scaled shares ever queued from an operator, by block: the slashable queue is the
    ///      difference between now and `now − MIN_WITHDRAWAL_DELAY_BLOCKS − 1`
    mapping(address operator => mapping(IStrategy strategy => Checkpoints.Trace224)) internal _cumulativeScaledShares;

    /// @param strategyManager_ the StrategyManager
    /// @param allocationManager_ the AllocationManager
    /// @param withdrawalDelayBlocks blocks a withdrawal waits (14 days on mainnet, a few on a devnet)
    constructor(IStrategyManager strategyManager_, IAllocationManager allocationManager_, uint32 withdrawalDelayBlocks)
        EIP712("DelegationManager", "1")
    {
        strategyManager = strategyManager_;
        allocationManager = allocationManager_;
        MIN_WITHDRAWAL_DELAY_BLOCKS = withdrawalDelayBlocks;
    }

    modifier onlyStrategyManager() {
        if (msg.sender != address(strategyManager)) revert OnlyStrategyManager();
        _;
    }

    modifier onlyAllocationManager() {
        if (msg.sender != address(allocationManager)) revert OnlyAllocationManager();
        _;
    }

    // ───────────────────────────── operators and delegation ─────────────────────────────

    /// @inheritdoc IDelegationManager
    function registerAsOperator(address initDelegationApprover, uint32 allocationDelay, string calldata metadataURI)
        external
        nonReentrant
    {
        if (_isOperator[msg.sender]) revert AlreadyOperator();
        if (delegatedTo[msg.sender] != address(0)) revert AlreadyDelegated();
        _isOperator[msg.sender] = true;
        _setDelegationApprover(msg.sender, initDelegationApprover);
        allocationManager.setAllocationDelay(msg.sender, allocationDelay);
        emit OperatorRegistered(msg.sender, initDelegationApprover);
        emit OperatorMetadataURIUpdated(msg.sender, metadataURI);
        // An operator delegates to itself: no approval is asked of it.
        _delegate(msg.sender, msg.sender);
    }

    /// @inheritdoc IDelegationManager
    function modifyOperatorDetails(address operator, address newDelegationApprover) external {
        if (msg.sender != operator) revert CallerNotOperator();
        if (!_isOperator[operator]) revert NotOperator();
        _setDelegationApprover(operator, newDelegationApprover);
    }

    /// @inheritdoc IDelegationManager
    function updateOperatorMetadataURI(address operator, string calldata metadataURI) external {
        if (msg.sender != operator) revert CallerNotOperator();
        if (!_isOperator[operator]) revert NotOperator();
        emit OperatorMetadataURIUpdated(operator, metadataURI);
    }

    /// @inheritdoc IDelegationManager
    function delegateTo(address operator, SignatureWithExpiry memory approverSignatureAndExpiry, bytes32 approverSalt)
        external
        nonReentrant
    {
        if (!_isOperator[operator]) revert NotOperator();
        if (delegatedTo[msg.sender] != address(0)) revert AlreadyDelegated();
        _checkDelegationApproval(msg.sender, operator, approverSignatureAndExpiry, approverSalt);
        _delegate(msg.sender, operator);
    }

    /// @inheritdoc IDelegationManager
    function undelegate(address staker) external nonReentrant returns (bytes32[] memory withdrawalRoots) {
        address operator = delegatedTo[staker];
        if (operator == address(0)) revert NotDelegated();
        if (_isOperator[staker]) revert OperatorsCannotUndelegate();
        if (msg.sender != staker) {
            if (msg.sender != operator && msg.sender != delegationApprover[operator]) revert CallerCannotUndelegate();
            emit StakerForceUndelegated(staker, operator);
        }

        (IStrategy[] memory strategies, uint256[] memory depositShares) = strategyManager.getDeposits(staker);
        emit StakerUndelegated(staker, operator);
        if (strategies.length == 0) {
            delegatedTo[staker] = address(0);
            return new bytes32[](0);
        }
        withdrawalRoots = new bytes32[](1);
        // Queue before clearing the delegation so the withdrawal is charged to the operator and stays
        // slashable by its sets during the delay. Works when the operator is fully slashed (pays zero).
        withdrawalRoots[0] = _queueWithdrawal(staker, operator, strategies, depositShares);
        delegatedTo[staker] = address(0);
    }

    // ───────────────────────────── withdrawals ─────────────────────────────

    /// @inheritdoc IDelegationManager
    function queueWithdrawals(QueuedWithdrawalParams[] calldata params) external nonReentrant returns (bytes32[] memory) {
        bytes32[] memory roots = new bytes32[](params.length);
        address operator = delegatedTo[msg.sender];
        for (uint256 i; i < params.length; ++i) {
            if (params[i].strategies.length != params[i].depositShares.length) revert InputArrayLengthMismatch();
            if (params[i].strategies.length == 0) revert InputZero();
            roots[i] = _queueWithdrawal(msg.sender, operator, params[i].strategies, params[i].depositShares);
        }
        return roots;
    }

    /// @inheritdoc IDelegationManager
    function completeQueuedWithdrawal(Withdrawal calldata withdrawal, IERC20[] calldata tokens, bool receiveAsTokens)
        external
        nonReentrant
    {
        _completeQueuedWithdrawal(withdrawal, tokens, receiveAsTokens);
    }

    /// @inheritdoc IDelegationManager
    function completeQueuedWithdrawals(
        Withdrawal[] calldata withdrawals,
        IERC20[][] calldata tokens,
        bool[] calldata receiveAsTokens
    ) external nonReentrant {
        if (withdrawals.length != tokens.length || withdrawals.length != receiveAsTokens.length) {
            revert InputArrayLengthMismatch();
        }
        for (uint256 i; i < withdrawals.length; ++i) {
            _completeQueuedWithdrawal(withdrawals[i], tokens[i], receiveAsTokens[i]);
        }
    }

    // ───────────────────────────── hooks ─────────────────────────────

    /// @inheritdoc IDelegationManager
    function increaseDelegatedShares(address staker, IStrategy strategy, uint256 prevDepositShares, uint256 addedShares)
        external
        onlyStrategyManager
    {
        _increaseDelegation(delegatedTo[staker], staker, strategy, prevDepositShares, addedShares);
    }

    /// @inheritdoc IDelegationManager
    function slashOperatorShares(
        address operator,
        IStrategy strategy,
        uint64 prevMaxMagnitude,
        uint64 newMaxMagnitude,
        address recipient
    ) external onlyAllocationManager returns (uint256 totalSharesSlashed) {
        uint256 op = operatorShares[operator][strategy];
        uint256 opSlashed = SlashingLib.calcSlashedAmount(op, prevMaxMagnitude, newMaxMagnitude);
        uint256 queueSlashed = SlashingLib.scaleForBurning(
            _scaledSharesQueuedInWindow(operator, strategy), prevMaxMagnitude, newMaxMagnitude
        );
        operatorShares[operator][strategy] = op - opSlashed;
        totalSharesSlashed = opSlashed + queueSlashed;
        emit OperatorSharesSlashed(operator, strategy, totalSharesSlashed);
        if (totalSharesSlashed > 0) {
            strategyManager.increaseBurnOrRedistributableShares(recipient, strategy, totalSharesSlashed);
        }
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IDelegationManager
    function isDelegated(address staker) external view returns (bool) {
        return delegatedTo[staker] != address(0);
    }

    /// @inheritdoc IDelegationManager
    function isOperator(address operator) external view returns (bool) {
        return _isOperator[operator];
    }

    /// @inheritdoc IDelegationManager
    function getOperatorShares(address operator, IStrategy[] calldata strategies)
        external
        view
        returns (uint256[] memory shares)
    {
        shares = new uint256[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            shares[i] = operatorShares[operator][strategies[i]];
        }
    }

    /// @inheritdoc IDelegationManager
    function depositScalingFactor(address staker, IStrategy strategy) public view returns (uint256) {
        uint256 k = _depositScalingFactor[staker][strategy];
        return k == 0 ? WAD : k;
    }

    /// @inheritdoc IDelegationManager
    function getWithdrawableShares(address staker, IStrategy[] calldata strategies)
        external
        view
        returns (uint256[] memory withdrawableShares, uint256[] memory depositShares)
    {
        withdrawableShares = new uint256[](strategies.length);
        depositShares = new uint256[](strategies.length);
        uint64[] memory m = _slashingFactors(delegatedTo[staker], strategies);
        for (uint256 i; i < strategies.length; ++i) {
            depositShares[i] = strategyManager.stakerDepositShares(staker, strategies[i]);
            withdrawableShares[i] =
                depositShares[i].calcWithdrawable(depositScalingFactor(staker, strategies[i]), m[i]);
        }
    }

    /// @inheritdoc IDelegationManager
    function getQueuedWithdrawal(bytes32 withdrawalRoot)
        external
        view
        returns (Withdrawal memory withdrawal, uint256[] memory shares)
    {
        StoredWithdrawal storage stored = _queuedWithdrawals[withdrawalRoot];
        withdrawal = Withdrawal({
            staker: stored.staker,
            delegatedTo: stored.delegatedTo,
            withdrawer: stored.staker,
            nonce: stored.nonce,
            startBlock: stored.startBlock,
            strategies: stored.strategies,
            scaledShares: stored.scaledShares
        });
        shares = new uint256[](withdrawal.strategies.length);
        if (withdrawal.staker == address(0)) return (withdrawal, shares); // not pending
        uint64[] memory m = _slashingFactorsAtCompletion(withdrawal);
        for (uint256 i; i < shares.length; ++i) {
            shares[i] = withdrawal.scaledShares[i].scaleForCompleteWithdrawal(m[i]);
        }
    }

    /// @inheritdoc IDelegationManager
    function getQueuedWithdrawalRoots(address staker) external view returns (bytes32[] memory) {
        return _stakerQueuedWithdrawalRoots[staker].values();
    }

    /// @inheritdoc IDelegationManager
    function getSlashableSharesInQueue(address operator, IStrategy strategy) external view returns (uint256) {
        IStrategy[] memory strategies = new IStrategy[](1);
        strategies[0] = strategy;
        uint64 m = allocationManager.getMaxMagnitudes(operator, strategies)[0];
        return _scaledSharesQueuedInWindow(operator, strategy).mulWad(m);
    }

    /// @inheritdoc IDelegationManager
    function calculateWithdrawalRoot(Withdrawal memory withdrawal) public pure returns (bytes32) {
        return keccak256(abi.encode(withdrawal));
    }

    /// @inheritdoc IDelegationManager
    function minWithdrawalDelayBlocks() external view returns (uint32) {
        return MIN_WITHDRAWAL_DELAY_BLOCKS;
    }

    /// @inheritdoc IDelegationManager
    function calculateDelegationApprovalDigestHash(
        address staker,
        address operator,
        address approver,
        bytes32 approverSalt,
        uint256 expiry
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(DELEGATION_APPROVAL_TYPEHASH, approver, staker, operator, approverSalt, expiry))
        );
    }

    /// @inheritdoc IDelegationManager
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _setDelegationApprover(address operator, address approver) internal {
        delegationApprover[operator] = approver;
        emit DelegationApproverUpdated(operator, approver);
    }

    /// @dev No approval is needed when the operator has no approver or the approver delegates itself. Otherwise the
    ///      salt must be unspent, the signature unexpired (valid through `expiry`) and the approver's (ECDSA or
    ///      EIP-1271) over this staker, operator, salt and expiry; the salt is then spent.
    function _checkDelegationApproval(
        address staker,
        address operator,
        SignatureWithExpiry memory approval,
        bytes32 salt
    ) internal {
        address approver = delegationApprover[operator];
        if (approver == address(0) || msg.sender == approver) return;
        if (delegationApproverSaltIsSpent[approver][salt]) revert SaltSpent();
        if (approval.expiry < block.timestamp) revert SignatureExpired();
        bytes32 digest = calculateDelegationApprovalDigestHash(staker, operator, approver, salt, approval.expiry);
        if (!SignatureChecker.isValidSignatureNow(approver, digest, approval.signature)) revert InvalidSignature();
        delegationApproverSaltIsSpent[approver][salt] = true;
    }

    function _delegate(address staker, address operator) internal {
        delegatedTo[staker] = operator;
        emit StakerDelegated(staker, operator);
        (IStrategy[] memory strategies, uint256[] memory depositShares) = strategyManager.getDeposits(staker);
        if (strategies.length == 0) return;
        uint64[] memory m = allocationManager.getMaxMagnitudes(operator, strategies);
        for (uint256 i; i < strategies.length; ++i) {
            if (m[i] == 0) revert FullySlashed();
            IStrategy strategy = strategies[i];
            // Undelegated, the staker's shares are worth s·k (m = 1). Delegated, they must stay worth that:
            // k ← k / m, so the new operator's past slashes are not charged to the newcomer.
            uint256 k = depositScalingFactor(staker, strategy);
            uint256 shares = depositShares[i].mulWad(k);
            uint256 newK = k.divWad(m[i]);
            _depositScalingFactor[staker][strategy] = newK;
            emit DepositScalingFactorUpdated(staker, strategy, newK);
            operatorShares[operator][strategy] += shares;
            emit OperatorSharesIncreased(operator, staker, strategy, shares);
        }
    }

    function _increaseDelegation(
        address operator,
        address staker,
        IStrategy strategy,
        uint256 prevDepositShares,
        uint256 addedShares
    ) internal {
        uint64 m = WAD;
        if (operator != address(0)) {
            m = _maxMagnitude(operator, strategy);
            if (m == 0) revert FullySlashed();
        }
        uint256 newK = SlashingLib.newDepositScalingFactor(
            prevDepositShares, depositScalingFactor(staker, strategy), addedShares, m
        );
        _depositScalingFactor[staker][strategy] = newK;
        emit DepositScalingFactorUpdated(staker, strategy, newK);
        if (operator != address(0)) {
            operatorShares[operator][strategy] += addedShares;
            emit OperatorSharesIncreased(operator, staker, strategy, addedShares);
        }
    }

    function _queueWithdrawal(
        address staker,
        address operator,
        IStrategy[] memory strategies,
        uint256[] memory depositShares
    ) internal returns (bytes32 root) {
        uint64[] memory m = _slashingFactors(operator, strategies);
        uint256[] memory scaledShares = new uint256[](strategies.length);
        uint256[] memory withdrawable = new uint256[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            IStrategy strategy = strategies[i];
            uint256 x = depositShares[i];
            if (x == 0) revert InputZero();
            if (x > strategyManager.stakerDepositShares(staker, strategy)) revert WithdrawalExceedsMax();
            uint256 k = depositScalingFactor(staker, strategy);
            withdrawable[i] = x.calcWithdrawable(k, m[i]);
            scaledShares[i] = x.scaleForQueueWithdrawal(k);
            if (operator != address(0)) {
                // op ≥ Σ withdrawable holds by construction (every rounding favours the protocol).
                operatorShares[operator][strategy] -= withdrawable[i];
                emit OperatorSharesDecreased(operator, staker, strategy, withdrawable[i]);
                Checkpoints.Trace224 storage history = _cumulativeScaledShares[operator][strategy];
                history.push(SafeCast.toUint32(block.number), SafeCast.toUint224(history.latest() + scaledShares[i]));
            }
            strategyManager.removeDepositShares(staker, strategy, x);
        }
        Withdrawal memory withdrawal = Withdrawal({
            staker: staker,
            delegatedTo: operator,
            withdrawer: staker,
            nonce: cumulativeWithdrawalsQueued[staker]++,
            startBlock: uint32(block.number),
            strategies: strategies,
            scaledShares: scaledShares
        });
        root = calculateWithdrawalRoot(withdrawal);
        _queuedWithdrawals[root] = StoredWithdrawal({
            staker: staker,
            startBlock: withdrawal.startBlock,
            nonce: SafeCast.toUint64(withdrawal.nonce),
            delegatedTo: operator,
            strategies: strategies,
            scaledShares: scaledShares
        });
        _stakerQueuedWithdrawalRoots[staker].add(root);
        emit SlashingWithdrawalQueued(root, withdrawal, withdrawable);
    }

    function _completeQueuedWithdrawal(Withdrawal calldata withdrawal, IERC20[] calldata tokens, bool receiveAsTokens)
        internal
    {
        if (msg.sender != withdrawal.withdrawer) revert WithdrawerNotCaller();
        bytes32 root = calculateWithdrawalRoot(withdrawal);
        // A pending withdrawal is stored under its root; completion deletes it.
        if (_queuedWithdrawals[root].staker == address(0)) revert WithdrawalNotQueued();
        if (block.number <= uint256(withdrawal.startBlock) + MIN_WITHDRAWAL_DELAY_BLOCKS) {
            revert WithdrawalDelayNotElapsed();
        }
        if (receiveAsTokens && tokens.length != withdrawal.strategies.length) revert InputArrayLengthMismatch();

        uint64[] memory m = _slashingFactorsAtCompletion(withdrawal);
        // Effects before any token moves.
        delete _queuedWithdrawals[root];
        _stakerQueuedWithdrawalRoots[withdrawal.staker].remove(root);
        emit SlashingWithdrawalCompleted(root);

        address operator = delegatedTo[withdrawal.staker];
        for (uint256 i; i < withdrawal.strategies.length; ++i) {
            uint256 shares = withdrawal.scaledShares[i].scaleForCompleteWithdrawal(m[i]);
            if (shares == 0) continue;
            IStrategy strategy = withdrawal.strategies[i];
            if (receiveAsTokens) {
                strategyManager.withdrawSharesAsTokens(withdrawal.withdrawer, strategy, tokens[i], shares);
            } else {
                (uint256 prev, uint256 added) = strategyManager.addShares(withdrawal.withdrawer, strategy, shares);
                _increaseDelegation(operator, withdrawal.withdrawer, strategy, prev, added);
            }
        }
    }

    /// @dev Scaled shares queued from `operator` within the last MIN_WITHDRAWAL_DELAY_BLOCKS blocks. The lookup
    ///      block is clamped at 0: on a fresh devnet `block.number` can be below the delay.
    function _scaledSharesQueuedInWindow(address operator, IStrategy strategy) internal view returns (uint256) {
        Checkpoints.Trace224 storage history = _cumulativeScaledShares[operator][strategy];
        uint256 current = history.latest();
        if (current == 0) return 0;
        uint256 window = uint256(MIN_WITHDRAWAL_DELAY_BLOCKS) + 1;
        uint256 before = block.number > window ? history.upperLookupRecent(uint32(block.number - window)) : 0;
        return current - before;
    }

    function _maxMagnitude(address operator, IStrategy strategy) internal view returns (uint64) {
        IStrategy[] memory strategies = new IStrategy[](1);
        strategies[0] = strategy;
        return allocationManager.getMaxMagnitudes(operator, strategies)[0];
    }

    function _slashingFactors(address operator, IStrategy[] memory strategies) internal view returns (uint64[] memory m) {
        if (operator != address(0)) return allocationManager.getMaxMagnitudes(operator, strategies);
        m = new uint64[](strategies.length);
        for (uint256 i; i < m.length; ++i) {
            m[i] = WAD;
        }
    }

    function _slashingFactorsAtCompletion(Withdrawal memory withdrawal) internal view returns (uint64[] memory m) {
        if (withdrawal.delegatedTo == address(0)) return _slashingFactors(address(0), withdrawal.strategies);
        return allocationManager.getMaxMagnitudesAtBlock(
            withdrawal.delegatedTo, withdrawal.strategies, withdrawal.startBlock + MIN_WITHDRAWAL_DELAY_BLOCKS
        );
    }
}
