/**
 * Latency and rate statistics of one upstream: an EWMA for scoring, a window of recent samples for the
 * p90 that sets the hedge delay, and decaying rates of errors and throttles.
 */

/** Exponentially weighted moving average; `alpha` is the weight of each new sample. */
export class Ewma {
  private current: number | undefined;
  constructor(private readonly alpha = 0.2) {}

  add(sample: number): void {
    this.current = this.current === undefined ? sample : this.current + this.alpha * (sample - this.current);
  }

  value(fallback = 0): number {
    return this.current ?? fallback;
  }
}

/** The last `size` samples, for percentiles. */
export class SampleWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;
  /** Quantiles are asked on every request: sort once per `refreshEvery` new samples, not per call. */
  private sorted: Float64Array | undefined;
  private addedSinceSort = 0;

  constructor(size = 128) {
    this.samples = new Float64Array(size);
  }

  add(sample: number): void {
    this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
    this.addedSinceSort++;
  }

  get size(): number {
    return this.count;
  }

  /** The q-quantile (0..1) of the window, or `undefined` when empty. */
  quantile(q: number, refreshEvery = 16): number | undefined {
    if (this.count === 0) return undefined;
    if (!this.sorted || this.addedSinceSort >= refreshEvery || this.sorted.length !== this.count) {
      this.sorted = this.samples.slice(0, this.count).sort(); // typed arrays sort numerically
      this.addedSinceSort = 0;
    }
    const sorted = this.sorted;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  }
}

/** A rate in [0, 1] of events among outcomes, decaying so that old events fade. */
export class DecayingRate {
  private rate = 0;
  constructor(private readonly alpha = 0.1) {}

  record(happened: boolean): void {
    this.rate += this.alpha * ((happened ? 1 : 0) - this.rate);
  }

  value(): number {
    return this.rate;
  }
}
