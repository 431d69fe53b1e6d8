// Size- and time-limited HTTP(S) listeners (the operator node's public and chaos-control ones, the watcher's /metrics).
// Node's defaults let a client hold a socket for a minute sending a header a byte at a time, and check
// those deadlines only every 30 s: a hundred slow sockets stay open long after they should be gone.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";

/** How long and how much a client may take to send a request. */
export interface ListenerLimits {
  /** Time a client has to send a request's headers, in ms. @default 10000 */
  headersTimeoutMs?: number;
  /** Time a client has to send a whole request (headers and body), in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Idle time after which a keep-alive connection is closed, in ms. @default 10000 */
  keepAliveTimeoutMs?: number;
  /** Largest request head (request line and headers), in bytes. @default 8192 */
  maxHeaderBytes?: number;
}

export const defaultListenerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than a gateway's keep-alive pool keeps an idle connection, so reuse rarely races a close.
  keepAliveTimeoutMs: 10_000,
  // An access token is a few hundred bytes; a larger head is not a gateway's.
  maxHeaderBytes: 8 * 1024,
} as const satisfies Required<ListenerLimits>;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A certificate and its private key (PEM), to serve HTTPS. */
export type TlsFiles = { cert: string | Buffer; key: string | Buffer };

/**
 * An HTTP server (HTTPS with `tls`) enforcing `limits`; a client error (a reset, a timeout, a failed TLS
 * handshake) closes only its own socket.
 */
export function createLimitedServer(limits: ListenerLimits, handler: Handler, tls?: TlsFiles): Server {
  const headersTimeout = limits.headersTimeoutMs ?? defaultListenerLimits.headersTimeoutMs;
  const requestTimeout = limits.requestTimeoutMs ?? defaultListenerLimits.requestTimeoutMs;
  if (!(headersTimeout > 0) || !(requestTimeout >= headersTimeout)) {
    throw new Error(
      `listener timeouts: headersTimeoutMs (${headersTimeout}) must be positive and at most requestTimeoutMs (${requestTimeout})`,
    );
  }
  const options = {
    keepAlive: true,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs ?? defaultListenerLimits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes ?? defaultListenerLimits.maxHeaderBytes,
    // Deadlines are only as precise as this sweep; Node's 30 s default outlives a 10 s headers timeout.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
  // An HTTPS server is an HTTP server over TLS: the same listen, close and connection calls apply.
  const server = tls
    ? (createTlsServer({ ...options, cert: tls.cert, key: tls.key }, handler) as unknown as Server)
    : createServer(options, handler);
  // A client resetting its socket must not take the operator down with an unhandled error.
  server.on("clientError", (_error, socket) => socket.destroy());
  return server;
}
