/**
 * Failover: an attempt worth another upstream (its outcome's cause says so) is followed by one on the next
 * upstream, until an answer comes, nothing is left to try, or a policy ends the call. Deterministic answers
 * (results, reverts, invalid params) end it at once. A costly call (its own cost may exceed an attempt's
 * time) spends at most `maxCostlyTimeouts` timeouts, whoever was slow.
 */
import { noteRetry, type Stage, type Tried } from "./types.js";

export interface FailoverOptions {
  /** The call may be expensive: cap the timeouts it spends. */
  costly: boolean;
  /** Timeouts a costly call may spend before it is refused. */
  maxCostlyTimeouts: number;
}

export function failover<Call>(inner: Stage<Call>, options: FailoverOptions): Stage<Call> {
  return async (state, launch) => {
    let last: Tried | undefined;
    for (;;) {
      const tried = await inner(state, launch);
      if (!tried) return last;
      last = tried;
      const { outcome } = tried;
      if (outcome.kind !== "retry") return tried;
      noteRetry(state, tried);
      if (outcome.cause === "timeout" && options.costly && state.timeouts >= options.maxCostlyTimeouts) {
        state.stopReason = `${outcome.reason} on ${state.timeouts} operators; the request may be too expensive to serve`;
        return tried;
      }
    }
  };
}
