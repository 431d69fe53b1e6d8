/**
 * The innermost stage: one attempt on the next upstream (on a cloud, else a region, not tried yet), within
 * the call's attempt budget and deadline, its time capped by what the deadline leaves.
 */
import type { AttemptOutcome } from "../outcome.js";
import type { RankedUpstream } from "../selection.js";
import type { CancelHandle } from "../upstream.js";
import type { Launch, RouteState, Stage } from "./types.js";

export interface AttemptDeps<Call = unknown> {
  /** The next upstream to try after `tried`; undefined when none is left. */
  pick(tried: readonly RankedUpstream[], state: RouteState<Call>): RankedUpstream | undefined;
  /** Sends the call to `upstream`; undefined when that upstream is gone. Never rejects for an upstream's fault. */
  send(
    upstream: RankedUpstream,
    timeoutMs: number,
    cancel: CancelHandle | undefined,
    state: RouteState<Call>,
  ): Promise<AttemptOutcome | { kind: "cancelled" }> | undefined;
  /** The longest one attempt may take (a number, or read from the call's state). */
  attemptTimeoutMs: number | ((state: RouteState<Call>) => number);
  /** Told of each attempt as it starts (metrics: cloud share, failovers, hedges). */
  started?(upstream: RankedUpstream, state: RouteState<Call>, launch: Launch): void;
  now?(): number;
}

export function attempt<Call>(deps: AttemptDeps<Call>): Stage<Call> {
  const now = deps.now ?? Date.now;
  return async (state, launch) => {
    if (state.tried.length >= state.maxAttempts) return undefined;
    const remaining = state.deadline - now();
    if (remaining <= 0) {
      state.lastReason = "request deadline exceeded";
      return undefined;
    }
    const upstream = deps.pick(state.tried, state);
    if (!upstream) return undefined;
    const limit =
      typeof deps.attemptTimeoutMs === "number" ? deps.attemptTimeoutMs : deps.attemptTimeoutMs(state);
    const sent = deps.send(upstream, Math.min(limit, remaining), launch.cancel, state);
    if (!sent) return undefined;
    state.tried.push(upstream);
    deps.started?.(upstream, state, launch);
    launch.onStart?.(upstream);
    return { upstream, outcome: await sent };
  };
}
