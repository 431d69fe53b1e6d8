// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @dev 1.0 in WAD fixed point: the starting max magnitude and the neutral scaling factor.
uint64 constant WAD = 1e18;

/// @title SlashingLib
/// @notice The fixed-point share math of slashing. Every function states which way it rounds; each
///         direction is chosen so the protocol never owes more shares than it holds.
library SlashingLib {
    /// @notice x × y / 1e18, rounded down.
    function mulWad(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, y, WAD);
    }

    /// @notice x × 1e18 / y, rounded down.
    function divWad(uint256 x, uint256 y) internal pure returns (uint256) {
        return Math.mulDiv(x, WAD, y);
    }

    /// @notice Withdrawable shares `s · k · m`, rounded down twice (a staker never gets more than it has).
    function calcWithdrawable(uint256 depositShares, uint256 scalingFactor, uint256 slashingFactor)
        internal
        pure
        returns (uint256)
    {
        return mulWad(mulWad(depositShares, scalingFactor), slashingFactor);
    }

    /// @notice `x · k`: shares independent of the operator's magnitude, stored in a queued withdrawal.
    function scaleForQueueWithdrawal(uint256 depositShares, uint256 scalingFactor) internal pure returns (uint256) {
        return mulWad(depositShares, scalingFactor);
    }

    /// @notice `scaled · m(at start + delay)`, rounded down: what a withdrawal pays.
    function scaleForCompleteWithdrawal(uint256 scaledShares, uint256 slashingFactor) internal pure returns (uint256) {
        return mulWad(scaledShares, slashingFactor);
    }

    /// @notice `x − ceil(x · M' / M)`: the part of `x` a slash from M to M' removes. The remainder is
    ///         rounded up, so the amount removed is rounded down and the remaining operator shares stay
    ///         at least the sum of their stakers' withdrawable shares.
    function calcSlashedAmount(uint256 x, uint256 prevMaxMagnitude, uint256 newMaxMagnitude)
        internal
        pure
        returns (uint256)
    {
        return x - Math.mulDiv(x, newMaxMagnitude, prevMaxMagnitude, Math.Rounding.Ceil);
    }

    /// @notice Queued scaled shares `Q` slashed from M to M': `Q·M − ceil(Q·M·M'/M)`.
    function scaleForBurning(uint256 scaledShares, uint256 prevMaxMagnitude, uint256 newMaxMagnitude)
        internal
        pure
        returns (uint256)
    {
        return calcSlashedAmount(mulWad(scaledShares, prevMaxMagnitude), prevMaxMagnitude, newMaxMagnitude);
    }

    /// @notice The deposit scaling factor after adding `addedShares` to `prevDepositShares`, so that the
    ///         staker's withdrawable shares grow by exactly `addedShares` (rounded down) and no earlier slash
    ///         is charged on them. A staker with no shares starts afresh at `1 / m`.
    function newDepositScalingFactor(
        uint256 prevDepositShares,
        uint256 prevScalingFactor,
        uint256 addedShares,
        uint256 slashingFactor
    ) internal pure returns (uint256) {
        if (prevDepositShares == 0) return divWad(WAD, slashingFactor);
        uint256 withdrawable = calcWithdrawable(prevDepositShares, prevScalingFactor, slashingFactor);
        return divWad(divWad(withdrawable + addedShares, prevDepositShares + addedShares), slashingFactor);
    }
}
