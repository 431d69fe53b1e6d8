// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title GuardianPause
/// @notice A pause the guardian cannot hold forever: it expires MAX_PAUSE_BLOCKS after it began, and a new
///         one can start only once as many blocks as the last pause lasted have passed since it ended. So the
///         guardian stops the contract for at most three days at a time and at most half of any longer stretch;
///         the DAO can revoke the role.
abstract contract GuardianPause is Pausable {
    /// @notice The longest a guardian pause lasts, in blocks (three days of 12 s blocks).
    uint256 public constant MAX_PAUSE_BLOCKS = 21_600;

    /// @notice Block at which the last pause began.
    uint64 public pausedFrom;
    /// @notice Block at which the last pause ended or ends (exclusive).
    uint64 public pausedUntil;

    /// @notice The guardian paused recently: a new pause waits as long as the last one lasted.
    error PauseCoolingDown(uint256 readyAt);

    /// @notice Whether a pause is in force.
    function paused() public view virtual override returns (bool) {
        return block.number < pausedUntil;
    }

    /// @notice The first block a new pause may start in.
    function pauseReadyAt() public view returns (uint256) {
        return uint256(pausedUntil) * 2 - pausedFrom;
    }

    function _pauseBounded() internal {
        if (paused()) revert EnforcedPause();
        uint256 readyAt = pauseReadyAt();
        if (block.number < readyAt) revert PauseCoolingDown(readyAt);
        pausedFrom = uint64(block.number);
        pausedUntil = uint64(block.number + MAX_PAUSE_BLOCKS);
        emit Paused(msg.sender);
    }

    function _unpauseBounded() internal {
        if (!paused()) revert ExpectedPause();
        pausedUntil = uint64(block.number);
        emit Unpaused(msg.sender);
    }
}
