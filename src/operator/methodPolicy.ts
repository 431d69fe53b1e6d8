// Which calls an operator node forwards to its execution client: only what a public RPC serves. Every
// caller — an admitted gateway or watcher included — is refused node-administration and state-changing
// methods (`hardhat_*`, `evm_*`, `debug_setHead`, `admin_*`, …): a token proves who is calling, not that
// they may rewrite the chain the operator's signatures vouch for.
import { type DinError, InvalidRequestError, MethodForbiddenError } from "../rpc/errors.js";
import type { JsonRpcRequest } from "../rpc/jsonrpc.js";
import {
  isOperatorServable,
  methodSpec,
  subscriptionOverHttpError,
  validateRequest,
} from "../rpc/methods.js";

/** Why the node will not forward `call`, or undefined when it may. */
export function refusalOf(call: unknown): DinError | undefined {
  if (typeof call !== "object" || call === null || Array.isArray(call)) {
    return new InvalidRequestError("expected a request object");
  }
  const { method } = call as { method?: unknown };
  if (typeof method !== "string") return new InvalidRequestError('"method" must be a string');
  // Unknown methods (-32601) and forbidden ones (admin_, hardhat_, evm_, debug_ beyond the read-only
  // allowlist, …) first, then the params of the methods the table describes.
  const invalid = validateRequest(call as JsonRpcRequest);
  if (invalid) return invalid;
  if (!isOperatorServable(method)) {
    return new MethodForbiddenError(method, "an operator node serves only what a public RPC serves");
  }
  // The node speaks HTTP only; a subscription would be refused upstream anyway, with a less useful message.
  if (methodSpec(method)?.class === "subscription") return subscriptionOverHttpError(method);
  return undefined;
}
