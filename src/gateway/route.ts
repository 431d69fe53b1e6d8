/**
 * Sends one JSON-RPC call to the network: attempt → (hedge) → retry on another upstream, within a total
 * deadline and an attempt budget. Retries only for retryable failures, each on a different cloud/region
 * when one exists; deterministic answers are returned at once. A hedge starts a second read after the
 * first upstream's p90 latency; the loser is cancelled and its cancellation is not held against it.
 */
import { UpstreamUnavailableError } from "../rpc/errors.js";
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";
import type { Network } from "./network.js";
import type { AttemptOutcome } from "./outcome.js";
import { failoverLabel, retry } from "./outcome.js";
import { pickNext, type RankedUpstream } from "./selection.js";
import { attempt } from "./stages/attempt.js";
import { failover } from "./stages/failover.js";
import { hedge } from "./stages/hedge.js";
import { newRouteState, type RouteState, type Stage } from "./stages/types.js";
import type { CancelHandle, Upstream } from "./upstream.js";

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

/** What the shared stages read of the call they run (RouteState.call). */
interface Call {
  network: Network;
  options: RouteOptions;
  /** Each signing upstream's checked relay (an upstream is tried once per request). */
  relays: Map<string, unknown> | undefined;
}

const noHedge = Object.freeze({ hedge: false });

export async function route(network: Network, options: RouteOptions): Promise<RouteResult> {
  const call: Call = { network, options, relays: options.sign ? new Map() : undefined };
  const state = newRouteState(options.deadline, options.maxAttempts, call);
  const tried = await stagesOf(network, options.hedge, options.costly ?? false)(state, noHedge);
  const outcome = tried?.outcome;
  if (outcome?.kind !== "result" && outcome?.kind !== "error") return giveUp(state, options);
  const upstream = tried!.upstream.id;
  const answer: RouteResult =
    outcome.kind === "result"
      ? { kind: "result", result: outcome.result, upstream }
      : { kind: "error", error: outcome.error, upstream };
  const relay = call.relays?.get(upstream);
  if (relay !== undefined) answer.relay = relay;
  return answer;
}

/**
 * The request path of a network, `failover(hedge(attempt))`, composed once for each of its four shapes
 * (hedged or not, costly or not) and shared by every call: what a call is about travels in its state.
 */
const composed = new WeakMap<Network, Stage<Call>[]>();

function stagesOf(network: Network, hedged: boolean, costly: boolean): Stage<Call> {
  let stages = composed.get(network);
  if (!stages) {
    stages = [];
    composed.set(network, stages);
  }
  const index = (hedged ? 2 : 0) + (costly ? 1 : 0);
  let stage = stages[index];
  if (!stage) {
    stage = compose(network, hedged, costly);
    stages[index] = stage;
  }
  return stage;
}

function compose(network: Network, hedged: boolean, costly: boolean): Stage<Call> {
  const { name, metrics } = network;
  const one = attempt<Call>({
    pick: (tried, state) => pickNext(state.call.options.ranked, tried),
    attemptTimeoutMs: (state) => state.call.options.attemptTimeoutMs,
    send: (upstream, timeoutMs, cancel, state) => {
      const target = network.upstream(upstream.id);
      if (!target) return undefined;
      return sendAttempt(state.call, target, upstream.id, timeoutMs, cancel);
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
  const inner = hedged
    ? hedge(one, {
        // With one upstream ranked there is none to hedge on: no race, no timer.
        worthHedging: (state) => state.call.options.ranked.length > 1,
        delayFor: (upstream, remainingMs, state) => {
          const target = network.upstream(upstream.id);
          if (!target) return undefined;
          const delay = target.hedgeDelayMs(network.routing.hedgeMinDelayMs, network.routing.hedgeMaxDelayMs);
          const limit = state.call.options.attemptTimeoutMs;
          return delay < Math.min(limit, remainingMs) ? delay : undefined;
        },
        sent: () => metrics.hedges.inc({ network: name, result: "sent" }),
        won: () => metrics.hedges.inc({ network: name, result: "won" }),
      })
    : one;
  return failover(inner, { costly, maxCostlyTimeouts });
}

/** One attempt on `target`, counted in the metrics; never rejects (a failure is an outcome). */
async function sendAttempt(
  call: Call,
  target: Upstream,
  id: string,
  timeoutMs: number,
  cancel: CancelHandle | undefined,
): Promise<AttemptOutcome | { kind: "cancelled" }> {
  const { network, options, relays } = call;
  const started = performance.now();
  const evidence: { relay?: unknown } | undefined = relays ? {} : undefined;
  try {
    const outcome = await target.call(options.method, options.params, {
      timeoutMs,
      // Only a hedged call can have a loser to cancel; the others need no cancel handle.
      cancel: options.hedge ? cancel : undefined,
      nullIsMissing: options.nullIsMissing ?? false,
      costly: options.costly ?? false,
      sign: evidence !== undefined,
      evidence,
    });
    if (evidence?.relay !== undefined) relays?.set(id, evidence.relay);
    network.metrics.hot.attempt(network.name, id, outcome.kind).inc();
    if (outcome.kind === "result" || outcome.kind === "error") {
      network.metrics.hot.attemptLatency(network.name, id).observe((performance.now() - started) / 1000);
    }
    return outcome;
  } catch (error) {
    // Upstream.call classifies every failure; reaching here is a bug, not an upstream's fault.
    network.logger.error({ err: error, upstream: id }, "attempt failed unexpectedly");
    return retry("transport", "internal error");
  }
}

/** No upstream answered: a `null` one gave, else the last upstream error, else why nobody could. */
function giveUp(state: RouteState<Call>, options: RouteOptions): RouteResult {
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
