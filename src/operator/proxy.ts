// The operator node's data plane: a thin HTTP proxy in front of an execution client. Gateways and watchers
// send JSON-RPC here (with `auth`, only those the ledger admits); what a public RPC serves is forwarded over
// a keep-alive pool, within the node's own cost caps, and answered unchanged. In devnet mode a separate
// control listener lets tests and `din chaos` (with the control token) inject faults in front of the real node.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, pino } from "pino";
import { readBody } from "../http/body.js";
import { closeServer, listen, urlHost } from "../http/listen.js";
import { createLimitedServer, type ListenerLimits, type TlsFiles } from "../http/listener.js";
import { requestPath } from "../http/path.js";
import { ACCESS_TOKEN_HEADER } from "../ledger/din/auth.js";
import {
  DinError,
  InternalError,
  InvalidRequestError,
  LimitExceededError,
  ParseError,
  PayloadTooLargeError,
} from "../rpc/errors.js";
import {
  type Answer,
  errorAnswer,
  errorsFor,
  json,
  operatorUnavailable,
  type RequestTrace,
  respond,
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
import { type ChaosState, isRecord } from "./chaos.js";
import { ChaosControl } from "./chaosControl.js";
import { chaosMiddleware, type Forward } from "./chaosMiddleware.js";
import { handleControl } from "./controlApi.js";
import { generateControlToken, isValidControlToken } from "./controlToken.js";
import { refusalOf } from "./methodPolicy.js";
import { type NodeApiOptions, NodeApiService } from "./nodeApiService.js";
import { methodLabel } from "./nodeMetrics.js";
import { type RelaySignerOptions, signAnswer } from "./relaySigner.js";
import { type OperatorStats, RequestCounts } from "./stats.js";
import { urlScheme } from "./tls.js";
import { Upstream } from "./upstream.js";
import { UpstreamHead } from "./upstreamHead.js";

export type { NodeApiOptions } from "./nodeApiService.js";
export type { OperatorStats } from "./stats.js";

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

/** Starts an operator node; resolves once its listeners accept connections. */
export async function startOperatorNode(options: OperatorNodeOptions): Promise<OperatorNode> {
  const node = new OperatorProxy(options);
  await node.start();
  return node.publicApi();
}

/**
 * The composition: the public listener and its request path (admission, policy and limits, the call
 * upstream, signing), with the chaos control (chaosControl.ts, controlApi.ts, chaosMiddleware.ts) and the
 * node API (nodeApiService.ts) beside it when they are asked for.
 */
class OperatorProxy {
  private readonly id: string;
  private readonly host: string;
  private readonly chaosEnabled: boolean;
  /** The fault in force and the public listener's up/down state. */
  private readonly chaos: ChaosControl;
  /** Serves a parsed request: `serve`, inside the chaos middleware when started with chaos. */
  private readonly handle: Serve;
  /** Sends what passed the policy and limits to the execution client (through the chaos layer, if any). */
  private readonly forward: Forward;
  private readonly controlPort: number;
  private readonly labels: { cloud?: string; region?: string };
  private readonly relaySigner: RelaySignerOptions | undefined;
  private readonly authenticate: CallerAuthenticator | undefined;
  private readonly maxBodyBytes: number;
  private readonly limits: { gasCap: bigint; maxLogRange: number };
  private readonly listenerLimits: ListenerLimits;
  private readonly scheme: "http" | "https";
  private readonly controlToken: string;
  private readonly log: Logger;
  private readonly upstream: Upstream;
  private readonly server: Server;
  private controlServer: Server | undefined;
  private port: number;
  private controlUrl: string | undefined;
  private closing: Promise<void> | undefined;

  private readonly counts = new RequestCounts();
  private readonly head = new UpstreamHead(() => this.upstream.readHead());
  /** Probes, metrics and the node API listener; undefined unless started with `nodeApi`. */
  private readonly nodeApi: NodeApiService | undefined;
  private nodeApiUrl: string | undefined;

  constructor(options: OperatorNodeOptions) {
    this.id = options.id;
    this.host = options.host ?? defaults.host;
    this.port = options.port ?? defaults.port;
    this.chaosEnabled = options.chaos ?? defaults.chaos;
    const chaosLayer = this.chaosEnabled
      ? chaosMiddleware({
          state: () => this.chaos.state(),
          head: async () => (await this.head.get(headCacheMs)).number,
          forwardCall: (call) => this.upstream.call(call),
        })
      : undefined;
    const plain: Forward = (request, raw) => this.upstream.send(raw ?? JSON.stringify(request));
    this.forward = chaosLayer ? chaosLayer.forward(plain) : plain;
    const serve: Serve = (body, payload, trace) => this.serve(body, payload, trace);
    this.handle = chaosLayer
      ? (body, payload, trace) => chaosLayer.around(payload, trace, () => serve(body, payload, trace))
      : serve;
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
    this.upstream = new Upstream(options.upstream, {
      timeoutMs: options.upstreamTimeoutMs ?? defaults.upstreamTimeoutMs,
      connections: options.upstreamConnections ?? defaults.upstreamConnections,
    });
    this.scheme = urlScheme(options.tls);
    this.server = createLimitedServer(
      this.listenerLimits,
      (req, res) => {
        this.handlePublic(req, res).catch((error: unknown) => this.failRequest(res, error));
      },
      options.tls,
    );
    this.chaos = new ChaosControl({
      enabled: this.chaosEnabled,
      server: this.server,
      host: this.host,
      port: () => this.port,
      closing: () => this.closing !== undefined,
      log: this.log,
    });
    this.nodeApi = options.nodeApi
      ? new NodeApiService(options.nodeApi, {
          id: this.id,
          probe: (method, params) => this.upstream.probe(method, params),
          relaySigner: this.relaySigner,
          listenerLimits: this.listenerLimits,
          log: this.log,
          onError: (res, error) => this.failRequest(res, error),
        })
      : undefined;
  }

  async start(): Promise<void> {
    await listen(this.server, this.port, this.host);
    this.port = (this.server.address() as AddressInfo).port;
    if (this.chaosEnabled) {
      const source = {
        id: this.id,
        token: this.controlToken,
        state: () => this.chaos.state(),
        setChaos: (state: ChaosState) => this.chaos.set(state),
        stats: () => this.counts.snapshot(),
      };
      const control = createLimitedServer(this.listenerLimits, (req, res) => {
        handleControl(source, req, res).catch((error: unknown) => this.failRequest(res, error));
      });
      await listen(control, this.controlPort, "127.0.0.1");
      this.controlServer = control;
      this.controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
    }
    if (this.nodeApi) {
      try {
        this.nodeApiUrl = await this.nodeApi.start();
      } catch (error) {
        // The public listener is up already: a node that failed to start must not keep it.
        await closeServer(this.server);
        if (this.controlServer) await closeServer(this.controlServer);
        throw error;
      }
    }
    this.log.info(
      { url: this.url(), controlUrl: this.controlUrl, nodeApiUrl: this.nodeApiUrl, labels: this.labels },
      "operator node listening",
    );
  }

  publicApi(): OperatorNode {
    return {
      id: this.id,
      url: this.url(),
      controlUrl: this.controlUrl,
      nodeApiUrl: this.nodeApiUrl,
      controlToken: this.chaosEnabled ? this.controlToken : undefined,
      port: this.port,
      state: () => ({ ...this.chaos.state() }),
      setChaos: (state) => this.chaos.set(state),
      stats: () => this.counts.snapshot(),
      close: () => this.close(),
    };
  }

  private url(): string {
    return `${this.scheme}://${urlHost(this.host)}:${this.port}`;
  }

  // ---- public JSON-RPC listener ----

  private async handlePublic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req.url);
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
      this.nodeApi?.metrics.refused("too_large");
      const tooLarge = new PayloadTooLargeError(this.maxBodyBytes);
      return respond(res, { ...errorAnswer(tooLarge.httpStatus, tooLarge), closeConnection: true });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      this.nodeApi?.metrics.refused("invalid_request");
      return respond(res, errorAnswer(400, new ParseError()));
    }
    if (Array.isArray(payload) ? payload.length === 0 : !isRecord(payload)) {
      this.nodeApi?.metrics.refused("invalid_request");
      return respond(
        res,
        errorAnswer(400, new InvalidRequestError("expected a request object or a non-empty batch")),
      );
    }
    this.counts.count(payload, caller);
    const trace: RequestTrace = { forwarded: [], refused: [], failed: false };
    const answer = await this.handle(body, payload, trace);
    const signed =
      req.headers["din-sign"] === "1" ? await signAnswer(this.relaySigner, payload, answer) : answer;
    this.nodeApi?.observe(trace, signed, performance.now() - started);
    return respond(res, signed);
  }

  /** The admitted caller's role, or the answer that refuses an unauthenticated request. */
  private async admit(req: IncomingMessage): Promise<{ role: string } | { refusal: Answer }> {
    const header = req.headers[ACCESS_TOKEN_HEADER];
    const token = Array.isArray(header) ? header[0] : header;
    const source = req.socket.remoteAddress ?? "unknown";
    const verdict = await (this.authenticate as CallerAuthenticator)(token, source);
    if (verdict.ok) return { role: verdict.claims.role };
    if (verdict.status === 429) {
      this.counts.rateLimited++;
      this.nodeApi?.metrics.refused("rate_limited");
      this.log.debug({ source, reason: verdict.reason }, "caller not checked: too many ledger reads");
      return {
        refusal: {
          ...errorAnswer(429, new LimitExceededError(verdict.reason)),
          headers: { "retry-after": "1" },
        },
      };
    }
    if (verdict.status === 503) {
      this.counts.authUnavailable++;
      this.nodeApi?.metrics.refused("auth_unavailable");
      this.log.warn({ reason: verdict.reason }, "caller not checked: ledger unavailable");
      return {
        refusal: {
          ...errorAnswer(503, operatorUnavailable("ledger unavailable: cannot check the caller")),
          headers: { "retry-after": "1" },
        },
      };
    }
    this.counts.unauthorized++;
    this.nodeApi?.metrics.refused("unauthorized");
    this.log.debug({ reason: verdict.reason }, "unauthorized request refused");
    return {
      refusal: {
        ...errorAnswer(401, new DinError(UNAUTHORIZED_CODE, `unauthorized: ${verdict.reason}`)),
        headers: { "www-authenticate": "DinToken" },
      },
    };
  }

  /**
   * Refuses what the node does not serve and applies its limits before the execution client. On a devnet
   * node the chaos middleware (chaosMiddleware.ts) wraps this path (`handle`) and the call upstream.
   */
  private async serve(body: Buffer, payload: unknown, trace: RequestTrace): Promise<Answer> {
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
            ? `execution client did not answer within ${this.upstream.timeoutMs} ms`
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
        this.counts.refused++;
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
    await this.chaos.shutDown();
    if (this.controlServer !== undefined) await closeServer(this.controlServer);
    await this.nodeApi?.stop();
    await this.upstream.close();
    this.log.info("operator node stopped");
  }
}

/** Answers a parsed request (`body` as received, `payload` parsed from it), noting in `trace` what became of it. */
type Serve = (body: Buffer, payload: unknown, trace: RequestTrace) => Promise<Answer>;

/** A request after the method policy and the limits. */
interface Guarded {
  /** What goes upstream (a call or a batch), or undefined when every call was refused. */
  forward: unknown;
  /** Whether `forward` differs from what the client sent. */
  changed: boolean;
  /** Error responses for the refused calls that expect an answer. */
  refusals: unknown[];
}
