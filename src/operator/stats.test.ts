// The operator node's request counts: each call of a batch once, per caller role and method, made-up
// method names under one label, and the refusal counters as they were bumped.
import { describe, expect, it } from "vitest";
import { RequestCounts } from "./stats.js";

describe("RequestCounts", () => {
  it("starts at zero", () => {
    expect(new RequestCounts().snapshot()).toEqual({
      requests: 0,
      byMethod: {},
      byCaller: {},
      unauthorized: 0,
      authUnavailable: 0,
      rateLimited: 0,
      refused: 0,
    });
  });

  it("counts batch items one by one, per caller, and sums the methods over callers", () => {
    const counts = new RequestCounts();
    counts.count({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }, "gateway");
    counts.count(
      [
        { jsonrpc: "2.0", id: 2, method: "eth_chainId" },
        { jsonrpc: "2.0", id: 3, method: "eth_blockNumber" },
      ],
      "watcher",
    );
    counts.count({ jsonrpc: "2.0", id: 4, method: "eth_blockNumber" }, "gateway");
    counts.unauthorized += 2;
    counts.authUnavailable++;
    counts.rateLimited += 3;
    counts.refused++;
    expect(counts.snapshot()).toEqual({
      requests: 4,
      byMethod: { eth_chainId: 2, eth_blockNumber: 2 },
      byCaller: {
        gateway: { eth_chainId: 1, eth_blockNumber: 1 },
        watcher: { eth_chainId: 1, eth_blockNumber: 1 },
      },
      unauthorized: 2,
      authUnavailable: 1,
      rateLimited: 3,
      refused: 1,
    });
  });

  it("labels made-up names as unknown and calls without a method as (invalid)", () => {
    const counts = new RequestCounts();
    for (let i = 0; i < 5; i++) counts.count({ id: i, method: `eth_madeUp${i}` }, "anyone");
    counts.count([42, { id: 1 }], "anyone");
    expect(counts.snapshot().byCaller).toEqual({ anyone: { unknown: 5, "(invalid)": 2 } });
  });

  it("gives a snapshot that later counts do not change", () => {
    const counts = new RequestCounts();
    counts.count({ id: 1, method: "eth_chainId" }, "anyone");
    const before = counts.snapshot();
    counts.count({ id: 2, method: "eth_chainId" }, "anyone");
    expect(before.requests).toBe(1);
    expect(before.byMethod).toEqual({ eth_chainId: 1 });
    expect(counts.snapshot().requests).toBe(2);
  });
});
