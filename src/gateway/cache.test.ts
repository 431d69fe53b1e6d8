import { describe, expect, it } from "vitest";
import { cachedJson, InflightRequests, ResponseCache } from "./cache.js";

describe("ResponseCache", () => {
  it("keeps final answers and drops unfinalized ones from a reorged block on", () => {
    const cache = new ResponseCache({ maxBytes: 1_000_000, unfinalizedTtlMs: 60_000 });
    cache.set("final", "a", { final: true, blockNumber: 5n });
    cache.set("at-9", "b", { final: false, blockNumber: 9n });
    cache.set("at-10", "c", { final: false, blockNumber: 10n });
    cache.set("at-11", "d", { final: false, blockNumber: 11n });
    expect(cache.invalidateFrom(10n)).toBe(2);
    expect(cache.get("final")).toBe("a");
    expect(cache.get("at-9")).toBe("b");
    expect(cache.get("at-10")).toBeUndefined();
    expect(cache.get("at-11")).toBeUndefined();
  });

  it("expires unfinalized answers after their TTL", async () => {
    const cache = new ResponseCache({ maxBytes: 1_000_000, unfinalizedTtlMs: 20 });
    cache.set("recent", "x", { final: false, blockNumber: 1n });
    cache.set("old", "y", { final: true });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.get("recent")).toBeUndefined();
    expect(cache.get("old")).toBe("y");
  });

  it("stays within its memory bound, evicting the least recently used", () => {
    const cache = new ResponseCache({ maxBytes: 10_000, unfinalizedTtlMs: 1_000 });
    for (let i = 0; i < 1_000; i++) cache.set(`key-${i}`, "v".repeat(100), { final: true });
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.get("key-999")).toBeDefined();
    expect(cache.get("key-0")).toBeUndefined();
  });

  it("refuses one answer big enough to flush the cache", () => {
    const cache = new ResponseCache({ maxBytes: 1_000, unfinalizedTtlMs: 1_000 });
    cache.set("huge", "x".repeat(600), { final: true });
    expect(cache.has("huge")).toBe(false);
  });
});

describe("cachedJson", () => {
  it("keeps the JSON text of cached object answers, and of nothing else", () => {
    const cache = new ResponseCache({ maxBytes: 1_000_000, unfinalizedTtlMs: 60_000 });
    const block = { number: "0x10", transactions: ["0xab"], extra: null };
    cache.set("block", block, { final: true, blockNumber: 16n });
    cache.set("balance", "0x1", { final: true, blockNumber: 16n });
    expect(cachedJson(cache.get("block"))).toBe(JSON.stringify(block));
    expect(cachedJson(cache.get("balance"))).toBeUndefined();
    expect(cachedJson({ number: "0x10" })).toBeUndefined();
  });
});

describe("InflightRequests", () => {
  it("shares one computation among identical concurrent requests", async () => {
    const inflight = new InflightRequests<number>();
    let calls = 0;
    const compute = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 42;
    };
    const first = inflight.run("k", compute);
    const second = inflight.run("k", compute);
    expect(second.shared).toBe(true);
    expect(await Promise.all([first.promise, second.promise])).toEqual([42, 42]);
    expect(calls).toBe(1);
    expect(inflight.size).toBe(0);
  });
});
