/**
 * Refusals of the admission stage, as JSON-RPC errors with the HTTP status to answer with. Each names the
 * rule that refused in `error.data`, so a developer knows what to change.
 */
import { DinError, RpcErrorCode } from "../../rpc/errors.js";

/** Hosted RPC providers answer key and allowlist refusals with -32002; clients already handle it. */
export const keyRefusalCode = -32002;

export type AdmissionRule =
  | "apiKey"
  | "secret"
  | "jwt"
  | "origins"
  | "userAgents"
  | "methods"
  | "contracts"
  | "creditsPerSecond"
  | "creditsPerDay";

export class AdmissionError extends DinError {
  override name = "AdmissionError";
  override readonly httpStatus: number;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string>;
  readonly rule: AdmissionRule;

  constructor(
    httpStatus: number,
    code: number,
    rule: AdmissionRule,
    message: string,
    extra: { headers?: Record<string, string>; data?: Record<string, unknown> } = {},
  ) {
    super(code, message, { data: { rule, ...extra.data } });
    this.httpStatus = httpStatus;
    this.headers = extra.headers ?? {};
    this.rule = rule;
  }
}

/** 401: no key, an unknown or revoked key, a wrong secret, a missing or invalid JWT. */
export function unauthorized(rule: "apiKey" | "secret" | "jwt", reason: string): AdmissionError {
  return new AdmissionError(401, keyRefusalCode, rule, `Unauthorized: ${reason}`);
}

/** 403: an allowlist refused the request. */
export function forbidden(rule: "origins" | "userAgents" | "methods" | "contracts", reason: string) {
  return new AdmissionError(403, keyRefusalCode, rule, `Forbidden by the ${rule} allowlist: ${reason}`);
}

/** 429: credits per second spent; retry after the window. */
export function tooManyRequests(limit: number | null, retryAfterSeconds: number): AdmissionError {
  return new AdmissionError(
    429,
    RpcErrorCode.LimitExceeded,
    "creditsPerSecond",
    `Limit exceeded: the key's ${limit} credits per second are spent; retry in ${retryAfterSeconds} s`,
    { headers: { "retry-after": String(retryAfterSeconds) }, data: { retryAfterSeconds } },
  );
}

/** 402: the daily quota is spent until 00:00 UTC. */
export function quotaSpent(limit: number | null, retryAfterSeconds: number, nowMs: number): AdmissionError {
  const dayMs = 86_400_000;
  const resetsAt = new Date((Math.floor(nowMs / dayMs) + 1) * dayMs);
  return new AdmissionError(
    402,
    RpcErrorCode.LimitExceeded,
    "creditsPerDay",
    `Daily quota spent: the key's ${limit} credits per day are used up until 00:00 UTC`,
    {
      headers: { "retry-after": String(retryAfterSeconds) },
      data: { retryAfterSeconds, resetsAt: resetsAt.toISOString() },
    },
  );
}
