// The operator node's execution client connection, against a scripted JSON-RPC server: bodies go out byte
// for byte and come back as they were, a call is read back (an unreadable one as a JSON-RPC error), a probe
// wants a result, the head is read from the latest block, and a silent server times out.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeServer, listen } from "../http/listen.js";
import { Upstream } from "./upstream.js";

type Script = (body: string, req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
let script: Script;
const received: Array<{ path: string; contentType: string | undefined; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ path: req.url ?? "", contentType: req.headers["content-type"], body });
      script(body, req, res);
    });
  });
  await listen(server, 0, "127.0.0.1");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc?key=1`;
});

afterAll(async () => {
  await closeServer(server);
});

beforeEach(() => {
  received.length = 0;
});

const answer =
  (status: number, text: string): Script =>
  (_body, _req, res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  };

function upstream(timeoutMs = 5_000): Upstream {
  return new Upstream(url, { timeoutMs, connections: 2 });
}

describe("Upstream", () => {
  it("sends a body as it is to the URL's path and answers the status and bytes it got", async () => {
    const client = upstream();
    script = answer(207, '{"odd":  true}');
    const raw = Buffer.from('{"jsonrpc":"2.0", "id":1,"method":"eth_chainId"}');
    const got = await client.send(raw);
    expect(got.status).toBe(207);
    expect(got.body?.toString()).toBe('{"odd":  true}');
    expect(received).toEqual([{ path: "/rpc?key=1", contentType: "application/json", body: raw.toString() }]);
    await client.close();
  });

  it("reads a call's answer back, undefined for an empty one, an error for an unreadable one", async () => {
    const client = upstream();
    script = answer(200, '{"jsonrpc":"2.0","id":7,"result":"0x1"}');
    expect(await client.call({ jsonrpc: "2.0", id: 7, method: "eth_chainId" })).toEqual({
      jsonrpc: "2.0",
      id: 7,
      result: "0x1",
    });
    script = answer(200, "");
    expect(await client.call({ jsonrpc: "2.0", method: "eth_subscribe" })).toBeUndefined();
    script = answer(200, "<html>");
    expect(await client.call({ jsonrpc: "2.0", id: 8, method: "eth_chainId" })).toMatchObject({
      jsonrpc: "2.0",
      id: 8,
      error: { code: -32002, message: expect.stringMatching(/unreadable/) },
    });
    await client.close();
  });

  it("probes for a result and throws without one", async () => {
    const client = upstream();
    script = answer(200, '{"jsonrpc":"2.0","id":1,"result":"Hardhat/2"}');
    expect(await client.probe("web3_clientVersion", [])).toBe("Hardhat/2");
    expect(JSON.parse(received[0]?.body ?? "")).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "web3_clientVersion",
      params: [],
    });
    script = answer(503, "{}");
    await expect(client.probe("eth_blockNumber", [])).rejects.toThrow("HTTP 503");
    script = answer(200, '{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"no"}}');
    await expect(client.probe("eth_blockNumber", [])).rejects.toThrow("eth_blockNumber answered no result");
    await client.close();
  });

  it("reads the head's number and gas limit from the latest block", async () => {
    const client = upstream();
    script = answer(200, '{"jsonrpc":"2.0","id":1,"result":{"number":"0x2a","gasLimit":"0x1c9c380"}}');
    expect(await client.readHead()).toEqual({ number: 42n, gasLimit: 30_000_000n });
    expect(JSON.parse(received[0]?.body ?? "")).toMatchObject({
      method: "eth_getBlockByNumber",
      params: ["latest", false],
    });
    script = answer(200, '{"jsonrpc":"2.0","id":1,"result":null}');
    await expect(client.readHead()).rejects.toThrow(/did not report its head/);
    await client.close();
  });

  it("gives up on a server that does not answer within the timeout", async () => {
    const client = upstream(150);
    script = () => undefined;
    const error = await client.send("{}").catch((e: unknown) => e);
    expect((error as Error).name).toBe("TimeoutError");
    expect(client.timeoutMs).toBe(150);
    server.closeAllConnections();
    await client.close();
  });
});
