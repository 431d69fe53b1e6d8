// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IDinStateVerifier} from "./interfaces/IDinStateProof.sol";
import {BlockHeader} from "./libraries/BlockHeader.sol";
import {StateJson} from "./libraries/StateJson.sol";
import {RLPReader} from "@eth-optimism/contracts-bedrock/src/libraries/rlp/RLPReader.sol";
import {SecureMerkleTrie} from "@eth-optimism/contracts-bedrock/src/libraries/trie/SecureMerkleTrie.sol";

/// @title DinStateVerifier
/// @notice Checks a signed state answer (balance, nonce, code or storage slot of an account at a block)
///         against `eth_getProof` proofs from the block header's state root. The slasher creates it and
///         calls it: the trie and RLP code (the audited Optimism libraries) would not fit in the slasher's
///         own bytecode under the EIP-170 limit. It holds no state and trusts nothing: the slasher checks the
///         header against the canonical hash of the block it returns.
///
///         Limit: the trie lookup proves only inclusion. An account or slot absent from the trie (balance,
///         nonce and storage zero, no code) cannot be proven, so a lie about an absent account or an empty
///         slot is refused with InvalidStateProof and stays an SLA matter.
contract DinStateVerifier is IDinStateVerifier {
    /// @notice An account as the state trie holds it.
    struct Account {
        uint256 nonce;
        uint256 balance;
        bytes32 storageRoot;
        bytes32 codeHash;
    }

    /// @inheritdoc IDinStateVerifier
    function check(StateEvidence calldata evidence)
        external
        view
        returns (uint256 blockNumber, uint256 timestamp, bool wrong)
    {
        StateJson.Request memory q = StateJson.parseRequest(evidence.request);
        bytes32 stateRoot;
        (stateRoot, blockNumber, timestamp) = BlockHeader.read(evidence.header);
        if (blockNumber != q.blockNumber) revert BlockHeader.InvalidHeader();
        Account memory account = _account(q.account, evidence.accountProof, stateRoot);
        if (q.method == StateJson.Method.Code) {
            return (blockNumber, timestamp, StateJson.codeHash(evidence.response) != account.codeHash);
        }
        (uint256 claimed, bool overflow) = StateJson.parseQuantity(evidence.response);
        uint256 proven;
        if (q.method == StateJson.Method.Balance) proven = account.balance;
        else if (q.method == StateJson.Method.Nonce) proven = account.nonce;
        else proven = _slot(q.slot, evidence.storageProof, account.storageRoot);
        wrong = overflow || claimed != proven;
    }

    /// @notice The account `account` at state root `root`, as `proof` proves it. External only so that
    ///         check() can turn any failure of the trie libraries into InvalidStateProof.
    function proveAccount(address account, bytes[] calldata proof, bytes32 root)
        external
        pure
        returns (Account memory a)
    {
        RLPReader.RLPItem[] memory fields =
            RLPReader.readList(SecureMerkleTrie.get(abi.encodePacked(account), proof, root));
        if (fields.length != 4) revert InvalidStateProof();
        a.nonce = _uint(RLPReader.readBytes(fields[0]));
        a.balance = _uint(RLPReader.readBytes(fields[1]));
        a.storageRoot = bytes32(_uint(RLPReader.readBytes(fields[2])));
        a.codeHash = bytes32(_uint(RLPReader.readBytes(fields[3])));
    }

    /// @notice The value of storage slot `slot` in the storage trie of root `root`, as `proof` proves it
    ///         (external for the same reason as proveAccount).
    function proveSlot(bytes32 slot, bytes[] calldata proof, bytes32 root) external pure returns (uint256) {
        return _uint(RLPReader.readBytes(SecureMerkleTrie.get(abi.encodePacked(slot), proof, root)));
    }

    function _account(address account, bytes[] calldata proof, bytes32 root) private view returns (Account memory) {
        try this.proveAccount(account, proof, root) returns (Account memory a) {
            return a;
        } catch {
            revert InvalidStateProof();
        }
    }

    function _slot(bytes32 slot, bytes[] calldata proof, bytes32 root) private view returns (uint256) {
        try this.proveSlot(slot, proof, root) returns (uint256 value) {
            return value;
        } catch {
            revert InvalidStateProof();
        }
    }

    /// @dev A big-endian integer of at most 32 bytes.
    function _uint(bytes memory data) private pure returns (uint256 value) {
        if (data.length > 32) revert InvalidStateProof();
        for (uint256 i; i < data.length; ++i) {
            value = (value << 8) | uint8(data[i]);
        }
    }
}
