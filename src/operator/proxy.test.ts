import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import type { ChaosState } from "./chaos.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";

interface RpcResponse {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

let chain: HardhatServer;
const nodes: OperatorNode[] = [];

async function startNode(options: { chaos?: boolean; maxBodyBytes?: number } = {}): Promise<OperatorNode> {
  const node = await startOperatorNode({
    id: `op-${nodes.length}`,
    upstream: chain.url,
    chaos: true,
    ...options,
  });
  nodes.push(node);
  return node;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}

let nextId = 1;
async function call(url: string, method: string, params: unknown[] = []): Promise<RpcResponse> {
  const { body } = await post(url, { jsonrpc: "2.0", id: nextId++, method, params });
  return body as RpcResponse;
}

async function result(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await call(url, method, params);
  if (response.error !== undefined) throw new Error(`${method}: ${response.error.message}`);
  return response.result;
}

/** A chaos change as `din chaos` sends it: with the node's control token. */
function control(node: OperatorNode, body: unknown): Promise<{ status: number; body: unknown }> {
  return post(`${node.controlUrl}/chaos`, body, { authorization: `Bearer ${node.controlToken}` });
}

async function setChaosOverHttp(node: OperatorNode, state: ChaosState): Promise<void> {
  const { status } = await control(node, state);
  expect(status).toBe(200);
}

/**
 * The network error code a request fails with, or "answered". Each probe opens its own connection, so a
 * keep-alive socket from an earlier request cannot hide whether the port refuses connections.
 */
function connectOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json" },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200 ? "answered" : `HTTP ${res.statusCode}`));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }));
  });
}

async function head(): Promise<bigint> {
  return BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string);
}

/**
 * Asks `probe` until its answer passes `done`: for the state of a real listener or request, reached through
 * I/O, never for a time. Yields with setImmediate, which the fake timers below leave alone.
 */
async function until<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  seen?: (value: T) => void,
): Promise<T> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const value = await probe();
    seen?.(value);
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`still ${String(value)} after 10 s`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Fakes the timers the node's chaos runs on (a fault's end, flap's interval); the listeners, sockets and
 * the execution client stay real, and so does setImmediate.
 */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
}

beforeAll(async () => {
  chain = await startHardhatServer();
  await chain.provider.request({ method: "hardhat_mine", params: ["0x40"] });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

afterAll(async () => {
  await chain?.close();
});

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

describe("chaos modes", () => {
  it("down refuses connections, then comes back on the same port with ok", async () => {
    const node = await startNode();
    const { url, port } = node;
    expect(await connectOutcome(url)).toBe("answered");

    await setChaosOverHttp(node, { mode: "down" });
    expect(await connectOutcome(url)).toBe("ECONNREFUSED");
    expect(await (await fetch(`${node.controlUrl}/chaos`)).json()).toEqual({ mode: "down" });

    await setChaosOverHttp(node, { mode: "ok" });
    expect(node.port).toBe(port);
    expect(await connectOutcome(url)).toBe("answered");
  });

  it("down also cuts keep-alive connections that are already open", async () => {
    const node = await startNode();
    // Warm a keep-alive connection, then hold a request open with slow so it is in flight at down.
    expect(await connectOutcome(node.url)).toBe("answered");
    await node.setChaos({ mode: "slow", value: 400 });
    const inFlight = connectOutcome(node.url);
    // In flight once the node has counted it: the slow fault holds it from there.
    await until(
      () => node.stats().requests,
      (requests) => requests === 2,
    );
    await node.setChaos({ mode: "down" });
    expect(await inFlight).not.toBe("answered");
    await node.setChaos({ mode: "ok" });
    expect(await connectOutcome(node.url)).toBe("answered");
  });

  it("ends a fault given forMs by itself, unless another state replaced it first", async () => {
    const node = await startNode();
    fakeTimers();
    await setChaosOverHttp(node, { mode: "down", forMs: 300 });
    expect(await connectOutcome(node.url)).not.toBe("answered");
    await vi.advanceTimersByTimeAsync(299);
    expect(await connectOutcome(node.url)).not.toBe("answered");
    await vi.advanceTimersByTimeAsync(1);
    // Back by itself: wait for the listener, not for the time.
    await until(
      () => connectOutcome(node.url),
      (outcome) => outcome === "answered",
    );
    expect(await connectOutcome(node.url)).toBe("answered");

    // A later state wins over the first one's end: lag stays after the down's 200 ms are over.
    await node.setChaos({ mode: "down", forMs: 200 });
    await node.setChaos({ mode: "lag", value: 5 });
    await vi.advanceTimersByTimeAsync(400);
    expect(node.state()).toEqual({ mode: "lag", value: 5 });
  });

  it("slow adds the configured delay before answering", async () => {
    const slow = await startNode();
    const fast = await startNode();
    await setChaosOverHttp(slow, { mode: "slow", value: 300 });
    const finished: string[] = [];
    const started = performance.now();
    const slowAnswer = result(slow.url, "eth_chainId").then(() => {
      finished.push("slow");
      return performance.now() - started;
    });
    await result(fast.url, "eth_chainId").then(() => finished.push("fast"));
    const elapsed = await slowAnswer;
    expect(finished).toEqual(["fast", "slow"]);
    // Timers may round down by a millisecond; the delay is still the configured one.
    expect(elapsed).toBeGreaterThanOrEqual(299);

    await setChaosOverHttp(slow, { mode: "ok" });
    expect(await result(slow.url, "eth_chainId")).toBe("0x7a69");
  });

  it("lag 20 serves the chain as if the head were 20 blocks behind", async () => {
    const node = await startNode();
    const [sender] = (await chain.provider.request({ method: "eth_accounts" })) as string[];
    const recipient = `0x${"42".repeat(20)}`;
    // A balance that changes after head-20, so a lagging answer is distinguishable from a real one.
    const before = await head();
    const txHash = (await chain.provider.request({
      method: "eth_sendTransaction",
      params: [{ from: sender, to: recipient, value: "0xde0b6b3a7640000" }],
    })) as string;
    await chain.provider.request({ method: "hardhat_mine", params: ["0x5"] });
    const realHead = await head();
    const laggedHead = realHead - 20n;
    expect(laggedHead).toBeLessThan(before);

    await setChaosOverHttp(node, { mode: "lag", value: 20 });
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(laggedHead);

    const latest = (await result(node.url, "eth_getBlockByNumber", ["latest", false])) as { number: string };
    expect(BigInt(latest.number)).toBe(laggedHead);
    const finalized = (await result(node.url, "eth_getBlockByNumber", ["finalized", false])) as {
      number: string;
    };
    expect(BigInt(finalized.number)).toBe(laggedHead);
    expect(await result(node.url, "eth_getBlockByNumber", [`0x${realHead.toString(16)}`, false])).toBeNull();

    const laggedBalance = await result(node.url, "eth_getBalance", [recipient, "latest"]);
    const balanceAtLaggedHead = await chain.provider.request({
      method: "eth_getBalance",
      params: [recipient, `0x${laggedHead.toString(16)}`],
    });
    const realBalance = await chain.provider.request({
      method: "eth_getBalance",
      params: [recipient, "latest"],
    });
    expect(laggedBalance).toBe(balanceAtLaggedHead);
    expect(laggedBalance).not.toBe(realBalance);

    expect(await result(node.url, "eth_getTransactionReceipt", [txHash])).toBeNull();
    expect(await result(node.url, "eth_getTransactionByHash", [txHash])).toBeNull();

    // A batch is lagged item by item, ids kept.
    const { body } = await post(node.url, [
      { jsonrpc: "2.0", id: 1, method: "eth_blockNumber" },
      { jsonrpc: "2.0", id: 2, method: "eth_chainId" },
    ]);
    expect(body).toEqual([
      { jsonrpc: "2.0", id: 1, result: `0x${laggedHead.toString(16)}` },
      { jsonrpc: "2.0", id: 2, result: "0x7a69" },
    ]);

    await setChaosOverHttp(node, { mode: "ok" });
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(realHead);
    expect(await result(node.url, "eth_getTransactionReceipt", [txHash])).not.toBeNull();
  });

  it("lie serves wrong block hashes and balances while its head looks healthy", async () => {
    const node = await startNode();
    const [account] = (await chain.provider.request({ method: "eth_accounts" })) as string[];
    await setChaosOverHttp(node, { mode: "lie" });

    const realHead = await head();
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(realHead);

    const tag = `0x${realHead.toString(16)}`;
    const real = (await chain.provider.request({ method: "eth_getBlockByNumber", params: [tag, false] })) as {
      hash: string;
      parentHash: string;
    };
    const lie = (await result(node.url, "eth_getBlockByNumber", [tag, false])) as {
      hash: string;
      parentHash: string;
    };
    expect(lie.hash).not.toBe(real.hash);
    expect(lie.parentHash).not.toBe(real.parentHash);
    const byHash = (await result(node.url, "eth_getBlockByHash", [real.hash, false])) as { hash: string };
    expect(byHash.hash).not.toBe(real.hash);

    const realBalance = BigInt(
      (await chain.provider.request({ method: "eth_getBalance", params: [account, tag] })) as string,
    );
    const lieBalance = BigInt((await result(node.url, "eth_getBalance", [account, tag])) as string);
    expect(lieBalance).toBe(realBalance + 10n ** 18n);

    await setChaosOverHttp(node, { mode: "ok" });
    const honest = (await result(node.url, "eth_getBlockByNumber", [tag, false])) as { hash: string };
    expect(honest.hash).toBe(real.hash);
  });

  it("errors 100 answers every request with HTTP 503 and a JSON-RPC error", async () => {
    const node = await startNode();
    await setChaosOverHttp(node, { mode: "errors", value: 100 });
    for (let i = 0; i < 5; i++) {
      const { status, body } = await post(node.url, { jsonrpc: "2.0", id: i, method: "eth_chainId" });
      expect(status).toBe(503);
      expect(body).toMatchObject({ jsonrpc: "2.0", id: i, error: { code: -32002 } });
    }
    const batch = await post(node.url, [
      { jsonrpc: "2.0", id: "x", method: "eth_chainId" },
      { jsonrpc: "2.0", id: "y", method: "eth_chainId" },
    ]);
    expect(batch.status).toBe(503);
    expect((batch.body as RpcResponse[]).map((response) => response.id)).toEqual(["x", "y"]);

    await setChaosOverHttp(node, { mode: "errors", value: 0 });
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
    await setChaosOverHttp(node, { mode: "ok" });
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
  });

  it("flap alternates between refusing and answering, and ok ends it on the same port", async () => {
    const node = await startNode();
    fakeTimers();
    await setChaosOverHttp(node, { mode: "flap", value: 150 });
    const outcomes = new Set<string>();
    const transitions: string[] = [];
    const seen = (outcome: string) => {
      outcomes.add(outcome);
      if (outcome !== "ECONNRESET" && transitions.at(-1) !== outcome) transitions.push(outcome);
    };
    // Down at once, then up and down again on each interval: each phase waited for at its listener.
    for (const [i, phase] of ["ECONNREFUSED", "answered", "ECONNREFUSED", "answered"].entries()) {
      if (i > 0) await vi.advanceTimersByTimeAsync(150);
      await until(
        () => connectOutcome(node.url),
        (outcome) => outcome === phase,
        seen,
      );
    }
    expect(outcomes).toContain("ECONNREFUSED");
    expect(outcomes).toContain("answered");
    // A probe in flight when a down phase starts has its connection cut instead of refused.
    for (const outcome of outcomes) expect(["ECONNREFUSED", "answered", "ECONNRESET"]).toContain(outcome);
    expect(transitions.length).toBeGreaterThanOrEqual(3);

    await setChaosOverHttp(node, { mode: "ok" });
    for (let i = 0; i < 5; i++) {
      expect(await connectOutcome(node.url)).toBe("answered");
      await vi.advanceTimersByTimeAsync(50);
    }
  });

  it("close stops both listeners", async () => {
    const node = await startNode();
    await node.setChaos({ mode: "flap", value: 50 });
    await node.close();
    expect(await connectOutcome(node.url)).toBe("ECONNREFUSED");
    await expect(fetch(`${node.controlUrl}/chaos`)).rejects.toThrow();
  });
});
