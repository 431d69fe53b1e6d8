// The ledger's answers to "is this address an active gateway / watcher?", as an operator node keeps them.
// Anyone can mint a validly signed token from a fresh key, so each new address would cost a ledger read
// and a remembered answer: answers (refusals too) live in a bounded LRU with a TTL, reads for addresses
// the node has no answer for are rate-limited per source and in total (a source forgotten by the bounded
// per-source limiter starts over; the total holds whatever the number of sources), and identical
// concurrent reads are made once.
import { LRUCache } from "lru-cache";
import type { Address } from "viem";
import type { RelayCallerCheck, RelayCallerRole } from "../ledger/din/auth.js";
import type { SourceRateLimiter } from "./sourceRateLimiter.js";

export interface CallerRolesOptions {
  /** The ledger read (uncached: this class caches). */
  isCaller: RelayCallerCheck;
  /** Answers remembered at most. */
  maxEntries: number;
  /** How long an answer is trusted, in ms; 0 asks the ledger every time. */
  ttlMs: number;
  /** Ledger reads for addresses without a trusted answer, per source. */
  limiter: SourceRateLimiter;
  /** The same reads over all sources (one bucket, whatever key). */
  totalLimiter: SourceRateLimiter;
  /** Ledger reads for such addresses in flight at once, over all sources. */
  maxConcurrentLookups: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/** What the node may conclude about a caller, short of the ledger failing (which throws). */
export type RoleAnswer = "admitted" | "refused" | "rate-limited";

interface Answer {
  admitted: boolean;
  at: number;
}

export class CallerRoles {
  private readonly answers: LRUCache<string, Answer>;
  // Bounded by the limiter and `maxConcurrentLookups`, plus at most one renewal per remembered admitted caller.
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  constructor(private readonly options: CallerRolesOptions) {
    this.answers = new LRUCache({ max: options.maxEntries });
    this.now = options.now ?? Date.now;
  }

  /** Whether `address` is an active `role`; `source` pays for a read the node has no answer for. */
  async check(address: Address, role: RelayCallerRole, source: string): Promise<RoleAnswer> {
    const key = `${role}:${address}`;
    const known = this.answers.get(key);
    if (known !== undefined && this.now() - known.at < this.options.ttlMs) {
      return known.admitted ? "admitted" : "refused";
    }
    let lookup = this.pending.get(key);
    if (lookup === undefined) {
      // An admitted caller renewing its answer costs no token: a flood of strangers cannot lock out gateways.
      if (known?.admitted !== true) {
        if (this.pending.size >= this.options.maxConcurrentLookups) return "rate-limited";
        if (!this.options.limiter.take(source)) return "rate-limited";
        if (!this.options.totalLimiter.take("all")) return "rate-limited";
      }
      // `finally` runs after `set`, even when the read fails at once.
      lookup = this.read(key, address, role).finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    return (await lookup) ? "admitted" : "refused";
  }

  /** Answers currently remembered. */
  get size(): number {
    return this.answers.size;
  }

  private async read(key: string, address: Address, role: RelayCallerRole): Promise<boolean> {
    const admitted = await this.options.isCaller(address, role);
    this.answers.set(key, { admitted, at: this.now() });
    return admitted;
  }
}
