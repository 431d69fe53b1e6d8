// Answers passed on unchanged reach the client as the bytes the operator sent (only the id is the
// client's), single or in a batch, fresh or from the cache; a reply that could be read two ways is
// passed on as JSON.parse read it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../src/gateway/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";

const chainId = 0x539;
const block = (number: number) => ({
  number: `0x${number.toString(16)}`,
  hash: `0x${number.toString(16).padStart(64, "0")}`,
  parentHash: `0x${"0".repeat(64)}`,
});
/** What the operator answers to eth_getBlockByNumber at 0x10 and pending: spacing and a 30-digit number. */
const blockText = '{ "number":"0x10", "hash":"0xabc" , "difficulty": 123456789012345678901234567890 }';

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

/** The operator's answer text to one call. */
function answer(call: Call, replies: Map<string, string>): string {
  const scripted = replies.get(`${call.method}:${JSON.stringify(call.params)}`);
  if (scripted !== undefined) return `{"jsonrpc":"2.0","id":${call.id},"result":${scripted}}`;
  if (call.method === "eth_chainId") return JSON.stringify({ jsonrpc: "2.0", id: call.id, result: "0x539" });
  if (call.method === "eth_getBlockByNumber") {
    const tag = call.params[0];
    const number = tag === "finalized" ? 0x50 : tag === "safe" ? 0x60 : tag === "0x0" ? 0 : 0x64;
    return JSON.stringify({ jsonrpc: "2.0", id: call.id, result: block(number) });
  }
  return JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32601, message: "no such method" } });
}

describe("answers passed on as the operator sent them", () => {
  let operator: Server;
  let gateway: Gateway;
  let url: string;
  const replies = new Map<string, string>();
  const asked: string[] = [];

  beforeAll(async () => {
    operator = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as Call | Call[];
        for (const call of Array.isArray(body) ? body : [body]) asked.push(call.method);
        const text = Array.isArray(body)
          ? `[${body.map((call) => answer(call, replies)).join(",")}]`
          : answer(body, replies);
        response.writeHead(200, { "content-type": "application/json" }).end(text);
      });
    });
    await new Promise<void>((resolve) => operator.listen(0, "127.0.0.1", resolve));
    const port = (operator.address() as AddressInfo).port;
    gateway = await startGateway(
      parseGatewayConfig({
        server: { host: "127.0.0.1", port: 0, logLevel: "silent" },
        routing: { hedge: false },
        health: { headPollMs: 60_000 },
        networks: [
          {
            name: "bench",
            chainId,
            upstreams: [{ id: "op-1", url: `http://127.0.0.1:${port}`, cloud: "c1", region: "r1" }],
          },
        ],
      }),
      { logger: pino({ level: "silent" }) },
    );
    url = `${gateway.url}/v1/bench`;
  });

  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => operator?.close(resolve));
  });

  const send = async (body: string) =>
    (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).text();
  const call = (id: number | string, params: unknown[]) =>
    JSON.stringify({ jsonrpc: "2.0", id, method: "eth_getBlockByNumber", params });

  it("writes a block as the operator's bytes, its 30-digit number intact, with the client's id", async () => {
    replies.set('eth_getBlockByNumber:["pending",false]', blockText);
    const text = await send(call("client-7", ["pending", false]));
    expect(text).toBe(`{"jsonrpc":"2.0","id":"client-7","result":${blockText}}`);
  });

  it("does so for every answer of a batch", async () => {
    replies.set('eth_getBlockByNumber:["pending",false]', blockText);
    const text = await send(`[${call(1, ["pending", false])},${call(2, ["pending", false])}]`);
    expect(text).toBe(
      `[{"jsonrpc":"2.0","id":1,"result":${blockText}},{"jsonrpc":"2.0","id":2,"result":${blockText}}]`,
    );
  });

  it("serves a final block from the cache as the same bytes, without asking the operator again", async () => {
    replies.set('eth_getBlockByNumber:["0x10",false]', blockText);
    const first = await send(call(1, ["0x10", false]));
    const calls = asked.length;
    const second = await send(call(2, ["0x10", false]));
    expect(asked.length).toBe(calls);
    expect(first).toBe(`{"jsonrpc":"2.0","id":1,"result":${blockText}}`);
    expect(second).toBe(`{"jsonrpc":"2.0","id":2,"result":${blockText}}`);
  });

  it("passes on a reply with two results as JSON.parse reads it (the last), never the first's bytes", async () => {
    // A hostile operator shows one answer to a byte scanner and another to a JSON parser.
    replies.set('eth_getBlockByNumber:["pending",true]', '{"number":"0x1"},"result":{"number":"0x2"}');
    const text = await send(call(3, ["pending", true]));
    expect(JSON.parse(text).result).toEqual({ number: "0x2" });
  });

  it("tells a browser's preflight what may be sent, and every answer who may read it", async () => {
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "https://dapp.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/din-session-id/);
    expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    const answer = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://dapp.example" },
      body: call(4, ["pending", false]),
    });
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/din-upstream/);
    expect(answer.headers.get("din-upstream")).toBe("op-1");
    // Each answer's length is its own, though the header object is shared between answers.
    const text = await answer.text();
    expect(Number(answer.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    const short = await fetch(url, {
      method: "POST",
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
    });
    expect(Number(short.headers.get("content-length"))).toBe(Buffer.byteLength(await short.text()));
  });
});
