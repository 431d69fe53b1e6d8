import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromQuantity, isFinalized, parseBlockRef, resolveBlockNumber, toQuantity } from "./blockTag.js";

const head = { latest: 100n, safe: 90n, finalized: 80n };

describe("block tags", () => {
  it("resolves tags against the tracked head", () => {
    expect(resolveBlockNumber(parseBlockRef("latest")!, head)).toBe(100n);
    expect(resolveBlockNumber(parseBlockRef("safe")!, head)).toBe(90n);
    expect(resolveBlockNumber(parseBlockRef("finalized")!, head)).toBe(80n);
    expect(resolveBlockNumber(parseBlockRef("earliest")!, head)).toBe(0n);
    expect(resolveBlockNumber(parseBlockRef("pending")!, head)).toBeUndefined();
    expect(resolveBlockNumber(parseBlockRef("0x2a")!, head)).toBe(42n);
  });

  it("reads EIP-1898 block objects", () => {
    const hash = `0x${"cd".repeat(32)}`;
    expect(parseBlockRef({ blockHash: hash, requireCanonical: true })).toEqual({
      kind: "hash",
      hash,
      requireCanonical: true,
    });
    expect(parseBlockRef({ blockNumber: "0x10" })).toEqual({ kind: "number", number: 16n });
  });

  it("rejects what is not a block reference", () => {
    for (const bad of ["0x", "0x0012", "12", "LATEST", 12, null, {}, { blockHash: "0x12" }]) {
      expect(parseBlockRef(bad)).toBeUndefined();
    }
  });

  it("knows which blocks are final", () => {
    expect(isFinalized(80n, head)).toBe(true);
    expect(isFinalized(81n, head)).toBe(false);
    expect(isFinalized(1n, { latest: 5n })).toBe(false);
  });

  it("round-trips quantities (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (n) => fromQuantity(toQuantity(n)) === n),
    );
  });
});
