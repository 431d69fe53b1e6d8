// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title IAVSRegistrar
/// @notice Callback an AVS implements to accept or refuse operators joining its operator sets.
/// @dev Same shape as EigenLayer's IAVSRegistrar. A revert in `registerOperator` blocks registration;
///      a revert in `deregisterOperator` is caught so an AVS can never trap an operator.
interface IAVSRegistrar {
    /// @notice Called when `operator` registers for `operatorSetIds` of `avs`. Revert to refuse.
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external;

    /// @notice Called when `operator` leaves (or is ejected from) `operatorSetIds` of `avs`.
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;

    /// @notice Whether this registrar serves `avs`.
    function supportsAVS(address avs) external view returns (bool);
}
