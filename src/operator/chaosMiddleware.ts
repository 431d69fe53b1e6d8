/**
 * Fault injection (devnet only) as a middleware around the operator node's serving path, so the production
 * path (proxy.ts `serve`) holds no chaos branch: installed only when the node starts with chaos enabled.
 * `around` fails or slows a request before anything else (`errors`, `slow`); `forward` wraps the call to
 * the execution client to answer as a lagging node would (`lag`) or to rewrite answers into lies (`lie`,
 * `corrupt`). The faults themselves are chaos.ts's pure functions.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Answer,
  errorsFor,
  json,
  operatorUnavailable,
  type RequestTrace,
  rpcError,
  rpcResult,
} from "./answers.js";
import {
  type ChaosState,
  injectsError,
  isRecord,
  laggedHeadOf,
  lagResult,
  lieResult,
  planLaggedCall,
} from "./chaos.js";
import { methodLabel } from "./nodeMetrics.js";

/** Sends what passed the policy and limits to the execution client: `raw` when unchanged, else `request`. */
export type Forward = (request: unknown, raw: Buffer | undefined) => Promise<Answer>;

export interface ChaosDeps {
  /** The fault in force now. */
  state(): ChaosState;
  /** The execution client's head (cached briefly). */
  head(): Promise<bigint>;
  /** Forwards one call and returns its parsed response (undefined for a notification). */
  forwardCall(call: unknown): Promise<unknown>;
}

export interface ChaosMiddleware {
  /** Runs `next` (the node's serving path) unless the fault answers first. */
  around(payload: unknown, trace: RequestTrace, next: () => Promise<Answer>): Promise<Answer>;
  /** Wraps the call to the execution client. */
  forward(plain: Forward): Forward;
}

export function chaosMiddleware(deps: ChaosDeps): ChaosMiddleware {
  return {
    async around(payload, trace, next) {
      const chaos = deps.state();
      if (chaos.mode === "errors" && injectsError(chaos.value ?? 0)) {
        trace.failed = true;
        trace.injected = true;
        for (const call of Array.isArray(payload) ? payload : [payload])
          trace.forwarded.push(methodLabel(call));
        return errorsFor(payload, 503, operatorUnavailable("operator temporarily unavailable"));
      }
      if (chaos.mode === "slow") await sleep(chaos.value ?? 0);
      return next();
    },
    forward(plain) {
      return (request, raw) => {
        const chaos = deps.state();
        if (chaos.mode === "lag" || chaos.mode === "lie" || chaos.mode === "corrupt") {
          return serveRewritten(request, chaos, deps);
        }
        return plain(request, raw);
      };
    },
  };
}

/** Lag and lie need each call on its own: some are answered here, the rest rewritten both ways. */
async function serveRewritten(payload: unknown, chaos: ChaosState, deps: ChaosDeps): Promise<Answer> {
  const laggedHead = chaos.mode === "lag" ? laggedHeadOf(await deps.head(), chaos.value ?? 0) : 0n;
  const calls = Array.isArray(payload) ? payload : [payload];
  const responses = await Promise.all(calls.map((call) => serveRewrittenCall(call, chaos, laggedHead, deps)));
  const answered = responses.filter((response) => response !== undefined);
  if (!Array.isArray(payload)) {
    return answered[0] === undefined ? { status: 204, body: undefined } : json(200, answered[0]);
  }
  return answered.length === 0 ? { status: 204, body: undefined } : json(200, answered);
}

async function serveRewrittenCall(
  call: unknown,
  chaos: ChaosState,
  laggedHead: bigint,
  deps: ChaosDeps,
): Promise<unknown> {
  if (!isRecord(call) || typeof call.method !== "string") return deps.forwardCall(call);
  const method = call.method;
  const isNotification = !("id" in call);
  let request: Record<string, unknown> = call;
  if (chaos.mode === "lag") {
    const plan = planLaggedCall(method, call.params, laggedHead);
    if (plan.kind === "answer") return isNotification ? undefined : rpcResult(call.id, plan.result);
    if (plan.kind === "error") return isNotification ? undefined : rpcError(call.id, plan.error);
    if (plan.params !== undefined) request = { ...call, params: plan.params };
  }
  const response = await deps.forwardCall(request);
  if (isNotification || !isRecord(response) || !("result" in response)) return response;
  const result =
    chaos.mode === "lag"
      ? lagResult(method, response.result, laggedHead)
      : lieResult(method, response.result, chaos.mode === "corrupt" ? "corrupt" : "lie");
  return { ...response, result };
}
