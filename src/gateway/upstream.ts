/**
 * One upstream (an operator's endpoint) as the gateway sees it: a keep-alive connection pool, the
 * statistics that score it, its circuit breaker and its polled head. The only place that does I/O to
 * operators.
 */
import { Pool } from "undici";
import { CircuitBreaker } from "./circuitBreaker.js";
import type { HealthConfig, UpstreamConfig } from "./config.js";
import { assessHealth, type HeadSample, type HealthState, type HealthVerdict } from "./health.js";
import { DecayingRate, Ewma, SampleWindow } from "./latency.js";
import { type AttemptOutcome, classifyReply, transportFailure } from "./outcome.js";
import type { UpstreamView } from "./selection.js";

/** Largest answer accepted from an operator; a hostile one must not exhaust memory. */
const maxReplyBytes = 64 * 1024 * 1024;
const jsonContentType = { "content-type": "application/json" };

/** Reads a body of unknown length, giving up (undefined) past `limit` bytes. */
async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface UpstreamReply {
  status: number;
  /** Decoded JSON, or undefined when the body was not JSON. */
  body: unknown;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export class UpstreamTimeoutError extends Error {
  override name = "UpstreamTimeoutError";
}

export class Upstream {
  readonly id: string;
  readonly url: URL;
  readonly cloud: string;
  readonly region: string;
  readonly priority: number;
  readonly weight: number;
  readonly logsMaxRange: number | undefined;
  readonly breaker: CircuitBreaker;
  readonly latency = new Ewma(0.2);
  readonly latencyWindow = new SampleWindow(128);
  readonly errorRate = new DecayingRate(0.1);
  readonly throttleRate = new DecayingRate(0.1);
  head: HeadSample | undefined;
  headUpdatedAt = 0;
  bannedUntil = 0;
  lastThrottledAt = 0;
  verdict: HealthVerdict = { state: "unhealthy", reasons: ["head unknown"] };
  /** Bumped when something that changes its ranking happens (failure, recovery, half-open probe). */
  changes = 0;
  private readonly methodPatterns: readonly string[];
  private readonly pool: Pool;
  private readonly path: string;
  private nextRequestId = 1;

  constructor(
    config: UpstreamConfig,
    private readonly healthConfig: HealthConfig,
  ) {
    this.id = config.id;
    this.url = new URL(config.url);
    this.cloud = config.cloud;
    this.region = config.region;
    this.priority = config.priority;
    this.weight = config.weight;
    this.logsMaxRange = config.logsMaxRange;
    this.methodPatterns = config.methods;
    this.path = `${this.url.pathname}${this.url.search}`;
    this.pool = new Pool(this.url.origin, {
      connections: 128,
      keepAliveTimeout: 30_000,
      connect: { timeout: 2_000 },
    });
    this.breaker = new CircuitBreaker({
      failureThreshold: healthConfig.failureThreshold,
      cooldownMs: healthConfig.breakerCooldownMs,
      maxCooldownMs: healthConfig.breakerMaxCooldownMs,
    });
  }

  /** Whether this upstream declares a heavy method (exact name or `prefix_*`). */
  declares(method: string): boolean {
    return this.methodPatterns.some((pattern) =>
      pattern.endsWith("*") ? method.startsWith(pattern.slice(0, -1)) : pattern === method,
    );
  }

  /** A request id unique on this upstream's connections; clients' ids never reach operators. */
  requestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return id;
  }

  /** Sends a JSON body; throws on transport failure or timeout. */
  async send(body: string, options: SendOptions): Promise<UpstreamReply> {
    // undici's own headers/body timeouts bound the attempt: no timer or AbortController of ours per call
    // (those cost measurable GC at high request rates); a caller's signal is passed only when it has one.
    try {
      const response = await this.pool.request({
        path: this.path,
        method: "POST",
        headers: jsonContentType,
        body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const declared = response.headers["content-length"];
      let text: string;
      if (declared !== undefined && Number(declared) <= maxReplyBytes) {
        text = await response.body.text();
      } else if (declared !== undefined) {
        response.body.destroy();
        return { status: 502, body: undefined };
      } else {
        const read = await readLimited(response.body, maxReplyBytes);
        if (read === undefined) return { status: 502, body: undefined };
        text = read;
      }
      let decoded: unknown;
      try {
        decoded = JSON.parse(text);
      } catch {
        decoded = undefined;
      }
      return { status: response.statusCode, body: decoded };
    } catch (error) {
      const code = (error as { code?: string } | null)?.code;
      if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
        throw new UpstreamTimeoutError(`timed out after ${options.timeoutMs} ms`);
      }
      throw error;
    }
  }

  /** One JSON-RPC call, classified. `signal` aborted by the caller yields a "cancelled" outcome. */
  async call(
    method: string,
    params: readonly unknown[] | Record<string, unknown> | undefined,
    options: SendOptions & { nullIsMissing?: boolean },
  ): Promise<AttemptOutcome | { kind: "cancelled" }> {
    const body = JSON.stringify({ jsonrpc: "2.0", id: this.requestId(), method, params: params ?? [] });
    const started = performance.now();
    const now = Date.now();
    if (this.breaker.state(now) !== "closed") this.changes++;
    this.breaker.onAttempt(now);
    let outcome: AttemptOutcome;
    try {
      const reply = await this.send(body, options);
      outcome = classifyReply(reply.status, reply.body, options.nullIsMissing ?? false);
    } catch (error) {
      if (options.signal?.aborted) {
        // Lost a hedge race: not a failure, but the time it had taken so far is a lower bound of its latency.
        this.breaker.onCancel();
        this.latency.add(performance.now() - started);
        return { kind: "cancelled" };
      }
      outcome = transportFailure(describeTransportError(error));
    }
    this.record(outcome, performance.now() - started);
    return outcome;
  }

  record(outcome: AttemptOutcome, elapsedMs: number): void {
    if (outcome.kind === "retry" && outcome.failure) {
      this.changes++;
      this.errorRate.record(true);
      this.throttleRate.record(false);
      this.breaker.onFailure(Date.now());
      return;
    }
    this.latency.add(elapsedMs);
    this.latencyWindow.add(elapsedMs);
    this.errorRate.record(false);
    const throttled = outcome.kind === "retry" && outcome.throttled;
    this.throttleRate.record(throttled);
    if (throttled) this.lastThrottledAt = Date.now();
    if (this.breaker.failures > 0) this.changes++;
    this.breaker.onSuccess();
  }

  /** Recomputes the health verdict against the network head. */
  assess(networkHead: bigint | undefined, now = Date.now()): HealthVerdict {
    const stale = now - this.headUpdatedAt > this.healthConfig.headPollMs * 3;
    this.verdict = assessHealth(
      {
        consecutiveFailures: this.breaker.failures,
        breaker: this.breaker.state(now),
        throttled: now - this.lastThrottledAt < this.healthConfig.headPollMs * 3,
        head: stale ? undefined : this.head?.latest,
        networkHead,
        bannedUntil: this.bannedUntil,
        now,
      },
      this.healthConfig,
    );
    return this.verdict;
  }

  get health(): HealthState {
    return this.verdict.state;
  }

  view(networkHead: bigint | undefined, now = Date.now()): UpstreamView {
    const head = this.head?.latest;
    const lag = head === undefined || networkHead === undefined ? undefined : Number(networkHead - head);
    return {
      id: this.id,
      cloud: this.cloud,
      region: this.region,
      priority: this.priority,
      weight: this.weight,
      health: this.verdict.state,
      available: this.breaker.allows(now),
      latencyMs: this.latency.value(50),
      errorRate: this.errorRate.value(),
      throttleRate: this.throttleRate.value(),
      lagBlocks: lag === undefined ? undefined : Math.max(0, lag),
    };
  }

  /** p90 of recent latencies: how long to wait before hedging a read sent here. */
  hedgeDelayMs(min: number, max: number): number {
    const p90 = this.latencyWindow.size >= 8 ? this.latencyWindow.quantile(0.9) : undefined;
    return Math.min(max, Math.max(min, p90 ?? max));
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function describeTransportError(error: unknown): string {
  if (error instanceof UpstreamTimeoutError) return error.message;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}
