import { afterEach, describe, expect, it, vi } from "vitest";
import { cachedJson, InflightRequests, ResponseCache } from "./cache.js";

describe("ResponseCache", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

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
    // The cache's clock is performance.now(), read through the object it captured when loaded: that
    // object's now() follows the fake Date.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    vi.spyOn(performance, "now").mockImplementation(() => Date.now());
    const cache = new ResponseCache({ maxBytes: 1_000_000, unfinalizedTtlMs: 20 });
    cache.set("recent", "x", { final: false, blockNumber: 1n });
    cache.set("old", "y", { final: true });
    await vi.advanceTimersByTimeAsync(10);
    expect(cache.get("recent")).toBe("x");
    await vi.advanceTimersByTimeAsync(30);
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
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const compute = async () => {
      calls++;
      await finished;
      return 42;
    };
    const first = inflight.run("k", compute);
    const second = inflight.run("k", compute);
    expect(second.shared).toBe(true);
    expect(inflight.size).toBe(1);
    finish();
    expect(await Promise.all([first.promise, second.promise])).toEqual([42, 42]);
    expect(calls).toBe(1);
    expect(inflight.size).toBe(0);
  });
});
