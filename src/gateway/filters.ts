/**
 * Filters (eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter) live on the upstream that
 * created them. The gateway hands out its own filter id, remembers where the filter lives and who made
 * it, and sends every later call about it to that upstream only; another client's id is "not found". If
 * that upstream is gone, the client gets geth's "filter not found", on which viem and ethers create a
 * new filter. A log filter's range is held to the same caps as eth_getLogs: checked when it is created,
 * and eth_getFilterLogs is served as a capped, split eth_getLogs with the filter's criteria.
 */
import { randomBytes } from "node:crypto";
import { RpcErrorCode } from "../rpc/errors.js";
import { routeOnce } from "./calls.js";
import { resolveLogRange } from "./consistency.js";
import { type Answer, type RequestContext, sessionHead } from "./context.js";
import { getLogs } from "./logs.js";

const filterNotFound = (why: string): Answer => ({
  error: { code: -32000, message: `filter not found${why}` },
});

export async function handleFilterRequest(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
): Promise<Answer> {
  const { network, client } = context;
  if (method.startsWith("eth_new")) {
    const criteria = method === "eth_newFilter" ? (params[0] as Record<string, unknown>) : undefined;
    if (criteria && criteria.blockHash === undefined) {
      resolveLogRange(criteria, sessionHead(context), network.config.logsMaxTotalRange);
    }
    const routed = await routeOnce(method, params, context, {
      maxLagBlocks: network.routing.readMaxLagBlocks,
    });
    if (routed.kind === "error") return { error: routed.error };
    if (typeof routed.result !== "string") {
      return {
        error: { code: RpcErrorCode.InternalError, message: "operator returned an invalid filter id" },
      };
    }
    const id = `0x${randomBytes(16).toString("hex")}`;
    network.filters.set(client, id, {
      upstreamId: routed.upstream,
      upstreamFilterId: routed.result,
      criteria,
    });
    return { result: id };
  }
  const id = String(params[0]).toLowerCase();
  const route = network.filters.get(client, id);
  if (!route) return method === "eth_uninstallFilter" ? { result: false } : filterNotFound("");
  if (method === "eth_getFilterLogs" && route.criteria) return getLogs(route.criteria, context);
  if (method === "eth_uninstallFilter") network.filters.delete(client, id);
  const upstream = network.upstream(route.upstreamId);
  const outcome = await upstream?.call(method, [route.upstreamFilterId], {
    timeoutMs: Math.max(1, Math.min(network.routing.attemptTimeoutMs, context.deadline - Date.now())),
  });
  if (!outcome || outcome.kind === "cancelled") return filterNotFound("");
  if (outcome.kind === "result") return { result: outcome.result };
  if (outcome.kind === "error") return { error: outcome.error };
  // The filter's operator cannot answer: the filter is lost with it.
  network.filters.delete(client, id);
  return filterNotFound(": its operator is unavailable; create a new filter");
}
