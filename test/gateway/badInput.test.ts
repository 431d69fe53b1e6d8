// Every bad input gets its JSON-RPC error, nothing leaks a stack trace, and the server keeps serving.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DataPlane, post, rpc, startDataPlane } from "../support/dataPlane.js";

describe("bad input", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane();
  });

  afterAll(async () => {
    await plane?.close();
  });

  const cases: Array<[string, string, number, number]> = [
    ["malformed JSON", '{"jsonrpc":"2.0","id":1,"method":', 400, -32700],
    ["an empty body", "", 400, -32700],
    ["a JSON string", '"eth_blockNumber"', 200, -32600],
    ["a request without method", '{"jsonrpc":"2.0","id":1}', 200, -32600],
    ["a wrong jsonrpc version", '{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}', 200, -32600],
    ["an object id", '{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}', 200, -32600],
    ["an unknown method", '{"jsonrpc":"2.0","id":1,"method":"eth_mine"}', 200, -32601],
    [
      "a forbidden method",
      '{"jsonrpc":"2.0","id":1,"method":"personal_unlockAccount","params":[]}',
      200,
      -32601,
    ],
    ["a dev-node method", '{"jsonrpc":"2.0","id":1,"method":"hardhat_setBalance","params":[]}', 200, -32601],
    [
      "a wrong param type",
      '{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[42,"latest"]}',
      200,
      -32602,
    ],
    [
      "a missing param",
      '{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":[]}',
      200,
      -32602,
    ],
    [
      "params that are a string",
      '{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":"0x"}',
      200,
      -32600,
    ],
    [
      "a subscription over HTTP",
      '{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}',
      200,
      -32004,
    ],
    ["an empty batch", "[]", 200, -32600],
  ];

  it.each(cases)("answers %s with the right error", async (_what, body, status, code) => {
    const response = await post(plane.rpcUrl, body);
    expect(response.status).toBe(status);
    const answer = Array.isArray(response.json) ? response.json[0] : response.json;
    expect(answer.jsonrpc).toBe("2.0");
    expect(answer.error.code).toBe(code);
    expect(answer.error.message.length).toBeGreaterThan(5);
    expect(JSON.stringify(answer)).not.toMatch(/node_modules|\.ts:\d+|at [A-Za-z.]+ \(/);
  });

  it("refuses a body over 1 MiB with HTTP 413 and a JSON-RPC error", async () => {
    const body = JSON.stringify(rpc("eth_call", [{ data: `0x${"00".repeat(600_000)}` }]));
    const response = await post(plane.rpcUrl, body);
    expect(response.status).toBe(413);
    expect(response.json.error.code).toBe(-32005);
  });

  it("refuses a body over the limit even when it is streamed without a length", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${plane.rpcUrl}`, {
        method: "POST",
        headers: { "transfer-encoding": "chunked" },
      });
      request.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
      const chunk = "a".repeat(64 * 1024);
      for (let i = 0; i < 20; i++) request.write(chunk);
      request.end();
    });
    expect(status).toBe(413);
  });

  it("refuses a batch over 100 requests", async () => {
    const batch = Array.from({ length: 101 }, (_, id) => rpc("eth_chainId", [], id));
    const response = await post(plane.rpcUrl, batch);
    expect(response.json.error.code).toBe(-32005);
  });

  it("survives deeply nested params", async () => {
    const body = `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const response = await post(plane.rpcUrl, body);
    expect(response.json.error.code).toBe(-32602);
  });

  it("answers a mixed batch entry by entry, in order, and leaves out notifications", async () => {
    const response = await post(plane.rpcUrl, [
      rpc("eth_chainId", [], "a"),
      { jsonrpc: "2.0", method: "eth_chainId" },
      rpc("eth_nope", [], "b"),
      42,
      rpc("eth_getBalance", ["0x1", "latest"], "c"),
    ]);
    expect(response.json.map((answer: { id: unknown }) => answer.id)).toEqual(["a", "b", null, "c"]);
    expect(response.json[0].result).toBe("0x7a69");
    expect(response.json.slice(1).map((answer: { error: { code: number } }) => answer.error.code)).toEqual([
      -32601, -32600, -32602,
    ]);
  });

  it("answers a lone notification with no body", async () => {
    const response = await fetch(plane.rpcUrl, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "eth_chainId" }),
    });
    expect(response.status).toBe(204);
  });

  it("answers an unknown network with 404 naming the networks it serves", async () => {
    const response = await post(`${plane.gateway.url}/v1/solana`, rpc("eth_chainId"));
    expect(response.status).toBe(404);
    expect(response.json.error.message).toMatch(/Unknown network "solana".*ethereum/);
  });

  it("accepts an API key in the path and GET is refused with 405", async () => {
    expect((await post(`${plane.rpcUrl}/my-key`, rpc("eth_chainId"))).json.result).toBe("0x7a69");
    expect((await fetch(plane.rpcUrl)).status).toBe(405);
    expect((await fetch(`${plane.gateway.url}/nope`)).status).toBe(404);
  });

  it("answers JSON-RPC posted to a path it does not serve with a JSON-RPC error saying where to post", async () => {
    const response = await post(`${plane.rpcUrl}/my-key/extra`, rpc("eth_chainId"));
    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600 } });
    expect(response.json.error.message).toMatch(/POST \/v1\/<network>\/<apiKey>/);
  });

  it("refuses a malformed din-quorum header", async () => {
    const response = await post(plane.rpcUrl, rpc("eth_chainId"), { "din-quorum": "lots" });
    expect(response.json.error.code).toBe(-32600);
  });

  it("keeps serving after all of the above", async () => {
    const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [plane.chain.accounts[0], "latest"]));
    expect(json.result).toMatch(/^0x[0-9a-f]+$/);
    const health = await fetch(`${plane.gateway.url}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
    expect(metrics).toContain("din_requests_total");
    expect(metrics).toContain("din_upstream_health");
    expect(metrics).toContain("din_request_duration_seconds_bucket");
  });
});
