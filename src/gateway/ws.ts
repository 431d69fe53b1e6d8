/**
 * WebSocket endpoint `/ws/v1/<network>[/<apiKey>]`: every JSON-RPC method HTTP serves, through the same
 * pipeline, plus `eth_subscribe`/`eth_unsubscribe` for `newHeads`, `logs` and `newPendingTransactions`.
 * Subscriptions are served from the gateway's own view of the chain (ChainFollower), not from a socket
 * pinned to one operator, so they outlive any operator. Limits protect the gateway: subscriptions per
 * connection, connections per key, message size, ping/pong liveness and a bounded send buffer.
 */
import { randomBytes } from "node:crypto";
import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type WebSocket, WebSocketServer } from "ws";
import { headerValue } from "../http/headers.js";
import { readRpcPath, requestPath } from "../http/path.js";
import { InvalidParamsError, LimitExceededError, UnknownNetworkError } from "../rpc/errors.js";
import { type JsonRpcRequest, positionalParams } from "../rpc/jsonrpc.js";
import { answerBody, clientVersion } from "./answer.js";
import { type ChainEvent, ChainFollower } from "./chainFollower.js";
import type { GatewayConfig } from "./config.js";
import type { Answer, RequestContext } from "./context.js";
import { type AdmitBody, credentialsFrom } from "./keys/admission.js";
import type { KeyService } from "./keys/service.js";
import { type LogFilter, matchesLogFilter, parseLogFilter } from "./logFilter.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Network } from "./network.js";
import { PendingFollower } from "./pendingFollower.js";
import { handleRequest } from "./pipeline.js";

/** Close codes a client can act on (4000–4999 are the application's). */
export const wsCloseCodes = {
  /** The client did not read its messages fast enough; reconnect and read faster. */
  slowConsumer: 4008,
  /** Too many connections for this key. */
  tooManyConnections: 4029,
  /** The gateway is shutting down; reconnect. */
  goingAway: 1001,
  /** The API key was revoked or no longer authenticates. */
  keyRefused: 4401,
  /** The key's daily quota is spent; reconnect after 00:00 UTC. */
  quotaSpent: 4402,
} as const;

export interface WebSocketOptions {
  /** Subscriptions one connection may hold. @default 100 */
  maxSubscriptionsPerConnection: number;
  /** Open connections per API key (or per client address without a key). @default 100 */
  maxConnectionsPerKey: number;
  /** Largest incoming message. @default 1048576 (1 MiB) */
  maxMessageBytes: number;
  /** Ping period; a connection that did not answer the previous ping is closed. @default 30000 */
  pingIntervalMs: number;
  /** Bytes queued for a client before it is disconnected as a slow consumer. @default 4194304 (4 MiB) */
  maxBufferedBytes: number;
}

export const defaultWebSocketOptions: WebSocketOptions = {
  maxSubscriptionsPerConnection: 100,
  maxConnectionsPerKey: 100,
  maxMessageBytes: 1_048_576,
  pingIntervalMs: 30_000,
  maxBufferedBytes: 4 * 1_048_576,
};

type SubscriptionKind = "newHeads" | "logs" | "newPendingTransactions";

interface Subscription {
  kind: SubscriptionKind;
  stop: () => void;
}

export interface WebSocketDeps {
  config: GatewayConfig;
  networks: ReadonlyMap<string, Network>;
  metrics: GatewayMetrics;
  logger: Logger;
  options?: Partial<WebSocketOptions>;
  /** API keys: connections are authenticated at the upgrade and messages admitted like HTTP bodies. */
  keys?: KeyService | undefined;
}

export interface WebSocketEndpoint {
  /** Open connections. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Serves WebSockets on the gateway's HTTP server (the `upgrade` event). */
export function attachWebSockets(server: Server, deps: WebSocketDeps): WebSocketEndpoint {
  const options = { ...defaultWebSocketOptions, ...deps.options };
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes });
  const perKey = new Map<string, number>();
  // Open sockets per API key, so a revoked key or a spent daily quota closes them.
  const socketsOfKey = new Map<string, Set<WebSocket>>();
  const closeKey = (key: string, code: number, reason: string) => {
    for (const socket of socketsOfKey.get(key) ?? []) socket.close(code, reason);
  };
  deps.keys?.admission.onQuotaSpent((key) =>
    closeKey(key, wsCloseCodes.quotaSpent, "daily quota spent until 00:00 UTC"),
  );
  deps.keys?.registry.onChange((record) => {
    if (record.revokedAt !== null && record.revokedAt.getTime() <= Date.now()) {
      closeKey(record.key, wsCloseCodes.keyRefused, "API key revoked");
    }
  });
  interface NetworkFollowers {
    chain: ChainFollower;
    pending: PendingFollower;
    logSubscribers: number;
  }
  const followers = new Map<string, NetworkFollowers>();

  const followersOf = (network: Network): NetworkFollowers => {
    const existing = followers.get(network.name);
    if (existing) return existing;
    const onSourceSwitch = () => deps.metrics.wsSourceSwitches.inc({ network: network.name });
    const created: NetworkFollowers = {
      logSubscribers: 0,
      chain: new ChainFollower(network, {
        wantLogs: (): boolean => created.logSubscribers > 0,
        onSourceSwitch,
      }),
      pending: new PendingFollower(network, { onSourceSwitch }),
    };
    followers.set(network.name, created);
    return created;
  };

  // Every socket that asked for an upgrade, until it closes: the HTTP server stops tracking it once it is
  // upgraded or refused, so a client that never closes one could otherwise hold the gateway's close.
  const upgradeSockets = new Set<Duplex>();
  server.on("upgrade", async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgradeSockets.add(socket);
    socket.once("close", () => upgradeSockets.delete(socket));
    // A peer resetting the connection is its business; it must not become an uncaught error.
    socket.on("error", () => socket.destroy());
    const path = requestPath(request.url);
    const match = readRpcPath(path, "/ws/v1");
    const network = match?.network === undefined ? undefined : deps.networks.get(match.network);
    if (!match || !network) {
      const error = match ? new UnknownNetworkError(match.rawNetwork, [...deps.networks.keys()]) : undefined;
      rejectUpgrade(socket, 404, error?.shortMessage ?? "no WebSocket endpoint here; use /ws/v1/<network>");
      return;
    }
    const apiKey = match.apiKey;
    let admit: AdmitBody | undefined;
    if (deps.keys) {
      const credentials = credentialsFrom(network.name, apiKey, request.headers);
      const auth = await deps.keys.admission.authenticate(credentials);
      if (!auth.ok) {
        rejectUpgrade(socket, auth.error.httpStatus, auth.error.shortMessage);
        return;
      }
      admit = deps.keys.admitter(credentials);
    }
    const owner = apiKey ?? request.socket.remoteAddress ?? "unknown";
    if ((perKey.get(owner) ?? 0) >= options.maxConnectionsPerKey) {
      rejectUpgrade(socket, 429, `more than ${options.maxConnectionsPerKey} connections for this key`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      perKey.set(owner, (perKey.get(owner) ?? 0) + 1);
      if (admit && apiKey !== undefined) {
        const sockets = socketsOfKey.get(apiKey) ?? new Set<WebSocket>();
        sockets.add(ws);
        socketsOfKey.set(apiKey, sockets);
        ws.once("close", () => {
          sockets.delete(ws);
          if (sockets.size === 0) socketsOfKey.delete(apiKey);
        });
      }
      deps.metrics.wsConnections.inc({ network: network.name });
      // A connection without a session id is a session of its own.
      const sessionId =
        headerValue(request.headers["din-session-id"]) ?? apiKey ?? `ws-${randomBytes(8).toString("hex")}`;
      const client = admit && apiKey !== undefined ? apiKey : (request.socket.remoteAddress ?? "unknown");
      serveConnection(
        ws,
        network,
        { client, sessionId },
        () => {
          perKey.set(owner, (perKey.get(owner) ?? 1) - 1);
          if (perKey.get(owner) === 0) perKey.delete(owner);
          deps.metrics.wsConnections.dec({ network: network.name });
        },
        admit,
      );
    });
  });

  function serveConnection(
    ws: WebSocket,
    network: Network,
    owner: { client: string; sessionId: string },
    onClose: () => void,
    admit?: AdmitBody,
  ): void {
    const subscriptions = new Map<string, Subscription>();
    let alive = true;
    let closed = false;

    const send = (message: unknown): void => {
      if (closed || ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > options.maxBufferedBytes) {
        deps.logger.info(
          { network: network.name, buffered: ws.bufferedAmount },
          "closing a slow WebSocket consumer",
        );
        ws.close(wsCloseCodes.slowConsumer, "slow consumer: messages were not read fast enough");
        // A client that does not read cannot read the close frame either: do not hold its buffer for long.
        setTimeout(() => ws.terminate(), 5_000).unref();
        cleanup();
        return;
      }
      ws.send(typeof message === "string" ? message : JSON.stringify(message));
      deps.metrics.wsMessagesOut.inc({ network: network.name });
    };

    const notify = (subscription: string, result: unknown) =>
      send({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription, result } });

    const subscribe = (params: readonly unknown[]): Answer => {
      if (subscriptions.size >= options.maxSubscriptionsPerConnection) {
        throw new LimitExceededError(
          `more than ${options.maxSubscriptionsPerConnection} subscriptions on one connection`,
        );
      }
      const kind = params[0];
      const id = `0x${randomBytes(16).toString("hex")}`;
      const followersOfNetwork = followersOf(network);
      let stop: () => void;
      if (kind === "newHeads") {
        stop = followersOfNetwork.chain.subscribe((event: ChainEvent) => {
          if (event.kind === "block") notify(id, event.block.header);
        });
      } else if (kind === "logs") {
        const filter: LogFilter = parseLogFilter(params[1]);
        followersOfNetwork.logSubscribers++;
        const unsubscribe = followersOfNetwork.chain.subscribe((event: ChainEvent) => {
          const removed = event.kind === "removed";
          const logs = removed ? [...event.block.logs].reverse() : event.block.logs;
          for (const log of logs) {
            if (matchesLogFilter(log, filter)) notify(id, { ...log, removed });
          }
        });
        stop = () => {
          followersOfNetwork.logSubscribers--;
          unsubscribe();
        };
      } else if (kind === "newPendingTransactions") {
        stop = followersOfNetwork.pending.subscribe((hash) => notify(id, hash));
      } else {
        throw new InvalidParamsError(
          `unknown subscription ${JSON.stringify(kind)?.slice(0, 40)}; use newHeads, logs or newPendingTransactions`,
        );
      }
      subscriptions.set(id, { kind, stop });
      deps.metrics.wsSubscriptions.inc({ network: network.name, type: kind });
      return { result: id };
    };

    const unsubscribe = (id: unknown): Answer => {
      const subscription = typeof id === "string" ? subscriptions.get(id) : undefined;
      if (!subscription) return { result: false };
      subscription.stop();
      subscriptions.delete(id as string);
      deps.metrics.wsSubscriptions.dec({ network: network.name, type: subscription.kind });
      return { result: true };
    };

    const handler = async (request: JsonRpcRequest, context: RequestContext): Promise<Answer> => {
      if (request.method === "eth_subscribe") return subscribe(positionalParams(request));
      if (request.method === "eth_unsubscribe") return unsubscribe(positionalParams(request)[0]);
      return handleRequest(request, context);
    };

    const cleanup = () => {
      if (closed) return;
      closed = true;
      clearInterval(pinger);
      for (const [id] of subscriptions) unsubscribe(id);
      onClose();
    };

    const pinger = setInterval(() => {
      if (!alive) {
        ws.terminate();
        cleanup();
        return;
      }
      alive = false;
      ws.ping();
    }, options.pingIntervalMs);
    pinger.unref();

    ws.on("pong", () => {
      alive = true;
    });
    ws.on("message", (data, isBinary) => {
      alive = true;
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      const context: RequestContext = {
        network,
        client: owner.client,
        sessionId: owner.sessionId,
        quorum: undefined,
        deadline: Date.now() + deps.config.routing.requestTimeoutMs,
        transport: "ws",
        clientVersion,
        admit,
      };
      answerBody(text, Buffer.byteLength(text), context, deps, handler).then(
        (output) => {
          if (output) send(output.body);
          if (output?.status === 401) ws.close(wsCloseCodes.keyRefused, "API key refused");
          else if (output?.status === 402)
            ws.close(wsCloseCodes.quotaSpent, "daily quota spent until 00:00 UTC");
        },
        (error: unknown) => {
          deps.logger.error({ err: error }, "WebSocket message failed unexpectedly");
          send({ jsonrpc: "2.0", id: null, error: { code: -32603, message: "Internal error" } });
        },
      );
    });
    ws.on("close", cleanup);
    ws.on("error", (error) => {
      deps.logger.debug({ err: error }, "WebSocket error");
      cleanup();
    });
  }

  return {
    get connections() {
      return wss.clients.size;
    },
    async close() {
      for (const client of wss.clients) client.close(wsCloseCodes.goingAway, "gateway shutting down");
      for (const { chain, pending } of followers.values()) {
        chain.stop();
        pending.stop();
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const client of wss.clients) client.terminate();
      for (const socket of upgradeSockets) socket.destroy();
    },
  };
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // A refused client that neither reads nor closes would keep a half-open socket forever.
  setTimeout(() => socket.destroy(), 2_000).unref();
}
