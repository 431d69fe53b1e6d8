/**
 * eth_getTransactionCount at `pending`: the highest value across several upstreams (dshackle's rule), so
 * a wallet never reuses a nonce that one operator's mempool has not seen yet.
 */
import { fromQuantity, toQuantity } from "../rpc/blockTag.js";
import { routeOnce } from "./calls.js";
import type { Answer, RequestContext } from "./context.js";
import { pickDiverse } from "./selection.js";

export async function highestNonce(params: readonly unknown[], context: RequestContext): Promise<Answer> {
  const { network } = context;
  const targets = pickDiverse(
    network.rank({ maxLagBlocks: network.routing.readMaxLagBlocks }).filter((u) => u.tier === 0),
    network.routing.nonceFanout,
  );
  const timeoutMs = Math.max(1, Math.min(network.routing.attemptTimeoutMs, context.deadline - Date.now()));
  const outcomes = await Promise.all(
    targets.map((target) =>
      network.upstream(target.id)!.call("eth_getTransactionCount", params, { timeoutMs }),
    ),
  );
  let highest: bigint | undefined;
  for (const outcome of outcomes) {
    const value = outcome.kind === "result" ? fromQuantity(outcome.result) : undefined;
    if (value !== undefined && (highest === undefined || value > highest)) highest = value;
  }
  if (highest !== undefined) return { result: toQuantity(highest) };
  // No usable answer from the fan-out: fall back to ordinary failover.
  return routeOnce("eth_getTransactionCount", params, context, {
    maxLagBlocks: network.routing.readMaxLagBlocks,
  });
}
