/**
 * Finality-aware response cache (reference/rpc-routing.md): answers about final blocks are kept until
 * evicted, answers about unfinalized blocks live briefly and are dropped on a reorg, `pending` is never
 * cached. Memory is bounded in bytes. Identical requests in flight share one upstream call.
 */
import { LRUCache } from "lru-cache";
import { resultText } from "../rpc/rawResult.js";

export interface ResponseCacheOptions {
  /** Memory bound, in bytes of serialized answers. @default 64 MiB */
  maxBytes: number;
  /** Lifetime of answers about blocks that are not final. @default 2000 */
  unfinalizedTtlMs: number;
}

interface Entry {
  value: unknown;
  /** Block the answer is about, for reorg invalidation; undefined for final answers. */
  unfinalizedBlock: bigint | undefined;
}

/**
 * The JSON text of object answers (blocks, receipts, logs): as the operator sent it, or as it was
 * measured for the cache. Such an answer is written to the client, and cached, without serializing it
 * again. Answers are never changed in place, so the text stays the value's.
 */
const serialized = new WeakMap<object, string>();
/**
 * The reply each object result was parsed from (upstream.ts). Its `result` text is found only when the
 * answer is first written or cached: results that are merged or compared (log chunks, quorum votes) are
 * never scanned.
 */
const replies = new WeakMap<object, string>();

/** The JSON text of `value` when it is an object answer whose text is known; undefined otherwise. */
export function cachedJson(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const known = serialized.get(value);
  if (known !== undefined) return known;
  const reply = replies.get(value);
  if (reply === undefined) return undefined;
  replies.delete(value);
  const text = resultText(reply);
  if (text !== undefined) serialized.set(value, text);
  return text;
}

/** Remembers the reply text an object result was parsed from (JSON.parse accepted it). */
export function keepReplyText(result: object, reply: string): void {
  replies.set(result, reply);
}

export class ResponseCache {
  private readonly entries: LRUCache<string, Entry>;
  /** Keys of unfinalized answers by block number, so a reorg drops exactly what it invalidates. */
  private readonly unfinalizedByBlock = new Map<bigint, Set<string>>();

  constructor(private readonly options: ResponseCacheOptions) {
    this.entries = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      sizeCalculation: () => 1, // replaced per entry through `size` in set()
      ttlAutopurge: false,
      allowStale: false,
      dispose: (entry, key) => {
        if (entry.unfinalizedBlock !== undefined) this.unindex(entry.unfinalizedBlock, key);
      },
    });
  }

  get(key: string): unknown {
    return this.entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores an answer. `final` answers stay until evicted; others expire after the unfinalized TTL and
   * are dropped by `invalidateFrom(blockNumber)`.
   */
  set(key: string, value: unknown, options: { final: boolean; blockNumber?: bigint | undefined }): void {
    const json = cachedJson(value) ?? JSON.stringify(value);
    const size = key.length + json.length;
    if (size > this.options.maxBytes / 4) return; // one answer must not flush the whole cache
    if (typeof value === "object" && value !== null) serialized.set(value, json);
    const unfinalizedBlock = options.final ? undefined : (options.blockNumber ?? -1n);
    this.entries.set(
      key,
      { value, unfinalizedBlock },
      { size, ...(options.final ? {} : { ttl: this.options.unfinalizedTtlMs }) },
    );
    if (unfinalizedBlock !== undefined) {
      const keys = this.unfinalizedByBlock.get(unfinalizedBlock) ?? new Set<string>();
      keys.add(key);
      this.unfinalizedByBlock.set(unfinalizedBlock, keys);
    }
  }

  /** A reorg replaced blocks from `blockNumber` on: forget every unfinalized answer about them. */
  invalidateFrom(blockNumber: bigint): number {
    let dropped = 0;
    for (const [block, keys] of [...this.unfinalizedByBlock]) {
      if (block < blockNumber && block !== -1n) continue;
      for (const key of [...keys]) {
        if (this.entries.delete(key)) dropped++;
      }
      this.unfinalizedByBlock.delete(block);
    }
    return dropped;
  }

  /** Forgets everything; returns how many answers were dropped. */
  clear(): number {
    const dropped = this.entries.size;
    this.entries.clear();
    this.unfinalizedByBlock.clear();
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.entries.calculatedSize;
  }

  private unindex(block: bigint, key: string): void {
    const keys = this.unfinalizedByBlock.get(block);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.unfinalizedByBlock.delete(block);
  }
}

/** Shares one in-flight computation among identical concurrent requests. */
export class InflightRequests<T> {
  private readonly pending = new Map<string, Promise<T>>();

  run(key: string, compute: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.pending.get(key);
    if (existing) return { promise: existing, shared: true };
    const promise = compute().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return { promise, shared: false };
  }

  get size(): number {
    return this.pending.size;
  }
}
