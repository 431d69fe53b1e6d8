// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAVSRegistrar} from "../interfaces/IAVSRegistrar.sol";

/// @title MockAVSRegistrar
/// @notice A registrar whose answers tests can switch: accept, refuse registration, or revert on leave.
contract MockAVSRegistrar is IAVSRegistrar {
    /// @notice Registration refused by the test.
    error RegistrationRefused();
    /// @notice Deregistration refused by the test.
    error DeregistrationRefused();

    address public immutable avs;
    bool public refuseRegistration;
    bool public refuseDeregistration;
    uint256 public registrations;
    uint256 public deregistrations;

    /// @param avs_ the AVS served
    constructor(address avs_) {
        avs = avs_;
    }

    /// @notice Switches the registrar's answers.
    function setRefusals(bool registration, bool deregistration) external {
        refuseRegistration = registration;
        refuseDeregistration = deregistration;
    }

    /// @inheritdoc IAVSRegistrar
    function registerOperator(address, address, uint32[] calldata, bytes calldata) external {
        if (refuseRegistration) revert RegistrationRefused();
        ++registrations;
    }

    /// @inheritdoc IAVSRegistrar
    function deregisterOperator(address, address, uint32[] calldata) external {
        if (refuseDeregistration) revert DeregistrationRefused();
        ++deregistrations;
    }

    /// @inheritdoc IAVSRegistrar
    function supportsAVS(address avs_) external view returns (bool) {
        return avs_ == avs;
    }
}
