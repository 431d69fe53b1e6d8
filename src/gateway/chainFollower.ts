/**
 * The gateway's own view of a network's chain, for subscriptions: it follows the head the gateway tracks,
 * fetches each new block from operators that agree on its hash (a lying operator is outvoted, a dead or
 * lagging one is simply not asked), and emits every canonical block exactly once, in order. On a reorg it
 * emits the blocks that left the chain as `removed` (newest first), then the new canonical blocks — as
 * geth does for `newHeads` and `logs`. The operator feeding it can change at any block without a gap.
 */
import { fromQuantity, toQuantity } from "../rpc/blockTag.js";
import type { Log } from "./logFilter.js";
import type { Network } from "./network.js";
import { pickNext, type RankedUpstream } from "./selection.js";

export interface CanonicalBlock {
  number: bigint;
  hash: string;
  parentHash: string;
  /** The block as `newHeads` delivers it (no transaction list). */
  header: Record<string, unknown>;
  /** Every log of the block, in order; fetched only while someone subscribes to logs. */
  logs: Log[];
}

export type ChainEvent =
  | { kind: "block"; block: CanonicalBlock }
  | { kind: "removed"; block: CanonicalBlock };

export interface ChainFollowerOptions {
  /** Blocks kept to find the fork point of a reorg. @default 128 */
  retainBlocks?: number;
  /** Whether logs are fetched for each block (true while a logs subscription exists). */
  wantLogs: () => boolean;
  /** Called when the operator serving the follower changes. */
  onSourceSwitch?: (from: string, to: string) => void;
}

export class ChainFollower {
  private readonly chain: CanonicalBlock[] = [];
  private readonly listeners = new Set<(event: ChainEvent) => void>();
  private readonly retainBlocks: number;
  private stopHeadListener: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private source: string | undefined;
  private reorgsSeen = 0;

  constructor(
    private readonly network: Network,
    private readonly options: ChainFollowerOptions,
  ) {
    this.retainBlocks = options.retainBlocks ?? 128;
  }

  /** Adds a listener; the follower runs while it has listeners. Returns the function that removes it. */
  subscribe(listener: (event: ChainEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.stopHeadListener) {
      this.stopHeadListener = this.network.onHead(() => this.wake());
      this.wake();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** The newest canonical block emitted. */
  get tip(): CanonicalBlock | undefined {
    return this.chain.at(-1);
  }

  stop(): void {
    this.stopHeadListener?.();
    this.stopHeadListener = undefined;
    this.chain.length = 0;
  }

  /** Runs one catch-up at a time; a head seen while running triggers one more. */
  private wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.advance()
      .catch((error: unknown) => {
        this.network.logger.warn(
          { err: error },
          "chain follower could not advance; will retry at the next head",
        );
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && this.stopHeadListener) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async advance(): Promise<void> {
    const target = this.network.head?.latest;
    if (target === undefined) return;
    if (this.chain.length === 0) {
      // A new subscription starts at the current head: it gets the blocks that come after it.
      this.reorgsSeen = this.network.reorgs;
      const block = await this.fetchCanonical(target);
      if (block) this.chain.push(block);
      return;
    }
    if (this.network.reorgs !== this.reorgsSeen || target < this.tip!.number) {
      // The chain was replaced under us, possibly by a shorter one: find the fork point now.
      this.reorgsSeen = this.network.reorgs;
      await this.reorganize();
    }
    while (this.stopHeadListener && this.tip && this.tip.number < target) {
      const next = await this.fetchCanonical(this.tip.number + 1n);
      if (!next) return;
      if (next.parentHash !== this.tip.hash) {
        await this.reorganize();
        continue;
      }
      this.append(next);
    }
  }

  /** Finds the fork point against what operators now agree on, un-emits the lost blocks. */
  private async reorganize(): Promise<void> {
    const removed: CanonicalBlock[] = [];
    while (this.chain.length > 0) {
      const tip = this.chain.at(-1)!;
      const head = this.network.head?.latest;
      if (head !== undefined && tip.number > head) {
        removed.push(this.chain.pop()!); // above the new head: that block is gone
        continue;
      }
      const current = await this.fetchHeader(tip.number);
      if (!current) throw new Error(`no agreed block at ${tip.number} while resolving a reorg`);
      if (current.hash === tip.hash) break;
      removed.push(this.chain.pop()!);
    }
    if (removed.length === 0) return;
    this.network.logger.info(
      { depth: removed.length, from: removed.at(-1)?.number.toString() },
      "reorg: blocks left the canonical chain",
    );
    for (const block of removed) this.emit({ kind: "removed", block });
    if (this.chain.length === 0 && removed.length > 0) {
      // Deeper than what we retain: restart from the oldest replaced height.
      const restart = await this.fetchCanonical(removed.at(-1)!.number);
      if (restart) this.append(restart);
    }
  }

  private append(block: CanonicalBlock): void {
    this.chain.push(block);
    if (this.chain.length > this.retainBlocks) this.chain.shift();
    this.emit({ kind: "block", block });
  }

  private emit(event: ChainEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private async fetchCanonical(number: bigint): Promise<CanonicalBlock | undefined> {
    const header = await this.fetchHeader(number);
    if (!header) return undefined;
    const logs = this.options.wantLogs() ? await this.fetchLogs(header.hash, number) : [];
    return { ...header, logs };
  }

  /**
   * The block at `number` as at least two operators (on different clouds) report it; with a
   * disagreement, the majority of three. A single available operator is trusted alone.
   */
  private async fetchHeader(number: bigint): Promise<Omit<CanonicalBlock, "logs"> | undefined> {
    const lag =
      Number((this.network.head?.latest ?? number) - number) + this.network.routing.readMaxLagBlocks;
    const ranked = this.network
      .rank({ maxLagBlocks: Math.max(lag, 0) })
      .filter((upstream) => upstream.tier === 0);
    const needed = Math.min(2, ranked.length);
    if (needed === 0) return undefined;
    const tried: RankedUpstream[] = [];
    const votes = new Map<string, { header: Omit<CanonicalBlock, "logs">; upstreams: string[] }>();
    const ask = async (): Promise<void> => {
      const upstream = pickNext(ranked, tried);
      if (!upstream) return;
      tried.push(upstream);
      const header = await this.blockFrom(upstream.id, number);
      if (!header) return ask();
      const vote = votes.get(header.hash) ?? { header, upstreams: [] };
      vote.upstreams.push(upstream.id);
      votes.set(header.hash, vote);
    };
    await Promise.all(Array.from({ length: needed }, ask));
    for (let extra = 0; extra < 3; extra++) {
      const best = [...votes.values()].sort((a, b) => b.upstreams.length - a.upstreams.length)[0];
      if (best && best.upstreams.length >= needed && (votes.size === 1 || best.upstreams.length > 1)) {
        if (votes.size > 1) {
          const outvoted = [...votes.values()]
            .filter((vote) => vote !== best)
            .flatMap((vote) => vote.upstreams);
          this.network.logger.warn(
            { block: number.toString(), canonical: best.header.hash, outvoted },
            "operators served a block hash the others contradict",
          );
        }
        this.noteSource(best.upstreams[0]!);
        return best.header;
      }
      if (tried.length >= ranked.length) break;
      await ask();
    }
    return undefined;
  }

  private async blockFrom(
    upstreamId: string,
    number: bigint,
  ): Promise<Omit<CanonicalBlock, "logs"> | undefined> {
    const outcome = await this.network
      .upstream(upstreamId)
      ?.call("eth_getBlockByNumber", [toQuantity(number), false], {
        timeoutMs: this.network.routing.attemptTimeoutMs,
      });
    if (outcome?.kind !== "result" || typeof outcome.result !== "object" || outcome.result === null)
      return undefined;
    const block = outcome.result as Record<string, unknown>;
    if (
      fromQuantity(block.number) !== number ||
      typeof block.hash !== "string" ||
      typeof block.parentHash !== "string"
    ) {
      return undefined;
    }
    const {
      transactions: _transactions,
      size: _size,
      totalDifficulty: _td,
      uncles: _uncles,
      ...header
    } = block;
    return { number, hash: block.hash, parentHash: block.parentHash, header };
  }

  private async fetchLogs(blockHash: string, number: bigint): Promise<Log[]> {
    const ranked = this.network.rank({ maxLagBlocks: this.network.routing.readMaxLagBlocks + 2 });
    const tried: RankedUpstream[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const upstream = pickNext(ranked, tried);
      if (!upstream) break;
      tried.push(upstream);
      const outcome = await this.network
        .upstream(upstream.id)
        ?.call("eth_getLogs", [{ blockHash }], { timeoutMs: this.network.routing.attemptTimeoutMs });
      if (outcome?.kind !== "result" || !Array.isArray(outcome.result)) continue;
      const logs = outcome.result as Log[];
      // An operator cannot pass off logs of another block: they carry the hash we asked for.
      if (logs.every((log) => log.blockHash === blockHash && fromQuantity(log.blockNumber) === number))
        return logs;
    }
    throw new Error(`no operator served the logs of block ${number}`);
  }

  private noteSource(upstream: string): void {
    if (this.source !== undefined && this.source !== upstream)
      this.options.onSourceSwitch?.(this.source, upstream);
    this.source = upstream;
  }
}
