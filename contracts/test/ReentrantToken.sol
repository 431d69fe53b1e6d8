// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice An ERC20 with a transfer hook (like ERC777) that calls back into a target once, to prove the
///         restaking core refuses re-entry. The hook's revert reason is recorded, not bubbled.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public callData;
    bool public armed;
    bool public lastCallSucceeded;
    bytes public lastRevertData;

    constructor() ERC20("Hook", "HOOK") {}

    /// @notice Mints test tokens.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: on the next transfer, `target` is called with `data`.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        callData = data;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed) {
            armed = false;
            (bool ok, bytes memory ret) = target.call(callData);
            lastCallSucceeded = ok;
            lastRevertData = ret;
        }
    }
}
