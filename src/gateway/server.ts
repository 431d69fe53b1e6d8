/**
 * The gateway's HTTP server: `POST /v1/<network>[/<apiKey>]`, `GET /healthz`, `GET /metrics`.
 * Reads bodies under a size limit, parses them strictly, runs each request through the pipeline and
 * answers in JSON-RPC; a client never sees a stack trace and the process never dies of a request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import type { Chain, LocalAccount, PublicClient, Transport } from "viem";
import { Dashboard } from "../dashboard/http.js";
import { DashboardSource, type LocalNetwork } from "../dashboard/source.js";
import { readBody } from "../http/body.js";
import { headerValue } from "../http/headers.js";
import { listen } from "../http/listen.js";
import { readRpcPath, requestPath } from "../http/path.js";
import { connectLedger } from "../ledger/din/directory.js";
import {
  type DinError,
  InvalidRequestError,
  PayloadTooLargeError,
  UnknownNetworkError,
  UpstreamUnavailableError,
} from "../rpc/errors.js";
import { errorResponse } from "../rpc/jsonrpc.js";
import { answerBody, clientVersion } from "./answer.js";
import { relayResponseHeaders, SIGN_HEADER, wantsSignedRelay } from "./clientRelay.js";
import type { GatewayConfig } from "./config.js";
import type { RequestContext } from "./context.js";
import { healthReport } from "./healthReport.js";
import { type ClientCredentials, credentialsFrom } from "./keys/admission.js";
import { type KeyService, startKeyService } from "./keys/service.js";
import { type LedgerLink, startLedgerLink } from "./ledger.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import { Network } from "./network.js";
import { type QuorumMode, quorumModes } from "./quorum.js";
import { attachWebSockets, type WebSocketOptions } from "./ws.js";

export interface GatewayOptions {
  /** Logger for structured JSON logs. @default pino at the config's level, to stderr */
  logger?: Logger;
  /** WebSocket limits. @default defaultWebSocketOptions */
  webSockets?: Partial<WebSocketOptions>;
  /** The gateway's ledger key (a gateway admitted in GATEWAY_SET). @default from ledger.keyFile / keyEnv */
  ledgerAccount?: LocalAccount;
  /** A ledger client used instead of connecting to ledger.rpc (an in-process chain). @default ledger.rpc */
  ledgerClient?: PublicClient<Transport, Chain>;
  /** The dashboard at /dashboard: the local network it shows (`din up`'s operator ids and data dir). */
  dashboard?: { local?: () => LocalNetwork | undefined; assetsDir?: string };
}

export interface Gateway {
  url: string;
  port: number;
  networks: ReadonlyMap<string, Network>;
  metrics: GatewayMetrics;
  server: Server;
  /** API keys, limits and usage; undefined when keys are off. */
  keys: KeyService | undefined;
  /** The link to the DIN ledger; undefined without a `ledger` section. */
  ledger: LedgerLink | undefined;
  close(): Promise<void>;
}

/** Starts a gateway: polls every network's heads once, then listens. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? pino({ level: config.server.logLevel }, pino.destination(2));
  const metrics = createGatewayMetrics(config.risk ? { risk: { security: config.risk } } : {});
  const keys = config.keys.enabled
    ? await startKeyService(config.keys, { logger, registry: metrics.registry })
    : undefined;
  const networks = new Map(
    config.networks.map((network) => [
      network.name,
      new Network({
        config: network,
        routing: config.routing,
        health: config.health,
        cache: config.cache,
        metrics,
        logger,
      }),
    ]),
  );
  const ledger = config.ledger
    ? await startLedgerLink({
        config: config.ledger,
        networks,
        logger,
        account: options.ledgerAccount,
        client: options.ledgerClient,
        metrics,
      })
    : undefined;
  await Promise.all([...networks.values()].map((network) => network.start()));
  let url = "";
  // The dashboard reads the gateway's health in this process and the ledger the link follows.
  const dashboard = new Dashboard(
    new DashboardSource({
      gateway: { url: () => url, health: async () => healthReport(networks) },
      ledger:
        config.ledger && ledger
          ? {
              rpc: config.ledger.rpc,
              deployment: ledger.deployment,
              client:
                options.ledgerClient ?? connectLedger(config.ledger.rpc, ledger.deployment.chainId).public,
            }
          : undefined,
      local: options.dashboard?.local,
    }),
    {
      logger,
      ...(options.dashboard?.assetsDir ? { assetsDir: options.dashboard.assetsDir } : {}),
      ...(config.risk ? { security: config.risk } : {}),
    },
  );
  const handler = createRequestHandler({ config, networks, metrics, logger, keys, dashboard });
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
  const webSockets = attachWebSockets(server, {
    config,
    networks,
    metrics,
    logger,
    keys,
    ...(options.webSockets ? { options: options.webSockets } : {}),
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = config.routing.requestTimeoutMs + 30_000;
  await listen(server, config.server.port, config.server.host);
  const port = (server.address() as AddressInfo).port;
  url = `http://${config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host}:${port}`;
  logger.info({ url, networks: [...networks.keys()] }, "gateway listening");
  return {
    url,
    port,
    networks,
    metrics,
    server,
    keys,
    ledger,
    async close() {
      // A ledger that cannot be stopped cleanly must not keep the server open.
      await ledger
        ?.stop()
        .catch((error: unknown) => logger.warn({ err: error }, "ledger link did not stop cleanly"));
      await webSockets.close();
      dashboard.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([...networks.values()].map((network) => network.stop()));
      await keys?.close(); // after the server: every answered request's usage is written
    },
  };
}

interface HandlerDeps {
  config: GatewayConfig;
  networks: ReadonlyMap<string, Network>;
  metrics: GatewayMetrics;
  logger: Logger;
  keys?: KeyService | undefined;
  dashboard?: Dashboard | undefined;
}

/**
 * Browser dApps call the gateway cross-origin. Every answer says who may read it and which of its headers
 * a page may see; what may be sent (methods, request headers) is said once, to the browser's preflight,
 * which caches it for a day. Built once, not per request.
 */
const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": ["din-upstream", ...relayResponseHeaders].join(", "),
};
const preflightHeaders: Readonly<Record<string, string>> = {
  ...corsHeaders,
  "access-control-allow-headers": `content-type, authorization, din-session-id, din-quorum, din-quorum-mode, ${SIGN_HEADER}`,
  "access-control-allow-methods": "POST, GET, OPTIONS",
  "access-control-max-age": "86400",
};
const jsonHeaders: Readonly<Record<string, string>> = { ...corsHeaders, "content-type": "application/json" };

export function createRequestHandler(deps: HandlerDeps) {
  const { config, networks, logger } = deps;
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = requestPath(request.url);
    if (request.method === "OPTIONS") {
      response.writeHead(204, preflightHeaders).end();
      return;
    }
    if (path === "/healthz" && request.method === "GET") {
      const report = healthReport(networks);
      sendJson(response, report.status === "down" ? 503 : 200, report);
      return;
    }
    if (path === "/metrics" && request.method === "GET") {
      deps.metrics.registry.metrics().then(
        (text) => {
          response
            .writeHead(200, { ...corsHeaders, "content-type": deps.metrics.registry.contentType })
            .end(text);
        },
        () => sendJson(response, 500, { error: "metrics unavailable" }),
      );
      return;
    }
    if (deps.dashboard && Dashboard.owns(path)) {
      deps.dashboard.handle(request, response);
      return;
    }
    if (path.startsWith("/admin/") && deps.keys) {
      void deps.keys.admin(request, response, path);
      return;
    }
    const match = readRpcPath(path, "/v1");
    if (!match) {
      const message = `no route for ${request.method} ${path.slice(0, 100)}; JSON-RPC goes to POST /v1/<network>/<apiKey>`;
      // A JSON-RPC client posting to a wrong path still gets an answer it can parse.
      if (request.method === "POST") sendRpcError(response, 404, new InvalidRequestError(message));
      else sendJson(response, 404, { error: message });
      return;
    }
    if (request.method !== "POST") {
      sendRpcError(response, 405, new InvalidRequestError("JSON-RPC requests must be sent with POST"));
      return;
    }
    const network = match.network === undefined ? undefined : networks.get(match.network);
    if (!network) {
      request.resume();
      sendRpcError(response, 404, new UnknownNetworkError(match.rawNetwork, [...networks.keys()]));
      return;
    }
    const apiKey = match.apiKey;
    const credentials = deps.keys ? credentialsFrom(network.name, apiKey, request.headers) : undefined;
    const limit = config.server.maxBodyBytes;
    if (!credentials) {
      // Keys off: nothing to check before the body is read.
      readBody(request, limit).then(
        (body) => answerHttp(deps, request, response, network, apiKey, undefined, body),
        (error: unknown) => unreadableBody(deps, response, error),
      );
      return;
    }
    // The key is in the path: a request with a bad one is refused before its body is read or parsed.
    deps
      .keys!.admission.authenticate(credentials)
      .then(
        (auth) => {
          if (auth.ok) return readBody(request, limit);
          sendRpcError(response, auth.error.httpStatus, auth.error, true);
          return null;
        },
        (error: unknown) => {
          logger.error({ err: error }, "API key check failed");
          sendRpcError(
            response,
            503,
            new UpstreamUnavailableError("API keys cannot be checked right now"),
            true,
          );
          return null;
        },
      )
      .then(
        (body) =>
          body === null ? undefined : answerHttp(deps, request, response, network, apiKey, credentials, body),
        (error: unknown) => unreadableBody(deps, response, error),
      );
  };
}

function unreadableBody(deps: HandlerDeps, response: ServerResponse, error: unknown): void {
  deps.logger.warn({ err: error }, "request body could not be read");
  if (!response.headersSent)
    sendRpcError(response, 400, new InvalidRequestError("the request body could not be read"));
}

/** Answers a JSON-RPC body read from `request` (undefined: it exceeded the size limit). */
async function answerHttp(
  deps: HandlerDeps,
  request: IncomingMessage,
  response: ServerResponse,
  network: Network,
  apiKey: string | undefined,
  credentials: ClientCredentials | undefined,
  body: Buffer | undefined,
): Promise<void> {
  const { config } = deps;
  if (body === undefined) {
    sendRpcError(response, 413, new PayloadTooLargeError(config.server.maxBodyBytes), true);
    return;
  }
  const headers = request.headers;
  const quorumHeader = headerValue(headers["din-quorum"]);
  let quorum: number | undefined;
  if (quorumHeader !== undefined) {
    quorum = Number(quorumHeader);
    if (!Number.isInteger(quorum) || quorum < 1) {
      sendRpcError(response, 400, new InvalidRequestError("din-quorum must be a positive integer"));
      return;
    }
  }
  const quorumMode = headerValue(headers["din-quorum-mode"]);
  if (quorumMode !== undefined && !quorumModes.includes(quorumMode as QuorumMode)) {
    sendRpcError(
      response,
      400,
      new InvalidRequestError(`din-quorum-mode must be one of: ${quorumModes.join(", ")}`),
    );
    return;
  }
  const context: RequestContext = {
    network,
    client: apiKey !== undefined && deps.keys ? apiKey : (request.socket.remoteAddress ?? "unknown"),
    sessionId: headerValue(headers["din-session-id"]) ?? apiKey,
    quorum,
    quorumMode: quorumMode as QuorumMode | undefined,
    sign: wantsSignedRelay(headerValue(headers[SIGN_HEADER])),
    deadline: Date.now() + config.routing.requestTimeoutMs,
    transport: "http",
    clientVersion,
    admit: credentials ? deps.keys?.admitter(credentials) : undefined,
  };
  const output = await answerBody(body.toString("utf8"), body.length, context, deps);
  if (output === undefined) response.writeHead(204, corsHeaders).end();
  else {
    // With its length given the answer goes out in one piece, not in chunked framing.
    response
      .writeHead(output.status, answerHeaders(output.headers, Buffer.byteLength(output.body)))
      .end(output.body);
  }
}

/**
 * The headers of a JSON answer of `length` bytes with `extra` (din-upstream, a signed relay's): one object
 * per `extra`, merged once, whose content-length is set for the answer about to be written. Sharing it is
 * safe because `writeHead` turns the object into the header block at once, before anything else runs.
 */
const answerHeaderSets = new WeakMap<Record<string, string>, Record<string, string | number>>();
const plainAnswerHeaders: Record<string, string | number> = { ...jsonHeaders, "content-length": 0 };

function answerHeaders(
  extra: Record<string, string> | undefined,
  length: number,
): Record<string, string | number> {
  let headers = plainAnswerHeaders;
  if (extra !== undefined) {
    let merged = answerHeaderSets.get(extra);
    if (!merged) {
      merged = { ...jsonHeaders, ...extra, "content-length": 0 };
      answerHeaderSets.set(extra, merged);
    }
    headers = merged;
  }
  headers["content-length"] = length;
  return headers;
}

function sendRpcError(response: ServerResponse, status: number, error: DinError, close = false): void {
  if (response.headersSent) return;
  const headers: Record<string, string> = close ? { ...jsonHeaders, connection: "close" } : jsonHeaders;
  response.writeHead(status, headers).end(JSON.stringify(errorResponse(null, error.toJsonRpc())));
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, jsonHeaders).end(JSON.stringify(value));
}
