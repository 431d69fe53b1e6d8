// Slow-header sockets (a request head that never ends, or nothing at all) are closed by the operator node's
// listeners once their headers timeout passes, on the public listener and the chaos control alike.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OperatorNode, startOperatorNode } from "./proxy.js";

let node: OperatorNode;

beforeAll(async () => {
  // No request in this file reaches the upstream.
  node = await startOperatorNode({
    id: "timeouts",
    upstream: "http://127.0.0.1:1",
    chaos: true,
    listenerLimits: { headersTimeoutMs: 300, requestTimeoutMs: 600 },
  });
});

afterAll(async () => {
  await node?.close();
});

/** Opens a socket that starts a request and never finishes its head; resolves when the server closes it. */
function slowHeaderSocket(url: string, partialHead: string): { socket: Socket; closed: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => undefined);
  socket.on("connect", () => {
    if (partialHead.length > 0) socket.write(partialHead);
  });
  // Anything the server sends (a 408) is read so the socket can end.
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, closed };
}

describe("operator node listeners", () => {
  it("close 100 slow-header sockets on each listener within the headers timeout", async () => {
    const heads = ["POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ", "POST / HT", ""];
    const sockets = [node.url, node.controlUrl as string].flatMap((url) =>
      Array.from({ length: 100 }, (_, i) => slowHeaderSocket(url, heads[i % heads.length] as string)),
    );
    let closedCount = 0;
    for (const { closed } of sockets) closed.then(() => closedCount++);
    try {
      await Promise.all(sockets.map(({ closed }) => closed));
    } finally {
      for (const { socket } of sockets) socket.destroy();
    }
    expect(closedCount).toBe(200);
    // The listeners are still up for everyone else.
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${node.controlUrl}/chaos`)).status).toBe(200);
  }, 15_000); // Node's defaults (a 60 s headers timeout, checked every 30 s) would not close them in this time.
});
