/**
 * Credit weights: what one JSON-RPC request costs against a key's per-second and per-day limits.
 * Cheap reads cost 1; work that fans out, scans ranges or replays transactions costs more, in line with
 * how hosted RPC providers price the same methods (Infura's credit table) scaled down to 1 = a cheap read.
 * Pure data and pure functions.
 */
import { type MethodClass, methodSpec } from "../../rpc/methods.js";

/** Credits per method class, used when no method-specific weight applies. */
export const defaultClassCredits: Readonly<Record<MethodClass, number>> = {
  local: 1,
  head: 1,
  read: 1,
  historical: 1,
  nonce: 1,
  stateful: 1,
  logs: 10,
  broadcast: 10,
  subscription: 5,
  heavy: 50,
  forbidden: 0,
};

/**
 * Methods whose cost differs from their class. Keys may be exact names or `prefix_*` patterns; an exact
 * name wins over a pattern, a pattern over the class weight.
 */
export const defaultMethodCredits: Readonly<Record<string, number>> = {
  eth_call: 2,
  eth_estimateGas: 5,
  eth_createAccessList: 5,
  eth_getProof: 5,
  eth_feeHistory: 2,
  eth_getBlockReceipts: 5,
  eth_newFilter: 2,
  eth_getFilterLogs: 10,
  eth_unsubscribe: 1,
  "txpool_*": 10,
  "debug_*": 50,
  debug_traceTransaction: 100,
  debug_traceBlockByNumber: 200,
  debug_traceBlockByHash: 200,
  "trace_*": 50,
  trace_block: 100,
  trace_replayBlockTransactions: 200,
};

/** Credits of a request to a method this gateway does not know (it is refused, but it was sent). */
export const unknownMethodCredits = 1;

export type CreditTable = (method: string) => number;

/**
 * Builds the credit weight lookup from the defaults and the configuration's overrides (same key syntax
 * as `defaultMethodCredits`). Results are memoised per method name, bounded to the methods the gateway
 * knows so made-up names cannot grow the memo.
 */
export function creditTable(overrides: Readonly<Record<string, number>> = {}): CreditTable {
  const exact = new Map<string, number>();
  const prefixes: Array<[string, number]> = [];
  for (const [name, credits] of Object.entries({ ...defaultMethodCredits, ...overrides })) {
    if (name.endsWith("*")) prefixes.push([name.slice(0, -1), credits]);
    else exact.set(name, credits);
  }
  // Longest prefix first, so `debug_trace*` beats `debug_*`.
  prefixes.sort((a, b) => b[0].length - a[0].length);
  const memo = new Map<string, number>();
  return (method) => {
    const memoised = memo.get(method);
    if (memoised !== undefined) return memoised;
    const spec = methodSpec(method);
    let credits = exact.get(method);
    if (credits === undefined) credits = prefixes.find(([prefix]) => method.startsWith(prefix))?.[1];
    if (credits === undefined) credits = spec ? defaultClassCredits[spec.class] : unknownMethodCredits;
    if (spec) memo.set(method, credits);
    return credits;
  };
}
