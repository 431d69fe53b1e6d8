/**
 * Which relays to ask an operator to sign: a share `rate` of them, chosen at random. The skip until the
 * next sample is drawn once (geometric distribution), so a relay that is not sampled costs one decrement,
 * not a random number.
 */
export class RelaySampler {
  private skip: number;

  /**
   * @param rate Share of relays to sample, 0..1 (0: never, 1: every one).
   * @param random Uniform numbers in [0, 1). @default Math.random
   */
  constructor(
    readonly rate: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`sample rate must be within 0..1, got ${rate}`);
    this.skip = this.nextSkip();
  }

  /** Whether this relay is sampled. */
  sample(): boolean {
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    if (this.rate === 0) return false;
    this.skip = this.nextSkip();
    return true;
  }

  /** Relays to pass over before the next sample: P(k) = (1 - rate)^k · rate. */
  private nextSkip(): number {
    if (this.rate >= 1) return 0;
    if (this.rate <= 0) return Number.POSITIVE_INFINITY;
    const u = 1 - this.random(); // (0, 1]: log(0) would be -Infinity
    return Math.floor(Math.log(u) / Math.log(1 - this.rate));
  }
}
