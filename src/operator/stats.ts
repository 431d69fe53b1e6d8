// What an operator node has been asked, counted per caller role and method, and what it refused before
// forwarding; read by `OperatorNode.stats()` and the chaos control's `GET /stats`.
import { labelForMethod } from "../rpc/methods.js";
import { isRecord } from "./chaos.js";

export interface OperatorStats {
  /** JSON-RPC requests received (each batch item counts once). */
  requests: number;
  /** The same, per method. */
  byMethod: Record<string, number>;
  /**
   * The same, per caller role and method: `gateway` and `watcher` (from the access token), or `anyone` on a
   * node that serves without authentication. Tells client traffic (gateways) from probes (watchers).
   */
  byCaller: Record<string, Record<string, number>>;
  /** Requests refused with 401 (no valid token from an active gateway or watcher); never forwarded. */
  unauthorized: number;
  /** Requests refused with 503 because the ledger could not be asked who the caller is. */
  authUnavailable: number;
  /** Requests refused with 429: their source asked for too many ledger reads of unknown callers. */
  rateLimited: number;
  /** Calls answered by the node itself and never forwarded: methods it does not serve, ranges over its limit. */
  refused: number;
}

/** The counters behind {@link OperatorStats}. */
export class RequestCounts {
  unauthorized = 0;
  authUnavailable = 0;
  rateLimited = 0;
  refused = 0;
  private requests = 0;
  /** caller role → method → requests; `byMethod` is their sum. */
  private readonly byCaller = new Map<string, Map<string, number>>();

  /** Counts each call of `payload` (a call or a batch) for `caller`. */
  count(payload: unknown, caller: string): void {
    let byMethod = this.byCaller.get(caller);
    if (!byMethod) {
      byMethod = new Map();
      this.byCaller.set(caller, byMethod);
    }
    for (const call of Array.isArray(payload) ? payload : [payload]) {
      this.requests++;
      // Made-up names share one label: a client cannot grow these counters one name at a time.
      const method =
        isRecord(call) && typeof call.method === "string" ? labelForMethod(call.method) : "(invalid)";
      byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
    }
  }

  snapshot(): OperatorStats {
    const byMethod: Record<string, number> = {};
    for (const counts of this.byCaller.values()) {
      for (const [method, n] of counts) byMethod[method] = (byMethod[method] ?? 0) + n;
    }
    return {
      requests: this.requests,
      byMethod,
      byCaller: Object.fromEntries(
        [...this.byCaller].map(([role, counts]) => [role, Object.fromEntries(counts)]),
      ),
      unauthorized: this.unauthorized,
      authUnavailable: this.authUnavailable,
      rateLimited: this.rateLimited,
      refused: this.refused,
    };
  }
}
