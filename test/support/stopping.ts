// Helpers for tests that stop a `din` process under hostile connections and check nothing is left listening.
import type { ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";

/** True when nothing accepts a TCP connection at the URL's host and port any more. */
export function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ""));
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/** A raw client that writes `text` and then neither reads nor closes: it never sees the server's end. */
function rawClient(url: string, text: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => socket.write(text));
  socket.on("error", () => undefined);
  socket.pause();
  return socket;
}

function upgradeRequest(path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n` +
    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"
  );
}

export interface HostileSocketsOptions {
  /** A JSON-RPC path the server serves, for the half-sent requests. @default "/" */
  rpcPath?: string;
  /** A WebSocket path the server accepts: connections opened there never answer a close frame. */
  wsPath?: string;
  /** How many of each kind. @default 3 */
  count?: number;
}

/**
 * Connections that a server's own close cannot finish by itself: upgrades it refuses (it ends them, the
 * peer never closes its side), WebSockets that never answer a close frame, headers that never end, and a
 * body that never arrives.
 */
export function openHostileSockets(url: string, options: HostileSocketsOptions = {}): Socket[] {
  const rpcPath = options.rpcPath ?? "/";
  const sockets: Socket[] = [];
  for (let i = 0; i < (options.count ?? 3); i++) {
    sockets.push(rawClient(url, upgradeRequest("/ws/v1/no-such-network")));
    if (options.wsPath !== undefined) sockets.push(rawClient(url, upgradeRequest(options.wsPath)));
    sockets.push(rawClient(url, `POST ${rpcPath} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n`));
    sockets.push(
      rawClient(
        url,
        `POST ${rpcPath} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n{"jsonrpc":`,
      ),
    );
  }
  return sockets;
}

/** Fires JSON-RPC requests without waiting for them: some are still in flight when the stop begins. */
export function fireRequests(
  url: string,
  bodies: Array<{ body: unknown; headers?: Record<string, string> }>,
): void {
  for (const { body, headers } of bodies) {
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }).then(
      (response) => response.body?.cancel(),
      () => undefined,
    );
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the call to exitOf until the process exited. */
  ms: number;
}

/** Settles when the process exits; rejects (after SIGKILL to its process group) if it is still running after `limitMs`. */
export function exitOf(child: ChildProcess, limitMs: number): Promise<Exit> {
  const started = Date.now();
  return new Promise<Exit>((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`pid ${child.pid} still running ${limitMs} ms after it was asked to stop`));
    }, limitMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started });
    });
  });
}

/** SIGKILL to a detached child's whole process group (it and the processes it started). */
export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}
