/**
 * Sends one JSON-RPC call to the network: attempt → (hedge) → retry on another upstream, within a total
 * deadline and an attempt budget. Retries only for retryable failures, each on a different cloud/region
 * when one exists; deterministic answers are returned at once. A hedge starts a second read after the
 * first upstream's p90 latency; the loser is cancelled and its cancellation is not held against it.
 */
import { type DinError, UpstreamUnavailableError } from "../rpc/errors.js";
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";
import type { Network } from "./network.js";
import { type AttemptOutcome, failoverLabel, type RetryCause } from "./outcome.js";
import { pickNext, type RankedUpstream } from "./selection.js";
import { type CancelHandle, cancelAttempt } from "./upstream.js";

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
  return new Promise<RouteResult>((resolve, reject) => {
    const tried: RankedUpstream[] = [];
    const cancels = new Set<CancelHandle>();
    let settled = false;
    let lastError: JsonRpcErrorBody | undefined;
    let lastReason = "no upstream available";
    /** Why the previous attempt was given up: the label of the failover that follows it. */
    let lastCause: RetryCause | undefined;
    let sawNull: string | undefined;
    let hedgeTimer: NodeJS.Timeout | undefined;
    let inFlight = 0;
    let timeouts = 0;

    const finish = (result: RouteResult) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(result);
    };

    function fail(reason: string) {
      if (settled) return;
      settled = true;
      cleanup();
      if (sawNull !== undefined) {
        resolve({ kind: "result", result: null, upstream: sawNull });
        return;
      }
      if (lastError) {
        // Every upstream failed, the last one with a JSON-RPC error: that error is the most useful answer.
        resolve({ kind: "error", error: lastError, upstream: tried.at(-1)?.id ?? "" });
        return;
      }
      const attempts = tried.map((upstream) => upstream.id).join(", ") || "none";
      const error: DinError = new UpstreamUnavailableError(`${reason} (tried: ${attempts})`);
      reject(error);
    }

    function cleanup() {
      clearTimeout(hedgeTimer);
      for (const handle of cancels) cancelAttempt(handle);
      cancels.clear();
    }

    function launch(isHedge: boolean): boolean {
      if (settled || tried.length >= options.maxAttempts) return false;
      // Every attempt's timeout ends by the deadline, so the deadline needs no timer of its own.
      const remaining = options.deadline - Date.now();
      if (remaining <= 0) {
        lastReason = "request deadline exceeded";
        return false;
      }
      const upstream = pickNext(options.ranked, tried);
      if (!upstream) return false;
      const target = network.upstream(upstream.id);
      if (!target) return false;
      tried.push(upstream);
      // The cloud share counts where requests go first (hedges and failovers follow the traffic there).
      if (tried.length === 1) network.cloudShare.record(upstream.cloud);
      if (isHedge) network.metrics.hedges.inc({ network: network.name, result: "sent" });
      else if (tried.length > 1)
        network.metrics.failovers.inc({
          network: network.name,
          reason: lastCause === undefined ? "other" : failoverLabel[lastCause],
        });
      // Only a hedged request can have a loser to cancel; the others need no cancel handle.
      const cancel: CancelHandle | undefined = options.hedge ? { cancelled: false } : undefined;
      if (cancel) cancels.add(cancel);
      inFlight++;
      const started = performance.now();
      const evidence: { relay?: unknown } | undefined = options.sign ? {} : undefined;
      target
        .call(options.method, options.params, {
          timeoutMs: Math.min(options.attemptTimeoutMs, remaining),
          cancel,
          nullIsMissing: options.nullIsMissing ?? false,
          costly: options.costly ?? false,
          ...(evidence ? { sign: true, evidence } : {}),
        })
        .then(
          (outcome) => {
            inFlight--;
            if (cancel) cancels.delete(cancel);
            observe(upstream.id, outcome, performance.now() - started);
            if (settled || outcome.kind === "cancelled") return;
            if (isHedge && outcome.kind !== "retry")
              network.metrics.hedges.inc({ network: network.name, result: "won" });
            onOutcome(upstream, outcome, evidence?.relay);
          },
          (error: unknown) => {
            // Upstream.call classifies every failure; reaching here is a bug, not an upstream's fault.
            inFlight--;
            if (cancel) cancels.delete(cancel);
            network.logger.error({ err: error, upstream: upstream.id }, "attempt failed unexpectedly");
            if (!settled && inFlight === 0 && !launch(false)) fail("internal error");
          },
        );
      if (!isHedge && options.hedge && !hedgeTimer) {
        const delay = target.hedgeDelayMs(network.routing.hedgeMinDelayMs, network.routing.hedgeMaxDelayMs);
        if (delay < Math.min(options.attemptTimeoutMs, remaining)) {
          hedgeTimer = setTimeout(() => {
            if (!settled && inFlight === 1) launch(true);
          }, delay);
        }
      }
      return true;
    }

    function onOutcome(upstream: RankedUpstream, outcome: AttemptOutcome, relay: unknown) {
      const signed = relay === undefined ? {} : { relay };
      switch (outcome.kind) {
        case "result":
          finish({ kind: "result", result: outcome.result, upstream: upstream.id, ...signed });
          return;
        case "error":
          finish({ kind: "error", error: outcome.error, upstream: upstream.id, ...signed });
          return;
        case "retry":
          lastReason = outcome.reason;
          lastCause = outcome.cause;
          if (outcome.error) lastError = outcome.error;
          if (outcome.cause === "null") sawNull ??= upstream.id;
          if (outcome.cause === "timeout" && options.costly && ++timeouts >= maxCostlyTimeouts) {
            fail(`${outcome.reason} on ${timeouts} operators; the request may be too expensive to serve`);
            return;
          }
          if (inFlight === 0 && !launch(false)) fail(outcome.reason);
      }
    }

    function observe(upstream: string, outcome: AttemptOutcome | { kind: "cancelled" }, elapsedMs: number) {
      network.metrics.hot.attempt(network.name, upstream, outcome.kind).inc();
      if (outcome.kind === "result" || outcome.kind === "error") {
        network.metrics.hot.attemptLatency(network.name, upstream).observe(elapsedMs / 1000);
      }
    }

    if (!launch(false)) fail(options.ranked.length === 0 ? "no upstream serves this request" : lastReason);
  });
}
