import { describe, expect, it } from "vitest";
import { type Log, matchesLogFilter, parseLogFilter } from "./logFilter.js";

const a = `0x${"a".repeat(40)}`;
const b = `0x${"b".repeat(40)}`;
const t1 = `0x${"1".repeat(64)}`;
const t2 = `0x${"2".repeat(64)}`;
const t3 = `0x${"3".repeat(64)}`;
const log = (address: string, topics: string[]): Log => ({
  address,
  topics,
  blockNumber: "0x1",
  blockHash: `0x${"f".repeat(64)}`,
  transactionHash: `0x${"e".repeat(64)}`,
  logIndex: "0x0",
});

describe("log filters", () => {
  it("matches everything without a filter", () => {
    expect(matchesLogFilter(log(a, [t1]), parseLogFilter(undefined))).toBe(true);
  });

  it("ORs addresses and compares them case-insensitively", () => {
    const filter = parseLogFilter({ address: [a.toUpperCase().replace("0X", "0x"), b] });
    expect(matchesLogFilter(log(a, []), filter)).toBe(true);
    expect(matchesLogFilter(log(`0x${"c".repeat(40)}`, []), filter)).toBe(false);
  });

  it("matches topics by position, null as a wildcard, arrays as alternatives", () => {
    const filter = parseLogFilter({ topics: [t1, null, [t2, t3]] });
    expect(matchesLogFilter(log(a, [t1, t1, t3]), filter)).toBe(true);
    expect(matchesLogFilter(log(a, [t1, t1, t1]), filter)).toBe(false);
    expect(matchesLogFilter(log(a, [t1]), filter)).toBe(false);
    expect(matchesLogFilter(log(a, [t2, t1, t2]), filter)).toBe(false);
  });

  it("refuses malformed filters with -32602", () => {
    for (const bad of [{ address: "0x12" }, { topics: ["nope"] }, { topics: [1, 2, 3, 4, 5] }, "filter"]) {
      expect(() => parseLogFilter(bad)).toThrow(/Invalid params/);
    }
  });
});
