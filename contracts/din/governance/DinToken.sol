// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title DinToken
/// @notice The DIN governance token: a fixed supply minted once, with delegable votes checkpointed by block.
contract DinToken is ERC20, ERC20Permit, ERC20Votes {
    /// @param holder receives the whole supply
    /// @param supply total supply (18 decimals)
    constructor(address holder, uint256 supply) ERC20("OpenDIN", "DIN") ERC20Permit("OpenDIN") {
        _mint(holder, supply);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
