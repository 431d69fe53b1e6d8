/**
 * The request pipeline for one JSON-RPC request on one network, in order:
 * validate → cost budget (calls, logs, traces) → the handler of the method's class (handlers.ts: local,
 * head, heavy, stateful, broadcast, nonce, logs, reads). Reads are pinned to the session's head and go
 * through the read stages (read.ts: quorum, signed, cache, inflight, route).
 * Returns the client's answer; never throws anything but a `DinError`.
 */
import type { JsonRpcRequest } from "../rpc/jsonrpc.js";
import { type MethodClass, methodSpec, validateRequest } from "../rpc/methods.js";
import type { Answer, RequestContext } from "./context.js";
import { isCallMethod } from "./gasCap.js";
import { dispatch } from "./handlers.js";

export function handleRequest(request: JsonRpcRequest, context: RequestContext): Promise<Answer> {
  const invalid = validateRequest(request);
  if (invalid) return Promise.reject(invalid);
  const spec = methodSpec(request.method)!;
  if (!isCostly(request.method, spec.class)) return dispatch(request, spec.class, context);
  return dispatchCostly(request, spec.class, context);
}

/** Expensive requests are paid for in operator time, per client (costBudget.ts). */
async function dispatchCostly(
  request: JsonRpcRequest,
  methodClass: MethodClass,
  context: RequestContext,
): Promise<Answer> {
  const end = await context.network.costBudget.begin(context.client, context.deadline);
  try {
    return await dispatch(request, methodClass, context);
  } finally {
    end();
  }
}

/** Requests whose cost the client chooses: calls (gas), log ranges, filters' logs, traces. */
function isCostly(method: string, methodClass: MethodClass): boolean {
  return (
    methodClass === "logs" ||
    methodClass === "heavy" ||
    isCallMethod(method) ||
    method === "eth_getFilterLogs"
  );
}
