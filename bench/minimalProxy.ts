/**
 * The runtime's floor for a JSON-RPC proxy: a node:http server that forwards each request's body to one
 * upstream, at the request's path, through an undici Pool and pipes the answer back, nothing else (no
 * parsing, no routing, no metrics). The gateway benchmark runs it in its own process, as it runs the
 * gateway, and measures it on the same pass-through request: what the gateway costs beyond this is the
 * gateway's own work.
 *
 * POST /memory is answered with a fixed body instead: the runtime's floor for an answer from memory.
 *
 * Usage: node bin/run-ts.mjs bench/minimalProxy.ts <upstream url>; prints {"url": ...} once listening.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

const upstream = new URL(process.argv[2] ?? "http://127.0.0.1:8545");
const pool = new Pool(upstream.origin, { connections: 128, keepAliveTimeout: 30_000 });
const upstreamHeaders = { "content-type": "application/json" };

const fromMemory = '{"jsonrpc":"2.0","id":1,"result":"0x539"}';

const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    if (request.url === "/memory") {
      // The floor for an answer from memory: the same server answering a fixed body, nothing forwarded.
      response.writeHead(200, upstreamHeaders).end(fromMemory);
      return;
    }
    pool
      .request({
        path: request.url ?? "/",
        method: "POST",
        headers: upstreamHeaders,
        body: Buffer.concat(chunks),
      })
      .then(
        ({ statusCode, body }) => {
          response.writeHead(statusCode, upstreamHeaders);
          body.pipe(response);
        },
        () => response.writeHead(502).end(),
      );
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
});
