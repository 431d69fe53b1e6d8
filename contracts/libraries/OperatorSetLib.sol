// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {OperatorSet} from "../interfaces/IAllocationManager.sol";

/// @title OperatorSetLib
/// @notice Packs an operator set into one storage key: the AVS address in the high 160 bits, the id low.
library OperatorSetLib {
    /// @notice The storage key of a set.
    function key(OperatorSet memory operatorSet) internal pure returns (bytes32) {
        return bytes32(abi.encodePacked(operatorSet.avs, uint96(operatorSet.id)));
    }

    /// @notice The set of a storage key.
    function decode(bytes32 k) internal pure returns (OperatorSet memory) {
        return OperatorSet({avs: address(uint160(uint256(k) >> 96)), id: uint32(uint256(k) & type(uint96).max)});
    }
}
