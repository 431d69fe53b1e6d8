import { describe, expect, it } from "vitest";
import { cacheVerdict, pinBlockParam } from "./consistency.js";
import { splitRange } from "./logs.js";

const head = { latest: 100n, safe: 90n, finalized: 80n };
const address = "0x00000000000000000000000000000000000000aa";

describe("pinBlockParam", () => {
  it("replaces tags by the numbers they mean at the tracked head", () => {
    expect(pinBlockParam("eth_getBalance", [address, "latest"], head).params).toEqual([address, "0x64"]);
    expect(pinBlockParam("eth_getBalance", [address, "finalized"], head).params).toEqual([address, "0x50"]);
    expect(pinBlockParam("eth_getBlockByNumber", ["safe", false], head).params).toEqual(["0x5a", false]);
  });

  it("adds the block when the optional parameter is absent", () => {
    expect(pinBlockParam("eth_call", [{ to: address }], head)).toMatchObject({
      params: [{ to: address }, "0x64"],
      blockNumber: 100n,
    });
  });

  it("never pins or caches pending", () => {
    const pinned = pinBlockParam("eth_getBalance", [address, "pending"], head);
    expect(pinned.pinnable).toBe(false);
    expect(cacheVerdict(pinned, "0x1", head)).toEqual({ cache: false });
  });
});

describe("cacheVerdict", () => {
  it("caches by the block's finality, not the tag", () => {
    expect(cacheVerdict(pinBlockParam("eth_getBalance", [address, "0x10"], head), "0x1", head)).toEqual({
      cache: true,
      final: true,
      blockNumber: 16n,
    });
    expect(
      cacheVerdict(pinBlockParam("eth_getBalance", [address, "latest"], head), "0x1", head),
    ).toMatchObject({
      final: false,
    });
  });

  it("caches by-hash answers by the block they report, and never null", () => {
    const pinned = pinBlockParam("eth_getTransactionReceipt", [`0x${"1".repeat(64)}`], head);
    expect(cacheVerdict(pinned, { blockNumber: "0x4" }, head)).toMatchObject({ cache: true, final: true });
    expect(cacheVerdict(pinned, { blockNumber: "0x60" }, head)).toMatchObject({ cache: true, final: false });
    expect(cacheVerdict(pinned, null, head)).toEqual({ cache: false });
  });
});

describe("splitRange", () => {
  it("covers the range exactly, in order, in chunks of at most the size", () => {
    expect(splitRange(0n, 9n, 4n)).toEqual([
      [0n, 3n],
      [4n, 7n],
      [8n, 9n],
    ]);
    expect(splitRange(5n, 5n, 100n)).toEqual([[5n, 5n]]);
  });
});
