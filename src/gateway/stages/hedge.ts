/**
 * Hedging: when the first attempt of a read has not answered within its upstream's usual time (p90), a
 * second attempt starts on another upstream; the first answer wins and the loser is cancelled (its
 * cancellation is not held against it). One hedge per call, and only while a single attempt runs.
 */
import type { RankedUpstream } from "../selection.js";
import { type CancelHandle, cancelAttempt } from "../upstream.js";
import { type Launch, noteRetry, type RouteState, type Stage, type Tried } from "./types.js";

export interface HedgeDeps<Call = unknown> {
  /** How long to wait for `upstream` before hedging; undefined: never hedge it. */
  delayFor(upstream: RankedUpstream, remainingMs: number, state: RouteState<Call>): number | undefined;
  /** Whether the call could be hedged at all (another upstream to try); without it: always. */
  worthHedging?(state: RouteState<Call>): boolean;
  /** A hedge was sent. */
  sent?(): void;
  /** A hedge answered first. */
  won?(): void;
}

export function hedge<Call>(inner: Stage<Call>, deps: HedgeDeps<Call>): Stage<Call> {
  return (state, launch) => {
    if (state.hedged || deps.worthHedging?.(state) === false) return inner(state, launch);
    return new Promise<Tried | undefined>((resolve) => {
      new HedgeRace<Call>(inner, deps, state, resolve).run(false);
    });
  };
}

/** One call's race between its first attempt and (after the delay) its hedge; settles once. */
class HedgeRace<Call> {
  private readonly cancels: CancelHandle[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private settled = false;
  private lastRetry: Tried | undefined;

  constructor(
    private readonly inner: Stage<Call>,
    private readonly deps: HedgeDeps<Call>,
    private readonly state: RouteState<Call>,
    private readonly resolve: (tried: Tried | undefined) => void,
  ) {}

  run(isHedge: boolean): void {
    const cancel: CancelHandle = { cancelled: false, abort: undefined };
    this.cancels.push(cancel);
    this.running++;
    const launch: Launch = isHedge
      ? { hedge: true, cancel }
      : { hedge: false, cancel, onStart: (upstream: RankedUpstream) => this.arm(upstream) };
    void this.inner(this.state, launch).then((tried) => this.ended(tried, cancel, isHedge));
  }

  /** The hedge fires: a second attempt, unless the first already settled or another hedge ran. */
  fire(): void {
    if (this.settled || this.running !== 1 || this.state.hedged) return;
    this.state.hedged = true;
    this.deps.sent?.();
    this.run(true);
  }

  private arm(upstream: RankedUpstream): void {
    const delay = this.deps.delayFor(upstream, this.state.deadline - Date.now(), this.state);
    if (delay === undefined) return;
    this.timer = setTimeout(fireHedge, delay, this);
  }

  private ended(tried: Tried | undefined, cancel: CancelHandle, isHedge: boolean): void {
    this.running--;
    const index = this.cancels.indexOf(cancel);
    if (index !== -1) this.cancels.splice(index, 1);
    if (this.settled) return;
    if (tried && tried.outcome.kind !== "retry" && tried.outcome.kind !== "cancelled") {
      if (isHedge) this.deps.won?.();
      this.settle(tried);
      return;
    }
    if (tried?.outcome.kind === "retry") {
      // The one returned is noted by the stage outside; an earlier one is noted here.
      if (this.lastRetry) noteRetry(this.state, this.lastRetry);
      this.lastRetry = tried;
    }
    if (this.running === 0) this.settle(this.lastRetry ?? tried);
  }

  private settle(tried: Tried | undefined): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    for (const handle of this.cancels) cancelAttempt(handle);
    this.resolve(tried);
  }
}

function fireHedge<Call>(race: HedgeRace<Call>): void {
  race.fire();
}
