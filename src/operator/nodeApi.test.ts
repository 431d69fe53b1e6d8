// The operator node's AVS node API and metrics (EigenLayer's AVS Node Specification), on real listeners in
// front of a real execution client: a JSON-RPC server over the in-process Hardhat chain that the tests can
// stop and start again on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type HardhatProvider,
  type HardhatServer,
  startHardhatServer,
} from "../../test/support/hardhatServer.js";
import { AVS_NODE_SPEC_VERSION, packageVersion } from "./nodeApi.js";
import { PerformanceWindow } from "./nodeHealth.js";
import {
  type NodeApiOptions,
  type OperatorNode,
  type OperatorNodeOptions,
  startOperatorNode,
} from "./proxy.js";

/** A real JSON-RPC execution client over Hardhat's provider, which can go away and come back. */
interface ExecutionClient {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function startExecutionClient(provider: HardhatProvider): Promise<ExecutionClient> {
  const answer = async (call: unknown) => {
    const { id, method, params } = call as { id?: unknown; method: string; params?: unknown[] };
    try {
      const result = await provider.request({ method, params: params ?? [] });
      return { jsonrpc: "2.0", id: id ?? null, result };
    } catch (error) {
      const code =
        typeof (error as { code?: unknown }).code === "number" ? (error as { code: number }).code : -32603;
      return { jsonrpc: "2.0", id: id ?? null, error: { code, message: (error as Error).message } };
    }
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const result = Array.isArray(body) ? await Promise.all(body.map(answer)) : await answer(body);
      if (!res.destroyed)
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
    });
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    stop,
    start: async () => {
      server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    close: stop,
  };
}

let chain: HardhatServer;
let client: ExecutionClient;
const nodes: OperatorNode[] = [];

beforeAll(async () => {
  chain = await startHardhatServer();
  client = await startExecutionClient(chain.provider);
});

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

afterAll(async () => {
  await client?.close();
  await chain?.close();
});

async function startNode(
  options: Partial<OperatorNodeOptions> = {},
  nodeApi: NodeApiOptions = {},
): Promise<OperatorNode> {
  const node = await startOperatorNode({
    id: `op-api-${nodes.length}`,
    upstream: client.url,
    ...options,
    nodeApi: { probeIntervalMs: 50, ...nodeApi },
  });
  nodes.push(node);
  return node;
}

function api(node: OperatorNode, path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${node.nodeApiUrl}${path}`, init);
}

/** Asks until `check` passes (probes run in the background); fails after 20 s. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (check(value)) return value;
    if (i >= 400) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const healthOf = async (node: OperatorNode) => (await api(node, "/eigen/node/health")).status;

async function rpc(node: OperatorNode, method: string, params: unknown[] = []): Promise<number> {
  const response = await fetch(node.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function scrape(node: OperatorNode): Promise<string> {
  const response = await api(node, "/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

/** The label sets of a metric's samples in a scrape. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    out.push({ labels, value: Number(match[2]) });
  }
  return out;
}

function score(text: string): number {
  const [sample] = samples(text, "eigen_performance_score");
  return sample?.value ?? Number.NaN;
}

describe("AVS node API", () => {
  it("answers the spec's identity, health and services endpoints without a token, GET only", async () => {
    const signerKey = generatePrivateKey();
    const operator = privateKeyToAccount(generatePrivateKey()).address;
    const node = await startNode({
      // Callers need a token on the JSON-RPC listener; nobody is admitted.
      auth: { operator, ledgerChainId: 31337, isCaller: async () => false },
      relaySigner: {
        account: privateKeyToAccount(signerKey),
        chainId: 1,
        ledgerChainId: 31337,
        slasher: operator,
      },
    });
    expect(node.nodeApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.nodeApiUrl).not.toBe(node.url);
    expect(await rpc(node, "eth_chainId")).toBe(401);
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );

    const specVersion = await api(node, "/eigen/node/spec-version");
    expect(specVersion.status).toBe(200);
    expect(specVersion.headers.get("content-type")).toBe("application/json");
    expect(await specVersion.json()).toEqual({ spec_version: AVS_NODE_SPEC_VERSION });
    expect(AVS_NODE_SPEC_VERSION).toBe("v0.0.1");
    expect(await (await api(node, "/eigen/node/version")).json()).toEqual({ node_version: packageVersion() });
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await (await api(node, "/eigen/node")).json()).toEqual({
      node_name: node.id,
      spec_version: "v0.0.1",
      node_version: packageVersion(),
    });

    const services = (await (await api(node, "/eigen/node/services")).json()) as {
      services: { id: string; name: string; description: string; status: string }[];
    };
    expect(services.services.map((s) => [s.id, s.status])).toEqual([
      ["execution-client", "Up"],
      ["relay-signer", "Up"],
    ]);
    for (const service of services.services) {
      expect(Object.keys(service).sort()).toEqual(["description", "id", "name", "status"]);
      expect(service.name.length).toBeGreaterThan(0);
      expect(service.description.length).toBeGreaterThan(0);
      expect((await api(node, `/eigen/node/services/${service.id}/health`)).status).toBe(200);
    }

    const unknownService = await api(node, "/eigen/node/services/database/health");
    expect(unknownService.status).toBe(404);
    expect(await unknownService.json()).toEqual({ message: "service not found" });
    const otherVersion = await api(node, "/eigen/node/spec-version?version=v9.9.9");
    expect(otherVersion.status).toBe(404);
    expect(await otherVersion.json()).toEqual({ message: "API version not found" });
    expect((await api(node, "/eigen/node/health?version=v0.0.1")).status).toBe(200);

    const unknownPath = await api(node, "/eigen/node/secrets");
    expect(unknownPath.status).toBe(404);
    expect(((await unknownPath.json()) as { message: string }).message).toMatch(/not found/);
    expect((await api(node, "/")).status).toBe(404);
    for (const [path, method] of [
      ["/eigen/node/health", "POST"],
      ["/eigen/node/services", "DELETE"],
      ["/metrics", "PUT"],
    ] as const) {
      const refused = await api(node, path, { method, body: method === "DELETE" ? null : "{}" });
      expect(refused.status).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET");
      expect(((await refused.json()) as { message: string }).message).toMatch(/only GET/);
    }

    // Nothing secret anywhere: not the signing key, not the upstream's URL.
    const bodies = await Promise.all(
      ["/eigen/node", "/eigen/node/services", "/metrics", "/eigen/node/nope"].map(async (path) =>
        (await api(node, path)).text(),
      ),
    );
    for (const body of bodies) {
      expect(body).not.toContain(signerKey.slice(2));
      expect(body).not.toContain(client.url);
    }
  });

  it("goes unhealthy (503, execution client Down) when the execution client stops, and healthy when it is back", async () => {
    const node = await startNode();
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );
    expect(await rpc(node, "eth_blockNumber")).toBe(200);
    expect(score(await scrape(node))).toBe(100);

    await client.stop();
    try {
      await eventually(
        () => healthOf(node),
        (status) => status === 503,
      );
      const { services } = (await (await api(node, "/eigen/node/services")).json()) as {
        services: { id: string; status: string }[];
      };
      expect(services).toEqual([expect.objectContaining({ id: "execution-client", status: "Down" })]);
      expect((await api(node, "/eigen/node/services/execution-client/health")).status).toBe(503);
      // Calls it cannot answer now lower its score.
      expect(await rpc(node, "eth_blockNumber")).toBe(502);
      const metrics = await scrape(node);
      expect(score(metrics)).toBeLessThan(100);
      expect(samples(metrics, "din_operator_service_up")).toEqual([
        { labels: { service: "execution-client" }, value: 0 },
      ]);
      expect(samples(metrics, "din_operator_calls_total")).toContainEqual({
        labels: { method: "eth_blockNumber", outcome: "failed" },
        value: 1,
      });
    } finally {
      await client.start();
    }
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );
    expect((await api(node, "/eigen/node/services/execution-client/health")).status).toBe(200);
  });

  it("exposes the four eigen_* series with method and client_version labels after RPC traffic", async () => {
    const node = await startNode();
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );
    const clientVersion = String(await chain.provider.request({ method: "web3_clientVersion" }));
    expect(await rpc(node, "eth_chainId")).toBe(200);
    expect(await rpc(node, "eth_chainId")).toBe(200);
    expect(await rpc(node, "eth_getBlockByNumber", ["latest", false])).toBe(200);
    // A method the node does not serve is refused, never sent to the execution client.
    expect(await rpc(node, "hardhat_mine")).toBe(200);

    const metrics = await scrape(node);
    expect(metrics).toMatch(/^# TYPE eigen_performance_score gauge$/m);
    expect(metrics).toMatch(/^# TYPE eigen_registered_stakes gauge$/m);
    expect(metrics).toMatch(/^# TYPE eigen_rpc_request_total counter$/m);
    expect(metrics).toMatch(/^# TYPE eigen_rpc_request_duration_seconds histogram$/m);
    expect(score(metrics)).toBe(100);
    expect(samples(metrics, "eigen_rpc_request_total")).toEqual(
      expect.arrayContaining([
        { labels: { method: "eth_chainId", client_version: clientVersion }, value: 2 },
        { labels: { method: "eth_getBlockByNumber", client_version: clientVersion }, value: 1 },
      ]),
    );
    expect(samples(metrics, "eigen_rpc_request_total").map((s) => s.labels.method)).not.toContain(
      "hardhat_mine",
    );
    expect(samples(metrics, "eigen_rpc_request_duration_seconds_count")).toEqual(
      expect.arrayContaining([
        { labels: { method: "eth_chainId", client_version: clientVersion }, value: 2 },
      ]),
    );
    const buckets = samples(metrics, "eigen_rpc_request_duration_seconds_bucket").filter(
      (s) => s.labels.method === "eth_chainId",
    );
    expect(buckets.find((s) => s.labels.le === "+Inf")?.value).toBe(2);
    expect(samples(metrics, "din_operator_calls_total")).toEqual(
      expect.arrayContaining([
        { labels: { method: "eth_chainId", outcome: "served" }, value: 2 },
        { labels: { method: "unknown", outcome: "refused" }, value: 1 },
      ]),
    );
    expect(metrics).toMatch(/^din_operator_execution_client_head \d+$/m);
    // Only the spec's names carry the eigen_ prefix; the node's own are din_.
    const names = new Set(
      metrics
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ")[2] as string),
    );
    for (const name of names)
      expect(name).toMatch(
        /^(eigen_(performance_score|registered_stakes|rpc_request_total|rpc_request_duration_seconds)|din_)/,
      );
  });

  it("scores calls answered over the latency budget as not good", async () => {
    const node = await startNode({ chaos: true }, { latencyBudgetMs: 1 });
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );
    // Every answer now waits 20 ms in front of the execution client: past the 1 ms budget.
    await node.setChaos({ mode: "slow", value: 20 });
    for (let i = 0; i < 3; i++) expect(await rpc(node, "eth_chainId")).toBe(200);
    expect(score(await scrape(node))).toBe(0);
  });

  it("folds 1,000 made-up method names into one label value", async () => {
    const node = await startNode();
    await eventually(
      () => healthOf(node),
      (status) => status === 200,
    );
    // Samples of the eigen_ and the node's request metrics (the process metrics come and go by themselves).
    const ownSeries = (text: string) =>
      text.split("\n").filter((line) => /^(eigen_|din_operator_(calls|refusals)_total)/.test(line)).length;
    const before = ownSeries(await scrape(node));
    const names = Array.from({ length: 1_000 }, (_, i) => {
      const random = Math.random().toString(36).slice(2);
      return [
        `eth_${random}`,
        `x${random}_${i}`,
        `debug_${random}`,
        `hardhat_${random}`,
        `${"é".repeat(5)}${i}`,
      ][i % 5] as string;
    });
    for (let i = 0; i < names.length; i += 50) {
      const statuses = await Promise.all(names.slice(i, i + 50).map((name) => rpc(node, name)));
      for (const status of statuses) expect(status).toBe(200);
    }
    const metrics = await scrape(node);
    const methods = new Set(
      [
        "din_operator_calls_total",
        "eigen_rpc_request_total",
        "eigen_rpc_request_duration_seconds_count",
      ].flatMap((name) => samples(metrics, name).map((s) => s.labels.method)),
    );
    expect([...methods]).toEqual(["unknown"]);
    expect(samples(metrics, "din_operator_calls_total")).toEqual([
      { labels: { method: "unknown", outcome: "refused" }, value: 1_000 },
    ]);
    for (const name of names.slice(0, 50)) expect(metrics).not.toContain(name);
    // The node's own series grew by that one, not by a thousand.
    expect(ownSeries(metrics) - before).toBe(1);
  });

  it("is off unless asked for", async () => {
    const node = await startOperatorNode({ id: "no-api", upstream: client.url });
    try {
      expect(node.nodeApiUrl).toBeUndefined();
    } finally {
      await node.close();
    }
  });
});

describe("performance window", () => {
  it("multiplies the share of good calls by the share of probes up, over a sliding window", () => {
    let now = 1_000_000;
    const window = new PerformanceWindow({ latencyBudgetMs: 100, windowMs: 30_000, now: () => now });
    expect(window.score()).toBe(100);
    window.call(true, 10);
    window.call(true, 500); // answered, but over budget
    window.call(false, 10);
    window.call(true, 100);
    window.probe(true);
    window.probe(false);
    expect(window.score()).toBe(25); // 2/4 × 1/2
    now += 15_000;
    window.call(true, 1);
    expect(window.totals()).toEqual({ calls: 5, good: 3, probes: 2, probesUp: 1 });
    now += 16_000; // the first slice has left the window
    expect(window.totals()).toEqual({ calls: 1, good: 1, probes: 0, probesUp: 0 });
    expect(window.score()).toBe(100);
    now += 60_000;
    expect(window.totals()).toEqual({ calls: 0, good: 0, probes: 0, probesUp: 0 });
  });
});
