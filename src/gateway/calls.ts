/**
 * Routing one call with the network's defaults (`routeOnce`), the constraints a read
 * routes under, and the signed read. Every method handler that sends a call to the operators goes
 * through here; it imports none of them.
 */
import type { HeadView } from "../rpc/blockTag.js";
import { UpstreamUnavailableError } from "../rpc/errors.js";
import type { MethodClass } from "../rpc/methods.js";
import type { PinnedParams } from "./consistency.js";
import type { Answer, RequestContext, RouteConstraints } from "./context.js";
import type { SignedRelay } from "./evidence.js";
import { capCallGas, isCallMethod } from "./gasCap.js";
import type { Network } from "./network.js";
import { type RouteResult, route } from "./route.js";

/**
 * A read about block N goes first to upstreams whose head has reached N (within the read lag allowance);
 * a head-dependent read without a block (gas price) to upstreams near the head; by-hash reads anywhere.
 */
export function readConstraints(
  method: string,
  methodClass: MethodClass,
  pinned: PinnedParams,
  head: HeadView,
  network: Network,
): RouteConstraints {
  const allowance = network.routing.readMaxLagBlocks;
  let maxLagBlocks: number | undefined;
  if (pinned.blockNumber !== undefined) {
    const behind = head.latest - pinned.blockNumber;
    maxLagBlocks = behind > 1_000_000n ? undefined : Math.max(0, Number(behind)) + allowance;
  } else if (methodClass === "read" || methodClass === "nonce") {
    maxLagBlocks = allowance;
  }
  return {
    maxLagBlocks,
    nullIsMissing: methodClass === "historical",
    hedge: true,
    costly: methodClass === "logs" || isCallMethod(method),
  };
}

/** Call-like params with their gas lowered to the network's cap. */
export function cappedParams(
  method: string,
  params: readonly unknown[],
  network: Network,
): readonly unknown[] {
  if (!isCallMethod(method)) return params;
  const { cap, blockGasLimit } = network.callGasCap();
  return capCallGas(method, params, cap, blockGasLimit !== undefined);
}

/**
 * Routes one call with the network's defaults; remembers the session's primary and who answered. The
 * result is the client's answer as it is (it has `result` or `error`), and says which upstream gave it.
 */
export async function routeOnce(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints = {},
): Promise<RouteResult> {
  const { network } = context;
  const ranked = network.rank({
    maxLagBlocks: constraints.maxLagBlocks,
    sticky: context.session?.primary,
    eligible: constraints.eligible,
  });
  const result: RouteResult = await route(network, {
    method,
    params,
    ranked,
    deadline: context.deadline,
    attemptTimeoutMs: constraints.timeoutMs ?? network.routing.attemptTimeoutMs,
    maxAttempts: network.routing.maxAttempts,
    hedge: (constraints.hedge ?? false) && network.routing.hedge,
    nullIsMissing: constraints.nullIsMissing ?? false,
    costly: constraints.costly ?? false,
    sign: constraints.sign ?? false,
  });
  if (context.session) context.session.primary = result.upstream;
  context.answeredBy = result.upstream;
  return result;
}

/** A read answered by one operator that signed it; the checked relay is left on `context.signedRelay`. */
export async function signedRead(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints,
): Promise<Answer> {
  const { network } = context;
  if (!network.upstreams.some((upstream) => upstream.operator !== undefined)) {
    throw new UpstreamUnavailableError("no operator of this network signs relays (none is from the ledger)");
  }
  const result = await routeOnce(method, params, context, {
    ...constraints,
    // A hedge's loser would be cancelled after signing; one operator at a time keeps the relay its answer's.
    hedge: false,
    eligible: (upstream) => network.upstream(upstream.id)?.operator !== undefined,
    sign: true,
  });
  context.signedRelay = result.relay as SignedRelay | undefined;
  return result;
}
