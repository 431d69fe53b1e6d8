// `din up` as a newcomer runs it: one JSON line when ready, a gateway that serves both devnets,
// `din chaos` and `din status` against it, and nothing left listening after SIGTERM.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createPublicClient, createWalletClient, defineChain, type Hex, http, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, rpc, waitFor } from "../support/dataPlane.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");

interface ReadyLine {
  gateway: string;
  networks: Array<{ name: string; chainId: number; rpc: string; ws: string; chain: string }>;
  operators: Array<{
    id: string;
    network: string;
    cloud: string;
    region: string;
    url: string;
    nodeApiUrl?: string;
    address: string;
  }>;
  ledger: { rpc: string; chainId: number };
  contracts: Record<string, string>;
  watchers: Array<{ address: string; stateFile: string; metricsUrl: string }>;
  accounts: Array<{ address: string; keyFile: string }>;
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("din up", () => {
  let child: ChildProcess;
  let ready: ReadyLine;
  let stdoutLines: string[];
  const dataDir = mkdtempSync(join(tmpdir(), "din-up-"));

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--block-time", "500"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    stdoutLines = [];
    const lines = createInterface({ input: child.stdout! });
    let stderr = "";
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
    });
    ready = await new Promise<ReadyLine>((resolve, reject) => {
      lines.on("line", (line) => {
        stdoutLines.push(line);
        if (stdoutLines.length === 1) resolve(JSON.parse(line) as ReadyLine);
      });
      child.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr.slice(-2000)}`)));
    });
  }, 120_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("prints one JSON line with two networks and five diverse operators each", () => {
    expect(ready.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.networks.map((network) => network.name)).toEqual(["ethereum", "polygon"]);
    expect(new Set(ready.networks.map((network) => network.chainId)).size).toBe(2);
    for (const network of ready.networks) {
      const operators = ready.operators.filter((operator) => operator.network === network.name);
      expect(operators).toHaveLength(5);
      const clouds = operators.map((operator) => operator.cloud);
      expect(clouds.filter((cloud) => cloud === "aws")).toHaveLength(2);
      expect(clouds).toEqual(expect.arrayContaining(["gcp", "hetzner", "bare-metal"]));
    }
  });

  it("names the ledger, the contracts, the watchers and each operator's ledger address", async () => {
    expect(ready.ledger.chainId).toBe(31337);
    expect(ready.ledger.rpc).toBe(ready.networks[0]!.chain);
    for (const name of [
      "registry",
      "slasher",
      "epochs",
      "delegationManager",
      "allocationManager",
      "governor",
    ]) {
      expect(ready.contracts[name], name).toMatch(/^0x[0-9a-fA-F]{40}$/);
    }
    expect(ready.watchers).toHaveLength(3);
    expect(new Set(ready.operators.map((o) => o.address)).size).toBe(10);
    // Operators serve only registered gateways and watchers: a stranger is refused.
    const stranger = await post(ready.operators[0]!.url, rpc("eth_blockNumber"));
    expect(stranger.status).toBe(401);
  });

  it("serves EigenLayer's AVS node API and metrics on every operator, without a token", async () => {
    for (const operator of ready.operators) {
      expect(operator.nodeApiUrl, operator.id).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
    const [operator] = ready.operators;
    const api = operator!.nodeApiUrl as string;
    expect(await (await fetch(`${api}/eigen/node/spec-version`)).json()).toEqual({ spec_version: "v0.0.1" });
    expect((await (await fetch(`${api}/eigen/node/version`)).json()).node_version).toMatch(/^\d+\.\d+\.\d+/);
    expect([200, 206]).toContain((await fetch(`${api}/eigen/node/health`)).status);
    const services = await (await fetch(`${api}/eigen/node/services`)).json();
    const ids = services.services.map((service: { id: string }) => service.id);
    expect(ids).toEqual(expect.arrayContaining(["execution-client", "ledger", "relay-signer"]));
    expect([200, 206]).toContain((await fetch(`${api}/eigen/node/services/execution-client/health`)).status);
    expect((await fetch(`${api}/eigen/node/services/nothing/health`)).status).toBe(404);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    for (const series of [
      "eigen_performance_score",
      "eigen_registered_stakes",
      "eigen_rpc_request_total",
      "eigen_rpc_request_duration_seconds",
    ]) {
      expect(metrics, series).toContain(`# TYPE ${series}`);
    }
  });

  it("prints keyed RPC URLs and refuses /v1/<network> without a key", async () => {
    for (const network of ready.networks) {
      expect(network.rpc).toMatch(new RegExp(`^${ready.gateway}/v1/${network.name}/[0-9a-f]{32}$`));
      const bare = await post(`${ready.gateway}/v1/${network.name}`, rpc("eth_chainId"));
      expect(bare.status).toBe(401);
      expect(bare.json.error.data.rule).toBe("apiKey");
    }
  });

  it("leaves funded accounts to people: 20 transactions from one through the gateway, no nonce or price clash", async () => {
    expect(ready.accounts).toHaveLength(10);
    const [mine] = ready.accounts;
    const key = readFileSync(mine!.keyFile, "utf8").trim() as Hex;
    expect((statSync(mine!.keyFile).mode & 0o777).toString(8)).toBe("600");
    const account = privateKeyToAccount(key);
    expect(account.address).toBe(mine!.address);
    const network = ready.networks[1]!;
    const chain = defineChain({
      id: network.chainId,
      name: network.name,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [network.rpc] } },
    });
    const wallet = createWalletClient({ account, chain, transport: http(network.rpc) });
    const client = createPublicClient({ chain, transport: http(network.rpc) });
    // One after the other with the nonces viem reads through the gateway, as a dApp would send them.
    const hashes: Hex[] = [];
    let nonce = await client.getTransactionCount({ address: account.address, blockTag: "pending" });
    for (let i = 0; i < 20; i++) {
      hashes.push(
        await wallet.sendTransaction({ to: ready.accounts[1]!.address as Hex, value: 1n, nonce: nonce++ }),
      );
    }
    for (const hash of hashes) {
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 60_000 });
      expect(receipt.status).toBe("success");
    }
  });

  it("serves both devnets through the gateway, with blocks, receipts and logs", async () => {
    for (const network of ready.networks) {
      const { json } = await post(network.rpc, rpc("eth_chainId"));
      expect(Number(json.result)).toBe(network.chainId);
    }
    const ethereum = ready.networks[0]!.rpc;
    const head = await waitFor(async () => {
      const { json } = await post(ethereum, rpc("eth_blockNumber"));
      return Number(json.result) >= 3 ? Number(json.result) : 0;
    });
    const { json: logs } = await post(
      ethereum,
      rpc("eth_getLogs", [{ fromBlock: "0x0", toBlock: `0x${head.toString(16)}` }]),
    );
    expect(logs.result.length).toBeGreaterThan(0);
    const { json: receipt } = await post(
      ethereum,
      rpc("eth_getTransactionReceipt", [logs.result[0].transactionHash]),
    );
    expect(receipt.result.status).toBe("0x1");
  });

  it("din risk reports aws's share of ethereum's stake as din status shows it, and the gateway exports it", async () => {
    const share = (allocated: bigint, total: bigint) => Number((allocated * 10n ** 12n) / total) / 1e12;
    // Stake can move between two reads (a delegation allocated, a slash): read both until they agree.
    const [fromStatus, fromRisk] = await waitFor(
      async () => {
        const status = JSON.parse(
          (await run(process.execPath, [bin, "status", "--data-dir", dataDir, "--json"])).stdout,
        );
        const { stdout } = await run(process.execPath, [bin, "risk", "--data-dir", dataDir, "--json"]);
        const risk = JSON.parse(stdout);
        const operators = status.networks[0].operators as Array<{ cloud: string; allocated: string }>;
        const wei = (tokens: string) => parseUnits(tokens, 18);
        const total = operators.reduce((sum, o) => sum + wei(o.allocated), 0n);
        const aws = operators.filter((o) => o.cloud === "aws").reduce((sum, o) => sum + wei(o.allocated), 0n);
        const cloud = risk.networks.find((n: { name: string }) => n.name === "ethereum").risk.stake.cloud;
        const group = cloud.groups.find((g: { group: string }) => g.group === "aws");
        const pair = [share(aws, total), share(BigInt(group.weight), BigInt(cloud.total))] as const;
        return pair[0] === pair[1] ? pair : undefined;
      },
      30_000,
      "din risk and din status to agree",
    );
    expect(fromRisk).toBe(fromStatus);
    expect(fromStatus).toBeGreaterThan(0);
    // The gateway's gauges, from its own view of the registry.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${ready.gateway}/metrics`)).text();
      return text.includes("din_risk_nakamoto{") ? text : undefined;
    });
    expect(metrics).toMatch(/din_risk_operators\{network="ethereum"\} 5/);
    expect(metrics).toMatch(
      /din_risk_outage_capacity_left\{network="ethereum",kind="cloud",name="aws"\} 0\.6/,
    );
    // What corrupting ethereum costs: a third of its allocated stake, as din risk computes it.
    const cost = Number(
      /din_risk_cost_of_corruption_tokens\{network="ethereum"\} ([\d.e+-]+)/.exec(metrics)?.[1],
    );
    const { stdout } = await run(process.execPath, [bin, "risk", "--data-dir", dataDir, "--json"]);
    const ethereum = JSON.parse(stdout).security.networks[0];
    expect(ethereum.network).toBe("ethereum");
    expect(cost).toBeCloseTo(Number(BigInt(ethereum.costOfCorruption) / 10n ** 12n) / 1e6, 4);
    // Each watcher exports the same figures from its own read of the registry.
    for (const watcher of ready.watchers) {
      const text = await waitFor(async () => {
        const t = await (await fetch(watcher.metricsUrl)).text();
        return t.includes("din_risk_outage_capacity_left{") ? t : undefined;
      });
      expect(text).toMatch(
        /din_risk_outage_capacity_left\{network="ethereum",kind="cloud",name="aws"\} 0\.6/,
      );
      expect(text).toMatch(/din_watcher_operator_availability\{network="polygon",operator="aws-/);
    }
  });

  it("din status reads any deployment from its RPC and deployment file, as it reads the local one", async () => {
    const deployment = join(dataDir, "ledger", "deployment.json");
    const status = async (args: string[]) =>
      JSON.parse((await run(process.execPath, [bin, "status", ...args, "--json"])).stdout) as {
        networks: Array<{
          name: string;
          operators: Array<{ address: string; allocated: string; health: string }>;
        }>;
      };
    const remote = await status([
      "--rpc",
      ready.ledger.rpc,
      "--deployment",
      deployment,
      "--gateway",
      ready.gateway,
    ]);
    const local = await status(["--data-dir", dataDir]);
    for (const [i, network] of local.networks.entries()) {
      const addresses = (n: (typeof local.networks)[number]) => n.operators.map((o) => o.address).sort();
      expect(addresses(remote.networks[i]!)).toEqual(addresses(network));
    }
    // Without a gateway nothing is observed: the ledger's side only.
    const blind = await status(["--rpc", ready.ledger.rpc, "--deployment", deployment]);
    expect(blind.networks[0]!.operators.length).toBe(5);
    const refused = await run(process.execPath, [bin, "status", "--rpc", ready.ledger.rpc]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toMatch(/--rpc and --deployment go together/);
  });

  it("takes a whole cloud down with din chaos; clients keep getting answers and din status shows it", async () => {
    const { stdout } = await run(process.execPath, [
      bin,
      "chaos",
      "--cloud",
      "aws",
      "--mode",
      "down",
      "--data-dir",
      dataDir,
      "--json",
    ]);
    const { changes } = JSON.parse(stdout) as {
      changes: Array<{ operator: string; state: { mode: string } }>;
    };
    expect(changes).toHaveLength(4);
    expect(changes.every((change) => change.state.mode === "down")).toBe(true);
    for (let i = 0; i < 20; i++) {
      const { json } = await post(
        ready.networks[i % 2]!.rpc,
        rpc("eth_getBlockByNumber", ["latest", false], i),
      );
      expect(json.result.number).toMatch(/^0x/);
    }
    const status = await waitFor(async () => {
      const { stdout: out } = await run(process.execPath, [bin, "status", "--data-dir", dataDir, "--json"]);
      const report = JSON.parse(out);
      const aws = report.networks[0].upstreams.filter(
        (upstream: { cloud: string }) => upstream.cloud === "aws",
      );
      return aws.every((upstream: { health: string }) => upstream.health === "unhealthy")
        ? report
        : undefined;
    });
    expect(status.status).toBe("degraded");
    // The ledger's side: each registered operator's delegated stake and the part the network can slash.
    const operators = status.networks[0].operators as Array<{ stake: string; allocated: string }>;
    expect(operators).toHaveLength(5);
    for (const o of operators) {
      expect(Number(o.allocated)).toBeGreaterThan(0);
      expect(Number(o.stake)).toBeGreaterThanOrEqual(Number(o.allocated));
    }
    const { stdout: table } = await run(process.execPath, [bin, "status", "--data-dir", dataDir]);
    // Unhealthy in the gateway, or already jailed if an epoch ended during the outage: no traffic either way.
    expect(table).toMatch(/ethereum-aws-us-east-1 +aws +us-east-1 +(unhealthy|jailed)/);
    expect(table).toMatch(/ stake +alloc +last epoch/);

    // A fault that ends by itself after one epoch: the epoch's length in blocks times the block time.
    const gov = JSON.parse(
      (await run(process.execPath, [bin, "gov", "status", "--data-dir", dataDir, "--json"])).stdout,
    );
    const { blockTimeMs } = JSON.parse(readFileSync(join(dataDir, "network.json"), "utf8")) as {
      blockTimeMs: number;
    };
    const { stdout: timed } = await run(process.execPath, [
      bin,
      "chaos",
      "--operator",
      "polygon-gcp-europe-west4",
      "--mode",
      "lag",
      "--for",
      "1-epoch",
      "--data-dir",
      dataDir,
      "--json",
    ]);
    const [change] = JSON.parse(timed).changes as Array<{ state: { mode: string; forMs: number } }>;
    expect(change!.state).toMatchObject({
      mode: "lag",
      forMs: gov.parameters.epochs.epochLength * blockTimeMs,
    });
  });

  it("refuses a second din up on the same data dir with a clear message", async () => {
    const second = await run(process.execPath, [
      bin,
      "up",
      "--json",
      "--port",
      "0",
      "--data-dir",
      dataDir,
    ]).catch((error: { stderr: string; code: number }) => error);
    expect((second as { code: number }).code).toBe(1);
    expect((second as { stderr: string }).stderr).toMatch(/already running/);
  });

  it("stops cleanly on SIGTERM, leaving nothing listening", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdoutLines).toHaveLength(1);
    expect(await refusesConnections(ready.gateway)).toBe(true);
    for (const operator of ready.operators) expect(await refusesConnections(operator.url)).toBe(true);
    const status = await run(process.execPath, [bin, "status", "--data-dir", dataDir]).catch(
      (error: { stderr: string }) => error,
    );
    expect((status as { stderr: string }).stderr).toMatch(/no local network is running/);
  });
});
