// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDelegationManager} from "../interfaces/IDelegationManager.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IStrategyManager} from "../interfaces/IStrategyManager.sol";

/// @title StrategyManager
/// @notice Stakers deposit here; it keeps deposit shares per staker and strategy and the slashed shares
///         waiting to be burned or redistributed.
contract StrategyManager is IStrategyManager, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice A staker may hold at most this many strategies (bounds undelegation's loop).
    uint256 public constant MAX_STAKER_STRATEGY_LIST_LENGTH = 32;
    /// @inheritdoc IStrategyManager
    address public constant DEFAULT_BURN_ADDRESS = 0x00000000000000000000000000000000000E16E4;

    /// @notice The DelegationManager.
    IDelegationManager public immutable delegation;

    mapping(IStrategy strategy => bool) public strategyIsWhitelistedForDeposit;
    mapping(address staker => mapping(IStrategy strategy => uint256)) public stakerDepositShares;
    mapping(address staker => IStrategy[]) internal _stakerStrategyList;
    mapping(address recipient => mapping(IStrategy strategy => uint256)) internal _burnOrRedistributableShares;

    /// @param delegation_ the DelegationManager
    /// @param owner_ who whitelists strategies (the DAO's timelock in production)
    constructor(IDelegationManager delegation_, address owner_) Ownable(owner_) {
        delegation = delegation_;
    }

    modifier onlyDelegationManager() {
        if (msg.sender != address(delegation)) revert OnlyDelegationManager();
        _;
    }

    /// @inheritdoc IStrategyManager
    function depositIntoStrategy(IStrategy strategy, IERC20 token, uint256 amount)
        external
        nonReentrant
        returns (uint256 depositShares)
    {
        if (!strategyIsWhitelistedForDeposit[strategy]) revert StrategyNotWhitelisted();
        if (amount == 0) revert InputZero();
        token.safeTransferFrom(msg.sender, address(strategy), amount);
        depositShares = strategy.deposit(token, amount);
        (uint256 prev, uint256 added) = _addShares(msg.sender, strategy, depositShares);
        emit Deposit(msg.sender, strategy, amount, depositShares);
        delegation.increaseDelegatedShares(msg.sender, strategy, prev, added);
    }

    /// @inheritdoc IStrategyManager
    function addStrategiesToDepositWhitelist(IStrategy[] calldata strategies) external onlyOwner {
        for (uint256 i; i < strategies.length; ++i) {
            strategyIsWhitelistedForDeposit[strategies[i]] = true;
            emit StrategyWhitelistSet(strategies[i], true);
        }
    }

    /// @inheritdoc IStrategyManager
    function removeStrategiesFromDepositWhitelist(IStrategy[] calldata strategies) external onlyOwner {
        for (uint256 i; i < strategies.length; ++i) {
            strategyIsWhitelistedForDeposit[strategies[i]] = false;
            emit StrategyWhitelistSet(strategies[i], false);
        }
    }

    /// @inheritdoc IStrategyManager
    function removeDepositShares(address staker, IStrategy strategy, uint256 depositShares)
        external
        onlyDelegationManager
        nonReentrant
    {
        if (depositShares == 0) revert InputZero();
        uint256 current = stakerDepositShares[staker][strategy];
        if (depositShares > current) revert InsufficientShares();
        uint256 remaining = current - depositShares;
        stakerDepositShares[staker][strategy] = remaining;
        if (remaining == 0) _removeStrategyFromList(staker, strategy);
    }

    /// @inheritdoc IStrategyManager
    function addShares(address staker, IStrategy strategy, uint256 shares)
        external
        onlyDelegationManager
        nonReentrant
        returns (uint256, uint256)
    {
        return _addShares(staker, strategy, shares);
    }

    /// @inheritdoc IStrategyManager
    function withdrawSharesAsTokens(address staker, IStrategy strategy, IERC20 token, uint256 shares)
        external
        onlyDelegationManager
        nonReentrant
    {
        strategy.withdraw(staker, token, shares);
    }

    /// @inheritdoc IStrategyManager
    function increaseBurnOrRedistributableShares(address recipient, IStrategy strategy, uint256 shares)
        external
        onlyDelegationManager
    {
        _burnOrRedistributableShares[recipient][strategy] += shares;
        emit BurnOrRedistributableSharesIncreased(recipient, strategy, shares);
    }

    /// @inheritdoc IStrategyManager
    function burnOrRedistributeShares(address recipient, IStrategy strategy)
        external
        nonReentrant
        returns (uint256 amount)
    {
        uint256 shares = _burnOrRedistributableShares[recipient][strategy];
        if (shares == 0) return 0;
        _burnOrRedistributableShares[recipient][strategy] = 0;
        amount = strategy.withdraw(recipient, strategy.underlyingToken(), shares);
        emit BurnOrRedistributableSharesDecreased(recipient, strategy, shares, amount);
    }

    /// @inheritdoc IStrategyManager
    function getDeposits(address staker) external view returns (IStrategy[] memory, uint256[] memory) {
        IStrategy[] memory strategies = _stakerStrategyList[staker];
        uint256[] memory shares = new uint256[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            shares[i] = stakerDepositShares[staker][strategies[i]];
        }
        return (strategies, shares);
    }

    /// @inheritdoc IStrategyManager
    function stakerStrategyListLength(address staker) external view returns (uint256) {
        return _stakerStrategyList[staker].length;
    }

    /// @inheritdoc IStrategyManager
    function getBurnOrRedistributableShares(address recipient, IStrategy strategy) external view returns (uint256) {
        return _burnOrRedistributableShares[recipient][strategy];
    }

    function _addShares(address staker, IStrategy strategy, uint256 shares) internal returns (uint256, uint256) {
        if (staker == address(0)) revert InputAddressZero();
        if (shares == 0) revert InputZero();
        uint256 prev = stakerDepositShares[staker][strategy];
        if (prev == 0) {
            if (_stakerStrategyList[staker].length >= MAX_STAKER_STRATEGY_LIST_LENGTH) revert MaxStrategiesExceeded();
            _stakerStrategyList[staker].push(strategy);
        }
        stakerDepositShares[staker][strategy] = prev + shares;
        return (prev, shares);
    }

    function _removeStrategyFromList(address staker, IStrategy strategy) internal {
        IStrategy[] storage list = _stakerStrategyList[staker];
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (address(list[i]) == address(strategy)) {
                list[i] = list[n - 1];
                list.pop();
                return;
            }
        }
    }
}
