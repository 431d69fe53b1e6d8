/**
 * Sends one JSON-RPC call to the network: attempt → (hedge) → retry on another upstream, within a total
 * deadline and an attempt budget. Retries only for retryable failures, each on a different cloud/region
 * when one exists; deterministic answers are returned at once. A hedge starts a second read after the
 * first upstream's p90 latency; the loser is cancelled and its cancellation is not held against it.
 */
import { UpstreamUnavailableError } from "../rpc/errors.js";
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";
import type { Network } from "./network.js";
import { failoverLabel, retry } from "./outcome.js";
import { pickNext, type RankedUpstream } from "./selection.js";
import { attempt } from "./stages/attempt.js";
import { failover } from "./stages/failover.js";
import { hedge } from "./stages/hedge.js";
import { newRouteState, type RouteState } from "./stages/types.js";

export interface RouteOptions {
  method: string;
  params: readonly unknown[] | Record<string, unknown> | undefined;
  /** Upstreams in order of preference (from `network.rank`). */
  ranked: readonly RankedUpstream[];
  /** Absolute time (ms since epoch) after which no attempt is started and the request fails. */
  deadline: number;
  attemptTimeoutMs: number;
  maxAttempts: number;
  /** Whether a slow read may be hedged on a second upstream. */
  hedge: boolean;
  /** `null` may mean "not seen yet": try other upstreams before answering null. */
  nullIsMissing?: boolean;
  /**
   * The request's own cost may exceed an attempt's time: a timeout on an operator that answered others
   * meanwhile ends the request, and however the timeouts come, at most `maxCostlyTimeouts` are spent.
   */
  costly?: boolean;
  /** Ask each (ledger-sourced) operator to sign its answer; the checked relay comes back with the result. */
  sign?: boolean;
}

/** Timeouts a costly request may spend before it is refused, whoever was slow. */
export const maxCostlyTimeouts = 2;

export type RouteResult = (
  | { kind: "result"; result: unknown; upstream: string }
  /** A deterministic error: the client's answer, passed through. */
  | { kind: "error"; error: JsonRpcErrorBody; upstream: string }
) & {
  /** The operator's checked signed relay of this answer, when `sign` was asked. */
  relay?: unknown;
};

export function route(network: Network, options: RouteOptions): Promise<RouteResult> {
  const state = newRouteState(options.deadline, options.maxAttempts);
  const { name, metrics } = network;
  /** Each signing upstream's checked relay (an upstream is tried once per request). */
  const relays = options.sign ? new Map<string, unknown>() : undefined;
  const one = attempt({
    pick: (tried) => pickNext(options.ranked, tried),
    attemptTimeoutMs: options.attemptTimeoutMs,
    send: (upstream, timeoutMs, cancel) => {
      const target = network.upstream(upstream.id);
      if (!target) return undefined;
      const started = performance.now();
      const evidence: { relay?: unknown } | undefined = relays ? {} : undefined;
      return target
        .call(options.method, options.params, {
          timeoutMs,
          // Only a hedged call can have a loser to cancel; the others need no cancel handle.
          cancel: options.hedge ? cancel : undefined,
          nullIsMissing: options.nullIsMissing ?? false,
          costly: options.costly ?? false,
          ...(evidence ? { sign: true, evidence } : {}),
        })
        .then(
          (outcome) => {
            if (evidence?.relay !== undefined) relays?.set(upstream.id, evidence.relay);
            metrics.hot.attempt(name, upstream.id, outcome.kind).inc();
            if (outcome.kind === "result" || outcome.kind === "error") {
              metrics.hot.attemptLatency(name, upstream.id).observe((performance.now() - started) / 1000);
            }
            return outcome;
          },
          (error: unknown) => {
            // Upstream.call classifies every failure; reaching here is a bug, not an upstream's fault.
            network.logger.error({ err: error, upstream: upstream.id }, "attempt failed unexpectedly");
            return retry("transport", "internal error");
          },
        );
    },
    started: (upstream, current, launch) => {
      // The cloud share counts where requests go first (hedges and failovers follow the traffic there).
      if (current.tried.length === 1) network.cloudShare.record(upstream.cloud);
      else if (!launch.hedge) {
        metrics.failovers.inc({
          network: name,
          reason: current.lastCause === undefined ? "other" : failoverLabel[current.lastCause],
        });
      }
    },
  });
  const hedged = options.hedge
    ? hedge(one, {
        delayFor: (upstream, remainingMs) => {
          const target = network.upstream(upstream.id);
          if (!target) return undefined;
          const delay = target.hedgeDelayMs(network.routing.hedgeMinDelayMs, network.routing.hedgeMaxDelayMs);
          return delay < Math.min(options.attemptTimeoutMs, remainingMs) ? delay : undefined;
        },
        sent: () => metrics.hedges.inc({ network: name, result: "sent" }),
        won: () => metrics.hedges.inc({ network: name, result: "won" }),
      })
    : one;
  const call = failover(hedged, { costly: options.costly ?? false, maxCostlyTimeouts });
  return call(state, { hedge: false }).then((tried) => {
    const outcome = tried?.outcome;
    const relay = tried && relays?.get(tried.upstream.id);
    const signed = relay === undefined ? {} : { relay };
    if (outcome?.kind === "result")
      return { kind: "result", result: outcome.result, upstream: tried!.upstream.id, ...signed };
    if (outcome?.kind === "error")
      return { kind: "error", error: outcome.error, upstream: tried!.upstream.id, ...signed };
    return giveUp(state, options);
  });
}

/** No upstream answered: a `null` one gave, else the last upstream error, else why nobody could. */
function giveUp(state: RouteState, options: RouteOptions): RouteResult {
  if (state.sawNull !== undefined) return { kind: "result", result: null, upstream: state.sawNull };
  if (state.lastError) {
    // Every upstream failed, the last one with a JSON-RPC error: that error is the most useful answer.
    return { kind: "error", error: state.lastError, upstream: state.tried.at(-1)?.id ?? "" };
  }
  const reason =
    state.stopReason ?? (options.ranked.length === 0 ? "no upstream serves this request" : state.lastReason);
  const attempts = state.tried.map((upstream) => upstream.id).join(", ") || "none";
  throw new UpstreamUnavailableError(`${reason} (tried: ${attempts})`);
}
