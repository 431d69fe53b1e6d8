// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IStrategy
/// @notice One ERC20 token held for restakers; deposits mint shares, withdrawals burn them.
/// @dev Shaped like EigenLayer's IStrategy. Only the StrategyManager moves shares.
interface IStrategy {
    /// @notice Caller is not the StrategyManager.
    error OnlyStrategyManager();
    /// @notice The token passed in is not this strategy's underlying token.
    error OnlyUnderlyingToken();
    /// @notice A deposit would mint zero shares (amount too small for the share price).
    error NewSharesZero();
    /// @notice More shares were asked for than exist.
    error WithdrawalAmountExceedsTotalShares();

    /// @notice Emitted whenever the share price may have changed, for indexers.
    event ExchangeRateEmitted(uint256 rate);

    /// @notice Credits `amount` tokens already transferred to this strategy; returns the shares minted.
    /// @dev Rounds shares down (favours the strategy). Virtual shares/balance defend against inflation.
    function deposit(IERC20 token, uint256 amount) external returns (uint256 newShares);

    /// @notice Burns `amountShares` and sends the underlying tokens to `recipient`.
    /// @dev Rounds the token amount down (favours the strategy).
    function withdraw(address recipient, IERC20 token, uint256 amountShares) external returns (uint256 amountOut);

    /// @notice The token this strategy holds.
    function underlyingToken() external view returns (IERC20);

    /// @notice Total shares issued (excluding the virtual shares).
    function totalShares() external view returns (uint256);

    /// @notice Tokens that `amountShares` would redeem for now.
    function sharesToUnderlyingView(uint256 amountShares) external view returns (uint256);

    /// @notice `user`'s deposit shares in this strategy, as the StrategyManager holds them.
    /// @dev Deposit shares are not slashing-adjusted: what the user can withdraw is the DelegationManager's
    ///      `getWithdrawableShares`.
    function shares(address user) external view returns (uint256);

    /// @notice Tokens `user`'s deposit shares would redeem for now (`sharesToUnderlyingView(shares(user))`).
    function userUnderlyingView(address user) external view returns (uint256);

    /// @notice Shares that `amountUnderlying` tokens would mint now.
    function underlyingToSharesView(uint256 amountUnderlying) external view returns (uint256);
}
