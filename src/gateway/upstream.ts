/**
 * One upstream (an operator's endpoint) as the gateway sees it: a keep-alive connection pool, the
 * statistics that score it, its circuit breaker and its polled head. The only place that does I/O to
 * operators.
 */
import { type Dispatcher, Pool } from "undici";
import type { Address } from "viem";
import { ACCESS_TOKEN_HEADER } from "../ledger/din/auth.js";
import { keepReplyText } from "./cache.js";
import { CircuitBreaker } from "./circuitBreaker.js";
import type { HealthConfig, UpstreamConfig } from "./config.js";
import { assessHealth, type HeadSample, type HealthVerdict } from "./health.js";
import { DecayingRate, Ewma, SampleWindow } from "./latency.js";
import {
  type AttemptOutcome,
  classifyReply,
  isFailure,
  retry,
  tooExpensive,
  transportFailure,
} from "./outcome.js";
import type { UpstreamView } from "./selection.js";

/** Largest answer accepted from an operator; a hostile one must not exhaust memory. */
const maxReplyBytes = 64 * 1024 * 1024;
const jsonContentType = { "content-type": "application/json" };
const signHeaders = { ...jsonContentType, "din-sign": "1" };

export interface UpstreamReply {
  status: number;
  /** Decoded JSON, or undefined when the body was not JSON. */
  body: unknown;
  /** The signed-relay headers, when a signature was asked for. */
  signed?: SignedReplyHeaders;
}

/** What an operator answered to `din-sign: 1` (each undefined when absent). */
export interface SignedReplyHeaders {
  operator: string | undefined;
  signature: string | undefined;
  relay: string | undefined;
  /** The operator's reason for not signing (`din-sign-error`). */
  error: string | undefined;
}

/** What the ledger says about the operator behind an upstream; absent for upstreams from the config file. */
export interface LedgerOperator {
  /** The operator's ledger address. */
  address: Address;
  networkId: number;
  /** The key registered to sign its relays. */
  signer: Address;
  /** Allocated stake in the network's operator set. */
  stake: bigint;
  jailed: boolean;
  queuedSlashes: number;
  /** Score multiplier from its stake against the network's median (selection.ts stakeFactor). */
  stakeFactor: number;
}

/** A signature check's verdict; `relay` is the checked evidence, kept by quorum requests. */
export type RelayVerdict = { ok: true; relay: unknown } | { ok: false; reason: string };

/** How the gateway's ledger link takes part in every exchange with a ledger-sourced upstream. */
export interface RelayHooks {
  /** The `din-auth` token for this operator, if one is ready (never waits for a signature). */
  authToken(upstream: Upstream): string | undefined;
  /** Whether to ask for a signature on this relay (the sample). */
  sampleSign(): boolean;
  /** Checks the signature of a reply to a signed request; records evidence when it is bad. */
  verifyRelay(
    upstream: Upstream,
    method: string,
    params: readonly unknown[] | Record<string, unknown>,
    reply: UpstreamReply,
  ): Promise<RelayVerdict>;
  /** The operator answered a relay (counted for usage). */
  served(upstream: Upstream): void;
}

export interface CancelHandle {
  cancelled: boolean;
  /** Set by the attempt once it is on the wire. */
  abort?: (() => void) | undefined;
}

/** Cancels an attempt, whether or not it has reached the wire yet. */
export function cancelAttempt(handle: CancelHandle): void {
  handle.cancelled = true;
  handle.abort?.();
}

export interface SendOptions {
  timeoutMs: number;
  /** Lets a caller cancel the attempt (a hedge race's loser); cheaper than an AbortSignal per call. */
  cancel?: CancelHandle | undefined;
}

export interface CallOptions extends SendOptions {
  nullIsMissing?: boolean;
  /** The request's own cost may exceed the attempt's time (see `tooExpensive`). @default false */
  costly?: boolean;
  /** Ask a ledger-sourced operator to sign this relay whatever the sample says (quorum). */
  sign?: boolean;
  /** Receives the verified signed relay, when one was asked for and checked out. */
  evidence?: { relay?: unknown };
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
  lastThrottledAt = 0;
  /**
   * When (performance.now()) the latest request this upstream has answered was sent. A request sent after
   * an expensive one started and answered while it ran shows the operator serving others; replies to
   * requests sent before it say nothing (a node slow at everything finishes those late too).
   */
  lastAnsweredSentAt = 0;
  verdict: HealthVerdict = { state: "unhealthy", reasons: ["no head reported recently"] };
  /** Bumped when something that changes its ranking happens (failure, recovery, half-open probe). */
  changes = 0;
  // What the network learns about this upstream, changed only through the methods below.
  private observed: {
    head: HeadSample | undefined;
    headUpdatedAt: number;
    bannedUntil: number;
    quarantinedUntil: number;
    quarantineReason: string | undefined;
    chainChecked: boolean;
    chainCheckedAt: number;
    wrongChain: string | undefined;
    operator: LedgerOperator | undefined;
    hooks: RelayHooks | undefined;
  } = {
    head: undefined,
    headUpdatedAt: 0,
    bannedUntil: 0,
    quarantinedUntil: 0,
    quarantineReason: undefined,
    chainChecked: false,
    chainCheckedAt: 0,
    wrongChain: undefined,
    operator: undefined,
    hooks: undefined,
  };
  private tokenHeaders:
    | { token: string; plain: Record<string, string>; signed: Record<string, string> }
    | undefined;
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

  /** Its latest head poll's tags. */
  get head(): HeadSample | undefined {
    return this.observed.head;
  }
  /** When (Date.now()) `head` was polled. */
  get headUpdatedAt(): number {
    return this.observed.headUpdatedAt;
  }
  /** Date.now() until which it is banned for inconsistent block tags; 0 or past: not banned. */
  get bannedUntil(): number {
    return this.observed.bannedUntil;
  }
  /** Date.now() until which it is quarantined for contradicting a quorum (quarantine.ts); 0: not. */
  get quarantinedUntil(): number {
    return this.observed.quarantinedUntil;
  }
  /** Why it is quarantined, while it is. */
  get quarantineReason(): string | undefined {
    return this.observed.quarantineReason;
  }
  /**
   * The chain it serves was checked against its network's (eth_chainId, and the genesis hash where the
   * network names one) since it last failed to answer: a node that comes back may be another node.
   */
  get chainChecked(): boolean {
    return this.observed.chainChecked;
  }
  /** When (Date.now()) its chain was last found to be its network's. */
  get chainCheckedAt(): number {
    return this.observed.chainCheckedAt;
  }
  /** Why it is not its network's chain; undefined when it is (or is not checked yet). */
  get wrongChain(): string | undefined {
    return this.observed.wrongChain;
  }
  /** The ledger's view of this operator; undefined for upstreams from the config file. */
  get operator(): LedgerOperator | undefined {
    return this.observed.operator;
  }
  /** Auth, signatures and usage for ledger-sourced upstreams. */
  get hooks(): RelayHooks | undefined {
    return this.observed.hooks;
  }

  /** A head poll answered with these tags. */
  observeHead(sample: HeadSample, now = Date.now()): void {
    this.observed.head = sample;
    this.observed.headUpdatedAt = now;
  }

  /** Its chain must be checked again with the next head poll (it failed, or the check is old). */
  recheckChain(): void {
    this.observed.chainChecked = false;
  }

  /** Its chain was checked: `problem` says why it is not the network's, undefined when it is. */
  chainCheckAnswered(problem: string | undefined, now = Date.now()): void {
    this.observed.wrongChain = problem;
    if (problem !== undefined) return;
    this.observed.chainChecked = true;
    this.observed.chainCheckedAt = now;
  }

  /** Out of routing until `until` (Date.now() ms) for inconsistent block tags. */
  ban(until: number): void {
    this.observed.bannedUntil = until;
  }

  /** Out of routing until `until` for contradicting a quorum, or routed again (`until` 0). */
  setQuarantine(until: number, reason: string | undefined): void {
    this.observed.quarantinedUntil = until;
    this.observed.quarantineReason = until === 0 ? undefined : reason;
    this.changes++;
  }

  /** The ledger's latest view of the operator behind it, and the hooks that sign and account its relays. */
  bindOperator(operator: LedgerOperator, hooks?: RelayHooks): void {
    this.observed.operator = operator;
    if (hooks) this.observed.hooks = hooks;
  }

  /** A request id unique on this upstream's connections; clients' ids never reach operators. */
  requestId(): number {
    const id = this.nextRequestId;
    this.nextRequestId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return id;
  }

  /**
   * Sends a JSON body; throws on transport failure or timeout. Uses undici's dispatch API directly: the
   * stream-based `request` API costs a Readable and its machinery per call, which showed up as a large
   * share of the gateway's CPU under load. undici's headers/body timeouts bound the attempt. The reply is
   * collected by one `ReplyCollector` per call (methods on a prototype, no closures made per call).
   */
  send(body: string, options: SendOptions, sign = false): Promise<UpstreamReply> {
    return new Promise<UpstreamReply>((resolve, reject) => {
      const collector = new ReplyCollector(this, options, sign, resolve, reject);
      if (options.cancel?.cancelled) {
        collector.finish(new Error("cancelled"), undefined);
        return;
      }
      this.pool.dispatch(
        {
          origin: this.url.origin,
          path: this.path,
          method: "POST",
          headers: this.hooks ? this.ledgerHeaders(sign) : jsonContentType,
          body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
        },
        collector,
      );
    });
  }

  /** Headers of a request to a ledger-sourced operator: its access token, and `din-sign` when asked. */
  private ledgerHeaders(sign: boolean): Record<string, string> {
    const token = this.hooks!.authToken(this);
    if (token === undefined) return sign ? signHeaders : jsonContentType;
    // The token changes once a half-life: build its headers once, not per request.
    let cached = this.tokenHeaders;
    if (cached?.token !== token) {
      cached = {
        token,
        plain: { ...jsonContentType, [ACCESS_TOKEN_HEADER]: token },
        signed: { ...signHeaders, [ACCESS_TOKEN_HEADER]: token },
      };
      this.tokenHeaders = cached;
    }
    return sign ? cached.signed : cached.plain;
  }

  /**
   * One JSON-RPC call, classified. An attempt cancelled by the caller yields a "cancelled" outcome. A
   * ledger-sourced operator asked to sign (the sample, or `options.sign`) must sign what it served: a
   * missing or wrong signature makes the attempt a failure, and evidence.
   */
  async call(
    method: string,
    params: readonly unknown[] | Record<string, unknown> | undefined,
    options: CallOptions,
  ): Promise<AttemptOutcome | { kind: "cancelled" }> {
    const hooks = this.hooks;
    const sign = hooks !== undefined && (options.sign === true || hooks.sampleSign());
    // What JSON.stringify({ jsonrpc, id, method, params }) writes, without building the object.
    const body = `{"jsonrpc":"2.0","id":${this.requestId()},"method":${JSON.stringify(method)},"params":${JSON.stringify(params ?? [])}}`;
    const started = performance.now();
    const now = Date.now();
    if (this.breaker.state(now) !== "closed") this.changes++;
    this.breaker.onAttempt(now);
    let outcome: AttemptOutcome;
    try {
      const reply = await this.send(body, options, sign);
      outcome = classifyReply(reply.status, reply.body, options.nullIsMissing ?? false);
      if (hooks !== undefined && (outcome.kind === "result" || outcome.kind === "error")) {
        if (sign) {
          const verdict = await hooks.verifyRelay(this, method, params ?? [], reply);
          if (verdict.ok) {
            if (options.evidence) options.evidence.relay = verdict.relay;
          } else {
            outcome = retry("bad-signature", `bad relay signature: ${verdict.reason}`);
          }
        }
        if (outcome.kind !== "retry") hooks.served(this);
      }
    } catch (error) {
      if (options.cancel?.cancelled) {
        // Lost a hedge race: not a failure, but the time it had taken so far is a lower bound of its latency.
        this.breaker.onCancel();
        this.latency.add(performance.now() - started);
        return { kind: "cancelled" };
      }
      const timeout = error instanceof UpstreamTimeoutError;
      if (timeout && options.costly === true && this.lastAnsweredSentAt > started) {
        // It answered a request sent after this one while this one ran: the request is expensive, the
        // operator is not slow.
        return tooExpensive(method, options.timeoutMs);
      }
      outcome = transportFailure(describeTransportError(error), timeout);
    }
    this.record(outcome, performance.now() - started);
    return outcome;
  }

  record(outcome: AttemptOutcome, elapsedMs: number): void {
    if (outcome.kind === "retry" && isFailure(outcome.cause)) {
      this.changes++;
      this.errorRate.record(true);
      this.throttleRate.record(false);
      this.breaker.onFailure(Date.now());
      return;
    }
    this.latency.add(elapsedMs);
    this.latencyWindow.add(elapsedMs);
    this.errorRate.record(false);
    const throttled = outcome.kind === "retry" && outcome.cause === "rate-limited";
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
        ...(this.wrongChain ? { wrongChain: this.wrongChain } : {}),
      },
      this.healthConfig,
    );
    return this.verdict;
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
      ...(this.wrongChain ? { wrongChain: true } : {}),
      ...(this.quarantinedUntil > now ? { quarantined: true } : {}),
      ...(this.operator
        ? {
            stakeFactor: this.operator.stakeFactor,
            jailed: this.operator.jailed,
            queuedSlash: this.operator.queuedSlashes > 0,
          }
        : {}),
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

  /** Closes the pool once the requests already sent here are answered (an operator left the registry). */
  async retire(): Promise<void> {
    await this.pool.close();
  }
}

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseStart"]>>[0];

/** Collects one reply of `Upstream.send` (undici's dispatch handler), and settles its promise once. */
class ReplyCollector implements Dispatcher.DispatchHandler {
  private status = 0;
  private size = 0;
  private readonly chunks: Buffer[] = [];
  private signed: SignedReplyHeaders | undefined;
  private done = false;
  private readonly sentAt = performance.now();

  constructor(
    private readonly upstream: Upstream,
    private readonly options: SendOptions,
    private readonly sign: boolean,
    private readonly resolve: (reply: UpstreamReply) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  finish(error: unknown, reply: UpstreamReply | undefined): void {
    if (this.done) return;
    this.done = true;
    const cancel = this.options.cancel;
    if (cancel) cancel.abort = undefined;
    if (reply) this.resolve(reply);
    else this.reject(error);
  }

  onRequestStart(controller: Controller): void {
    const cancel = this.options.cancel;
    if (!cancel) return;
    if (cancel.cancelled) controller.abort(new Error("cancelled"));
    else cancel.abort = () => controller.abort(new Error("cancelled"));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: Record<string, unknown>): void {
    this.status = statusCode;
    if (this.sign) {
      const one = (name: string) => {
        const value = headers[name];
        return (Array.isArray(value) ? value[0] : value) as string | undefined;
      };
      this.signed = {
        operator: one("din-operator"),
        signature: one("din-signature"),
        relay: one("din-relay"),
        error: one("din-sign-error"),
      };
    }
    if (Number(headers["content-length"] ?? 0) > maxReplyBytes) {
      controller.abort(new Error("reply too large"));
      this.finish(undefined, { status: 502, body: undefined });
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > maxReplyBytes) {
      controller.abort(new Error("reply too large"));
      this.finish(undefined, { status: 502, body: undefined });
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.sentAt > this.upstream.lastAnsweredSentAt) this.upstream.lastAnsweredSentAt = this.sentAt;
    const chunks = this.chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
    let decoded: unknown;
    try {
      decoded = JSON.parse(text);
    } catch {
      decoded = undefined;
    }
    keepResultText(decoded, text);
    const status = this.status;
    this.finish(
      undefined,
      this.signed ? { status, body: decoded, signed: this.signed } : { status, body: decoded },
    );
  }

  onResponseError(_controller: Controller, error: Error): void {
    const code = (error as { code?: string }).code;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      this.finish(new UpstreamTimeoutError(`timed out after ${this.options.timeoutMs} ms`), undefined);
    } else this.finish(error, undefined);
  }
}

/**
 * An object result (a block, receipts, logs) keeps the text the operator sent, so that passing it on
 * needs no second serialization (cache.ts cachedJson); results are never changed in place.
 */
function keepResultText(decoded: unknown, text: string): void {
  if (typeof decoded !== "object" || decoded === null) return;
  const result = (decoded as { result?: unknown }).result;
  if (typeof result === "object" && result !== null) keepReplyText(result, text);
}

function describeTransportError(error: unknown): string {
  if (error instanceof UpstreamTimeoutError) return error.message;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}
