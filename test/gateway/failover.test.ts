// Failover under faults injected by real operator proxies in front of a real Hardhat devnet.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requestDevnet } from "../../src/devnet/chain.js";
import { type DataPlane, post, rpc, sleep, startDataPlane, waitFor } from "../support/dataPlane.js";

/** Requests a wallet or dApp sends all the time; all head-dependent or head reads. */
function mixedRequest(plane: DataPlane, index: number) {
  const account = plane.chain.accounts[index % plane.chain.accounts.length];
  const requests = [
    rpc("eth_blockNumber", [], index),
    rpc("eth_getBalance", [account, "latest"], index),
    rpc("eth_call", [{ to: plane.traffic.pingContract, data: "0x" }, "latest"], index),
    rpc("eth_getBlockByNumber", ["latest", false], index),
    rpc("eth_getTransactionCount", [account, "latest"], index),
    rpc("eth_gasPrice", [], index),
    rpc("eth_chainId", [], index),
  ];
  return requests[index % requests.length]!;
}

interface LoadReport {
  sent: number;
  errors: Array<{ status: number; body: unknown }>;
  maxLatencyMs: number;
}

/** Runs `clients` concurrent clients until `stop()` resolves. */
async function steadyLoad(
  plane: DataPlane,
  clients: number,
  during: () => Promise<unknown>,
  request: (index: number) => unknown = (index) => mixedRequest(plane, index),
): Promise<LoadReport> {
  const report: LoadReport = { sent: 0, errors: [], maxLatencyMs: 0 };
  let running = true;
  const client = async (offset: number) => {
    for (let index = offset; running; index += clients) {
      const started = performance.now();
      report.sent++;
      try {
        const { status, json } = await post(plane.rpcUrl, request(index));
        if (status !== 200 || json.error) report.errors.push({ status, body: json });
      } catch (error) {
        report.errors.push({ status: 0, body: String(error) });
      }
      report.maxLatencyMs = Math.max(report.maxLatencyMs, performance.now() - started);
    }
  };
  const workers = Array.from({ length: clients }, (_, offset) => client(offset));
  await during();
  running = false;
  await Promise.all(workers);
  return report;
}

async function healthOf(plane: DataPlane, id: string) {
  const report = await fetch(`${plane.gateway.url}/healthz`).then((response) => response.json());
  return report.networks[0].upstreams.find((upstream: { id: string }) => upstream.id === id);
}

describe("failover across operators", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({ gateway: { routing: { hedge: false } } });
    // Enough history that a 20-block lag is a real lag.
    await requestDevnet(plane.chain.provider, "hardhat_mine", ["0x30"]);
    await waitFor(async () => Number((await healthOf(plane, "aws-use1"))?.head) >= 48, 10_000, "heads");
  });

  afterEach(async () => {
    await Promise.all([...plane.operators.values()].map((operator) => operator.setChaos({ mode: "ok" })));
    await waitFor(
      async () => {
        const report = await fetch(`${plane.gateway.url}/healthz`).then((response) => response.json());
        return report.networks[0].upstreams.every(
          (upstream: { health: string }) => upstream.health === "healthy",
        );
      },
      20_000,
      "all operators healthy again",
    );
  });

  afterAll(async () => {
    await plane?.close();
  });

  it("serves a steady load with zero errors while a whole cloud (2 of 5 operators) dies", async () => {
    const report = await steadyLoad(plane, 8, async () => {
      await sleep(700);
      await Promise.all([plane.operators.get("aws-use1")!.setChaos({ mode: "down" })]);
      await sleep(300);
      await plane.operators.get("aws-euw1")!.setChaos({ mode: "down" });
      await sleep(2_500);
    });
    expect(report.errors).toEqual([]);
    expect(report.sent).toBeGreaterThan(100);
    const aws = await healthOf(plane, "aws-use1");
    expect(aws.health).toBe("unhealthy");
  });

  it("sends no head-dependent read to an operator lagging 20 blocks, and clients see no error", async () => {
    const laggard = plane.operators.get("gcp-usc1")!;
    await laggard.setChaos({ mode: "lag", value: 20 });
    await waitFor(async () => (await healthOf(plane, "gcp-usc1"))?.lagBlocks >= 15, 10_000, "lag noticed");
    const before = { ...laggard.stats().byMethod };
    const report = await steadyLoad(plane, 6, () => sleep(2_500));
    const after = laggard.stats().byMethod;
    expect(report.errors).toEqual([]);
    for (const method of ["eth_getBalance", "eth_call", "eth_getTransactionCount", "eth_gasPrice"]) {
      expect(after[method] ?? 0, `${method} sent to the laggard`).toBe(before[method] ?? 0);
    }
    expect((await healthOf(plane, "gcp-usc1")).health).toBe("unhealthy");
  });

  it("brings a recovered operator back through half-open probes", async () => {
    const operator = plane.operators.get("hetzner-fsn1")!;
    await operator.setChaos({ mode: "down" });
    await waitFor(
      async () => (await healthOf(plane, "hetzner-fsn1"))?.breaker === "open",
      10_000,
      "circuit open",
    );
    await operator.setChaos({ mode: "ok" });
    const recovered = await waitFor(
      async () => {
        const health = await healthOf(plane, "hetzner-fsn1");
        return health.health === "healthy" && health.breaker === "closed" ? health : undefined;
      },
      15_000,
      "operator healthy again",
    );
    expect(recovered.reasons).toEqual([]);
  });

  it("fails over from an operator answering 5xx without the client noticing", async () => {
    await plane.operators.get("bare-ams")!.setChaos({ mode: "errors", value: 100 });
    await plane.operators.get("hetzner-fsn1")!.setChaos({ mode: "errors", value: 50 });
    const report = await steadyLoad(plane, 4, () => sleep(1_500));
    expect(report.errors).toEqual([]);
    expect((await healthOf(plane, "bare-ams")).health).toBe("unhealthy");
  });

  it("answers with a clear error, not a hang, when every operator is down", async () => {
    await Promise.all([...plane.operators.values()].map((operator) => operator.setChaos({ mode: "down" })));
    const { status, json } = await post(
      plane.rpcUrl,
      rpc("eth_getBalance", [plane.chain.accounts[0], "0x1"]),
    );
    expect(status).toBe(200);
    expect(json.error.code).toBe(-32002);
    expect(json.error.message).toMatch(/No operator could serve the request/);
    expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe("hedging", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({
      gateway: {
        // No cloud cap here: the slow operator must stay first whatever its cloud's share.
        routing: { hedge: true, hedgeMinDelayMs: 30, hedgeMaxDelayMs: 60, cloudShareCap: 1 },
        cache: { enabled: false },
      },
      // The slow operator stays everyone's first choice, so every read needs a hedge.
      upstreams: { "aws-use1": { weight: 1000 } },
    });
  });

  afterAll(async () => {
    await plane?.close();
  });

  it("answers a slow primary's reads from a hedge, without counting the slow operator as failing", async () => {
    const slow = plane.operators.get("aws-use1")!;
    await slow.setChaos({ mode: "slow", value: 400 });
    for (let i = 0; i < 10; i++) {
      const { json } = await post(
        plane.rpcUrl,
        rpc("eth_getBalance", [plane.chain.accounts[1], "latest"], i),
      );
      expect(json.result).toMatch(/^0x/);
    }
    expect(slow.stats().byMethod.eth_getBalance).toBe(10);
    const metrics = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/din_hedges_total\{network="ethereum",result="won"\} 10/);
    const report = await fetch(`${plane.gateway.url}/healthz`).then((response) => response.json());
    for (const upstream of report.networks[0].upstreams) {
      expect(upstream.errorRate, upstream.id).toBe(0);
      expect(upstream.breaker, upstream.id).toBe("closed");
    }
  });
});
