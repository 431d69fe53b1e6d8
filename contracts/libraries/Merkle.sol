// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title Merkle
/// @notice Inclusion proofs in keccak256 binary Merkle trees addressed by leaf index (EigenLayer's rewards
///         tree shape): a tree of 2^d leaves (padded with zero words), a parent is
///         keccak256(left ‖ right) in tree order (not sorted pairs), and a proof is the d siblings from the
///         leaf up, concatenated. Bit k of the index says whether the node at height k is a right child.
library Merkle {
    /// @notice The proof is not a whole number of 32-byte words.
    error InvalidProofLength();

    /// @notice The root reached from `leaf` at `index` through `proof` (the leaf itself for an empty proof).
    function processInclusionProofKeccak(bytes calldata proof, bytes32 leaf, uint256 index)
        internal
        pure
        returns (bytes32 node)
    {
        if (proof.length % 32 != 0) revert InvalidProofLength();
        node = leaf;
        for (uint256 offset; offset < proof.length; offset += 32) {
            bytes32 sibling = bytes32(proof[offset:offset + 32]);
            node = index & 1 == 0 ? _hashPair(node, sibling) : _hashPair(sibling, node);
            index >>= 1;
        }
    }

    /// @notice Whether `leaf` sits at `index` in the tree of `root`.
    function verifyInclusionKeccak(bytes calldata proof, bytes32 root, bytes32 leaf, uint256 index)
        internal
        pure
        returns (bool)
    {
        return processInclusionProofKeccak(proof, leaf, index) == root;
    }

    function _hashPair(bytes32 left, bytes32 right) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }
}
