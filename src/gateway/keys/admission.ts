/**
 * The admission stage, run before the pipeline for every HTTP body (and every WebSocket message):
 * auth (API key, secret or JWT) → allowlists (origin, user agent; then method and contracts per request)
 * → credits (per second, per day). It refuses a whole body with the HTTP status that says why (401, 403,
 * 429 with Retry-After, 402), or lets it through with per-request refusals for batch entries an
 * allowlist refuses, and counts usage once the answers are known. Reads only memory (and Redis when
 * limits are shared), never SQL.
 */
import type { IncomingHttpHeaders } from "node:http";
import { headerValue } from "../../http/headers.js";
import type { DinError } from "../../rpc/errors.js";
import { errorResponse, type JsonRpcResponse, type ParsedEntry } from "../../rpc/jsonrpc.js";
import { unknownMethodLabel } from "../../rpc/methods.js";
import { checkClient, checkRequest } from "./allowlist.js";
import { type CreditTable, unknownMethodCredits } from "./credits.js";
import {
  AdmissionError,
  type AdmissionRule,
  forbidden,
  quotaSpent,
  tooManyRequests,
  unauthorized,
} from "./errors.js";
import { verifyJwt } from "./jwt.js";
import type { CreditLimiter } from "./limiter.js";
import type { KeyRegistry } from "./registry.js";
import { type ApiKeyRecord, secretMatches } from "./store.js";
import type { UsageRecorder } from "./usage.js";

/** Who is asking: what the transport knows about the client. */
export interface ClientCredentials {
  /** Network name (the `/v1/<network>` segment). */
  network: string;
  /** The `<apiKey>` path segment, when present. */
  apiKey: string | undefined;
  /** `Authorization` header: `Basic base64(:secret)` or `Bearer <jwt>`. */
  authorization?: string | undefined;
  origin?: string | undefined;
  userAgent?: string | undefined;
}

/** The credentials an HTTP request or WebSocket upgrade for `network` carries in its path and headers. */
export function credentialsFrom(
  network: string,
  apiKey: string | undefined,
  headers: IncomingHttpHeaders,
): ClientCredentials {
  return {
    network,
    apiKey,
    authorization: Array.isArray(headers.authorization) ? undefined : headers.authorization,
    origin: headerValue(headers.origin),
    userAgent: headerValue(headers["user-agent"]),
  };
}

export type Admission =
  | { ok: false; error: AdmissionError }
  | {
      ok: true;
      key: ApiKeyRecord;
      /** The entries to run, with requests an allowlist refused replaced by their error. */
      entries: ParsedEntry[];
      /** Counts usage; call once with the answer to each entry (undefined for notifications). */
      settle(answers: ReadonlyArray<JsonRpcResponse | undefined>): void;
    };

export type Authentication =
  | { ok: true; key: ApiKeyRecord; secretPresented: boolean }
  | { ok: false; error: AdmissionError };

/** What `answerBody` calls: admits a parsed body or says why not. */
export type AdmitBody = (body: { batch: boolean; entries: ParsedEntry[] }) => Promise<Admission>;

/** Listener for keys whose daily quota is spent (WebSockets of that key are closed). */
export type QuotaListener = (key: string) => void;

/** What admission reports for metrics: each refusal by rule, and credits charged per network. */
export interface AdmissionObserver {
  refused(rule: AdmissionRule): void;
  charged(network: string, credits: number): void;
}

export class KeyAdmission {
  private readonly quotaListeners: QuotaListener[] = [];
  private readonly quotaSpentOn = new Map<string, number>();

  constructor(
    private readonly registry: KeyRegistry,
    private readonly limiter: CreditLimiter,
    private readonly credits: CreditTable,
    private readonly usage: UsageRecorder,
    private readonly observer?: AdmissionObserver,
  ) {}

  onQuotaSpent(listener: QuotaListener): void {
    this.quotaListeners.push(listener);
  }

  /** The admission hook for one client request (HTTP body or WebSocket message). */
  admitter(client: ClientCredentials): AdmitBody {
    return (body) => this.admit(client, body.batch, body.entries);
  }

  /** Authenticates the client alone (a WebSocket upgrade): the key, or the refusal. */
  async authenticate(client: ClientCredentials, now = Date.now()): Promise<Authentication> {
    const auth = await this.authenticateClient(client, now);
    if (!auth.ok) this.observer?.refused(auth.error.rule);
    return auth;
  }

  private async authenticateClient(client: ClientCredentials, now: number): Promise<Authentication> {
    if (client.apiKey === undefined) {
      return {
        ok: false,
        error: unauthorized(
          "apiKey",
          `this gateway requires an API key: /v1/${client.network}/<apiKey> (WebSocket: /ws/v1/${client.network}/<apiKey>)`,
        ),
      };
    }
    const key = await this.registry.lookup(client.apiKey);
    if (!key) return { ok: false, error: unauthorized("apiKey", "unknown API key") };
    if (key.revokedAt !== null && key.revokedAt.getTime() <= now) {
      return { ok: false, error: unauthorized("apiKey", "this API key has been revoked") };
    }
    const authorization = client.authorization;
    let secretPresented = false;
    let bearer: string | undefined;
    if (authorization !== undefined) {
      const [scheme, value = ""] = authorization.split(" ", 2);
      if (scheme?.toLowerCase() === "basic") {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        const secret = decoded.slice(decoded.indexOf(":") + 1);
        if (!secretMatches(secret, key.secretHash)) {
          return { ok: false, error: unauthorized("secret", "the API key secret does not match") };
        }
        secretPresented = true;
      } else if (scheme?.toLowerCase() === "bearer") bearer = value;
    }
    if (key.secretRequired && !secretPresented) {
      return {
        ok: false,
        error: unauthorized(
          "secret",
          "this API key requires its secret (HTTP basic auth, password = secret)",
        ),
      };
    }
    if (key.jwtRequired && !secretPresented) {
      if (bearer === undefined) {
        return {
          ok: false,
          error: unauthorized("jwt", "this API key requires a JWT (Authorization: Bearer <jwt>)"),
        };
      }
      const verdict = verifyJwt(bearer, key.jwtPublicKeys, key.key, now);
      if (!verdict.ok) return { ok: false, error: unauthorized("jwt", verdict.reason) };
    }
    if (!secretPresented) {
      const refusal = checkClient(key.allowlists, client);
      if (refusal)
        return { ok: false, error: forbidden(refusal.rule as "origins" | "userAgents", refusal.reason) };
    }
    return { ok: true, key, secretPresented };
  }

  async admit(
    client: ClientCredentials,
    batch: boolean,
    entries: ParsedEntry[],
    now = Date.now(),
  ): Promise<Admission> {
    const admission = await this.admitBody(client, batch, entries, now);
    if (this.observer) {
      if (!admission.ok) this.observer.refused(admission.error.rule);
      else {
        for (const entry of admission.entries) {
          if (!entry.ok && entry.error instanceof AdmissionError) this.observer.refused(entry.error.rule);
        }
      }
    }
    return admission;
  }

  private async admitBody(
    client: ClientCredentials,
    batch: boolean,
    entries: ParsedEntry[],
    now: number,
  ): Promise<Admission> {
    const auth = await this.authenticateClient(client, now);
    if (!auth.ok) return auth;
    const { key, secretPresented } = auth;
    const admitted = entries.slice();
    // Every entry costs something, refused ones what a cheap read costs: a batch of refusals is no way
    // around the per-second limit.
    const charges: number[] = new Array(entries.length).fill(unknownMethodCredits);
    let total = 0;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      if (entry.ok && !secretPresented) {
        const refusal = checkRequest(key.allowlists, entry.request);
        if (refusal) {
          const error = forbidden(refusal.rule as "methods" | "contracts", refusal.reason);
          if (!batch) {
            this.usage.recordRefused(key, client.network, 1, now);
            return { ok: false, error };
          }
          admitted[index] = { ok: false, id: entry.request.id ?? null, error: error as DinError };
        }
      }
      if (entry.ok && admitted[index]!.ok)
        charges[index] = checkedCredits(this.credits(entry.request.method));
      total += charges[index]!;
    }
    if (total > 0) {
      const verdict = await this.limiter.take(key.key, total, key.limits);
      if (!verdict.ok) {
        // One `refused` row, not one per method the refused body named.
        this.usage.recordRefused(key, client.network, entries.length, now);
        if (verdict.limit === "second") {
          return {
            ok: false,
            error: tooManyRequests(key.limits.creditsPerSecond, verdict.retryAfterSeconds),
          };
        }
        this.quotaWasSpent(key.key, now);
        return { ok: false, error: quotaSpent(key.limits.creditsPerDay, verdict.retryAfterSeconds, now) };
      }
      this.observer?.charged(client.network, total);
    }
    return {
      ok: true,
      key,
      entries: admitted,
      settle: (answers) => {
        for (let index = 0; index < entries.length; index++) {
          const entry = entries[index]!;
          const answer = answers[index];
          const error = !admitted[index]!.ok || (answer !== undefined && "error" in answer);
          const method = entry.ok ? entry.request.method : unknownMethodLabel;
          this.usage.record(key, client.network, method, charges[index]!, error, now);
        }
      },
    };
  }

  private quotaWasSpent(key: string, now: number): void {
    // Tell listeners once per key and day, not on every refused request.
    const day = Math.floor(now / 86_400_000);
    if (this.quotaSpentOn.get(key) === day) return;
    this.quotaSpentOn.set(key, day);
    // After the refused request's own answer has gone out, so its client learns why before the close.
    setImmediate(() => {
      for (const listener of this.quotaListeners) listener(key);
    });
  }
}

/**
 * A weight from the credit table, as a non-negative integer whatever the table returns: `creditTable`
 * validates its weights, but the limiter and the usage rows must never see NaN from any table.
 */
function checkedCredits(credits: number): number {
  return Number.isSafeInteger(credits) && credits >= 0 ? credits : unknownMethodCredits;
}

/** The reply to a body refused as a whole: the error under the request's id (null for a batch). */
export function refusalReply(
  body: { batch: boolean; entries: ParsedEntry[] },
  error: AdmissionError,
): { status: number; body: string; headers: Record<string, string> } {
  const first = body.entries[0];
  const id = !body.batch && first ? (first.ok ? (first.request.id ?? null) : first.id) : null;
  return {
    status: error.httpStatus,
    body: JSON.stringify(errorResponse(id, error.toJsonRpc())),
    headers: error.headers,
  };
}
