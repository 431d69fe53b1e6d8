// Which calls an operator node forwards to its execution client: only what a public RPC serves. Every
// caller — an admitted gateway or watcher included — is refused node-administration and state-changing
// methods (`hardhat_*`, `evm_*`, `debug_setHead`, `admin_*`, …): a token proves who is calling, not that
// they may rewrite the chain the operator's signatures vouch for.
import { type DinError, InvalidRequestError, MethodForbiddenError } from "../rpc/errors.js";
import type { JsonRpcRequest } from "../rpc/jsonrpc.js";
import { methodSpec, subscriptionOverHttpError, validateRequest } from "../rpc/methods.js";

/**
 * The `debug_*`, `trace_*` and `txpool_*` methods that only read. The method table lets whole namespaces
 * through as "heavy"; here only these pass (debug_setHead, debug_setGCPercent, trace_… that write, and any
 * method added to a namespace later are refused until listed).
 */
const readOnlyHeavyMethods = new Set([
  "debug_traceTransaction",
  "debug_traceCall",
  "debug_traceBlock",
  "debug_traceBlockByNumber",
  "debug_traceBlockByHash",
  "debug_getRawBlock",
  "debug_getRawHeader",
  "debug_getRawReceipts",
  "debug_getRawTransaction",
  "debug_getBadBlocks",
  "debug_storageRangeAt",
  "debug_getModifiedAccountsByNumber",
  "debug_getModifiedAccountsByHash",
  "trace_block",
  "trace_transaction",
  "trace_get",
  "trace_filter",
  "trace_call",
  "trace_replayTransaction",
  "trace_replayBlockTransactions",
  "txpool_content",
  "txpool_contentFrom",
  "txpool_inspect",
  "txpool_status",
]);

/** Why the node will not forward `call`, or undefined when it may. */
export function refusalOf(call: unknown): DinError | undefined {
  if (typeof call !== "object" || call === null || Array.isArray(call)) {
    return new InvalidRequestError("expected a request object");
  }
  const { method } = call as { method?: unknown };
  if (typeof method !== "string") return new InvalidRequestError('"method" must be a string');
  const invalid = validateRequest(call as JsonRpcRequest);
  if (invalid) return invalid;
  const methodClass = methodSpec(method)?.class;
  if (methodClass === "heavy" && !readOnlyHeavyMethods.has(method)) {
    return new MethodForbiddenError(method, "an operator node serves only read-only debug and trace methods");
  }
  // The node speaks HTTP only; a subscription would be refused upstream anyway, with a less useful message.
  if (methodClass === "subscription") return subscriptionOverHttpError(method);
  return undefined;
}
