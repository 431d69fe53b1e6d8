// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title DinToken
/// @notice The DIN governance token: a fixed supply minted once, with delegable votes checkpointed by block.
///         The supply goes to the DAO's treasury (its timelock), less the allocations named at deployment:
///         no key the deployer holds gets votes it was not explicitly given.
contract DinToken is ERC20, ERC20Permit, ERC20Votes {
    /// @notice The treasury is the zero address.
    error ZeroTreasury();
    /// @notice `holders` and `amounts` differ in length.
    error AllocationMismatch();
    /// @notice The allocations add up to more than the supply.
    error AllocationsExceedSupply(uint256 allocated, uint256 supply);

    /// @param treasury receives what the allocations leave of the supply: the DAO's timelock
    /// @param holders initial allocations (a community distribution, contributors), in order
    /// @param amounts what each holder receives (18 decimals)
    /// @param supply total supply (18 decimals)
    constructor(address treasury, address[] memory holders, uint256[] memory amounts, uint256 supply)
        ERC20("OpenDIN", "DIN")
        ERC20Permit("OpenDIN")
    {
        if (treasury == address(0)) revert ZeroTreasury();
        if (holders.length != amounts.length) revert AllocationMismatch();
        uint256 allocated;
        for (uint256 i; i < holders.length; ++i) {
            allocated += amounts[i];
            if (allocated > supply) revert AllocationsExceedSupply(allocated, supply);
            _mint(holders[i], amounts[i]);
        }
        _mint(treasury, supply - allocated);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
