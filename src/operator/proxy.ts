// The operator node's data plane: a thin HTTP proxy in front of an execution client. Gateways and watchers
// send JSON-RPC here (with `auth`, only those the ledger admits); what a public RPC serves is forwarded over
// a keep-alive pool, within the node's own cost caps, and answered unchanged. In devnet mode a separate
// control listener lets tests and `din chaos` (with the control token) inject faults in front of the real node.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, pino } from "pino";
import { Pool } from "undici";
import { readBody } from "../http/body.js";
import { closeServer, listen } from "../http/listen.js";
import { createLimitedServer, type ListenerLimits, type TlsFiles } from "../http/listener.js";
import { ACCESS_TOKEN_HEADER } from "../ledger/din/auth.js";
import { fromQuantity } from "../rpc/blockTag.js";
import {
  DinError,
  InternalError,
  InvalidRequestError,
  LimitExceededError,
  ParseError,
  PayloadTooLargeError,
} from "../rpc/errors.js";
import { labelForMethod } from "../rpc/methods.js";
import {
  type Answer,
  errorAnswer,
  errorsFor,
  json,
  operatorUnavailable,
  type RequestTrace,
  rpcError,
  withRefusals,
} from "./answers.js";
import {
  type CallerAuthenticator,
  createCallerAuthenticator,
  type OperatorAuthOptions,
  UNAUTHORIZED_CODE,
} from "./auth.js";
import { defaultCallLimits, type LimitedCall, limitCall } from "./callLimits.js";
import { type ChaosState, isRecord, normalizeChaosState, parseChaosState } from "./chaos.js";
import { type ChaosMiddleware, chaosMiddleware, type Forward } from "./chaosMiddleware.js";
import { controlTokenMatches, generateControlToken, isValidControlToken } from "./controlToken.js";
import { LedgerNewsFollower } from "./ledgerNews.js";
import { refusalOf } from "./methodPolicy.js";
import { handleNodeApi, packageVersion } from "./nodeApi.js";
import { type LedgerView, NodeMonitor, PerformanceWindow } from "./nodeHealth.js";
import { methodLabel, OperatorMetrics } from "./nodeMetrics.js";
import { type RelaySignerOptions, signServedRelay } from "./relaySigner.js";
import { UpstreamHead, type UpstreamHeadInfo } from "./upstreamHead.js";

export interface OperatorNodeOptions {
  /** Operator id, as registered for the network. */
  id: string;
  /** HTTP JSON-RPC URL of the execution client this operator serves. */
  upstream: string;
  /** Interface the public listener binds to. @default "127.0.0.1" */
  host?: string;
  /** Port of the public listener; 0 lets the OS pick. @default 0 */
  port?: number;
  /**
   * Devnet mode: expose the chaos control listener and accept fault injection. Never on in production.
   * @default false
   */
  chaos?: boolean;
  /** Port of the chaos control listener (always bound to 127.0.0.1); 0 lets the OS pick. @default 0 */
  controlPort?: number;
  /**
   * Secret a chaos change needs (`authorization: Bearer <token>`), at least 32 characters.
   * @default a random one (see `OperatorNode.controlToken`)
   */
  controlToken?: string;
  /** Where the operator runs; informational, reported by `/healthz`. */
  labels?: { cloud?: string; region?: string };
  /** Signs relays for callers that send `din-sign: 1`. @default none (such callers get `din-sign-error`) */
  relaySigner?: RelaySignerOptions;
  /**
   * Serve only gateways and watchers admitted on the ledger: every JSON-RPC request needs a valid
   * `din-auth` access token for this operator; others get HTTP 401 (503 when the ledger cannot be read).
   * @default none (anyone is served: a private setup only)
   */
  auth?: OperatorAuthOptions;
  /** Largest request body accepted, in bytes. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Time allowed for the execution client to answer a request, in ms. @default 30000 */
  upstreamTimeoutMs?: number;
  /**
   * Most gas a call the EVM executes (eth_call, eth_estimateGas, eth_createAccessList, debug_traceCall,
   * trace_call) may use; a call without gas or with more is clamped to it, or to the latest block's gas
   * limit when that is lower. @default 50000000
   */
  gasCap?: bigint | number;
  /** Most blocks an eth_getLogs, eth_newFilter or trace_filter range may span; longer is refused (-32005). @default 10000 */
  maxLogRange?: number;
  /** Timeouts and header size of both listeners. @default see `ListenerLimits` */
  listenerLimits?: ListenerLimits;
  /** Serve the public listener over HTTPS with this certificate and key (PEM). @default plain HTTP */
  tls?: TlsFiles;
  /** Keep-alive connections kept open to the execution client. @default 32 */
  upstreamConnections?: number;
  /** A pino logger. @default silent */
  logger?: Logger;
  /**
   * Serve the AVS node API (`/eigen/node/…`) and Prometheus metrics (`/metrics`) on a listener of their own,
   * and probe the backing services in the background. @default off
   */
  nodeApi?: NodeApiOptions;
}

/** The node API and metrics listener, and what its health and metrics are computed from. */
export interface NodeApiOptions {
  /** Interface it binds to. @default "127.0.0.1" */
  host?: string;
  /** Its port; 0 lets the OS pick. @default 0 */
  port?: number;
  /** The ledger: probed, and read for this operator's stakes and registered signer. */
  ledger?: LedgerView;
  /** A call answered within this many ms counts as good in the performance score. @default 1000 */
  latencyBudgetMs?: number;
  /** How far back the performance score looks, in ms. @default 300000 */
  performanceWindowMs?: number;
  /** How often the execution client and the ledger are probed, in ms. @default 5000 */
  probeIntervalMs?: number;
  /** How often stakes and the signer's registration are read from the ledger, in ms. @default 60000 */
  stakeRefreshMs?: number;
  /** The execution client is Down when its latest block is older than this, in ms. @default off */
  maxHeadAgeMs?: number;
  /** Reported as `node_version`. @default package.json's version */
  version?: string;
}

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

export interface OperatorNode {
  id: string;
  /** Public JSON-RPC URL. */
  url: string;
  /** Chaos control URL; undefined unless started with `chaos: true`. */
  controlUrl: string | undefined;
  /** Node API and metrics URL (`/eigen/node/…`, `/metrics`); undefined unless started with `nodeApi`. */
  nodeApiUrl: string | undefined;
  /** The secret the chaos control asks for; undefined unless started with `chaos: true`. */
  controlToken: string | undefined;
  /** Public port; it stays the same across `down` and `flap`. */
  port: number;
  state(): ChaosState;
  /** Applies a fault (or `ok`); resolves once the listener is down or back up as the mode requires. */
  setChaos(state: ChaosState): Promise<void>;
  stats(): OperatorStats;
  close(): Promise<void>;
}

const defaults = {
  host: "127.0.0.1",
  port: 0,
  chaos: false,
  controlPort: 0,
  maxBodyBytes: 1024 * 1024,
  upstreamTimeoutMs: 30_000,
  upstreamConnections: 32,
} as const;

// A lagging operator needs the real head for every request; the upstream is asked at most this often.
const headCacheMs = 200;
// The limits need the head's number and gas limit, not to the block: one read a second at most.
const limitsHeadCacheMs = 1_000;
const controlMaxBodyBytes = 64 * 1024;
// A health probe that takes longer than this finds the execution client not answering.
const probeTimeoutMs = 5_000;

// What a client sees when the operator cannot answer (injected 503s, an unreachable execution client):
// "resource unavailable", which the gateway treats as retryable on another operator.

/** What goes back to the client: the single response path (see `respond`). */

/** Starts an operator node; resolves once its listeners accept connections. */
export async function startOperatorNode(options: OperatorNodeOptions): Promise<OperatorNode> {
  const node = new OperatorProxy(options);
  await node.start();
  return node.publicApi();
}

class OperatorProxy {
  private readonly id: string;
  private readonly host: string;
  private readonly chaosEnabled: boolean;
  /** Fault injection around the serving path; undefined unless started with chaos. */
  private readonly chaosLayer: ChaosMiddleware | undefined;
  /** Sends what passed the policy and limits to the execution client (through the chaos layer, if any). */
  private readonly forward: Forward;
  private readonly controlPort: number;
  private readonly labels: { cloud?: string; region?: string };
  private readonly relaySigner: RelaySignerOptions | undefined;
  private readonly authenticate: CallerAuthenticator | undefined;
  private readonly maxBodyBytes: number;
  private readonly limits: { gasCap: bigint; maxLogRange: number };
  private readonly listenerLimits: ListenerLimits;
  /** Whether the public listener speaks HTTPS. */
  private readonly tls: boolean;
  private readonly controlToken: string;
  private readonly upstreamTimeoutMs: number;
  private readonly log: Logger;
  private readonly pool: Pool;
  private readonly upstreamPath: string;
  private readonly server: Server;
  private controlServer: Server | undefined;
  private port: number;
  private controlUrl: string | undefined;

  private chaos: ChaosState = { mode: "ok" };
  /** Ends a fault given `forMs`. */
  private chaosExpiry: NodeJS.Timeout | undefined;
  // Bumped on every chaos change so a queued flap toggle from an older state does nothing.
  private chaosGeneration = 0;
  private flapTimer: NodeJS.Timeout | undefined;
  // Listener open/close steps run one after another; a close racing a re-listen would lose the port.
  private listenerSteps: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;

  private requestCount = 0;
  private unauthorizedCount = 0;
  private authUnavailableCount = 0;
  private rateLimitedCount = 0;
  private refusedCount = 0;
  /** caller role → method → requests; `byMethod` is their sum. */
  private readonly callerCounts = new Map<string, Map<string, number>>();

  private readonly head = new UpstreamHead(() => this.readHead());

  private readonly nodeApiOptions: NodeApiOptions | undefined;
  private readonly metrics: OperatorMetrics | undefined;
  private readonly performance: PerformanceWindow | undefined;
  private readonly monitor: NodeMonitor | undefined;
  /** Logs what the ledger decides about this operator (verdicts, slashes, jail), when it knows its address. */
  private readonly news: LedgerNewsFollower | undefined;
  private nodeApiServer: Server | undefined;
  private nodeApiUrl: string | undefined;

  constructor(options: OperatorNodeOptions) {
    this.id = options.id;
    this.host = options.host ?? defaults.host;
    this.port = options.port ?? defaults.port;
    this.chaosEnabled = options.chaos ?? defaults.chaos;
    this.chaosLayer = this.chaosEnabled
      ? chaosMiddleware({
          state: () => this.chaos,
          head: async () => (await this.head.get(headCacheMs)).number,
          forwardCall: (call) => this.forwardCall(call),
        })
      : undefined;
    const plain: Forward = (request, raw) => this.forwardRaw(raw ?? JSON.stringify(request));
    this.forward = this.chaosLayer ? this.chaosLayer.forward(plain) : plain;
    this.controlPort = options.controlPort ?? defaults.controlPort;
    this.labels = options.labels ?? {};
    this.relaySigner = options.relaySigner;
    this.authenticate = options.auth ? createCallerAuthenticator(options.auth) : undefined;
    this.maxBodyBytes = options.maxBodyBytes ?? defaults.maxBodyBytes;
    this.limits = {
      gasCap: BigInt(options.gasCap ?? defaultCallLimits.gasCap),
      maxLogRange: options.maxLogRange ?? defaultCallLimits.maxLogRange,
    };
    if (this.limits.gasCap <= 0n) throw new Error("gasCap must be positive");
    if (!Number.isInteger(this.limits.maxLogRange) || this.limits.maxLogRange <= 0) {
      throw new Error("maxLogRange must be a positive whole number of blocks");
    }
    this.listenerLimits = options.listenerLimits ?? {};
    this.controlToken = options.controlToken ?? generateControlToken();
    if (!isValidControlToken(this.controlToken)) {
      throw new Error("controlToken must be at least 32 printable characters");
    }
    this.log = (options.logger ?? pino({ level: "silent" })).child({ operator: this.id });
    const upstream = new URL(options.upstream);
    this.upstreamPath = `${upstream.pathname}${upstream.search}`;
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? defaults.upstreamTimeoutMs;
    this.pool = new Pool(upstream.origin, {
      connections: options.upstreamConnections ?? defaults.upstreamConnections,
      headersTimeout: this.upstreamTimeoutMs,
      bodyTimeout: this.upstreamTimeoutMs,
    });
    this.tls = options.tls !== undefined;
    this.server = createLimitedServer(
      this.listenerLimits,
      (req, res) => {
        this.handlePublic(req, res).catch((error: unknown) => this.failRequest(res, error));
      },
      options.tls,
    );
    this.nodeApiOptions = options.nodeApi;
    if (options.nodeApi) {
      const api = options.nodeApi;
      const performance = new PerformanceWindow({
        latencyBudgetMs: api.latencyBudgetMs ?? 1_000,
        ...(api.performanceWindowMs !== undefined ? { windowMs: api.performanceWindowMs } : {}),
      });
      const metrics = new OperatorMetrics({ performanceScore: () => performance.score() });
      this.performance = performance;
      this.metrics = metrics;
      this.monitor = new NodeMonitor({
        rpc: (method, params) => this.probeCall(method, params),
        performance,
        ...(api.ledger ? { ledger: api.ledger } : {}),
        ...(this.relaySigner ? { relaySigner: this.relaySigner } : {}),
        ...(api.probeIntervalMs !== undefined ? { probeIntervalMs: api.probeIntervalMs } : {}),
        ...(api.stakeRefreshMs !== undefined ? { stakeRefreshMs: api.stakeRefreshMs } : {}),
        ...(api.maxHeadAgeMs !== undefined ? { maxHeadAgeMs: api.maxHeadAgeMs } : {}),
        onChange: (event) => {
          if (event.kind === "status") {
            metrics.setServiceUp(event.service, event.status === "Up");
            const log = event.status === "Up" ? this.log.info.bind(this.log) : this.log.warn.bind(this.log);
            log({ service: event.service, status: event.status, reason: event.reason }, "service status");
          } else if (event.kind === "clientVersion") metrics.setClientVersion(event.version);
          else if (event.kind === "head") metrics.setHead(event.block);
          else metrics.setStake(event.network.id, event.network.name, event.tokens);
        },
      });
      for (const service of this.monitor.list()) metrics.setServiceUp(service.id, false);
      const ledger = api.ledger;
      if (ledger?.operator !== undefined) {
        this.news = new LedgerNewsFollower({
          client: ledger.client,
          deployment: ledger.deployment,
          operator: ledger.operator,
          intervalMs: api.probeIntervalMs ?? 5_000,
          onNews: (news) =>
            this.log[news.level](
              {
                ledger: news.kind,
                network: news.network,
                block: news.block.toString(),
                tx: news.transaction,
              },
              news.message,
            ),
          onError: (error) =>
            this.log.debug({ err: (error as Error).message }, "ledger news not read this time"),
        });
      }
    }
  }

  async start(): Promise<void> {
    await listen(this.server, this.port, this.host);
    this.port = (this.server.address() as AddressInfo).port;
    if (this.chaosEnabled) {
      const control = createLimitedServer(this.listenerLimits, (req, res) => {
        this.handleControl(req, res).catch((error: unknown) => this.failRequest(res, error));
      });
      await listen(control, this.controlPort, "127.0.0.1");
      this.controlServer = control;
      this.controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
    }
    if (this.nodeApiOptions && this.monitor && this.metrics) await this.startNodeApi(this.nodeApiOptions);
    this.news?.start();
    this.log.info(
      { url: this.url(), controlUrl: this.controlUrl, nodeApiUrl: this.nodeApiUrl, labels: this.labels },
      "operator node listening",
    );
  }

  private async startNodeApi(options: NodeApiOptions): Promise<void> {
    const monitor = this.monitor as NodeMonitor;
    const metrics = this.metrics as OperatorMetrics;
    const source = {
      nodeName: this.id,
      nodeVersion: options.version ?? packageVersion(),
      services: () => monitor.list(),
      health: () => monitor.health(),
      metrics: () => metrics.scrape(),
      metricsContentType: metrics.contentType,
    };
    const server = createLimitedServer(this.listenerLimits, (req, res) => {
      // handleNodeApi answers its own errors; this only guards against a bug there.
      handleNodeApi(source, req, res).catch((error: unknown) => this.failRequest(res, error));
    });
    const host = options.host ?? "127.0.0.1";
    try {
      await listen(server, options.port ?? 0, host);
    } catch (error) {
      // The public listener is up already: a node that failed to start must not keep it.
      await this.closeListener();
      if (this.controlServer) await closeServer(this.controlServer);
      throw error;
    }
    this.nodeApiServer = server;
    this.nodeApiUrl = `http://${displayHost(host)}:${(server.address() as AddressInfo).port}`;
    monitor.start();
  }

  publicApi(): OperatorNode {
    return {
      id: this.id,
      url: this.url(),
      controlUrl: this.controlUrl,
      nodeApiUrl: this.nodeApiUrl,
      controlToken: this.chaosEnabled ? this.controlToken : undefined,
      port: this.port,
      state: () => ({ ...this.chaos }),
      setChaos: (state) => this.setChaos(state),
      stats: () => this.stats(),
      close: () => this.close(),
    };
  }

  private url(): string {
    return `${this.tls ? "https" : "http"}://${displayHost(this.host)}:${this.port}`;
  }

  private stats(): OperatorStats {
    const byMethod: Record<string, number> = {};
    for (const counts of this.callerCounts.values()) {
      for (const [method, n] of counts) byMethod[method] = (byMethod[method] ?? 0) + n;
    }
    return {
      requests: this.requestCount,
      byMethod,
      byCaller: Object.fromEntries(
        [...this.callerCounts].map(([role, counts]) => [role, Object.fromEntries(counts)]),
      ),
      unauthorized: this.unauthorizedCount,
      authUnavailable: this.authUnavailableCount,
      rateLimited: this.rateLimitedCount,
      refused: this.refusedCount,
    };
  }

  // ---- chaos ----

  async setChaos(input: ChaosState): Promise<void> {
    if (!this.chaosEnabled) throw new Error("chaos control is off: start the operator with chaos enabled");
    if (this.closing !== undefined) throw new Error("operator node is closed");
    const parsed = parseChaosState(input);
    if (!parsed.ok) throw new Error(parsed.message);
    const state = normalizeChaosState(parsed.state);
    this.stopFlap();
    const generation = ++this.chaosGeneration;
    this.chaos = state;
    this.log.warn({ chaos: state }, "chaos state changed");
    if (state.forMs !== undefined) {
      // The fault ends by itself unless another state replaced it first.
      this.chaosExpiry = setTimeout(() => {
        if (generation !== this.chaosGeneration || this.closing !== undefined) return;
        this.setChaos({ mode: "ok" }).catch((error: unknown) =>
          this.log.error({ err: (error as Error).message }, "chaos did not end by itself"),
        );
      }, state.forMs);
      this.chaosExpiry.unref();
    }
    if (state.mode === "down") return this.setListening(false, generation);
    if (state.mode === "flap") {
      // Starts in the down phase so a flap is visible at once.
      let up = false;
      const step = this.setListening(false, generation);
      this.flapTimer = setInterval(() => {
        up = !up;
        // A failed step is logged by setListening; the next tick tries again.
        this.setListening(up, generation).catch(() => {});
      }, state.value);
      this.flapTimer.unref();
      return step;
    }
    return this.setListening(true, generation);
  }

  private stopFlap(): void {
    if (this.flapTimer !== undefined) clearInterval(this.flapTimer);
    this.flapTimer = undefined;
    if (this.chaosExpiry !== undefined) clearTimeout(this.chaosExpiry);
    this.chaosExpiry = undefined;
  }

  private setListening(open: boolean, generation: number): Promise<void> {
    const step = this.listenerSteps.then(async () => {
      if (generation !== this.chaosGeneration || this.closed) return;
      if (open) await this.openListener();
      else await this.closeListener();
    });
    this.listenerSteps = step.catch((error: unknown) => {
      this.log.error({ err: error }, "public listener could not change state");
    });
    return step;
  }

  private async openListener(): Promise<void> {
    if (this.server.listening) return;
    await listen(this.server, this.port, this.host);
    this.log.info({ port: this.port }, "public listener back up");
  }

  private closeListener(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // Open keep-alive connections would otherwise keep being served: `down` means nothing answers.
      this.server.closeAllConnections();
    });
  }

  // ---- public JSON-RPC listener ----

  private async handlePublic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      return respond(res, json(200, { ok: true, id: this.id, ...this.labels }));
    }
    if (req.method !== "POST") {
      return respond(res, errorAnswer(405, new InvalidRequestError("JSON-RPC requests must use POST")));
    }
    let caller = "anyone";
    const started = performance.now();
    if (this.authenticate) {
      // Before the body is read: a stranger costs one token check, never a forward.
      const verdict = await this.admit(req);
      if ("refusal" in verdict) {
        req.resume();
        return respond(res, verdict.refusal);
      }
      caller = verdict.role;
    }
    const body = await readBody(req, this.maxBodyBytes);
    if (body === undefined) {
      this.metrics?.refused("too_large");
      const tooLarge = new PayloadTooLargeError(this.maxBodyBytes);
      return respond(res, { ...errorAnswer(tooLarge.httpStatus, tooLarge), closeConnection: true });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      this.metrics?.refused("invalid_request");
      return respond(res, errorAnswer(400, new ParseError()));
    }
    if (Array.isArray(payload) ? payload.length === 0 : !isRecord(payload)) {
      this.metrics?.refused("invalid_request");
      return respond(
        res,
        errorAnswer(400, new InvalidRequestError("expected a request object or a non-empty batch")),
      );
    }
    this.count(payload, caller);
    const trace: RequestTrace = { forwarded: [], refused: [], failed: false };
    const answer = await this.serve(body, payload, trace);
    const signed = req.headers["din-sign"] === "1" ? await this.signed(payload, answer) : answer;
    this.observe(trace, signed, performance.now() - started);
    return respond(res, signed);
  }

  /**
   * Metrics and the performance window, per call: a forwarded call is served, or failed when the node could
   * not get an answer (the execution client unreachable, timed out, answered 5xx, or an injected failure).
   */
  private observe(trace: RequestTrace, answer: Answer, durationMs: number): void {
    const metrics = this.metrics;
    if (!metrics || !this.performance) return;
    const failed = trace.failed || answer.status >= 500;
    for (const method of trace.refused) metrics.call(method, "refused");
    for (const method of trace.forwarded) {
      metrics.call(method, failed ? "failed" : "served");
      // Calls failed before reaching the execution client (an injected fault) were not sent to it.
      if (!trace.injected) metrics.forwarded(method, durationMs / 1000);
      this.performance.call(!failed, durationMs);
    }
  }

  /** The admitted caller's role, or the answer that refuses an unauthenticated request. */
  private async admit(req: IncomingMessage): Promise<{ role: string } | { refusal: Answer }> {
    const header = req.headers[ACCESS_TOKEN_HEADER];
    const token = Array.isArray(header) ? header[0] : header;
    const source = req.socket.remoteAddress ?? "unknown";
    const verdict = await (this.authenticate as CallerAuthenticator)(token, source);
    if (verdict.ok) return { role: verdict.claims.role };
    if (verdict.status === 429) {
      this.rateLimitedCount++;
      this.metrics?.refused("rate_limited");
      this.log.debug({ source, reason: verdict.reason }, "caller not checked: too many ledger reads");
      return {
        refusal: {
          ...errorAnswer(429, new LimitExceededError(verdict.reason)),
          headers: { "retry-after": "1" },
        },
      };
    }
    if (verdict.status === 503) {
      this.authUnavailableCount++;
      this.metrics?.refused("auth_unavailable");
      this.log.warn({ reason: verdict.reason }, "caller not checked: ledger unavailable");
      return {
        refusal: {
          ...errorAnswer(503, operatorUnavailable("ledger unavailable: cannot check the caller")),
          headers: { "retry-after": "1" },
        },
      };
    }
    this.unauthorizedCount++;
    this.metrics?.refused("unauthorized");
    this.log.debug({ reason: verdict.reason }, "unauthorized request refused");
    return {
      refusal: {
        ...errorAnswer(401, new DinError(UNAUTHORIZED_CODE, `unauthorized: ${verdict.reason}`)),
        headers: { "www-authenticate": "DinToken" },
      },
    };
  }

  /**
   * Adds a signed relay to the answer of a single request (a batch is signed request by request by
   * asking for them one at a time). Without a signing key, the caller is told so rather than ignored.
   */
  private async signed(payload: unknown, answer: Answer): Promise<Answer> {
    if (!this.relaySigner)
      return { ...answer, headers: { "din-sign-error": "this operator has no signing key" } };
    if (answer.local === true) {
      return {
        ...answer,
        headers: { "din-sign-error": "refused by this operator: nothing was served to sign" },
      };
    }
    if (!isRecord(payload) || typeof payload.method !== "string" || answer.status !== 200 || !answer.body) {
      return { ...answer, headers: { "din-sign-error": "only a single successful request is signed" } };
    }
    let response: unknown;
    try {
      response = JSON.parse(answer.body.toString());
    } catch {
      return answer;
    }
    if (!isRecord(response)) return answer;
    const { headers } = await signServedRelay(
      this.relaySigner,
      { method: payload.method, params: payload.params },
      "error" in response ? { error: response.error } : { result: response.result },
    );
    return { ...answer, headers: { ...headers } };
  }

  private count(payload: unknown, caller: string): void {
    let byMethod = this.callerCounts.get(caller);
    if (!byMethod) {
      byMethod = new Map();
      this.callerCounts.set(caller, byMethod);
    }
    for (const call of Array.isArray(payload) ? payload : [payload]) {
      this.requestCount++;
      // Made-up names share one label: a client cannot grow these counters one name at a time.
      const method =
        isRecord(call) && typeof call.method === "string" ? labelForMethod(call.method) : "(invalid)";
      byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
    }
  }

  /**
   * Refuses what the node does not serve and applies its limits before the execution client; on a devnet
   * node the chaos middleware (chaosMiddleware.ts) wraps this path and the call upstream.
   */
  private serve(body: Buffer, payload: unknown, trace: RequestTrace): Promise<Answer> {
    const next = () => this.serveGuarded(body, payload, trace);
    return this.chaosLayer ? this.chaosLayer.around(payload, trace, next) : next();
  }

  private async serveGuarded(body: Buffer, payload: unknown, trace: RequestTrace): Promise<Answer> {
    try {
      const guarded = await this.guard(payload, trace);
      if (guarded.forward === undefined) return withRefusals(payload, undefined, guarded.refusals);
      // Untouched requests go upstream byte for byte.
      const answer = await this.forward(guarded.forward, guarded.changed ? undefined : body);
      return withRefusals(payload, answer, guarded.refusals);
    } catch (error) {
      trace.failed = true;
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      this.log.warn({ err: error }, "execution client did not answer");
      return errorsFor(
        payload,
        502,
        operatorUnavailable(
          timedOut
            ? `execution client did not answer within ${this.upstreamTimeoutMs} ms`
            : "execution client unavailable",
        ),
      );
    }
  }

  /**
   * What of `payload` may go upstream: each call passes the method policy and the limits (a batch call by
   * call). `forward` is the payload itself when nothing changed, and undefined when nothing is left.
   */
  private async guard(payload: unknown, trace?: RequestTrace): Promise<Guarded> {
    const head = () => this.head.get(limitsHeadCacheMs);
    const calls = Array.isArray(payload) ? payload : [payload];
    const outcomes = await Promise.all(
      calls.map((call): Promise<LimitedCall> | LimitedCall => {
        const refusal = refusalOf(call);
        return refusal ? { refusal } : limitCall(call as Record<string, unknown>, this.limits, head);
      }),
    );
    const forward: unknown[] = [];
    const refusals: unknown[] = [];
    let changed = false;
    for (const [index, outcome] of outcomes.entries()) {
      const call = calls[index];
      if ("refusal" in outcome) {
        this.refusedCount++;
        trace?.refused.push(methodLabel(call));
        changed = true;
        // A notification gets no answer, not even a refusal.
        if (isRecord(call) && "id" in call) refusals.push(rpcError(call.id, outcome.refusal.toJsonRpc()));
        continue;
      }
      if (outcome.call !== call) changed = true;
      trace?.forwarded.push(methodLabel(call));
      forward.push(outcome.call);
    }
    if (forward.length === 0) return { forward: undefined, changed, refusals };
    return { forward: Array.isArray(payload) ? forward : forward[0], changed, refusals };
  }

  private async forwardRaw(body: Buffer | string, timeoutMs = this.upstreamTimeoutMs): Promise<Answer> {
    const response = await this.pool.request({
      method: "POST",
      path: this.upstreamPath,
      headers: { "content-type": "application/json" },
      body,
      // undici's own timeouts are per read; this one bounds the whole exchange.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = Buffer.from(await response.body.arrayBuffer());
    return { status: response.statusCode, body: answer };
  }

  /** Forwards one call and returns the parsed response (undefined for a notification). */
  private async forwardCall(call: unknown): Promise<unknown> {
    const answer = await this.forwardRaw(JSON.stringify(call));
    const id = isRecord(call) ? (call.id ?? null) : null;
    const text = answer.body?.toString("utf8") ?? "";
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return rpcError(id, operatorUnavailable("execution client sent an unreadable answer").toJsonRpc());
    }
  }

  /**
   * A call of the node's own to the execution client (a health probe): past any injected fault, within 5 s
   * at most. Its result, or a throw when there is none.
   */
  private async probeCall(method: string, params: unknown[]): Promise<unknown> {
    const answer = await this.forwardRaw(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      Math.min(this.upstreamTimeoutMs, probeTimeoutMs),
    );
    if (answer.status !== 200 || answer.body === undefined) throw new Error(`HTTP ${answer.status}`);
    const response: unknown = JSON.parse(answer.body.toString("utf8"));
    if (!isRecord(response) || !("result" in response)) throw new Error(`${method} answered no result`);
    return response.result;
  }

  /** The execution client's latest block number and gas limit (through `this.head`, which caches it). */
  private async readHead(): Promise<UpstreamHeadInfo> {
    const response = await this.forwardCall({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getBlockByNumber",
      params: ["latest", false],
    });
    const block = isRecord(response) && isRecord(response.result) ? response.result : undefined;
    const number = fromQuantity(block?.number);
    const gasLimit = fromQuantity(block?.gasLimit);
    if (number === undefined || gasLimit === undefined) {
      throw new Error("execution client did not report its head");
    }
    return { number, gasLimit };
  }

  // ---- chaos control listener ----

  /**
   * Reads (GET) are open to local tools; a change needs the token and a JSON body. A web page can send
   * neither: a cross-origin request with `authorization` or `content-type: application/json` is preflighted,
   * and the control never answers with CORS headers. The Host check stops a rebound DNS name from reading.
   */
  private async handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = (req.socket.localPort ?? 0).toString();
    if (req.headers.host !== `127.0.0.1:${port}` && req.headers.host !== `localhost:${port}`) {
      return respond(res, json(403, { error: "the chaos control answers requests for 127.0.0.1 only" }));
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/chaos" && req.method === "GET") return respond(res, json(200, this.chaos));
    if (path === "/stats" && req.method === "GET") return respond(res, json(200, this.stats()));
    if (path === "/healthz" && req.method === "GET")
      return respond(res, json(200, { ok: true, id: this.id }));
    if (path !== "/chaos")
      return respond(res, json(404, { error: `no such endpoint: ${req.method} ${path}` }));
    if (req.method !== "POST") return respond(res, json(405, { error: "use GET or POST on /chaos" }));
    if (!controlTokenMatches(this.controlToken, req.headers.authorization)) {
      return respond(res, {
        ...json(401, { error: "a chaos change needs authorization: Bearer <control token>" }),
        headers: { "www-authenticate": "Bearer" },
      });
    }
    const contentType = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
    if (contentType !== "application/json") {
      return respond(
        res,
        json(415, { error: "a chaos change is a JSON body: content-type: application/json" }),
      );
    }
    const body = await readBody(req, controlMaxBodyBytes);
    if (body === undefined) {
      return respond(res, { ...json(413, { error: "chaos request too large" }), closeConnection: true });
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString("utf8"));
    } catch {
      return respond(res, json(400, { error: "body is not valid JSON" }));
    }
    const parsed = parseChaosState(input);
    if (!parsed.ok) return respond(res, json(400, { error: parsed.message }));
    try {
      await this.setChaos(parsed.state);
    } catch (error) {
      // e.g. the public port was taken while down: say so instead of pretending the change applied.
      const reason = error instanceof Error ? error.message : String(error);
      return respond(res, json(500, { error: `chaos change failed: ${reason}`, state: this.chaos }));
    }
    return respond(res, json(200, this.chaos));
  }

  // ---- lifecycle ----

  private failRequest(res: ServerResponse, error: unknown): void {
    this.log.error({ err: error }, "request failed");
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    respond(res, errorAnswer(500, new InternalError()));
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stopFlap();
    this.chaosGeneration++;
    await this.listenerSteps;
    this.closed = true;
    await this.closeListener();
    if (this.controlServer !== undefined) await closeServer(this.controlServer);
    this.monitor?.stop();
    await this.news?.stop();
    if (this.nodeApiServer !== undefined) await closeServer(this.nodeApiServer);
    await this.pool.destroy();
    this.log.info("operator node stopped");
  }
}

/**
 * The one place responses leave the operator. Relay signing (`din-sign: 1` → `din-operator` and
 * `din-signature` headers over the request and this body) hooks in here.
 */
function respond(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const headers: Record<string, string | number> = {};
  if (answer.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(answer.body);
  }
  if (answer.closeConnection === true) headers.connection = "close";
  if (answer.headers) Object.assign(headers, answer.headers);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** A request after the method policy and the limits. */
interface Guarded {
  /** What goes upstream (a call or a batch), or undefined when every call was refused. */
  forward: unknown;
  /** Whether `forward` differs from what the client sent. */
  changed: boolean;
  /** Error responses for the refused calls that expect an answer. */
  refusals: unknown[];
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
