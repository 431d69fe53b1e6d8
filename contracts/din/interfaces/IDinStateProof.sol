// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title IDinStateProof
/// @notice What a proof of a wrong state answer carries, and why one is refused. Shared by the slasher (which
///         takes the evidence) and the state verifier (which checks it), so both report the same errors.
interface IDinStateProof {
    /// @notice A signed state answer and what proves it wrong. `request` and `response` are the exact
    ///         canonical JSON bytes the relay hashes; `header` is the RLP header of the block the request
    ///         names; the proofs are `eth_getProof`'s `accountProof` and (for eth_getStorageAt) the slot's
    ///         `storageProof[0].proof`, RLP trie nodes from the root down.
    struct StateEvidence {
        bytes header;
        bytes request;
        bytes response;
        bytes[] accountProof;
        bytes[] storageProof;
    }

    /// @notice keccak256(request) is not the relay's requestHash.
    error RequestHashMismatch();
    /// @notice keccak256(response) is not the relay's responseHash.
    error ResponseHashMismatch();
    /// @notice The request is not one of eth_getBalance, eth_getTransactionCount, eth_getCode or
    ///         eth_getStorageAt in canonical JSON with a hex address (and slot).
    error UnprovableRequest();
    /// @notice The request names its block by a tag (or an object), not a hex number: no block to prove at.
    error BlockNotPinned();
    /// @notice The response is not `{"result":"0x…"}` with a hex quantity (or, for code, hex bytes).
    error MalformedResponse();
    /// @notice The account or storage proof does not prove a value at the header's state root (garbled or
    ///         truncated nodes, another account or slot, or an account or slot absent from the trie).
    error InvalidStateProof();
}

/// @title IDinStateVerifier
/// @notice Checks a state answer against the state root of a block header. Stateless: the slasher creates
///         one and calls it, which keeps the trie code out of the slasher's own (size-limited) bytecode.
interface IDinStateVerifier is IDinStateProof {
    /// @notice Parses the request and response, reads the header's number, timestamp and state root, and
    ///         verifies the proofs against that root. Reverts with the errors above (or
    ///         BlockHeader.InvalidHeader when the header is malformed or of another block).
    /// @return blockNumber the block the request names (the header's)
    /// @return timestamp the header's timestamp
    /// @return wrong whether the proven value differs from the answer
    function check(StateEvidence calldata evidence)
        external
        view
        returns (uint256 blockNumber, uint256 timestamp, bool wrong);
}
