/**
 * The gas cap of call-like requests (geth's RPCGasCap): a client cannot make an operator run a call for
 * more gas than the cap, so the cost of any one eth_call is bounded before it leaves the gateway. Pure.
 */
import { isQuantity, toQuantity } from "../rpc/blockTag.js";

/** Methods whose first param is a call object executed by the node. */
const callMethods: ReadonlySet<string> = new Set([
  "eth_call",
  "eth_estimateGas",
  "eth_createAccessList",
  "debug_traceCall",
]);

export function isCallMethod(method: string): boolean {
  return callMethods.has(method);
}

/**
 * The params with the call's `gas` lowered to `cap`. An absent `gas` is set to the cap only when
 * `fillAbsent` (the node's own default may exceed the cap — Hardhat uses the block gas limit — but a cap
 * above the block gas limit would be refused, so it is filled only once that limit is known).
 */
export function capCallGas(
  method: string,
  params: readonly unknown[],
  cap: bigint,
  fillAbsent: boolean,
): readonly unknown[] {
  if (!callMethods.has(method)) return params;
  const call = params[0];
  if (typeof call !== "object" || call === null || Array.isArray(call)) return params;
  const gas = (call as Record<string, unknown>).gas;
  const asked = isQuantity(gas) ? BigInt(gas) : undefined;
  if (asked !== undefined && asked <= cap) return params;
  // A gas the gateway cannot read (a heavy method's params are not validated) is replaced, not trusted.
  if (asked === undefined && (gas === undefined || gas === null) && !fillAbsent) return params;
  const copy = [...params];
  copy[0] = { ...(call as Record<string, unknown>), gas: toQuantity(cap) };
  return copy;
}
