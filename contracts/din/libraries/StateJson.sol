// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IDinStateProof} from "../interfaces/IDinStateProof.sol";

/// @title StateJson
/// @notice A strict fixed-layout reader of the canonical JSON (keys sorted, no whitespace) of the state
///         requests an operator signs and of their answers. Canonical JSON leaves one spelling per request:
///         `{"method":"eth_getBalance","params":["0x<40 hex>","0x<hex block>"]}` (likewise
///         eth_getTransactionCount and eth_getCode; eth_getStorageAt has a slot before the block), and one
///         per answer: `{"result":"0x<hex>"}`. Anything else is refused with a named error rather than
///         guessed at: a proof must be about exactly what the operator signed.
library StateJson {
    /// @notice The state a request reads.
    enum Method {
        Balance,
        Nonce,
        Code,
        Storage
    }

    /// @notice A parsed state request.
    struct Request {
        Method method;
        address account;
        bytes32 slot;
        uint256 blockNumber;
    }

    /// @dev Hex digits of a 32-byte value.
    uint256 private constant WORD_DIGITS = 64;

    /// @notice Parses a state request; reverts UnprovableRequest, or BlockNotPinned when the block is not a
    ///         hex number (a tag such as "latest" names no fixed block).
    function parseRequest(bytes calldata r) internal pure returns (Request memory q) {
        uint256 i = _expect(r, 0, '{"method":"');
        uint256 end = i;
        while (end < r.length && r[end] != '"') ++end;
        bytes32 name = keccak256(r[i:end]);
        if (name == keccak256("eth_getBalance")) q.method = Method.Balance;
        else if (name == keccak256("eth_getTransactionCount")) q.method = Method.Nonce;
        else if (name == keccak256("eth_getCode")) q.method = Method.Code;
        else if (name == keccak256("eth_getStorageAt")) q.method = Method.Storage;
        else revert IDinStateProof.UnprovableRequest();
        i = _expect(r, end, '","params":["0x');
        uint256 value;
        uint256 digits;
        (value, i, digits) = _hex(r, i);
        if (digits != 40) revert IDinStateProof.UnprovableRequest();
        q.account = address(uint160(value));
        i = _expect(r, i, '",');
        if (q.method == Method.Storage) {
            i = _expect(r, i, '"0x');
            (value, i, digits) = _hex(r, i);
            if (digits == 0 || digits > WORD_DIGITS) revert IDinStateProof.UnprovableRequest();
            q.slot = bytes32(value);
            i = _expect(r, i, '",');
        }
        if (!_startsWith(r, i, '"0x')) revert IDinStateProof.BlockNotPinned();
        (value, i, digits) = _hex(r, i + 3);
        if (digits == 0 || digits > WORD_DIGITS) revert IDinStateProof.UnprovableRequest();
        q.blockNumber = value;
        if (_expect(r, i, '"]}') != r.length) revert IDinStateProof.UnprovableRequest();
    }

    /// @notice The quantity of `{"result":"0x<hex>"}` (any number of leading zeros); `overflow` when it has
    ///         more than 64 significant digits (no state value is that large: such an answer is wrong).
    function parseQuantity(bytes calldata response) internal pure returns (uint256 value, bool overflow) {
        uint256 i = _resultStart(response);
        uint256 end = _resultEnd(response);
        if (end == i) revert IDinStateProof.MalformedResponse();
        while (i < end && response[i] == "0") ++i;
        uint256 digits;
        (value, i, digits) = _hex(response, i);
        if (i != end) revert IDinStateProof.MalformedResponse();
        overflow = digits > WORD_DIGITS;
    }

    /// @notice keccak256 of the bytes of `{"result":"0x<hex bytes>"}` (an even number of digits, maybe none).
    function codeHash(bytes calldata response) internal pure returns (bytes32) {
        uint256 i = _resultStart(response);
        uint256 end = _resultEnd(response);
        if ((end - i) % 2 != 0) revert IDinStateProof.MalformedResponse();
        uint256 length = (end - i) / 2;
        bytes memory code = new bytes(length);
        bool bad;
        // Assembly: decoding up to 24 KB of code digit by digit in Solidity costs millions of gas (bounds
        // checks and a call per digit). Here 32 digits are decoded at a time, all lanes of a word at once
        // (each byte a lane; no sum below carries into the next lane while every digit is below 0x80), and
        // the last ones two digits a step.
        assembly ("memory-safe") {
            let src := add(response.offset, i)
            let dst := add(code, 32)
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let highs := mul(0x80, ones)
            let chunks := div(length, 16)
            for { let c := 0 } lt(c, chunks) { c := add(c, 1) } {
                let w := calldataload(add(src, mul(c, 32)))
                let lower := or(w, mul(0x20, ones))
                // A lane's top bit after adding 0x80 - a: the digit is at least a; after adding 0x7f - b: above b.
                let digit := and(and(add(w, mul(0x50, ones)), highs), not(and(add(w, mul(0x46, ones)), highs)))
                let letter :=
                    and(and(add(lower, mul(0x1f, ones)), highs), not(and(add(lower, mul(0x19, ones)), highs)))
                bad := or(bad, or(iszero(iszero(and(w, highs))), iszero(eq(or(digit, letter), highs))))
                // Each lane's value (a-f: its low nibble + 9), then each pair of lanes to one byte, packed.
                let v := add(and(w, mul(0x0f, ones)), mul(shr(7, letter), 9))
                let x := and(or(shr(4, v), v), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                x := and(or(x, shr(8, x)), 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff)
                x := and(or(x, shr(16, x)), 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff)
                x := and(or(x, shr(32, x)), 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff)
                x := and(or(x, shr(64, x)), 0xffffffffffffffffffffffffffffffff)
                mstore(add(dst, mul(c, 16)), shl(128, x))
            }
            for { let k := mul(chunks, 16) } lt(k, length) { k := add(k, 1) } {
                let word := calldataload(add(src, mul(k, 2)))
                let high := byte(0, word)
                let low := byte(1, word)
                // A digit's value: 0-9, then a-f or A-F (or-ing 0x20 lowers the case); anything else is bad.
                let h := sub(high, 0x30)
                if gt(h, 9) {
                    h := sub(or(high, 0x20), 0x57)
                    bad := or(bad, or(lt(h, 10), gt(h, 15)))
                }
                let l := sub(low, 0x30)
                if gt(l, 9) {
                    l := sub(or(low, 0x20), 0x57)
                    bad := or(bad, or(lt(l, 10), gt(l, 15)))
                }
                mstore8(add(dst, k), or(shl(4, and(h, 0xf)), and(l, 0xf)))
            }
        }
        if (bad) revert IDinStateProof.MalformedResponse();
        return keccak256(code);
    }

    /// @dev Where the hex digits of a response start (after `{"result":"0x`).
    function _resultStart(bytes calldata response) private pure returns (uint256) {
        if (!_startsWith(response, 0, '{"result":"0x')) revert IDinStateProof.MalformedResponse();
        return 13;
    }

    /// @dev Where the hex digits of a response end (before the closing `"}`).
    function _resultEnd(bytes calldata response) private pure returns (uint256 end) {
        if (response.length < 15 || !_startsWith(response, response.length - 2, '"}')) {
            revert IDinStateProof.MalformedResponse();
        }
        end = response.length - 2;
    }

    /// @dev Reads hex digits from `i` (at most 64 are taken into `value`; a longer run makes `digits` > 64,
    ///      which every caller refuses).
    function _hex(bytes calldata r, uint256 i) private pure returns (uint256 value, uint256 next, uint256 digits) {
        next = i;
        while (next < r.length) {
            (uint256 d, bool ok) = _digit(r[next]);
            if (!ok) break;
            if (digits < WORD_DIGITS) value = (value << 4) | d;
            ++digits;
            ++next;
        }
    }

    function _digit(bytes1 c) private pure returns (uint256, bool) {
        uint8 b = uint8(c);
        if (b >= 0x30 && b <= 0x39) return (b - 0x30, true);
        if (b >= 0x61 && b <= 0x66) return (b - 0x57, true);
        if (b >= 0x41 && b <= 0x46) return (b - 0x37, true);
        return (0, false);
    }

    function _startsWith(bytes calldata r, uint256 i, bytes memory literal) private pure returns (bool) {
        if (i + literal.length > r.length) return false;
        return keccak256(r[i:i + literal.length]) == keccak256(literal);
    }

    /// @dev `i` past `literal`, which must be there (else the request is unprovable).
    function _expect(bytes calldata r, uint256 i, bytes memory literal) private pure returns (uint256) {
        if (!_startsWith(r, i, literal)) revert IDinStateProof.UnprovableRequest();
        return i + literal.length;
    }
}
