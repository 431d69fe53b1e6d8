import { describe, expect, it } from "vitest";
import { fromQuantity, toQuantity } from "../rpc/blockTag.js";
import {
  alterHash,
  headerNotFound,
  injectsError,
  laggedHeadOf,
  lagResult,
  lieResult,
  normalizeChaosState,
  parseChaosState,
  planLaggedCall,
  rewriteBlockParam,
} from "./chaos.js";

const hash = `0x${"ab".repeat(32)}`;
const address = `0x${"11".repeat(20)}`;

describe("chaos state", () => {
  it("fills each mode's default value", () => {
    expect(normalizeChaosState({ mode: "slow" })).toEqual({ mode: "slow", value: 500 });
    expect(normalizeChaosState({ mode: "lag" })).toEqual({ mode: "lag", value: 20 });
    expect(normalizeChaosState({ mode: "flap" })).toEqual({ mode: "flap", value: 1000 });
    expect(normalizeChaosState({ mode: "errors" })).toEqual({ mode: "errors", value: 50 });
  });

  it("drops values that a mode does not use", () => {
    expect(normalizeChaosState({ mode: "down", value: 3 })).toEqual({ mode: "down" });
    expect(normalizeChaosState({ mode: "ok", value: 3 })).toEqual({ mode: "ok" });
    expect(normalizeChaosState({ mode: "lie", value: 3 })).toEqual({ mode: "lie" });
    // A fault that ends by itself keeps its end; ok has nothing to end.
    expect(normalizeChaosState({ mode: "down", forMs: 5_000 })).toEqual({ mode: "down", forMs: 5_000 });
    expect(normalizeChaosState({ mode: "ok", forMs: 5_000 })).toEqual({ mode: "ok" });
    expect(parseChaosState({ mode: "down", forMs: 0 }).ok).toBe(false);
    expect(parseChaosState({ mode: "down", forMs: 86_400_001 }).ok).toBe(false);
  });

  it("accepts every mode and keeps an explicit value", () => {
    for (const mode of ["ok", "down", "slow", "lag", "lie", "corrupt", "flap", "errors"]) {
      expect(parseChaosState({ mode }).ok).toBe(true);
    }
    expect(parseChaosState({ mode: "lag", value: 5 })).toEqual({
      ok: true,
      state: { mode: "lag", value: 5 },
    });
  });

  it("rejects unknown modes, bad values and extra fields with a message naming the field", () => {
    const unknown = parseChaosState({ mode: "explode" });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.message).toMatch(/^invalid chaos state: mode:/);

    const cases: unknown[] = [
      { mode: "errors", value: 101 },
      { mode: "lag", value: 2.5 },
      { mode: "slow", value: -1 },
      { mode: "flap", value: 1 },
      { mode: "slow", value: "500" },
      { mode: "ok", extra: true },
      {},
      null,
      "down",
    ];
    for (const input of cases) {
      const result = parseChaosState(input);
      expect(result.ok, JSON.stringify(input)).toBe(false);
    }
    const percent = parseChaosState({ mode: "errors", value: 101 });
    if (!percent.ok) expect(percent.message).toContain("value:");
  });

  it("fails the configured share of requests", () => {
    expect(injectsError(100, () => 0.999)).toBe(true);
    expect(injectsError(0, () => 0)).toBe(false);
    expect(injectsError(50, () => 0.49)).toBe(true);
    expect(injectsError(50, () => 0.5)).toBe(false);
  });
});

describe("lag", () => {
  const lagged = 80n;

  it("computes the lagged head without going below genesis", () => {
    expect(laggedHeadOf(100n, 20)).toBe(80n);
    expect(laggedHeadOf(5n, 20)).toBe(0n);
    expect(laggedHeadOf(100n, 0)).toBe(100n);
  });

  it("answers eth_blockNumber with the lagged head", () => {
    expect(planLaggedCall("eth_blockNumber", [], lagged)).toEqual({ kind: "answer", result: "0x50" });
  });

  it("resolves head-relative tags to the lagged head in block lookups", () => {
    for (const tag of ["latest", "safe", "finalized", "pending"]) {
      expect(planLaggedCall("eth_getBlockByNumber", [tag, false], lagged)).toEqual({
        kind: "forward",
        params: ["0x50", false],
      });
    }
    expect(planLaggedCall("eth_getBlockByNumber", ["earliest", false], lagged)).toEqual({
      kind: "forward",
      params: ["earliest", false],
    });
  });

  it("answers null for a block past the lagged head", () => {
    expect(planLaggedCall("eth_getBlockByNumber", ["0x51", false], lagged)).toEqual({
      kind: "answer",
      result: null,
    });
    expect(planLaggedCall("eth_getBlockByNumber", ["0x50", false], lagged)).toEqual({
      kind: "forward",
      params: ["0x50", false],
    });
  });

  it("pins latest and pending state reads to the lagged head, with the block param at its position", () => {
    expect(planLaggedCall("eth_getBalance", [address, "latest"], lagged)).toEqual({
      kind: "forward",
      params: [address, "0x50"],
    });
    expect(planLaggedCall("eth_getTransactionCount", [address, "pending"], lagged)).toEqual({
      kind: "forward",
      params: [address, "0x50"],
    });
    expect(planLaggedCall("eth_getStorageAt", [address, "0x0", "latest"], lagged)).toEqual({
      kind: "forward",
      params: [address, "0x0", "0x50"],
    });
    expect(planLaggedCall("eth_call", [{ to: address }, { blockNumber: "latest" }], lagged)).toEqual({
      kind: "forward",
      params: [{ to: address }, { blockNumber: "0x50" }],
    });
  });

  it("adds the lagged head when the block param is omitted (it defaults to latest)", () => {
    expect(planLaggedCall("eth_estimateGas", [{ to: address }], lagged)).toEqual({
      kind: "forward",
      params: [{ to: address }, "0x50"],
    });
    // Malformed params are left for the execution client to reject.
    expect(planLaggedCall("eth_getStorageAt", [address], lagged)).toEqual({
      kind: "forward",
      params: [address],
    });
  });

  it("fails a state read past the lagged head as geth does", () => {
    expect(planLaggedCall("eth_getBalance", [address, "0x60"], lagged)).toEqual({
      kind: "error",
      error: headerNotFound,
    });
  });

  it("leaves block-hash reads and unrelated methods alone", () => {
    expect(planLaggedCall("eth_getBalance", [address, { blockHash: hash }], lagged)).toEqual({
      kind: "forward",
      params: [address, { blockHash: hash }],
    });
    expect(planLaggedCall("eth_chainId", [], lagged)).toEqual({ kind: "forward", params: [] });
    expect(rewriteBlockParam(42, lagged)).toEqual({ kind: "param", value: 42 });
  });

  it("caps eth_getLogs ranges at the lagged head and drops newer logs", () => {
    expect(planLaggedCall("eth_getLogs", [{ fromBlock: "0x10", toBlock: "latest" }], lagged)).toEqual({
      kind: "forward",
      params: [{ fromBlock: "0x10", toBlock: "0x50" }],
    });
    expect(planLaggedCall("eth_getLogs", [{ fromBlock: "0x60" }], lagged)).toEqual({
      kind: "answer",
      result: [],
    });
    const logs = [{ blockNumber: "0x4f" }, { blockNumber: "0x50" }, { blockNumber: "0x51" }];
    expect(lagResult("eth_getLogs", logs, lagged)).toEqual(logs.slice(0, 2));
  });

  it("hides blocks, transactions and receipts newer than the lagged head", () => {
    expect(lagResult("eth_getBlockByHash", { number: "0x51", hash }, lagged)).toBeNull();
    expect(lagResult("eth_getBlockByHash", { number: "0x50", hash }, lagged)).toEqual({
      number: "0x50",
      hash,
    });
    expect(lagResult("eth_getTransactionReceipt", { blockNumber: "0x60" }, lagged)).toBeNull();
    expect(lagResult("eth_getTransactionByHash", { blockNumber: "0x20" }, lagged)).toEqual({
      blockNumber: "0x20",
    });
    // A pending transaction has no block yet; a lagging node may know it too.
    expect(lagResult("eth_getTransactionByHash", { blockNumber: null }, lagged)).toEqual({
      blockNumber: null,
    });
    expect(lagResult("eth_getTransactionReceipt", null, lagged)).toBeNull();
  });
});

describe("lie", () => {
  it("alters a hash deterministically and leaves non-hashes alone", () => {
    const altered = alterHash(hash);
    expect(altered).not.toBe(hash);
    expect(altered).toMatch(/^0x[0-9a-f]{64}$/);
    expect(alterHash(hash)).toBe(altered);
    expect(alterHash("0x1234")).toBe("0x1234");
    expect(alterHash(null)).toBeNull();
  });

  it("alters block and parent hashes of blocks", () => {
    const block = { number: "0x5", hash, parentHash: hash, miner: address };
    for (const method of ["eth_getBlockByNumber", "eth_getBlockByHash"]) {
      const lie = lieResult(method, block) as typeof block;
      expect(lie.hash).not.toBe(hash);
      expect(lie.parentHash).not.toBe(hash);
      expect(lie.number).toBe("0x5");
      expect(lie.miner).toBe(address);
    }
    expect(lieResult("eth_getBlockByNumber", null)).toBeNull();
  });

  it("adds one ether to balances and keeps the head honest", () => {
    expect(lieResult("eth_getBalance", "0x0")).toBe(toQuantity(10n ** 18n));
    expect(fromQuantity(lieResult("eth_getBalance", "0x5"))).toBe(10n ** 18n + 5n);
    expect(lieResult("eth_blockNumber", "0x10")).toBe("0x10");
  });
  it("corrupt keeps blocks honest and lies about balances only", () => {
    const block = { number: "0x5", hash, parentHash: hash, miner: address };
    expect(lieResult("eth_getBlockByNumber", block, "corrupt")).toEqual(block);
    expect(fromQuantity(lieResult("eth_getBalance", "0x5", "corrupt"))).toBe(10n ** 18n + 5n);
  });
});
