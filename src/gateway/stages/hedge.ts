/**
 * Hedging: when the first attempt of a read has not answered within its upstream's usual time (p90), a
 * second attempt starts on another upstream; the first answer wins and the loser is cancelled (its
 * cancellation is not held against it). One hedge per call, and only while a single attempt runs.
 */
import type { RankedUpstream } from "../selection.js";
import { type CancelHandle, cancelAttempt } from "../upstream.js";
import { noteRetry, type Stage, type Tried } from "./types.js";

export interface HedgeDeps {
  /** How long to wait for `upstream` before hedging; undefined: never hedge it. */
  delayFor(upstream: RankedUpstream, remainingMs: number): number | undefined;
  /** A hedge was sent. */
  sent?(): void;
  /** A hedge answered first. */
  won?(): void;
}

export function hedge(inner: Stage, deps: HedgeDeps): Stage {
  return (state, launch) => {
    if (state.hedged) return inner(state, launch);
    return new Promise<Tried | undefined>((resolve) => {
      const cancels = new Set<CancelHandle>();
      let timer: NodeJS.Timeout | undefined;
      let running = 0;
      let settled = false;
      let lastRetry: Tried | undefined;

      const settle = (tried: Tried | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const handle of cancels) cancelAttempt(handle);
        resolve(tried);
      };
      const run = (isHedge: boolean) => {
        const cancel: CancelHandle = { cancelled: false };
        cancels.add(cancel);
        running++;
        void inner(state, {
          hedge: isHedge,
          cancel,
          ...(isHedge ? {} : { onStart: (upstream: RankedUpstream) => arm(upstream) }),
        }).then((tried) => {
          running--;
          cancels.delete(cancel);
          if (settled) return;
          if (tried && tried.outcome.kind !== "retry" && tried.outcome.kind !== "cancelled") {
            if (isHedge) deps.won?.();
            settle(tried);
            return;
          }
          if (tried?.outcome.kind === "retry") {
            // The one returned is noted by the stage outside; an earlier one is noted here.
            if (lastRetry) noteRetry(state, lastRetry);
            lastRetry = tried;
          }
          if (running === 0) settle(lastRetry ?? tried);
        });
      };
      const arm = (upstream: RankedUpstream) => {
        const delay = deps.delayFor(upstream, state.deadline - Date.now());
        if (delay === undefined) return;
        timer = setTimeout(() => {
          if (settled || running !== 1 || state.hedged) return;
          state.hedged = true;
          deps.sent?.();
          run(true);
        }, delay);
      };
      run(false);
    });
  };
}
