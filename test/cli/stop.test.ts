// `din gateway` (one process, and --workers 2) and `din operator serve` stop on a signal under hostile
// connections: exit 0 well inside the deadline, and their ports refuse connections afterwards.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/dataPlane.js";
import {
  exitOf,
  fireRequests,
  killGroup,
  openHostileSockets,
  refusesConnections,
} from "../support/stopping.js";

const bin = join(import.meta.dirname, "../../bin/din.mjs");

/**
 * A tiny execution client: a head that moves, blocks that chain, and eth_getLogs that takes its time (as
 * a big range does), so requests are still in flight when the stop begins.
 */
function startFakeChain(): Promise<{ server: Server; url: string; logQueries: () => number }> {
  const started = Date.now();
  let logQueries = 0;
  const head = () => 100 + Math.floor((Date.now() - started) / 500);
  const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
  const block = (n: number) => ({
    number: `0x${n.toString(16)}`,
    hash: hash(n),
    parentHash: hash(n - 1),
    timestamp: `0x${(1_700_000_000 + n).toString(16)}`,
    gasLimit: "0x1c9c380",
    transactions: [],
  });
  type Call = { id?: unknown; method?: string; params?: unknown[] };
  const reply = (call: Call): Promise<Record<string, unknown>> => {
    const answer = (result: unknown, delayMs = 0) =>
      new Promise<Record<string, unknown>>((resolve) =>
        setTimeout(() => resolve({ jsonrpc: "2.0", id: call.id ?? null, result }), delayMs),
      );
    switch (call.method) {
      case "eth_chainId":
        return answer("0x7a69");
      case "eth_blockNumber":
        return answer(`0x${head().toString(16)}`);
      case "eth_getBlockByNumber": {
        const tag = call.params?.[0];
        return answer(block(typeof tag === "string" && tag.startsWith("0x") ? Number(tag) : head()));
      }
      case "eth_getLogs":
        logQueries++;
        return answer([], 3_000);
      default:
        return Promise.resolve({
          jsonrpc: "2.0",
          id: call.id ?? null,
          error: { code: -32601, message: "the method does not exist" },
        });
    }
  };
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      let parsed: Call | Call[];
      try {
        parsed = JSON.parse(body);
      } catch {
        response.writeHead(400).end();
        return;
      }
      // The gateway asks in batches (its head poll): each call of one is answered, the slowest sets the pace.
      const answers = Array.isArray(parsed) ? Promise.all(parsed.map(reply)) : reply(parsed);
      void answers.then((answer) => {
        if (response.destroyed) return;
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify(answer));
      });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        logQueries: () => logQueries,
      }),
    ),
  );
}

/** Hostile-ish JSON-RPC traffic: a session per request, methods nobody serves, slow log queries. */
function hostileRequests(count: number) {
  const requests = [];
  for (let i = 0; i < count; i++) {
    const method = i % 2 === 0 ? `din_madeUp${i}` : "eth_blockNumber";
    requests.push({
      body: { jsonrpc: "2.0", id: i, method, params: [] },
      headers: { "din-session-id": `hostile-${i}-${Math.random().toString(36).slice(2)}` },
    });
  }
  for (let i = 0; i < 4; i++) {
    requests.push({
      body: {
        jsonrpc: "2.0",
        id: 1_000 + i,
        method: "eth_getLogs",
        params: [{ fromBlock: "0x0", toBlock: "latest" }],
      },
    });
  }
  return requests;
}

interface Started {
  child: ChildProcess;
  ready: Record<string, unknown>;
  stderr: () => string;
}

const running: ChildProcess[] = [];
let held: Socket[] = [];

/** Starts `din …` in its own process group and waits for its one JSON line. */
async function startDin(args: string[], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, ...env },
  });
  running.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
    child.once("exit", (code) =>
      reject(new Error(`din ${args[0]} exited (${code}): ${stderr.slice(-2000)}`)),
    );
  });
  return { child, ready, stderr: () => stderr };
}

async function expectStopped(started: Started, signal: () => void, urls: string[]): Promise<number> {
  const exited = exitOf(started.child, 60_000);
  signal();
  const exit = await exited;
  expect(exit.code, started.stderr().slice(-3000)).toBe(0);
  expect(exit.ms).toBeLessThan(10_000);
  for (const url of urls) expect(await refusesConnections(url), url).toBe(true);
  return exit.ms;
}

let chain: { server: Server; url: string; logQueries: () => number };

/**
 * Waits until the load is in place: a slow log query forwarded to the chain (so requests are in flight)
 * and every hostile socket connected with its bytes sent.
 */
async function loadInPlace(logQueriesBefore: number): Promise<void> {
  await waitFor(() => chain.logQueries() > logQueriesBefore, 10_000, "a log query in flight");
  await waitFor(
    () =>
      held.every((socket) => !socket.connecting && socket.bytesWritten > 0 && socket.writableLength === 0),
    10_000,
    "the hostile sockets to be connected",
  );
}
let gatewayConfig: string;
/** The same gateway logging at info: it says when its stop begins. */
let infoGatewayConfig: string;

beforeAll(async () => {
  chain = await startFakeChain();
  const dir = mkdtempSync(join(tmpdir(), "din-stop-"));
  gatewayConfig = join(dir, "din.yaml");
  infoGatewayConfig = join(dir, "din-info.yaml");
  const config = (logLevel: string) =>
    [
      "server:",
      `  logLevel: ${logLevel}`,
      "networks:",
      "  - name: local",
      "    chainId: 31337",
      "    upstreams:",
      `      - { id: node-a, url: "${chain.url}" }`,
      `      - { id: node-b, url: "${chain.url}" }`,
      "",
    ].join("\n");
  writeFileSync(gatewayConfig, config("warn"));
  writeFileSync(infoGatewayConfig, config("info"));
});

afterEach(() => {
  for (const socket of held.splice(0)) socket.destroy();
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) killGroup(child);
  }
});

afterAll(async () => {
  chain.server.closeAllConnections();
  await new Promise((resolve) => chain.server.close(resolve));
});

describe("din gateway stops under hostile connections", () => {
  async function loadGateway(gateway: string): Promise<void> {
    const logQueries = chain.logQueries();
    fireRequests(`${gateway}/v1/local`, hostileRequests(150));
    held = openHostileSockets(gateway, { rpcPath: "/v1/local", wsPath: "/ws/v1/local" });
    await loadInPlace(logQueries);
  }

  it("in one process: SIGTERM, exit 0, port closed", async () => {
    const started = await startDin(["gateway", "--config", gatewayConfig, "--port", "0"]);
    const gateway = started.ready.gateway as string;
    await loadGateway(gateway);
    const ms = await expectStopped(started, () => started.child.kill("SIGTERM"), [gateway]);
    console.info(`din gateway stopped in ${ms} ms`);
  });

  it("with two workers: SIGTERM to the primary stops the workers, exit 0, port closed", async () => {
    const started = await startDin(["gateway", "--config", gatewayConfig, "--port", "0", "--workers", "2"]);
    const gateway = started.ready.gateway as string;
    await loadGateway(gateway);
    const ms = await expectStopped(started, () => started.child.kill("SIGTERM"), [gateway]);
    console.info(`din gateway --workers 2 stopped in ${ms} ms (SIGTERM to the primary)`);
  });

  it("with two workers: Ctrl-C (SIGINT to the whole group) stops it once, exit 0, port closed", async () => {
    const started = await startDin(["gateway", "--config", gatewayConfig, "--port", "0", "--workers", "2"]);
    const gateway = started.ready.gateway as string;
    await loadGateway(gateway);
    const ms = await expectStopped(started, () => process.kill(-started.child.pid!, "SIGINT"), [gateway]);
    console.info(`din gateway --workers 2 stopped in ${ms} ms (SIGINT to the group)`);
  });
});

describe("din gateway forced stops", () => {
  // A WebSocket client that never answers the close frame holds the gateway's close for the socket grace
  // (2 s): longer than these deadlines, so the stop has to be forced.
  async function startWithSilentWebSockets(
    env: Record<string, string>,
    config = gatewayConfig,
  ): Promise<Started & { gateway: string }> {
    const started = await startDin(["gateway", "--config", config, "--port", "0"], env);
    const gateway = started.ready.gateway as string;
    held = openHostileSockets(gateway, { rpcPath: "/v1/local", wsPath: "/ws/v1/local" });
    await waitFor(
      async () =>
        (await (await fetch(`${gateway}/metrics`)).text()).includes('din_ws_connections{network="local"} 3'),
      10_000,
      "the gateway to hold the three WebSockets",
    );
    return { ...started, gateway };
  }

  it("exits 1 at the deadline when a close does not finish in time, its port closed", async () => {
    const started = await startWithSilentWebSockets({ DIN_SHUTDOWN_TIMEOUT_MS: "700" });
    const exited = exitOf(started.child, 60_000);
    started.child.kill("SIGTERM");
    const exit = await exited;
    expect(exit.code).toBe(1);
    expect(exit.ms).toBeGreaterThanOrEqual(650);
    expect(exit.ms).toBeLessThan(5_000);
    expect(started.stderr()).toMatch(/forcing the stop: still closing after 700 ms/);
    expect(started.stderr()).toMatch(/"hung":\["gateway"\]/);
    expect(await refusesConnections(started.gateway)).toBe(true);
  });

  it("exits 1 at once on a second SIGTERM", async () => {
    const started = await startWithSilentWebSockets({ DIN_SHUTDOWN_TIMEOUT_MS: "60000" }, infoGatewayConfig);
    started.child.kill("SIGTERM");
    await waitFor(() => started.stderr().includes('"msg":"stopping"'), 10_000, "the stop to begin");
    const exited = exitOf(started.child, 60_000);
    started.child.kill("SIGTERM");
    const exit = await exited;
    expect(exit.code).toBe(1);
    expect(exit.ms).toBeLessThan(1_000);
    expect(started.stderr()).toMatch(/second SIGTERM while stopping/);
    expect(await refusesConnections(started.gateway)).toBe(true);
  });
});

describe("din operator serve stops under hostile connections", () => {
  it("SIGTERM with requests in flight and half-sent ones held open: exit 0, port closed", async () => {
    const started = await startDin([
      "operator",
      "serve",
      "--upstream",
      chain.url,
      "--no-auth",
      "--log-level",
      "warn",
    ]);
    const url = started.ready.url as string;
    const logQueries = chain.logQueries();
    fireRequests(url, hostileRequests(100));
    held = openHostileSockets(url);
    await loadInPlace(logQueries);
    const ms = await expectStopped(started, () => started.child.kill("SIGTERM"), [url]);
    console.info(`din operator serve stopped in ${ms} ms`);
  });
});
