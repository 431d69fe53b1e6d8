/**
 * The innermost stage: one attempt on the next upstream (on a cloud, else a region, not tried yet), within
 * the call's attempt budget and deadline, its time capped by what the deadline leaves.
 */
import type { AttemptOutcome } from "../outcome.js";
import type { RankedUpstream } from "../selection.js";
import type { CancelHandle } from "../upstream.js";
import type { Launch, RouteState, Stage } from "./types.js";

export interface AttemptDeps {
  /** The next upstream to try after `tried`; undefined when none is left. */
  pick(tried: readonly RankedUpstream[]): RankedUpstream | undefined;
  /** Sends the call to `upstream`; undefined when that upstream is gone. Never rejects for an upstream's fault. */
  send(
    upstream: RankedUpstream,
    timeoutMs: number,
    cancel: CancelHandle | undefined,
  ): Promise<AttemptOutcome | { kind: "cancelled" }> | undefined;
  /** The longest one attempt may take. */
  attemptTimeoutMs: number;
  /** Told of each attempt as it starts (metrics: cloud share, failovers, hedges). */
  started?(upstream: RankedUpstream, state: RouteState, launch: Launch): void;
  now?(): number;
}

export function attempt(deps: AttemptDeps): Stage {
  const now = deps.now ?? Date.now;
  return async (state, launch) => {
    if (state.tried.length >= state.maxAttempts) return undefined;
    const remaining = state.deadline - now();
    if (remaining <= 0) {
      state.lastReason = "request deadline exceeded";
      return undefined;
    }
    const upstream = deps.pick(state.tried);
    if (!upstream) return undefined;
    const sent = deps.send(upstream, Math.min(deps.attemptTimeoutMs, remaining), launch.cancel);
    if (!sent) return undefined;
    state.tried.push(upstream);
    deps.started?.(upstream, state, launch);
    launch.onStart?.(upstream);
    return { upstream, outcome: await sent };
  };
}
