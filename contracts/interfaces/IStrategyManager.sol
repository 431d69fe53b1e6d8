// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStrategy} from "./IStrategy.sol";

/// @title IStrategyManager
/// @notice Entry point for stakers' deposits; keeps each staker's deposit shares per strategy.
/// @dev Shaped like EigenLayer's IStrategyManager. Deposit shares are not slashing-adjusted; the
///      DelegationManager applies the staker's scaling factor and the operator's max magnitude.
interface IStrategyManager {
    /// @notice Caller is not the DelegationManager.
    error OnlyDelegationManager();
    /// @notice The strategy is not whitelisted for deposits.
    error StrategyNotWhitelisted();
    /// @notice A staker may hold at most 32 strategies.
    error MaxStrategiesExceeded();
    /// @notice Zero amounts or shares are not accepted.
    error InputZero();
    /// @notice The staker does not hold that many deposit shares.
    error InsufficientShares();
    /// @notice Zero address where an address is required.
    error InputAddressZero();

    /// @notice A staker deposited `amount` of `token` and received `shares` deposit shares.
    event Deposit(address indexed staker, IStrategy indexed strategy, uint256 amount, uint256 shares);
    /// @notice The owner changed whether a strategy accepts deposits.
    event StrategyWhitelistSet(IStrategy indexed strategy, bool whitelisted);
    /// @notice Slashed shares were set aside for `recipient` (the burn address unless redistributed).
    event BurnOrRedistributableSharesIncreased(address indexed recipient, IStrategy indexed strategy, uint256 shares);
    /// @notice Slashed shares were turned into tokens and sent to `recipient`.
    event BurnOrRedistributableSharesDecreased(
        address indexed recipient, IStrategy indexed strategy, uint256 shares, uint256 amount
    );

    /// @notice Deposits `amount` of `token` into `strategy` for the caller; delegated stake follows at once.
    /// @dev Pulls tokens with SafeERC20. Reverts if the staker's operator is fully slashed for `strategy`.
    function depositIntoStrategy(IStrategy strategy, IERC20 token, uint256 amount)
        external
        returns (uint256 depositShares);

    /// @notice Whitelists strategies for deposits (owner only).
    function addStrategiesToDepositWhitelist(IStrategy[] calldata strategies) external;

    /// @notice Removes strategies from the deposit whitelist (owner only). Existing shares are unaffected.
    function removeStrategiesFromDepositWhitelist(IStrategy[] calldata strategies) external;

    /// @notice Removes deposit shares of a staker when a withdrawal is queued (DelegationManager only).
    function removeDepositShares(address staker, IStrategy strategy, uint256 depositShares) external;

    /// @notice Adds deposit shares back when a withdrawal completes as shares (DelegationManager only).
    /// @return prevDepositShares the staker's deposit shares before
    /// @return addedShares the shares added
    function addShares(address staker, IStrategy strategy, uint256 shares)
        external
        returns (uint256 prevDepositShares, uint256 addedShares);

    /// @notice Pays out withdrawn shares as tokens (DelegationManager only).
    function withdrawSharesAsTokens(address staker, IStrategy strategy, IERC20 token, uint256 shares) external;

    /// @notice Records slashed shares to burn or redistribute later (DelegationManager only).
    function increaseBurnOrRedistributableShares(address recipient, IStrategy strategy, uint256 shares) external;

    /// @notice Permissionless: converts the shares set aside for `recipient` into tokens and sends them.
    /// @dev A separate transaction from the slash so a slash can never fail on a token transfer.
    function burnOrRedistributeShares(address recipient, IStrategy strategy) external returns (uint256 amount);

    /// @notice A staker's deposit shares in a strategy.
    function stakerDepositShares(address staker, IStrategy strategy) external view returns (uint256);

    /// @notice All strategies a staker holds and the deposit shares in each.
    function getDeposits(address staker) external view returns (IStrategy[] memory, uint256[] memory);

    /// @notice Number of strategies a staker holds.
    function stakerStrategyListLength(address staker) external view returns (uint256);

    /// @notice Whether `strategy` accepts deposits.
    function strategyIsWhitelistedForDeposit(IStrategy strategy) external view returns (bool);

    /// @notice Slashed shares waiting to be burned or redistributed to `recipient`.
    function getBurnOrRedistributableShares(address recipient, IStrategy strategy) external view returns (uint256);

    /// @notice The address that receives burned tokens.
    function DEFAULT_BURN_ADDRESS() external view returns (address);
}
