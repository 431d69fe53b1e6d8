// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DinTimelock
/// @notice The DAO's timelock: owns every parameter setter of the DIN service. OpenZeppelin's
///         TimelockController unchanged; declared here so the build emits its artifact.
contract DinTimelock is TimelockController {
    /// @param minDelay seconds a passed proposal waits before execution
    /// @param proposers the governor
    /// @param executors who may execute (address(0): anyone)
    /// @param admin optional bootstrap admin (address(0) for none)
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
