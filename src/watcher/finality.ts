// Provable heights of the ledger's own chain. The DinSlasher counts a signed block hash about that chain as
// evidence only if the block was final when served (its timestamp + the slasher's finalityDelay <=
// servedAt) and the ledger still proves the block's hash (blockhash(): the last 256 blocks). Where the
// delay is not zero, a lie about the recent heights the watcher samples for its cross-checks is never
// evidence, so on sampled rounds it also asks for a block that is final now and deep inside that reach.
import { RELAY_CLOCK_SKEW_SECONDS } from "../ledger/din/relay.js";

/** Provable samples are drawn no deeper than this below the ledger's head (blockhash() reaches 256). */
export const provableDepth = 200n;

/** Options of {@link FinalHeights}. */
export type FinalHeightsOptions = {
  /** Reads the slasher's finalityDelay, in seconds (read once, again only after a failure). */
  readDelay: () => Promise<bigint>;
  /** Reads the timestamp of a block of the ledger's chain. */
  blockTime: (blockNumber: bigint) => Promise<bigint>;
  /**
   * Seconds a block must be final before now to count: an operator's servedAt may be this far behind the
   * watcher's clock (relays dated further off are refused). @default RELAY_CLOCK_SKEW_SECONDS
   */
  marginSeconds?: bigint;
};

/** Which heights of the ledger's chain a signed answer served now would be provable evidence about. */
export class FinalHeights {
  private delay: Promise<bigint> | undefined;
  /** Timestamps of blocks found final (never reorged out, so never stale). */
  private readonly times = new Map<bigint, bigint>();
  private readonly margin: bigint;

  constructor(private readonly options: FinalHeightsOptions) {
    this.margin = options.marginSeconds ?? RELAY_CLOCK_SKEW_SECONDS;
  }

  /** The slasher's finalityDelay, cached; undefined while it cannot be read (tried again next time). */
  async finalityDelay(): Promise<bigint | undefined> {
    this.delay ??= this.options.readDelay();
    try {
      return await this.delay;
    } catch {
      this.delay = undefined;
      return undefined;
    }
  }

  /**
   * The highest block in the provable range below `head` whose timestamp + finalityDelay + the margin is at
   * or before `now` (seconds); undefined when no block of the range is final yet, or the delay is unknown.
   */
  async finalHeight(head: bigint, now: bigint): Promise<bigint | undefined> {
    const delay = await this.finalityDelay();
    if (delay === undefined) return undefined;
    const isFinal = async (height: bigint) => {
      const known = this.times.get(height);
      const time = known ?? (await this.options.blockTime(height));
      const final = time + delay + this.margin <= now;
      if (final && known === undefined) this.times.set(height, time);
      return final;
    };
    let low = head > provableDepth ? head - provableDepth : 0n;
    for (const known of this.times.keys()) {
      if (known < low) this.times.delete(known);
    }
    if (!(await isFinal(low))) return undefined;
    if (await isFinal(head)) return head;
    // Timestamps never decrease: `low` is final, `high` is not.
    let high = head;
    while (high - low > 1n) {
      const middle = (low + high) / 2n;
      if (await isFinal(middle)) low = middle;
      else high = middle;
    }
    return low;
  }

  /**
   * A height for a provable sample: drawn from [head − provableDepth, the final height], so a lie about it
   * served now is evidence the slasher accepts; undefined when there is none (see {@link finalHeight}).
   */
  async sample(head: bigint, now: bigint, random: () => number = Math.random): Promise<bigint | undefined> {
    const final = await this.finalHeight(head, now);
    if (final === undefined) return undefined;
    const low = head > provableDepth ? head - provableDepth : 0n;
    return low + BigInt(Math.floor(random() * Number(final - low + 1n)));
  }
}

/** The watcher's clock in seconds, as relays' servedAt counts. */
export const nowSeconds = (): bigint => BigInt(Math.floor(Date.now() / 1000));
