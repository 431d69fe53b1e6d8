// The cost caps an operator node applies in front of its own execution client, whatever the gateway in
// front of it does: a gateway may be misconfigured, compromised or not ours, and one unbounded eth_call or
// eth_getLogs costs the node minutes of CPU or gigabytes of memory.
//
// - Gas: calls the EVM executes get at most `gasCap` gas (and never more than a block holds). A call with no
//   gas or more gas is clamped to the cap, as geth's RPCGasCap does, so it still runs and ends with
//   "out of gas" instead of running on.
// - Log ranges: a filter spanning more than `maxLogRange` blocks is refused with -32005.
import { type BlockRef, parseBlockRef, toQuantity } from "../rpc/blockTag.js";
import { DinError, InvalidParamsError, LimitExceededError } from "../rpc/errors.js";
import type { UpstreamHeadInfo } from "./upstreamHead.js";

export interface CallLimits {
  /** Most gas a call may use. */
  gasCap: bigint;
  /** Most blocks a log filter may span. */
  maxLogRange: number;
}

/** Defaults of the operator node's limits. */
export const defaultCallLimits = {
  /** Geth's default RPCGasCap. */
  gasCap: 50_000_000n,
  maxLogRange: 10_000,
} as const satisfies CallLimits;

/** A call after its limits: forwarded (possibly rewritten) or refused. */
export type LimitedCall = { call: Record<string, unknown> } | { refusal: DinError };

/** Methods whose first param is a call object the EVM executes (and trace_callMany, a list of them). */
const gasCappedMethods = new Set([
  "eth_call",
  "eth_estimateGas",
  "eth_createAccessList",
  "debug_traceCall",
  "trace_call",
]);

/** Methods whose first param is a log filter (`fromBlock`/`toBlock` or `blockHash`). */
const rangedMethods = new Set(["eth_getLogs", "eth_newFilter", "trace_filter"]);

/**
 * Applies the limits to one call that the method policy let through. `head` is asked only when the call
 * needs it (a gas cap, or a range with a head-relative tag).
 */
export async function limitCall(
  call: Record<string, unknown>,
  limits: CallLimits,
  head: () => Promise<UpstreamHeadInfo>,
): Promise<LimitedCall> {
  const method = call.method as string;
  const params = Array.isArray(call.params) ? call.params : [];
  if (gasCappedMethods.has(method) || method === "trace_callMany") {
    const { gasLimit } = await head();
    // Bigints: Math.min does not take them.
    let cap = limits.gasCap;
    if (gasLimit < cap) cap = gasLimit;
    const first = params[0];
    const capped = capFirstParam(method, first, cap);
    if (capped instanceof DinError) return { refusal: capped };
    if (capped === first) return { call };
    return { call: { ...call, params: [capped, ...params.slice(1)] } };
  }
  if (rangedMethods.has(method)) {
    const refusal = await checkLogRange(method, params[0], limits.maxLogRange, head);
    return refusal ? { refusal } : { call };
  }
  return { call };
}

/**
 * A gas-capped method's first param with every call's gas clamped to `cap` (trace_callMany takes
 * `[[call, traceTypes], …]`); the same value when nothing needed it.
 */
function capFirstParam(method: string, first: unknown, cap: bigint): unknown {
  if (method !== "trace_callMany") return capGas(first, cap);
  if (!Array.isArray(first)) return first;
  let changed = false;
  const entries: unknown[] = [];
  for (const entry of first) {
    const capped = Array.isArray(entry) ? capGas(entry[0], cap) : entry;
    if (capped instanceof DinError) return capped;
    if (Array.isArray(entry) && capped !== entry[0]) {
      changed = true;
      entries.push([capped, ...entry.slice(1)]);
    } else entries.push(entry);
  }
  return changed ? entries : first;
}

/** The call object with its gas clamped to `cap`; the same object when it is already within. */
function capGas(value: unknown, cap: bigint): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const callObject = value as Record<string, unknown>;
  const gas = callObject.gas;
  if (gas !== undefined && gas !== null) {
    if (typeof gas !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(gas)) {
      return new InvalidParamsError('"gas" must be a hex quantity');
    }
    if (BigInt(gas) <= cap) return value;
  }
  return { ...callObject, gas: toQuantity(cap) };
}

/** The refusal of a filter spanning more than `max` blocks at the current head, if it does. */
async function checkLogRange(
  method: string,
  filter: unknown,
  max: number,
  head: () => Promise<UpstreamHeadInfo>,
): Promise<DinError | undefined> {
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
    return new InvalidParamsError(`param 0 of ${method} must be a filter object`);
  }
  const { fromBlock, toBlock, blockHash } = filter as Record<string, unknown>;
  // One block, whichever it is.
  if (blockHash !== undefined && fromBlock === undefined && toBlock === undefined) return undefined;
  const from = await filterBlock(fromBlock, head);
  const to = await filterBlock(toBlock, head);
  if (from === undefined || to === undefined) {
    return new InvalidParamsError(`${method}: "fromBlock" and "toBlock" must be block numbers or tags`);
  }
  // A reversed range matches nothing; the execution client says so.
  if (to < from) return undefined;
  const span = to - from + 1n;
  if (span <= BigInt(max)) return undefined;
  return new LimitExceededError(
    `${method} over ${span} blocks (${from} to ${to}) exceeds this operator's limit of ${max} blocks; query a smaller range`,
  );
}

/**
 * A filter bound as a block number. Tags other than `earliest` are the head: `safe` and `finalized` are
 * at most a few dozen blocks below it, and `pending` is where new logs would appear. Numbers are taken as
 * given, past the head too: an execution client may walk a range to its end.
 */
async function filterBlock(
  value: unknown,
  head: () => Promise<UpstreamHeadInfo>,
): Promise<bigint | undefined> {
  const ref: BlockRef | undefined =
    value === undefined || value === null ? { kind: "tag", tag: "latest" } : parseBlockRef(value);
  if (ref === undefined || ref.kind === "hash") return undefined;
  if (ref.kind === "number") return ref.number;
  if (ref.tag === "earliest") return 0n;
  return (await head()).number;
}
