import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { agreedHead, canonicalAt, canonicalByHeight, majorityOf } from "../../src/watcher/canonical.js";

const A = "0x000000000000000000000000000000000000000A";
const B = "0x000000000000000000000000000000000000000B";
const C = "0x000000000000000000000000000000000000000C";
const D = "0x000000000000000000000000000000000000000D";
const h = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

describe("canonical block hashes", () => {
  it("calls the hash most operators report canonical and names the one that contradicts it", () => {
    const verdict = canonicalAt(
      [
        { operator: A, blockNumber: 10n, blockHash: h(1) },
        { operator: B, blockNumber: 10n, blockHash: h(1) },
        { operator: C, blockNumber: 10n, blockHash: h(2) },
      ],
      10n,
    );
    expect(verdict).toEqual({ blockNumber: 10n, canonical: h(1), contradictors: [C], answered: 3 });
  });

  it("calls nothing canonical on a tie, or when a lone operator answered against silence", () => {
    const tie = canonicalAt(
      [
        { operator: A, blockNumber: 5n, blockHash: h(1) },
        { operator: B, blockNumber: 5n, blockHash: h(2) },
      ],
      5n,
    );
    expect(tie.canonical).toBeUndefined();
    expect(tie.contradictors).toEqual([]);
    const plurality = canonicalAt(
      [
        { operator: A, blockNumber: 5n, blockHash: h(1) },
        { operator: B, blockNumber: 5n, blockHash: h(1) },
        { operator: C, blockNumber: 5n, blockHash: h(2) },
        { operator: D, blockNumber: 5n, blockHash: h(3) },
      ],
      5n,
    );
    // 2 of 4 is not a strict majority.
    expect(plurality.canonical).toBeUndefined();
  });

  it("ignores answers about other heights and counts an operator once", () => {
    const verdict = canonicalAt(
      [
        { operator: A, blockNumber: 7n, blockHash: h(1) },
        { operator: A, blockNumber: 7n, blockHash: h(9) },
        { operator: B, blockNumber: 8n, blockHash: h(2) },
        { operator: C, blockNumber: 7n, blockHash: h(1) },
      ],
      7n,
    );
    expect(verdict).toMatchObject({ canonical: h(1), contradictors: [], answered: 2 });
  });

  it("compares hashes without regard to hex case", () => {
    const upper = `0x${"AB".repeat(32)}` as Hex;
    const lower = `0x${"ab".repeat(32)}` as Hex;
    const verdict = canonicalAt(
      [
        { operator: A, blockNumber: 1n, blockHash: upper },
        { operator: B, blockNumber: 1n, blockHash: lower },
      ],
      1n,
    );
    expect(verdict.canonical).toBe(lower);
    expect(verdict.contradictors).toEqual([]);
  });

  it("judges every height it was told about, lowest first", () => {
    const verdicts = canonicalByHeight([
      { operator: A, blockNumber: 9n, blockHash: h(1) },
      { operator: B, blockNumber: 3n, blockHash: h(2) },
    ]);
    expect(verdicts.map((v) => v.blockNumber)).toEqual([3n, 9n]);
  });

  it("agrees on the highest head a strict majority reached: one operator ahead cannot pull it up", () => {
    expect(agreedHead([100n, 100n, 250n])).toBe(100n);
    expect(agreedHead([98n, 100n, 101n])).toBe(100n);
    expect(agreedHead([90n, 100n])).toBe(90n);
    expect(agreedHead([42n])).toBe(42n);
    expect(agreedHead([])).toBeUndefined();
  });

  it("names the operators whose answer to a call differs from what a strict majority answered", () => {
    const verdict = majorityOf([
      { operator: A, value: "0x1" },
      { operator: B, value: "0x1" },
      { operator: C, value: "0x2" },
      { operator: A, value: "0x2" },
    ]);
    expect(verdict).toEqual({ value: "0x1", contradictors: [C], answered: 3 });
    expect(
      majorityOf([
        { operator: A, value: "0x1" },
        { operator: B, value: "0x2" },
      ]),
    ).toEqual({
      value: undefined,
      contradictors: [],
      answered: 2,
    });
    expect(majorityOf([])).toEqual({ value: undefined, contradictors: [], answered: 0 });
  });
});
