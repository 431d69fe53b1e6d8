/**
 * The gateway's in-memory mirror of every API key, so admission never waits for SQL. It re-reads what
 * changed (by the keys' version column) every `syncIntervalMs`, at once when Redis announces a change,
 * and — rate-limited, so random keys cannot turn into queries — when a request names a key it does not
 * know yet (a key just created on another gateway).
 */
import type { Logger } from "pino";
import type { RedisLink } from "./redis.js";
import type { ApiKeyRecord, KeyStore } from "./store.js";

export const keyChangesChannel = "din:keys:changed";

export interface KeyRegistryOptions {
  /** How often changed keys are re-read. @default 1000 */
  syncIntervalMs?: number;
  /** Least time between two syncs caused by unknown keys. @default 250 */
  missSyncMs?: number;
  redis?: RedisLink | undefined;
  logger?: Logger | undefined;
}

export type KeyChangeListener = (record: ApiKeyRecord) => void;

export class KeyRegistry {
  private readonly keys = new Map<string, ApiKeyRecord>();
  private version = 0;
  private syncing: Promise<void> | undefined;
  private missSync: Promise<void> | undefined;
  private lastSync = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: KeyChangeListener[] = [];
  private readonly syncIntervalMs: number;
  private readonly missSyncMs: number;

  constructor(
    private readonly store: KeyStore,
    private readonly options: KeyRegistryOptions = {},
  ) {
    this.syncIntervalMs = options.syncIntervalMs ?? 1_000;
    this.missSyncMs = options.missSyncMs ?? 250;
  }

  async start(): Promise<void> {
    await this.sync();
    await this.options.redis?.subscribe(keyChangesChannel, () => void this.sync());
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.sync();
        if (this.timer) tick();
      }, this.syncIntervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The key as last synced, without waiting. */
  get(key: string): ApiKeyRecord | undefined {
    return this.keys.get(key);
  }

  /**
   * The key; an unknown key waits for one sync (shared by every miss, at most one per `missSyncMs`), so
   * a key created a moment ago on another gateway is served, and random keys cost no more queries.
   */
  async lookup(key: string): Promise<ApiKeyRecord | undefined> {
    const known = this.keys.get(key);
    if (known) return known;
    this.missSync ??= (async () => {
      const wait = this.lastSync + this.missSyncMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.syncing; // one in flight may have read before the key was committed
      await this.sync();
    })().finally(() => {
      this.missSync = undefined;
    });
    await this.missSync;
    return this.keys.get(key);
  }

  /** Called with every key whose record changed (revocations included), e.g. to close its sockets. */
  onChange(listener: KeyChangeListener): void {
    this.listeners.push(listener);
  }

  /** Re-reads changed keys now, and tells the other gateways to (after an admin change). */
  async changed(): Promise<void> {
    // A sync already in flight may have read before the change committed: run one more after it.
    await this.syncing;
    await this.sync();
    await this.options.redis?.publish(keyChangesChannel, String(this.version)).catch(() => undefined);
  }

  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    this.lastSync = Date.now();
    let changed: ApiKeyRecord[];
    try {
      changed = await this.store.keysChangedSince(this.version);
    } catch (error) {
      // Keep serving with what we know; the next tick retries.
      this.options.logger?.warn({ err: error }, "api keys could not be synced");
      return;
    }
    for (const record of changed) {
      const previous = this.keys.get(record.key);
      if (previous && previous.version >= record.version) continue;
      this.keys.set(record.key, record);
      if (record.version > this.version) this.version = record.version;
      if (previous) for (const listener of this.listeners) listener(record);
    }
  }
}
