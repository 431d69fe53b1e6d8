/**
 * `newPendingTransactions` from the gateway's side: a pending-transaction filter on one healthy operator,
 * polled; when that operator fails, a new filter on another one. Hashes are deduplicated, so a switch of
 * operator never delivers a transaction twice.
 */
import { LRUCache } from "lru-cache";
import type { Network } from "./network.js";

export interface PendingFollowerOptions {
  /** How often the filter is polled. @default 250 */
  pollMs?: number;
  onSourceSwitch?: (from: string, to: string) => void;
}

export class PendingFollower {
  private readonly listeners = new Set<(hash: string) => void>();
  private readonly seen = new LRUCache<string, true>({ max: 50_000 });
  private filter: { upstream: string; id: string } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSource: string | undefined;

  constructor(
    private readonly network: Network,
    private readonly options: PendingFollowerOptions = {},
  ) {}

  subscribe(listener: (hash: string) => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) this.schedule(0);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const filter = this.filter;
    this.filter = undefined;
    if (filter) {
      void this.network
        .upstream(filter.upstream)
        ?.call("eth_uninstallFilter", [filter.id], { timeoutMs: 1_000 })
        .catch(() => undefined);
    }
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.poll()
        .catch((error: unknown) =>
          this.network.logger.debug({ err: error }, "pending transactions poll failed"),
        )
        .finally(() => {
          if (this.listeners.size > 0) this.schedule(this.options.pollMs ?? 250);
        });
    }, delay);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const timeoutMs = this.network.routing.attemptTimeoutMs;
    if (!this.filter) {
      const [upstream] = this.network.rank({ maxLagBlocks: this.network.routing.readMaxLagBlocks });
      if (!upstream) return;
      const created = await this.network
        .upstream(upstream.id)
        ?.call("eth_newPendingTransactionFilter", [], { timeoutMs });
      if (created?.kind !== "result" || typeof created.result !== "string") return;
      this.filter = { upstream: upstream.id, id: created.result };
      if (this.lastSource !== undefined && this.lastSource !== upstream.id) {
        this.options.onSourceSwitch?.(this.lastSource, upstream.id);
      }
      this.lastSource = upstream.id;
    }
    const { upstream, id } = this.filter;
    const changes = await this.network.upstream(upstream)?.call("eth_getFilterChanges", [id], { timeoutMs });
    if (changes?.kind !== "result" || !Array.isArray(changes.result)) {
      this.filter = undefined; // its operator failed or forgot the filter: the next poll moves on
      return;
    }
    for (const hash of changes.result) {
      if (typeof hash !== "string" || this.seen.has(hash)) continue;
      this.seen.set(hash, true);
      for (const listener of [...this.listeners]) listener(hash);
    }
  }
}
