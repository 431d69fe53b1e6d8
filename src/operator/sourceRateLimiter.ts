// A token bucket per source (a client's IP address), in a bounded LRU: a source spends one token per
// costly action and gets `perSecond` back each second, up to `burst`. A flood of sources evicts the least
// recent ones, which then start again with a full bucket — memory stays bounded whatever arrives.
import { LRUCache } from "lru-cache";

export interface SourceRateLimiterOptions {
  /** Tokens a source gets back per second. */
  perSecond: number;
  /** Tokens a source can spend at once (and starts with). */
  burst: number;
  /** Sources remembered at most. */
  maxSources: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceRateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly now: () => number;

  constructor(private readonly options: SourceRateLimiterOptions) {
    this.buckets = new LRUCache({ max: options.maxSources });
    this.now = options.now ?? Date.now;
  }

  /** Spends one of `source`'s tokens; false when it has none left. */
  take(source: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(source) ?? { tokens: this.options.burst, at: now };
    const refilled = Math.min(
      this.options.burst,
      bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.options.perSecond,
    );
    const allowed = refilled >= 1;
    this.buckets.set(source, { tokens: allowed ? refilled - 1 : refilled, at: now });
    return allowed;
  }

  /** Sources currently remembered. */
  get size(): number {
    return this.buckets.size;
  }
}
