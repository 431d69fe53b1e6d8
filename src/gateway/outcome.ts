/**
 * What an upstream's reply means for routing: an answer to return, a deterministic error to return as is
 * (never retried: the same question gets the same answer anywhere), or a reason to try another upstream.
 * Pure: the rules of reference/rpc-routing.md.
 */
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";

/**
 * Why an attempt is worth another upstream. Every routing decision and metric label reads this, never the
 * free-text `reason` (which is for people: logs and error messages).
 */
export type RetryCause =
  /** The attempt ran out of time (the operator may be slow, or the request expensive). */
  | "timeout"
  /** Refused, reset, closed, TLS: the connection failed. */
  | "transport"
  /** A 5xx, or a reply that is no JSON-RPC answer. */
  | "http-status"
  /** HTTP 429 or a rate-limit error: the operator is busy, not broken. */
  | "rate-limited"
  /** The node lacks the data (pruned state, unknown block); another may have it. */
  | "missing-data"
  /** `null` for a by-hash read: this node may not have seen the data yet. */
  | "null"
  /** This node does not serve the method. */
  | "not-served"
  /** A generic server-side error (-32603, -32000, -32002) that another node may not have. */
  | "upstream-error"
  /** A signature was asked for and the one given does not hold. */
  | "bad-signature";

/** Causes that count against an upstream's health (its breaker and error rate). */
const failureCauses: ReadonlySet<RetryCause> = new Set([
  "timeout",
  "transport",
  "http-status",
  "upstream-error",
  "bad-signature",
]);

/** Whether a retry's cause counts against the upstream's health; throttles and missing data do not. */
export function isFailure(cause: RetryCause): boolean {
  return failureCauses.has(cause);
}

/** The `reason` label of `din_failovers_total` for each cause (kept stable for dashboards). */
export const failoverLabel: Readonly<Record<RetryCause, string>> = {
  timeout: "timeout",
  transport: "transport",
  "http-status": "5xx",
  "rate-limited": "throttled",
  "missing-data": "missing_data",
  null: "missing_data",
  "not-served": "other",
  "upstream-error": "other",
  "bad-signature": "other",
};

export type AttemptOutcome =
  | { kind: "result"; result: unknown }
  /** A deterministic JSON-RPC error (revert, invalid params…): the client's answer. */
  | { kind: "error"; error: JsonRpcErrorBody }
  | {
      kind: "retry";
      cause: RetryCause;
      /** Said to people (logs, the client's error when nothing better came); decisions read `cause`. */
      reason: string;
      /** The upstream's error, returned to the client if no other upstream does better. */
      error?: JsonRpcErrorBody;
    };

/** A retry outcome. */
export function retry(cause: RetryCause, reason: string, error?: JsonRpcErrorBody): AttemptOutcome {
  return error === undefined ? { kind: "retry", cause, reason } : { kind: "retry", cause, reason, error };
}

/** Messages of errors that mean "this node lacks the data", not "the answer is an error". */
const missingDataPattern =
  /header not found|unknown block|missing trie node|block not found|not found in database|pruned|state (is )?not available|historical state|distance to target block/i;
const throttlePattern = /rate limit|too many requests|capacity exceeded|exceeded the quota/i;
const deterministicPattern =
  /revert|invalid opcode|out of gas|insufficient funds|nonce too (low|high)|already known|known transaction|replacement transaction underpriced|intrinsic gas|gas limit reached|exceeds block gas limit|invalid sender|invalid signature|max fee per gas less than block base fee|transaction type not supported|invalid argument|cannot unmarshal/i;

/**
 * Classifies a reply. `status` is the HTTP status, `body` the decoded JSON (undefined if not JSON).
 * `nullIsMissing`: for by-hash reads a `null` may only mean this node has not seen the data yet.
 */
export function classifyReply(status: number, body: unknown, nullIsMissing = false): AttemptOutcome {
  if (status === 429) return retry("rate-limited", "HTTP 429");
  const message = asResponse(body);
  if (!message) {
    return retry("http-status", `HTTP ${status} with no JSON-RPC answer`);
  }
  if ("error" in message) return classifyRpcError(message.error, status);
  if (status >= 500) return retry("http-status", `HTTP ${status}`);
  if (message.result === null && nullIsMissing) {
    return retry("null", "null where data may exist elsewhere");
  }
  return { kind: "result", result: message.result };
}

export function classifyRpcError(error: JsonRpcErrorBody, status = 200): AttemptOutcome {
  const text = `${error.message ?? ""} ${typeof error.data === "string" ? error.data : ""}`;
  if (error.code === 3 || deterministicPattern.test(text)) return { kind: "error", error };
  if (error.code === -32602 || error.code === -32600) return { kind: "error", error };
  if (error.code === -32005 || throttlePattern.test(text)) {
    return retry("rate-limited", "rate limited", error);
  }
  if (missingDataPattern.test(text)) return retry("missing-data", "missing data", error);
  if (error.code === -32601 || error.code === -32004) {
    // This node does not serve the method; another one may.
    return retry("not-served", "method not served", error);
  }
  if (status >= 500) return retry("http-status", `HTTP ${status}`, error);
  if (error.code === -32603 || error.code === -32000 || error.code === -32002) {
    return retry("upstream-error", `upstream error ${error.code}`, error);
  }
  return { kind: "error", error };
}

/** Transport failures (refused, reset, timeout) are worth another upstream. */
export function transportFailure(reason: string, timeout = false): AttemptOutcome {
  return retry(timeout ? "timeout" : "transport", reason);
}

/**
 * A costly request timed out on an operator that answered other requests meanwhile: the request is
 * expensive, the operator is not slow. Answered like geth answers a call past its RPC timeout (-32000,
 * which clients do not retry) and held against neither the operator nor the next one.
 */
export function tooExpensive(method: string, timeoutMs: number): AttemptOutcome {
  return {
    kind: "error",
    error: {
      code: -32000,
      message: `execution aborted (timeout = ${timeoutMs} ms): ${method} did not finish while the operator kept serving others; it is not retried elsewhere — narrow the request or lower its gas`,
    },
  };
}

function asResponse(body: unknown): { result: unknown } | { error: JsonRpcErrorBody } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const object = body as Record<string, unknown>;
  if ("error" in object) {
    const error = object.error as Record<string, unknown> | null;
    if (typeof error !== "object" || error === null || typeof error.code !== "number") return undefined;
    const normalized: JsonRpcErrorBody = {
      code: error.code,
      message: typeof error.message === "string" ? error.message.slice(0, 2000) : "upstream error",
    };
    if (error.data !== undefined) normalized.data = error.data;
    return { error: normalized };
  }
  if ("result" in object) return { result: object.result };
  return undefined;
}
