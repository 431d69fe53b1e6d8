import { describe, expect, it } from "vitest";
import {
  CreditWeightError,
  creditTable,
  defaultClassCredits,
  maxMethodCredits,
  unknownMethodCredits,
} from "./credits.js";

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

  it("charges unknown and forbidden methods what a cheap read costs, never nothing", () => {
    expect(credits("eth_madeUp")).toBe(unknownMethodCredits);
    expect(credits("eth_sign")).toBe(1);
    expect(credits("debug_setHead")).toBe(1);
    expect(credits("admin_peers")).toBe(1);
    expect(unknownMethodCredits).toBe(1);
  });

  it("charges inherited object names like unknown methods, whatever the configuration says", () => {
    const custom = creditTable({ constructor: 500, toString: 0, "debug_*": 20 });
    for (const name of [...Object.getOwnPropertyNames(Object.prototype), "__proto__", "prototype"]) {
      expect(credits(name)).toBe(unknownMethodCredits);
      expect(custom(name)).toBe(unknownMethodCredits);
    }
    // A pattern prices only the allowlisted methods it matches, not every name under it.
    expect(custom("debug_setHead")).toBe(unknownMethodCredits);
  });

  it.each([[1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [-1], [maxMethodCredits + 1]])(
    "refuses a weight of %s",
    (weight) => {
      expect(() => creditTable({ eth_call: weight })).toThrow(CreditWeightError);
      expect(() => creditTable({ "trace_*": weight })).toThrow(/integer from 0/);
    },
  );

  it("refuses a weight that is not a number", () => {
    expect(() => creditTable({ eth_call: "5" as unknown as number })).toThrow(CreditWeightError);
  });

  it("gives every known method a non-negative integer weight", () => {
    const custom = creditTable({ eth_call: 0, "txpool_*": maxMethodCredits });
    for (const table of [credits, custom]) {
      for (const method of ["eth_call", "txpool_status", "eth_subscribe", "eth_sendTransaction"]) {
        expect(Number.isSafeInteger(table(method)) && table(method) >= 0).toBe(true);
      }
    }
    expect(custom("eth_call")).toBe(0);
    expect(custom("txpool_content")).toBe(maxMethodCredits);
  });
});
