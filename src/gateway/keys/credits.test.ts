import { describe, expect, it } from "vitest";
import { creditTable, defaultClassCredits, unknownMethodCredits } from "./credits.js";

describe("credit weights", () => {
  const credits = creditTable();

  it("charges cheap reads one credit", () => {
    for (const method of ["eth_chainId", "eth_blockNumber", "eth_getBalance", "eth_getBlockByNumber"]) {
      expect(credits(method)).toBe(1);
    }
  });

  it("charges range scans, broadcasts and traces many", () => {
    expect(credits("eth_getLogs")).toBe(defaultClassCredits.logs);
    expect(credits("eth_sendRawTransaction")).toBe(defaultClassCredits.broadcast);
    expect(credits("debug_traceTransaction")).toBe(100);
    expect(credits("debug_getRawBlock")).toBe(50);
    expect(credits("trace_block")).toBe(100);
    expect(credits("trace_filter")).toBe(50);
    expect(credits("eth_call")).toBeGreaterThan(credits("eth_getBalance"));
  });

  it("lets configuration override exact names and prefixes, exact names first", () => {
    const custom = creditTable({ eth_call: 7, "debug_*": 20, debug_traceCall: 300 });
    expect(custom("eth_call")).toBe(7);
    expect(custom("debug_getRawBlock")).toBe(20);
    expect(custom("debug_traceCall")).toBe(300);
    // a built-in exact weight beats a configured prefix only when the prefix is not more specific
    expect(custom("debug_traceTransaction")).toBe(100);
  });

  it("charges unknown methods a nominal credit and refused ones none", () => {
    expect(credits("eth_madeUp")).toBe(unknownMethodCredits);
    expect(credits("eth_sign")).toBe(0);
  });
});
