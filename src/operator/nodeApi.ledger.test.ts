// The node API's ledger side: the ledger connection and the relay signer as services, and
// `eigen_registered_stakes` read from the DIN registry, against a deployed DIN on a real Hardhat ledger.
import pino from "pino";
import { type Address, createPublicClient, custom, formatUnits, http, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DinFixture, deployDinFixture, ETHEREUM, WAD } from "../../test/din/fixture.js";
import { waitFor } from "../../test/support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { findNetwork } from "../ledger/din/directory.js";
import type { LedgerView } from "./nodeHealth.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";
import type { RelaySignerOptions } from "./relaySigner.js";

let chain: HardhatServer;
let f: DinFixture;
let operator: Address;
const signer = privateKeyToAccount(generatePrivateKey());
const nodes: OperatorNode[] = [];

beforeAll(async () => {
  chain = await startHardhatServer();
  f = await deployDinFixture();
  operator = f.operators[0];
  await f.stake(operator, 10n * WAD, ETHEREUM);
  f.addSignerKey(signer);
  await f.registerForSet(
    operator,
    ETHEREUM,
    f.encodeMetadata(f.metadata(operator, { signer: signer.address })),
  );
});

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

afterAll(async () => {
  await chain?.close();
});

function ledgerView(client: PublicClient = f.ledger.public as PublicClient): LedgerView {
  return { client, deployment: f.deployment, operator, network: findNetwork(f.deployment, "ethereum") };
}

function relaySigner(account = signer): RelaySignerOptions {
  return {
    account,
    chainId: Number(findNetwork(f.deployment, "ethereum").chainId),
    ledgerChainId: f.deployment.chainId,
    slasher: f.deployment.addresses.slasher,
  };
}

async function startNode(ledger: LedgerView, account = signer): Promise<OperatorNode> {
  const node = await startOperatorNode({
    id: `op-ledger-${nodes.length}`,
    upstream: chain.url,
    relaySigner: relaySigner(account),
    nodeApi: { ledger, probeIntervalMs: 50, stakeRefreshMs: 100 },
  });
  nodes.push(node);
  return node;
}

type Services = { services: { id: string; status: string }[] };

async function statuses(node: OperatorNode): Promise<Record<string, string>> {
  const { services } = (await (await fetch(`${node.nodeApiUrl}/eigen/node/services`)).json()) as Services;
  return Object.fromEntries(services.map((s) => [s.id, s.status]));
}

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (check(value)) return value;
    if (i >= 400) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const health = async (node: OperatorNode) => (await fetch(`${node.nodeApiUrl}/eigen/node/health`)).status;

describe("AVS node API with a ledger", () => {
  it("is healthy with the ledger up and the registered signer, and reports the allocated stake per network", async () => {
    const node = await startNode(ledgerView());
    await eventually(
      () => statuses(node),
      (s) => Object.values(s).every((status) => status === "Up"),
    );
    expect(await statuses(node)).toEqual({ "execution-client": "Up", ledger: "Up", "relay-signer": "Up" });
    expect(await health(node)).toBe(200);
    const metrics = await eventually(
      async () => (await fetch(`${node.nodeApiUrl}/metrics`)).text(),
      (text) => text.includes("eigen_registered_stakes{"),
    );
    for (const network of f.deployment.networks) {
      // What the registry says is allocated, in tokens.
      const stake = formatUnits(await f.allocatedStake(operator, network.id), 18);
      if (network.id === ETHEREUM) expect(Number(stake)).toBeGreaterThan(0);
      expect(metrics).toContain(
        `eigen_registered_stakes{quorum_number="${network.id}",quorum_name="${network.name}"} ${stake}`,
      );
    }
    expect(metrics).toContain('din_operator_service_up{service="ledger"} 1');
    expect(metrics).toContain('din_operator_service_up{service="relay-signer"} 1');
  });

  it("is partially healthy with a signer the registry does not name", async () => {
    const node = await startNode(ledgerView(), privateKeyToAccount(generatePrivateKey()));
    await eventually(
      () => statuses(node),
      (s) => s["relay-signer"] === "Down" && s.ledger === "Up",
    );
    expect(await health(node)).toBe(206);
    expect((await fetch(`${node.nodeApiUrl}/eigen/node/services/relay-signer/health`)).status).toBe(503);
    expect((await fetch(`${node.nodeApiUrl}/eigen/node/services/ledger/health`)).status).toBe(200);
  });

  it("is partially healthy (206, ledger Down) when the ledger cannot be reached, and still serves", async () => {
    const unreachable = createPublicClient({ transport: http("http://127.0.0.1:1", { retryCount: 0 }) });
    const node = await startNode(ledgerView(unreachable as PublicClient));
    await eventually(
      () => statuses(node),
      (s) => s.ledger === "Down" && s["execution-client"] === "Up",
    );
    expect(await health(node)).toBe(206);
    expect((await fetch(`${node.nodeApiUrl}/eigen/node/services/ledger/health`)).status).toBe(503);
    // The signer's registration cannot be read: not known to be Up.
    expect((await statuses(node))["relay-signer"]).toBe("Initializing");
    expect((await fetch(`${node.nodeApiUrl}/eigen/node/services/relay-signer/health`)).status).toBe(206);
    const response = await fetch(node.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
    });
    expect(response.status).toBe(200);
  });
});

it("logs what the ledger decides about its operator while it serves", async () => {
  const lines: Array<{ ledger?: string; msg?: string; level?: number }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  // The ledger as the node sees it, counting the head reads it answers: the news starts from the head
  // the node read first.
  let started = false;
  let headReadsSinceStart = 0;
  const ledger = f.ledger.public as PublicClient;
  const counted = createPublicClient({
    chain: ledger.chain,
    transport: custom({
      request: async ({ method, params }) => {
        const issuedAfterStart = started;
        const result = await ledger.request({ method, params } as Parameters<PublicClient["request"]>[0]);
        if (method === "eth_blockNumber" && issuedAfterStart) headReadsSinceStart++;
        return result;
      },
    }),
  }) as PublicClient;
  const node = await startOperatorNode({
    id: "op-news",
    upstream: chain.url,
    relaySigner: relaySigner(),
    nodeApi: { ledger: ledgerView(counted), probeIntervalMs: 50, stakeRefreshMs: 100 },
    logger,
  });
  nodes.push(node);
  started = true;
  // A change of its metadata on the ledger after the node started is news; what came before is not.
  await waitFor(() => headReadsSinceStart >= 2, 10_000, "the node to read the ledger head");
  await f.updateMetadata(
    operator,
    ETHEREUM,
    f.metadata(operator, { signer: signer.address, endpoint: "https://moved.example" }),
  );
  const news = await waitForLine(lines, (l) => l.ledger === "registered");
  expect(news.msg).toMatch(
    /^registered on ethereum: endpoint https:\/\/moved\.example, aws\/eu-west-1, signer 0x/,
  );
  expect(news.level).toBe(30);
});

async function waitForLine<T>(lines: T[], match: (line: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error("no such log line");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
