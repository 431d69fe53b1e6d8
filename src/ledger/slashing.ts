// The restaking core's share math (contracts/libraries/SlashingLib.sol) in TypeScript, bigint for bigint:
// to compute what a staker can withdraw off chain, and to property-test the rounding without a chain.

/** 1.0 in WAD fixed point. */
export const WAD = 10n ** 18n;

/** x × y / 1e18, rounded down. */
export function mulWad(x: bigint, y: bigint): bigint {
  return (x * y) / WAD;
}

/** x × 1e18 / y, rounded down. */
export function divWad(x: bigint, y: bigint): bigint {
  return (x * WAD) / y;
}

/** x × y / d, rounded up. */
export function mulDivUp(x: bigint, y: bigint, d: bigint): bigint {
  const p = x * y;
  return p / d + (p % d === 0n ? 0n : 1n);
}

/** Withdrawable shares `s · k · m`, rounded down twice. */
export function withdrawableShares(
  depositShares: bigint,
  scalingFactor: bigint,
  maxMagnitude: bigint,
): bigint {
  return mulWad(mulWad(depositShares, scalingFactor), maxMagnitude);
}

/** The deposit scaling factor after adding shares (a new position starts at `1 / m`). */
export function newDepositScalingFactor(
  prevDepositShares: bigint,
  prevScalingFactor: bigint,
  addedShares: bigint,
  maxMagnitude: bigint,
): bigint {
  if (prevDepositShares === 0n) return divWad(WAD, maxMagnitude);
  const withdrawable = withdrawableShares(prevDepositShares, prevScalingFactor, maxMagnitude);
  return divWad(divWad(withdrawable + addedShares, prevDepositShares + addedShares), maxMagnitude);
}

/** `x − ceil(x · M' / M)`: the part of `x` a slash from M to M' removes. */
export function slashedAmount(x: bigint, prevMaxMagnitude: bigint, newMaxMagnitude: bigint): bigint {
  return x - mulDivUp(x, newMaxMagnitude, prevMaxMagnitude);
}

/** Queued scaled shares slashed from M to M': `Q·M − ceil(Q·M·M'/M)`. */
export function queuedSharesSlashed(
  scaledShares: bigint,
  prevMaxMagnitude: bigint,
  newMaxMagnitude: bigint,
): bigint {
  return slashedAmount(mulWad(scaledShares, prevMaxMagnitude), prevMaxMagnitude, newMaxMagnitude);
}

/** Magnitude a slash of `wad` takes from an allocation of `currentMagnitude`: `ceil(c · wad / 1e18)`. */
export function magnitudeSlashed(currentMagnitude: bigint, wad: bigint): bigint {
  return mulDivUp(currentMagnitude, wad, WAD);
}
