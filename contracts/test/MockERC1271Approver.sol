// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockERC1271Approver
/// @notice Test only: a contract delegation approver (EIP-1271) that accepts what its owner key signed.
contract MockERC1271Approver is IERC1271 {
    /// @notice The key whose signatures this contract accepts.
    address public immutable owner;

    /// @param owner_ the key whose signatures this contract accepts
    constructor(address owner_) {
        owner = owner_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? IERC1271.isValidSignature.selector : bytes4(0);
    }
}
