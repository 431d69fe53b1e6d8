/**
 * The request path of one JSON-RPC call as a composition of small stages, `failover(hedge(attempt))`:
 * each stage starts attempts through the one inside it and settles on an outcome. The deadline holds
 * throughout without a timer of its own: `attempt` starts nothing past it and gives every attempt at most
 * the time left. Stages share one `RouteState` per call and read outcomes by their typed `cause`.
 */
import type { JsonRpcErrorBody } from "../../rpc/jsonrpc.js";
import type { AttemptOutcome, RetryCause } from "../outcome.js";
import type { RankedUpstream } from "../selection.js";
import type { CancelHandle } from "../upstream.js";

/** An attempt that ran: on which upstream, and what came of it. */
export interface Tried {
  upstream: RankedUpstream;
  outcome: AttemptOutcome | { kind: "cancelled" };
}

/** What the stages of one call know together; `Call` is what the call is about (route.ts: method, ranking…). */
export interface RouteState<Call = unknown> {
  /** Every upstream an attempt was started on, in order. */
  readonly tried: RankedUpstream[];
  /** Absolute time (ms since epoch) after which no attempt starts. */
  readonly deadline: number;
  /** Attempts the call may start in all (hedges included). */
  readonly maxAttempts: number;
  /** A hedge was sent for this call (one per call). */
  hedged: boolean;
  /** Why the last attempt given up was given up (labels the failover that follows it). */
  lastCause?: RetryCause | undefined;
  /** Its words, for the client's error when nothing better comes. */
  lastReason: string;
  /** The last JSON-RPC error an upstream gave while retrying: the client's answer if every upstream fails. */
  lastError?: JsonRpcErrorBody | undefined;
  /** The first upstream that answered `null` where data may exist elsewhere: the answer if nobody knows more. */
  sawNull?: string | undefined;
  /** Timeouts spent so far (a costly call may spend only a few). */
  timeouts: number;
  /** Set when a stage ends the call on purpose, saying why. */
  stopReason?: string | undefined;
  /**
   * What the call is about (method, params, ranking…), for stage dependencies that are built once and
   * shared by every call (route.ts), rather than built as closures around each call.
   */
  readonly call: Call;
}

/** How a stage asks the one inside it for an attempt. */
export interface Launch {
  /** This attempt is a hedge of one still running. */
  hedge: boolean;
  /** Lets the caller cancel it (a hedge race's loser). */
  cancel?: CancelHandle | undefined;
  /** Told which upstream the attempt went to, once chosen. */
  onStart?: ((upstream: RankedUpstream) => void) | undefined;
}

/** A stage: starts attempts and settles on one; undefined when no attempt could be started. */
export type Stage<Call = unknown> = (state: RouteState<Call>, launch: Launch) => Promise<Tried | undefined>;

export function newRouteState(deadline: number, maxAttempts: number): RouteState<undefined>;
export function newRouteState<Call>(deadline: number, maxAttempts: number, call: Call): RouteState<Call>;
export function newRouteState<Call>(
  deadline: number,
  maxAttempts: number,
  call?: Call,
): RouteState<Call | undefined> {
  return {
    tried: [],
    deadline,
    maxAttempts,
    hedged: false,
    lastCause: undefined,
    lastReason: "no upstream available",
    lastError: undefined,
    sawNull: undefined,
    timeouts: 0,
    stopReason: undefined,
    call,
  };
}

/** Remembers what a retry says: its cause and reason, the upstream's error, a `null`, a timeout. */
export function noteRetry<Call>(state: RouteState<Call>, tried: Tried): void {
  const { outcome } = tried;
  if (outcome.kind !== "retry") return;
  state.lastCause = outcome.cause;
  state.lastReason = outcome.reason;
  if (outcome.error) state.lastError = outcome.error;
  if (outcome.cause === "null") state.sawNull ??= tried.upstream.id;
  if (outcome.cause === "timeout") state.timeouts++;
}
