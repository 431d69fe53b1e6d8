import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  chain,
  connectOutcome,
  control,
  head,
  nodes,
  post,
  type RpcResponse,
  result,
  startNode,
  useOperatorHarness,
} from "./fixtures/operatorNodes.js";
import { startOperatorNode } from "./proxy.js";

useOperatorHarness();

describe("operator node proxy", () => {
  it("forwards single and batch requests to the execution client and answers unchanged", async () => {
    const node = await startNode({ chaos: false });
    const direct = (await chain.provider.request({
      method: "eth_getBlockByNumber",
      params: ["latest", false],
    })) as {
      hash: string;
    };
    const block = (await result(node.url, "eth_getBlockByNumber", ["latest", false])) as { hash: string };
    expect(block.hash).toBe(direct.hash);

    const { status, body } = await post(node.url, [
      { jsonrpc: "2.0", id: "a", method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 7, method: "eth_blockNumber", params: [] },
    ]);
    expect(status).toBe(200);
    const batch = body as RpcResponse[];
    expect(batch.map((response) => response.id)).toEqual(["a", 7]);
    expect(batch[0]?.result).toBe("0x7a69");
    expect(BigInt(batch[1]?.result as string)).toBe(await head());
  });

  it("counts received JSON-RPC requests per method, batch items individually", async () => {
    const node = await startNode({ chaos: false });
    await result(node.url, "eth_chainId");
    await post(node.url, [
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "eth_blockNumber" },
    ]);
    expect(node.stats()).toEqual({
      requests: 3,
      byMethod: { eth_chainId: 2, eth_blockNumber: 1 },
      byCaller: { anyone: { eth_chainId: 2, eth_blockNumber: 1 } },
      unauthorized: 0,
      authUnavailable: 0,
      rateLimited: 0,
      refused: 0,
    });
  });

  it("answers /healthz with its id", async () => {
    const node = await startNode({ chaos: false });
    const response = await fetch(`${node.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, id: node.id });
  });

  it("has no chaos control unless started in devnet mode", async () => {
    const node = await startNode({ chaos: false });
    expect(node.controlUrl).toBeUndefined();
    await expect(node.setChaos({ mode: "down" })).rejects.toThrow(/chaos control is off/);
    expect(await connectOutcome(node.url)).toBe("answered");
  });
});

describe("bad input", () => {
  it("answers each bad request with a JSON-RPC error and keeps serving", async () => {
    const node = await startNode({ maxBodyBytes: 1024 });

    const get = await fetch(node.url);
    expect(get.status).toBe(405);
    expect(((await get.json()) as RpcResponse).error?.code).toBe(-32600);

    const malformed = await post(node.url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(malformed.status).toBe(400);
    expect((malformed.body as RpcResponse).error?.code).toBe(-32700);

    for (const notARequest of ["[]", "42", '"eth_chainId"', "null"]) {
      const response = await post(node.url, notARequest);
      expect(response.status, notARequest).toBe(400);
      expect((response.body as RpcResponse).error?.code).toBe(-32600);
    }

    const tooLarge = await post(node.url, {
      jsonrpc: "2.0",
      id: 1,
      method: "eth_chainId",
      params: ["x".repeat(4096)],
    });
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.body as RpcResponse).error).toMatchObject({
      code: -32005,
      message: expect.stringMatching(/1024 bytes/),
    });

    // A method a public RPC does not serve never reaches the execution client.
    const unknownMethod = await post(node.url, { jsonrpc: "2.0", id: 3, method: "eth_noSuchMethod" });
    expect(unknownMethod.status).toBe(200);
    expect(unknownMethod.body).toMatchObject({ id: 3, error: { code: -32601 } });

    // The execution client's own errors pass through unchanged.
    // PUSH1 0 PUSH1 0 REVERT: reverts at once.
    const reverted = await post(node.url, {
      jsonrpc: "2.0",
      id: 4,
      method: "eth_call",
      params: [{ data: "0x60006000fd", gas: "0x10000" }],
    });
    expect((reverted.body as RpcResponse).error?.message).toMatch(/revert/i);

    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
  });

  it("stops reading a streamed body at the limit and answers 413", async () => {
    const node = await startNode({ maxBodyBytes: 1024 });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(node.url, { method: "POST", headers: { "content-type": "application/json" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      // No content-length: the body arrives chunked, so the limit is enforced while reading.
      req.write(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["${"x".repeat(2048)}`);
      req.end('"]}');
    });
    expect(status).toBe(413);
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
  });

  it("survives deeply nested JSON in every chaos mode that parses it", async () => {
    const node = await startNode();
    const deep = `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    for (const mode of ["ok", "lag", "lie"] as const) {
      await node.setChaos({ mode });
      const response = await post(node.url, deep);
      expect(response.status, mode).toBeLessThan(600);
      expect(response.body, mode).toHaveProperty("error");
    }
    await node.setChaos({ mode: "ok" });
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
  });

  it("counts made-up method names under one label", async () => {
    const node = await startNode({ chaos: false });
    for (let i = 0; i < 20; i++) await post(node.url, { jsonrpc: "2.0", id: i, method: `eth_madeUp${i}` });
    expect(node.stats()).toMatchObject({ requests: 20, byMethod: { unknown: 20 }, refused: 20 });
  });

  it("gives up on an execution client that does not answer within the upstream timeout", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const node = await startOperatorNode({
        id: "patient",
        upstream: `http://127.0.0.1:${port}`,
        upstreamTimeoutMs: 200,
      });
      nodes.push(node);
      const { status, body } = await post(node.url, { jsonrpc: "2.0", id: 5, method: "eth_chainId" });
      expect(status).toBe(502);
      expect(body).toMatchObject({
        id: 5,
        error: { code: -32002, message: expect.stringMatching(/200 ms/) },
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("answers a JSON-RPC error when the execution client is unreachable", async () => {
    const node = await startOperatorNode({ id: "orphan", upstream: "http://127.0.0.1:1" });
    nodes.push(node);
    const { status, body } = await post(node.url, { jsonrpc: "2.0", id: 9, method: "eth_chainId" });
    expect(status).toBe(502);
    expect(body).toMatchObject({ id: 9, error: { code: -32002 } });
  });
});

describe("chaos control", () => {
  it("reports and changes the chaos state over HTTP, with clear 400s for bad input", async () => {
    const node = await startNode();
    expect(node.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${node.controlUrl}/chaos`)).json()).toEqual({ mode: "ok" });

    const set = await control(node, { mode: "lag" });
    expect(set).toEqual({ status: 200, body: { mode: "lag", value: 20 } });
    expect(node.state()).toEqual({ mode: "lag", value: 20 });

    const badMode = await control(node, { mode: "explode" });
    expect(badMode.status).toBe(400);
    expect((badMode.body as { error: string }).error).toMatch(/mode/);
    const badValue = await control(node, { mode: "errors", value: 300 });
    expect(badValue.status).toBe(400);
    expect((badValue.body as { error: string }).error).toMatch(/value/);
    const badJson = await control(node, "{mode");
    expect(badJson.status).toBe(400);
    expect(node.state()).toEqual({ mode: "lag", value: 20 });

    await result(node.url, "eth_chainId");
    expect(await (await fetch(`${node.controlUrl}/stats`)).json()).toEqual({
      requests: 1,
      byMethod: { eth_chainId: 1 },
      byCaller: { anyone: { eth_chainId: 1 } },
      unauthorized: 0,
      authUnavailable: 0,
      rateLimited: 0,
      refused: 0,
    });
  });
});

describe("chaos control authentication", () => {
  it("refuses a change without the token (401) or as text/plain (415), and never sends CORS headers", async () => {
    const node = await startNode();
    const url = `${node.controlUrl}/chaos`;
    const down = JSON.stringify({ mode: "down" });
    const origin = { origin: "http://evil.example" };
    const attempts: Array<{ status: number; headers: Record<string, string> }> = [
      // What a web page can send without a preflight: a text/plain POST.
      { status: 401, headers: { ...origin, "content-type": "text/plain" } },
      { status: 401, headers: { ...origin, "content-type": "application/json" } },
      {
        status: 401,
        headers: { "content-type": "application/json", authorization: `Bearer ${"0".repeat(64)}` },
      },
      {
        status: 415,
        headers: { ...origin, "content-type": "text/plain", authorization: `Bearer ${node.controlToken}` },
      },
    ];
    for (const attempt of attempts) {
      const response = await fetch(url, { method: "POST", headers: attempt.headers, body: down });
      expect(response.status).toBe(attempt.status);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      await response.arrayBuffer();
    }
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: { ...origin, "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(node.state()).toEqual({ mode: "ok" });
    expect(await connectOutcome(node.url)).toBe("answered");

    const accepted = await control(node, { mode: "down" });
    expect(accepted.status).toBe(200);
    expect(node.state()).toEqual({ mode: "down" });
  });

  it("answers only requests addressed to 127.0.0.1, so a rebound DNS name reads nothing", async () => {
    const node = await startNode();
    const { port } = new URL(node.controlUrl as string);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${node.controlUrl}/stats`, { headers: { host: `evil.example:${port}` } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("uses the token it is given", async () => {
    const controlToken = "t".repeat(40);
    const node = await startOperatorNode({ id: "given", upstream: chain.url, chaos: true, controlToken });
    nodes.push(node);
    expect(node.controlToken).toBe(controlToken);
    const response = await post(
      `${node.controlUrl}/chaos`,
      { mode: "lie" },
      { authorization: `Bearer ${controlToken}` },
    );
    expect(response.status).toBe(200);
    await expect(
      startOperatorNode({ id: "weak", upstream: chain.url, chaos: true, controlToken: "short" }),
    ).rejects.toThrow(/32/);
  });
});
