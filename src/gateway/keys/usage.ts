/**
 * Usage per key, network, method and UTC hour: requests, credits, errors. Counted in memory on the
 * request path and written to the database in batches every `flushIntervalMs` and on a clean stop, so a
 * crash loses at most one interval and a request never waits for SQL.
 */
import type { Logger } from "pino";
import { labelForMethod } from "../../rpc/methods.js";
import type { KeyStore, UsageIncrement } from "./store.js";

export interface UsageRecorderOptions {
  /** How often pending counters are written. @default 5000 */
  flushIntervalMs?: number;
  logger?: Logger | undefined;
  /** Told of every write: whether it succeeded and how many rows it carried. */
  onFlush?: ((ok: boolean, rows: number) => void) | undefined;
}

const hourMs = 3_600_000;

/** The method label of requests in bodies refused at admission. */
export const refusedUsageLabel = "refused";

/** Whom a usage row belongs to. */
export type UsageKey = { key: string; projectId: string };

export class UsageRecorder {
  private pending = new Map<string, UsageIncrement>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly flushIntervalMs: number;

  constructor(
    private readonly store: KeyStore,
    private readonly options: UsageRecorderOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 5_000;
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.flush();
        if (this.timer) tick();
      }, this.flushIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Counts one request. Methods `methodTable` does not list are counted as `unknown`, so made-up names
   * cannot add rows. `credits` come from the credit table (non-negative integers); anything else would
   * fail the whole batch's write, so it is counted as 0 and logged.
   */
  record(
    key: UsageKey,
    network: string,
    method: string,
    credits: number,
    error: boolean,
    now = Date.now(),
  ): void {
    this.add(key, network, labelForMethod(method), 1, credits, error ? 1 : 0, now);
  }

  /**
   * Counts the requests of a body refused as a whole (allowlist, credits per second or per day): one
   * `refused` row per key, network and hour, whatever methods the body named, and no credits.
   */
  recordRefused(key: UsageKey, network: string, requests: number, now = Date.now()): void {
    this.add(key, network, refusedUsageLabel, requests, 0, requests, now);
  }

  private add(
    key: UsageKey,
    network: string,
    label: string,
    requests: number,
    credits: number,
    errors: number,
    now: number,
  ): void {
    if (!Number.isSafeInteger(credits) || credits < 0) {
      this.options.logger?.warn({ method: label, credits: String(credits) }, "invalid credits not counted");
      credits = 0;
    }
    const hour = now - (now % hourMs);
    const id = `${key.key}\u0000${network}\u0000${label}\u0000${hour}`;
    let row = this.pending.get(id);
    if (!row) {
      row = {
        key: key.key,
        projectId: key.projectId,
        network,
        method: label,
        hour: new Date(hour),
        requests: 0,
        credits: 0,
        errors: 0,
      };
      this.pending.set(id, row);
    }
    row.requests += requests;
    row.credits += credits;
    row.errors += errors;
  }

  /** Rows counted and not written yet (bounded by keys × networks × labels × hours). */
  get pendingRows(): number {
    return this.pending.size;
  }

  /** Writes what is pending. A failed write keeps the counters for the next flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.store
      .addUsage([...batch.values()])
      .then(() => this.options.onFlush?.(true, batch.size))
      .catch((error: unknown) => {
        this.options.onFlush?.(false, batch.size);
        this.options.logger?.warn({ err: error, rows: batch.size }, "usage flush failed; will retry");
        for (const [id, row] of batch) {
          const newer = this.pending.get(id);
          if (newer) {
            newer.requests += row.requests;
            newer.credits += row.credits;
            newer.errors += row.errors;
          } else this.pending.set(id, row);
        }
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Stops the timer and writes everything pending. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
