/**
 * Credit weights: what one JSON-RPC request costs against a key's per-second and per-day limits.
 * Cheap reads cost 1; work that fans out, scans ranges or replays transactions costs more, in line with
 * how hosted RPC providers price the same methods (Infura's credit table) scaled down to 1 = a cheap read.
 * Pure data and pure functions.
 */
import { type MethodClass, methodTable } from "../../rpc/methods.js";

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
  // Refused without reaching an operator, but answering still costs the gateway: never free, or batches
  // of refused methods would go around the per-second limit.
  forbidden: 1,
};

/**
 * Methods whose cost differs from their class. Keys may be exact names or `prefix_*` patterns; an exact
 * name wins over a pattern, a pattern over the class weight. Patterns only ever price known methods.
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

/**
 * Credits of a request this gateway refuses before any work: a method it does not know (a made-up name in
 * a forbidden namespace too), a request that is not valid JSON-RPC, one a key's method or contract
 * allowlist refuses in a batch. What a cheap read costs.
 */
export const unknownMethodCredits = 1;

/** Most credits one method may cost, so a batch's sum stays an exact integer. */
export const maxMethodCredits = 1_000_000;

/** Always a non-negative integer of at most `maxMethodCredits`, for any string. */
export type CreditTable = (method: string) => number;

/** A credit weight that is not an integer between 0 and `maxMethodCredits`. */
export class CreditWeightError extends Error {
  override name = "CreditWeightError";
}

/**
 * Builds the credit weight lookup from the defaults and the configuration's overrides (same key syntax
 * as `defaultMethodCredits`). Weights are computed once for every method the gateway knows; any other
 * name costs `unknownMethodCredits`, whatever an override says, so a made-up or inherited name
 * (`constructor`, `__proto__`) can neither be free nor cost `undefined`.
 */
export function creditTable(overrides: Readonly<Record<string, number>> = {}): CreditTable {
  const exact = new Map<string, number>();
  const prefixes: Array<[string, number]> = [];
  for (const [name, credits] of [...Object.entries(defaultMethodCredits), ...Object.entries(overrides)]) {
    if (!Number.isSafeInteger(credits) || credits < 0 || credits > maxMethodCredits) {
      throw new CreditWeightError(
        `credits of ${name.slice(0, 100)} must be an integer from 0 to ${maxMethodCredits}, not ${String(credits)}`,
      );
    }
    if (name.endsWith("*")) prefixes.push([name.slice(0, -1), credits]);
    else exact.set(name, credits);
  }
  // Longest prefix first, so `debug_trace*` beats `debug_*`; a later equal prefix (an override) wins.
  prefixes.reverse().sort((a, b) => b[0].length - a[0].length);
  const weights = new Map<string, number>();
  for (const [method, spec] of methodTable) {
    const credits =
      exact.get(method) ??
      prefixes.find(([prefix]) => method.startsWith(prefix))?.[1] ??
      defaultClassCredits[spec.class];
    weights.set(method, credits);
  }
  return (method) => weights.get(method) ?? unknownMethodCredits;
}
