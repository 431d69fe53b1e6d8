/**
 * State a client makes the gateway keep (sessions, filters), bounded twice: in total (least recently used
 * first out, with a lifetime) and per client, so one API key — or one address where keys are off —
 * cannot crowd everyone else out. A client over its share loses its own oldest entry, nobody else's.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";

export interface OwnedStoreOptions {
  /** Entries kept in total. */
  maxEntries: number;
  /** Entries one owner may keep; its oldest goes when it adds one more. */
  maxPerOwner: number;
  /** Lifetime of an entry since it was last set (or read, with `touchOnGet`). */
  ttlMs: number;
  /** Reading an entry renews its lifetime. @default false */
  touchOnGet?: boolean;
}

interface Entry<V> {
  owner: string;
  value: V;
}

export class OwnedStore<V extends {}> {
  private readonly entries: LRUCache<string, Entry<V>>;
  /** Each owner's keys, oldest first. */
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(private readonly options: OwnedStoreOptions) {
    this.entries = new LRUCache<string, Entry<V>>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      updateAgeOnGet: options.touchOnGet ?? false,
      dispose: (entry, key) => {
        const keys = this.byOwner.get(entry.owner);
        if (!keys) return;
        keys.delete(key);
        if (keys.size === 0) this.byOwner.delete(entry.owner);
      },
    });
  }

  /** The value under `key` if `owner` put it there; another owner's entry is not found. */
  get(owner: string, key: string): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.owner === owner ? entry.value : undefined;
  }

  set(owner: string, key: string, value: V): void {
    const existing = this.entries.get(key);
    if (existing && existing.owner !== owner) this.entries.delete(key);
    if (existing?.owner !== owner) {
      const keys = this.byOwner.get(owner);
      if (keys && keys.size >= this.options.maxPerOwner) {
        const oldest = keys.values().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    this.entries.set(key, { owner, value });
    let keys = this.byOwner.get(owner);
    if (!keys) {
      keys = new Set();
      this.byOwner.set(owner, keys);
    }
    keys.add(key);
  }

  /** Removes `owner`'s entry; true when there was one. */
  delete(owner: string, key: string): boolean {
    const entry = this.entries.peek(key);
    if (!entry || entry.owner !== owner) return false;
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries `owner` keeps (expired ones count until they are evicted or read). */
  countOf(owner: string): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  /** Owners with at least one entry. */
  get owners(): number {
    return this.byOwner.size;
  }
}

/**
 * A fixed-size name for client-chosen text (session ids, API keys, addresses): whatever a client sends,
 * the gateway keeps 22 characters of it.
 */
export function fixedName(...parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("base64url").slice(0, 22);
}
