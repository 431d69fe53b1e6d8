// Exact ratios for the risk figures. Thresholds such as 1/3 and stake amounts in wei do not fit a float
// without rounding, and the questions asked of them ("more than a third?", "is the slack above zero?") turn
// on exact ties, so they are answered with bigint fractions and only turned into numbers for display.

/**
 * A fraction `num / den` with `den ≥ 0`. `den = 0` stands for +∞ (when `num > 0`): a slack with nothing
 * to protect, or a profit measured against no stake.
 */
export interface Fraction {
  readonly num: bigint;
  readonly den: bigint;
}

export const ONE_THIRD: Fraction = { num: 1n, den: 3n };
export const ONE_HALF: Fraction = { num: 1n, den: 2n };
export const INFINITY: Fraction = { num: 1n, den: 0n };

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** `num / den` in lowest terms (+∞ as 1/0, and 0 as 0/1). A negative denominator moves its sign up. */
export function fraction(num: bigint, den: bigint): Fraction {
  if (den < 0n) return fraction(-num, -den);
  if (den === 0n) return num === 0n ? { num: 0n, den: 1n } : INFINITY;
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

export function isInfinite(f: Fraction): boolean {
  return f.den === 0n && f.num > 0n;
}

/** −1, 0 or 1 as `a` is below, equal to or above `b` (+∞ equals +∞). */
export function compare(a: Fraction, b: Fraction): -1 | 0 | 1 {
  if (isInfinite(a) || isInfinite(b)) return isInfinite(a) === isInfinite(b) ? 0 : isInfinite(a) ? 1 : -1;
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * `num / den` as a number, correct to about 2⁻⁶⁴ of the integer part's scale even when both are far
 * beyond 2⁵³ (wei amounts, products of stakes). `den = 0` gives Infinity (or 0 for 0/0).
 */
export function ratio(num: bigint, den: bigint): number {
  if (den < 0n) return ratio(-num, -den);
  if (num < 0n) return -ratio(-num, den);
  if (den === 0n) return num === 0n ? 0 : Number.POSITIVE_INFINITY;
  return Number(num / den) + Number(((num % den) << 64n) / den) / 2 ** 64;
}

export function toNumber(f: Fraction): number {
  return ratio(f.num, f.den);
}

/** `ceil(x · f)` for `x ≥ 0` and a finite `f ≥ 0`: the least whole amount that is at least `f` of `x`. */
export function ceilTimes(x: bigint, f: Fraction): bigint {
  const p = x * f.num;
  return p / f.den + (p % f.den === 0n ? 0n : 1n);
}
