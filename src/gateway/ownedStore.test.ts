import { describe, expect, it } from "vitest";
import { fixedName, OwnedStore } from "./ownedStore.js";

describe("state a client makes the gateway keep", () => {
  it("drops a client's own oldest entry when it goes over its share, not another client's", () => {
    const store = new OwnedStore<{ n: number }>({ maxEntries: 100, maxPerOwner: 3, ttlMs: 60_000 });
    store.set("victim", "v1", { n: 0 });
    for (let n = 0; n < 50; n++) store.set("attacker", `a${n}`, { n });
    expect(store.countOf("attacker")).toBe(3);
    expect(store.get("attacker", "a49")).toEqual({ n: 49 });
    expect(store.get("attacker", "a0")).toBeUndefined();
    expect(store.get("victim", "v1")).toEqual({ n: 0 });
    expect(store.size).toBe(4);
  });

  it("never holds more than its total, whoever adds", () => {
    const store = new OwnedStore<{ n: number }>({ maxEntries: 10, maxPerOwner: 5, ttlMs: 60_000 });
    for (let n = 0; n < 1_000; n++) store.set(`owner-${n}`, `key-${n}`, { n });
    expect(store.size).toBe(10);
    expect(store.owners).toBe(10);
  });

  it("finds an entry only for the owner that created it, and lets only that owner delete it", () => {
    const store = new OwnedStore<{ n: number }>({ maxEntries: 10, maxPerOwner: 5, ttlMs: 60_000 });
    store.set("alice", "filter", { n: 1 });
    expect(store.get("mallory", "filter")).toBeUndefined();
    expect(store.delete("mallory", "filter")).toBe(false);
    expect(store.get("alice", "filter")).toEqual({ n: 1 });
    expect(store.delete("alice", "filter")).toBe(true);
    expect(store.countOf("alice")).toBe(0);
  });

  it("names any client text with 22 characters, however long it is", () => {
    const long = "x".repeat(12_000);
    expect(fixedName(long)).toHaveLength(22);
    expect(fixedName("a", "b")).not.toBe(fixedName("ab", ""));
    expect(fixedName("__proto__")).toHaveLength(22);
  });
});
