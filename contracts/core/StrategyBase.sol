// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IStrategyManager} from "../interfaces/IStrategyManager.sol";

/// @title StrategyBase
/// @notice Holds one ERC20 for restakers. Shares are priced with 1e3 virtual shares and 1e3 virtual tokens
///         so a first depositor cannot inflate the share price and round later deposits down to nothing.
/// @dev Fee-on-transfer and rebasing tokens are not supported; whitelist only plain ERC20s.
contract StrategyBase is IStrategy {
    using SafeERC20 for IERC20;

    /// @notice Virtual shares added to the total (EigenLayer's inflation defence).
    uint256 public constant SHARES_OFFSET = 1e3;
    /// @notice Virtual tokens added to the balance.
    uint256 public constant BALANCE_OFFSET = 1e3;

    /// @notice The StrategyManager, the only caller of deposit and withdraw.
    address public immutable strategyManager;
    /// @inheritdoc IStrategy
    IERC20 public immutable underlyingToken;
    /// @inheritdoc IStrategy
    uint256 public totalShares;

    /// @param strategyManager_ the StrategyManager
    /// @param token the token this strategy holds
    constructor(address strategyManager_, IERC20 token) {
        strategyManager = strategyManager_;
        underlyingToken = token;
    }

    modifier onlyStrategyManager() {
        if (msg.sender != strategyManager) revert OnlyStrategyManager();
        _;
    }

    /// @inheritdoc IStrategy
    function deposit(IERC20 token, uint256 amount) external onlyStrategyManager returns (uint256 newShares) {
        if (address(token) != address(underlyingToken)) revert OnlyUnderlyingToken();
        // The tokens are already here: price the deposit against the balance before it.
        uint256 priorBalance = underlyingToken.balanceOf(address(this)) - amount;
        // Rounded down: the depositor gets at most what its tokens are worth.
        newShares = (amount * (totalShares + SHARES_OFFSET)) / (priorBalance + BALANCE_OFFSET);
        if (newShares == 0) revert NewSharesZero();
        totalShares += newShares;
        _emitExchangeRate();
    }

    /// @inheritdoc IStrategy
    function withdraw(address recipient, IERC20 token, uint256 amountShares)
        external
        onlyStrategyManager
        returns (uint256 amountOut)
    {
        if (address(token) != address(underlyingToken)) revert OnlyUnderlyingToken();
        uint256 total = totalShares;
        if (amountShares > total) revert WithdrawalAmountExceedsTotalShares();
        // Rounded down: the strategy never pays out more than the shares are worth.
        amountOut = (underlyingToken.balanceOf(address(this)) + BALANCE_OFFSET) * amountShares / (total + SHARES_OFFSET);
        totalShares = total - amountShares;
        _emitExchangeRate();
        if (amountOut > 0) underlyingToken.safeTransfer(recipient, amountOut);
    }

    /// @inheritdoc IStrategy
    function sharesToUnderlyingView(uint256 amountShares) public view returns (uint256) {
        return (underlyingToken.balanceOf(address(this)) + BALANCE_OFFSET) * amountShares / (totalShares + SHARES_OFFSET);
    }

    /// @inheritdoc IStrategy
    function shares(address user) public view returns (uint256) {
        return IStrategyManager(strategyManager).stakerDepositShares(user, IStrategy(address(this)));
    }

    /// @inheritdoc IStrategy
    function userUnderlyingView(address user) external view returns (uint256) {
        return sharesToUnderlyingView(shares(user));
    }

    /// @inheritdoc IStrategy
    function underlyingToSharesView(uint256 amountUnderlying) external view returns (uint256) {
        return amountUnderlying * (totalShares + SHARES_OFFSET) / (underlyingToken.balanceOf(address(this)) + BALANCE_OFFSET);
    }

    function _emitExchangeRate() private {
        emit ExchangeRateEmitted(sharesToUnderlyingView(1e18));
    }
}
