// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

/// @title BlockHeader
/// @notice Reads the state root, number and timestamp of an RLP-encoded Ethereum block header (a list whose
///         4th item is the state root, 9th the number and 12th the timestamp, in every fork since Frontier). The caller checks the header's
///         keccak256 against a canonical hash first, so only well-formed headers of real blocks reach it;
///         malformed input reverts with InvalidHeader.
library BlockHeader {
    /// @notice The header is not an RLP list with at least twelve items, or an item is malformed.
    error InvalidHeader();

    uint256 internal constant STATE_ROOT_INDEX = 3;
    uint256 internal constant NUMBER_INDEX = 8;
    uint256 internal constant TIMESTAMP_INDEX = 11;

    /// @notice The block number and timestamp of `header`.
    function numberAndTimestamp(bytes calldata header) internal pure returns (uint256 number, uint256 timestamp) {
        (, number, timestamp) = read(header);
    }

    /// @notice The state root, block number and timestamp of `header`.
    function read(bytes calldata header)
        internal
        pure
        returns (bytes32 stateRoot, uint256 number, uint256 timestamp)
    {
        (uint256 offset, uint256 end) = _listPayload(header);
        for (uint256 i; i <= TIMESTAMP_INDEX; ++i) {
            if (offset >= end) revert InvalidHeader();
            (uint256 start, uint256 length) = _item(header, offset, end);
            if (i == STATE_ROOT_INDEX) {
                if (length != 32) revert InvalidHeader();
                stateRoot = bytes32(header[start:start + 32]);
            } else if (i == NUMBER_INDEX) number = _uint(header, start, length);
            else if (i == TIMESTAMP_INDEX) timestamp = _uint(header, start, length);
            offset = start + length;
        }
    }

    /// @dev The bounds of the payload of the list `header` must be.
    function _listPayload(bytes calldata header) private pure returns (uint256 offset, uint256 end) {
        if (header.length == 0) revert InvalidHeader();
        uint8 prefix = uint8(header[0]);
        if (prefix < 0xc0) revert InvalidHeader();
        if (prefix <= 0xf7) {
            offset = 1;
            end = 1 + (prefix - 0xc0);
        } else {
            uint256 lengthOfLength = prefix - 0xf7;
            offset = 1 + lengthOfLength;
            end = offset + _bigEndian(header, 1, lengthOfLength);
        }
        if (end != header.length) revert InvalidHeader();
    }

    /// @dev The payload bounds of the string item at `offset` (lists are not expected inside a header).
    function _item(bytes calldata data, uint256 offset, uint256 end)
        private
        pure
        returns (uint256 start, uint256 length)
    {
        uint8 prefix = uint8(data[offset]);
        if (prefix < 0x80) {
            (start, length) = (offset, 1);
        } else if (prefix <= 0xb7) {
            (start, length) = (offset + 1, prefix - 0x80);
        } else if (prefix < 0xc0) {
            uint256 lengthOfLength = prefix - 0xb7;
            if (offset + 1 + lengthOfLength > end) revert InvalidHeader();
            (start, length) = (offset + 1 + lengthOfLength, _bigEndian(data, offset + 1, lengthOfLength));
        } else {
            revert InvalidHeader();
        }
        if (start + length > end) revert InvalidHeader();
    }

    function _uint(bytes calldata data, uint256 start, uint256 length) private pure returns (uint256) {
        if (length > 32) revert InvalidHeader();
        return _bigEndian(data, start, length);
    }

    function _bigEndian(bytes calldata data, uint256 start, uint256 length) private pure returns (uint256 value) {
        if (length > 32 || start + length > data.length) revert InvalidHeader();
        for (uint256 i; i < length; ++i) {
            value = (value << 8) | uint8(data[start + i]);
        }
    }
}
