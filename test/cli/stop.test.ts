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
function startFakeChain(): Promise<{ server: Server; url: string }> {
  const started = Date.now();
  const head = () => 100 + Math.floor((Date.now() - started) / 500);
  const hash = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
  const block = (n: number) => ({
    number: `0x${n.toString(16)}`,
    hash: hash(n),
    parentHash: hash(n - 1),
    timestamp: `0x${(1_700_000_000 + n).toString(16)}`,
    transactions: [],
  });
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      let call: { id?: unknown; method?: string; params?: unknown[] };
      try {
        call = JSON.parse(body);
      } catch {
        response.writeHead(400).end();
        return;
      }
      const answer = (result: unknown, delayMs = 0) =>
        setTimeout(() => {
          if (response.destroyed) return;
          response.setHeader("content-type", "application/json");
          response.end(JSON.stringify({ jsonrpc: "2.0", id: call.id ?? null, result }));
        }, delayMs);
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
          return answer([], 3_000);
        default:
          response.setHeader("content-type", "application/json");
          response.end(
            JSON.stringify({
              jsonrpc: "2.0",
              id: call.id ?? null,
              error: { code: -32601, message: "the method does not exist" },
            }),
          );
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
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

let chain: { server: Server; url: string };
let gatewayConfig: string;

beforeAll(async () => {
  chain = await startFakeChain();
  gatewayConfig = join(mkdtempSync(join(tmpdir(), "din-stop-")), "din.yaml");
  writeFileSync(
    gatewayConfig,
    [
      "server:",
      "  logLevel: warn",
      "networks:",
      "  - name: local",
      "    chainId: 31337",
      "    upstreams:",
      `      - { id: node-a, url: "${chain.url}" }`,
      `      - { id: node-b, url: "${chain.url}" }`,
      "",
    ].join("\n"),
  );
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
    fireRequests(`${gateway}/v1/local`, hostileRequests(150));
    held = openHostileSockets(gateway, { rpcPath: "/v1/local", wsPath: "/ws/v1/local" });
    await new Promise((resolve) => setTimeout(resolve, 500));
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
  ): Promise<Started & { gateway: string }> {
    const started = await startDin(["gateway", "--config", gatewayConfig, "--port", "0"], env);
    const gateway = started.ready.gateway as string;
    held = openHostileSockets(gateway, { rpcPath: "/v1/local", wsPath: "/ws/v1/local" });
    await new Promise((resolve) => setTimeout(resolve, 300));
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
    const started = await startWithSilentWebSockets({ DIN_SHUTDOWN_TIMEOUT_MS: "60000" });
    started.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
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
    fireRequests(url, hostileRequests(100));
    held = openHostileSockets(url);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ms = await expectStopped(started, () => started.child.kill("SIGTERM"), [url]);
    console.info(`din operator serve stopped in ${ms} ms`);
  });
});
