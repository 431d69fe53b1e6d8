/**
 * How each class of method is answered (rpc/methods.ts classifies them): one handler per class, in a
 * table the pipeline dispatches through. A handler gets the request, its positional params and the
 * request's context (the network and everything it routes through); it imports nothing back from the
 * pipeline.
 */
import { keccak256 } from "viem";
import { toQuantity } from "../rpc/blockTag.js";
import { MethodNotSupportedError } from "../rpc/errors.js";
import { type JsonRpcRequest, positionalParams } from "../rpc/jsonrpc.js";
import { type MethodClass, subscriptionOverHttpError, validateRequest } from "../rpc/methods.js";
import { broadcastTransaction } from "./broadcast.js";
import { cappedParams, routeOnce } from "./calls.js";
import { type Answer, observeHead, type RequestContext } from "./context.js";
import { handleFilterRequest } from "./filters.js";
import { getLogs } from "./logs.js";
import { highestNonce } from "./nonce.js";
import { readCall } from "./read.js";

export type Handler = (
  request: JsonRpcRequest,
  params: readonly unknown[],
  context: RequestContext,
) => Promise<Answer>;

export const handlers: Readonly<Record<MethodClass, Handler>> = {
  local: async (request, params, context) => ({ result: answerLocally(request.method, params, context) }),
  head: async (_request, _params, context) => ({ result: toQuantity(observeHead(context)) }),
  subscription: async (request, _params, context) => {
    if (context.transport === "http") throw subscriptionOverHttpError(request.method);
    throw new MethodNotSupportedError(request.method, "subscriptions are served by the WebSocket endpoint");
  },
  heavy: (request, params, context) => heavyCall(request.method, params, context),
  stateful: (request, params, context) => handleFilterRequest(request.method, params, context),
  broadcast: (_request, params, context) => broadcastTransaction(params[0] as string, context),
  logs: (_request, params, context) => getLogs(params[0] as Record<string, unknown>, context),
  nonce: (request, params, context) =>
    params[1] === "pending"
      ? highestNonce(params, context)
      : readCall(request.method, params, context, "nonce"),
  read: (request, params, context) => readCall(request.method, params, context, "read"),
  historical: (request, params, context) => readCall(request.method, params, context, "historical"),
  // validateRequest refuses forbidden methods before dispatch; kept so the table covers every class
  forbidden: async (request) => {
    throw validateRequest(request)!;
  },
};

/** Dispatches a validated request to the handler of its method's class. */
export function dispatch(
  request: JsonRpcRequest,
  methodClass: MethodClass,
  context: RequestContext,
): Promise<Answer> {
  return handlers[methodClass](request, positionalParams(request), context);
}

function answerLocally(method: string, params: readonly unknown[], context: RequestContext): unknown {
  switch (method) {
    case "eth_chainId":
      return toQuantity(context.network.chainId);
    case "net_version":
      return String(context.network.chainId);
    case "net_listening":
      return true;
    case "eth_syncing":
      return false; // only synced operators are routed to
    case "eth_accounts":
      return []; // the gateway holds no keys
    case "web3_clientVersion":
      return context.clientVersion;
    case "web3_sha3":
      return keccak256(params[0] as `0x${string}`);
    default:
      throw new MethodNotSupportedError(method, "no local answer");
  }
}

/** A trace or debug call: only operators that declare the method, given the longer heavy timeout. */
async function heavyCall(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
): Promise<Answer> {
  const { network } = context;
  const declaring = new Set(
    network.upstreams.filter((upstream) => upstream.declares(method)).map((u) => u.id),
  );
  if (declaring.size === 0) {
    throw new MethodNotSupportedError(method, `no operator of ${network.name} serves it`);
  }
  const deadline = Math.max(context.deadline, Date.now() + network.routing.heavyTimeoutMs);
  return routeOnce(
    method,
    cappedParams(method, params, network),
    { ...context, deadline },
    {
      eligible: (upstream) => declaring.has(upstream.id),
      timeoutMs: network.routing.heavyTimeoutMs,
      hedge: false,
      costly: true,
    },
  );
}
