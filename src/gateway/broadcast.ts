/**
 * eth_sendRawTransaction: sent to several upstreams on different clouds at once; the first success is
 * the answer and the rest keep spreading the transaction. Idempotent: the same raw transaction in flight
 * is sent once, and "already known"/"nonce too low" answers for a transaction that is known by hash
 * count as success — a client retry or a hedge never turns a sent transaction into an error.
 */
import { keccak256 } from "viem";
import { UpstreamUnavailableError } from "../rpc/errors.js";
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";
import type { Answer, RequestContext } from "./context.js";
import { pickDiverse, pickNext } from "./selection.js";

const knownPattern = /already known|known transaction|already imported|already exists|nonce too low/i;

export async function broadcastTransaction(raw: string, context: RequestContext): Promise<Answer> {
  const { network } = context;
  const hash = keccak256(raw as `0x${string}`);
  const { promise } = network.inflight.run(`broadcast:${hash}`, () => broadcastOnce(raw, hash, context));
  return (await promise) as Answer;
}

async function broadcastOnce(raw: string, hash: string, context: RequestContext): Promise<Answer> {
  const { network } = context;
  const ranked = network.rank({ maxLagBlocks: network.routing.readMaxLagBlocks });
  const tried = pickDiverse(ranked, network.routing.broadcastFanout);
  if (tried.length === 0) throw new UpstreamUnavailableError("no operator available for broadcast");
  const errors: JsonRpcErrorBody[] = [];
  let sawKnown = false;

  return new Promise<Answer>((resolve) => {
    let answered = false;
    let pending = 0;
    const send = (upstreamId: string) => {
      const upstream = network.upstream(upstreamId);
      if (!upstream) return;
      pending++;
      upstream
        .call("eth_sendRawTransaction", [raw], {
          timeoutMs: Math.max(1, Math.min(network.routing.attemptTimeoutMs, context.deadline - Date.now())),
        })
        .then(async (outcome) => {
          network.metrics.upstreamRequests.inc({
            network: network.name,
            upstream: upstreamId,
            outcome: outcome.kind,
          });
          if (outcome.kind === "result") return settle({ result: outcome.result ?? hash });
          if ((outcome.kind === "error" || outcome.kind === "retry") && outcome.error) {
            if (knownPattern.test(outcome.error.message)) sawKnown = true;
            else errors.push(outcome.error);
          }
        })
        .finally(async () => {
          pending--;
          if (pending > 0 || answered) return;
          // Every upstream asked has answered and none accepted it: try more, or conclude.
          const next = pickNext(ranked, tried);
          if (next && tried.length < network.routing.maxAttempts && errors.length === 0 && !sawKnown) {
            tried.push(next);
            send(next.id);
            return;
          }
          if (sawKnown && (await isKnownByHash(hash, context))) return settle({ result: hash });
          if (errors[0]) return settle({ error: errors[0] });
          if (sawKnown) return settle({ result: hash });
          settle({
            error: new UpstreamUnavailableError(
              `no operator accepted the transaction (tried: ${tried.map((u) => u.id).join(", ")})`,
            ).toJsonRpc(),
          });
        });
    };
    const settle = (answer: Answer) => {
      if (answered) return;
      answered = true;
      resolve(answer);
    };
    for (const upstream of tried) send(upstream.id);
  });
}

/** "nonce too low" is success only if this very transaction is what used the nonce. */
async function isKnownByHash(hash: string, context: RequestContext): Promise<boolean> {
  const [upstream] = context.network.rank();
  if (!upstream) return false;
  const outcome = await context.network
    .upstream(upstream.id)
    ?.call("eth_getTransactionByHash", [hash], { timeoutMs: context.network.routing.attemptTimeoutMs });
  return outcome?.kind === "result" && outcome.result !== null;
}
