// The gateway trusts the chain, not its configuration: an upstream of another chain listed under a
// network (a typo in a config, or an operator serving a cheaper testnet) is never routed to. Three real
// devnets: A is the network's chain, B has another chain id, D has A's chain id but another genesis block.
// Upstreams b and c sit behind proxies a test can point at another node, as a node swapped behind a URL.
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { parseGatewayConfig } from "../../src/gateway/config.js";
import { chainProblem } from "../../src/gateway/network.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { type RecordingProxy, startRecordingProxy } from "../support/recordingProxy.js";

const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the gateway checks each upstream's chain", () => {
  let a: DevnetChain;
  let b: DevnetChain;
  let d: DevnetChain;
  let proxyB: RecordingProxy;
  let proxyC: RecordingProxy;
  let proxyD: RecordingProxy;
  let gateway: Gateway;
  let genesisA: string;

  const call = async (network: string, method: string, params: unknown[] = []) => {
    const response = await fetch(`${gateway.url}/v1/${network}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await response.json()) as { result?: unknown; error?: { message: string } };
  };
  const upstreamHealth = async (network: string, id: string) => {
    const report = (await (await fetch(`${gateway.url}/healthz`)).json()) as {
      networks: Array<{ name: string; upstreams: Array<{ id: string; health: string; reasons?: string[] }> }>;
    };
    return report.networks.find((n) => n.name === network)?.upstreams.find((u) => u.id === id);
  };
  const balanceCalls = (proxy: RecordingProxy) =>
    proxy.calls.filter((c) => c.method === "eth_getBalance").length;
  const readBalances = async (network: string, n: number) => {
    for (let i = 0; i < n; i++) {
      // "pending": never answered from the cache, so every read is routed.
      const answer = await call(network, "eth_getBalance", [ACCOUNT, "pending"]);
      expect(answer.error).toBeUndefined();
      expect(typeof answer.result).toBe("string");
    }
  };

  beforeAll(async () => {
    a = await startDevnetChain({ name: "a", chainId: 31_001, blockTimeMs: 200 });
    b = await startDevnetChain({ name: "b", chainId: 31_002, blockTimeMs: 200 });
    // Same chain id as A, other genesis accounts: another genesis block.
    d = await startDevnetChain({
      name: "d",
      chainId: 31_001,
      blockTimeMs: 200,
      accounts: [
        {
          privateKey: "0x1111111111111111111111111111111111111111111111111111111111111111",
          balanceWei: 10n ** 18n,
        },
      ],
    });
    genesisA = (
      (await a.provider.request({ method: "eth_getBlockByNumber", params: ["0x0", false] })) as {
        hash: string;
      }
    ).hash;
    proxyB = await startRecordingProxy(b.url);
    proxyC = await startRecordingProxy(a.url);
    proxyD = await startRecordingProxy(d.url);
    const config = parseGatewayConfig({
      server: { port: 0, logLevel: "silent" },
      // No block-tag bans: a node swapped between chains also jumps heights, which is that rule's business.
      health: { headPollMs: 100, chainCheckMs: 300, banMs: 0 },
      networks: [
        {
          name: "ethereum",
          chainId: 31_001,
          upstreams: [
            { id: "a", url: a.url, cloud: "aws" },
            { id: "b", url: proxyB.url, cloud: "gcp" },
            { id: "c", url: proxyC.url, cloud: "hetzner" },
          ],
        },
        {
          name: "pinned",
          chainId: 31_001,
          genesisHash: genesisA,
          upstreams: [
            { id: "a", url: a.url, cloud: "aws" },
            { id: "d", url: proxyD.url, cloud: "gcp" },
          ],
        },
      ],
    });
    gateway = await startGateway(config, { logger: pino({ level: "silent" }) });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    for (const proxy of [proxyB, proxyC, proxyD]) await proxy?.close();
    for (const chain of [a, b, d]) await chain?.close();
  });

  it("never routes to an upstream of another chain id, and says why", async () => {
    const b = await upstreamHealth("ethereum", "b");
    expect(b?.health).toBe("unhealthy");
    expect(b?.reasons).toContain("serves chain 31002, not 31001");
    await readBalances("ethereum", 40);
    expect(balanceCalls(proxyB)).toBe(0);
    expect(balanceCalls(proxyC)).toBeGreaterThan(0);
    // eth_chainId stays truthful: it is the network's, and every routed answer comes from that chain.
    expect((await call("ethereum", "eth_chainId")).result).toBe("0x7919");
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/din_upstream_wrong_chain\{network="ethereum",upstream="b"\} 1/);
    expect(metrics).toMatch(/din_upstream_wrong_chain\{network="ethereum",upstream="c"\} 0/);
  });

  it("takes out a node swapped for another chain's behind the same URL, and routes to it again once fixed", async () => {
    proxyC.target = b.url;
    await waitFor("c to be found on the wrong chain", async () =>
      (await upstreamHealth("ethereum", "c"))?.reasons?.includes("serves chain 31002, not 31001")
        ? true
        : undefined,
    );
    const before = balanceCalls(proxyC);
    await readBalances("ethereum", 40);
    expect(balanceCalls(proxyC)).toBe(before);
    expect(balanceCalls(proxyB)).toBe(0);

    // Both put right: the check runs again while they are out, and they are routed to once it passes.
    proxyB.target = a.url;
    proxyC.target = a.url;
    await waitFor("b and c back", async () => {
      const [hb, hc] = [await upstreamHealth("ethereum", "b"), await upstreamHealth("ethereum", "c")];
      return hb?.health === "healthy" && hc?.health === "healthy" ? true : undefined;
    });
    await readBalances("ethereum", 40);
    expect(balanceCalls(proxyB)).toBeGreaterThan(0);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/din_upstream_wrong_chain\{network="ethereum",upstream="b"\} 0/);
    expect(metrics).toMatch(/din_upstream_wrong_chain\{network="ethereum",upstream="c"\} 0/);
  });

  it("with a genesis hash pinned, refuses a chain that reuses the chain id", async () => {
    const pinned = await upstreamHealth("pinned", "d");
    expect(pinned?.health).toBe("unhealthy");
    expect(pinned?.reasons?.some((r) => r.startsWith("has genesis block 0x"))).toBe(true);
    await readBalances("pinned", 20);
    expect(balanceCalls(proxyD)).toBe(0);
  });
});

describe("chainProblem", () => {
  const reply = (chainId: unknown, genesis?: unknown) => [
    { jsonrpc: "2.0", id: 3, result: { number: "0x1" } },
    { jsonrpc: "2.0", id: 4, ...(chainId === undefined ? { error: { code: -32601 } } : { result: chainId }) },
    ...(genesis === undefined ? [] : [{ jsonrpc: "2.0", id: 5, result: genesis }]),
  ];
  const hash = `0x${"ab".repeat(32)}`;

  it("accepts the network's chain and names every other case", () => {
    expect(chainProblem(reply("0x1"), 1)).toBeUndefined();
    expect(chainProblem(reply("0x89"), 1)).toBe("serves chain 137, not 1");
    expect(chainProblem(reply(undefined), 1)).toMatch(/did not say which chain/);
    expect(chainProblem(reply("banana"), 1)).toMatch(/did not say which chain/);
    expect(chainProblem({ not: "a batch" }, 1)).toMatch(/did not say which chain/);
    expect(chainProblem(reply("0x1", { hash }), 1, hash)).toBeUndefined();
    expect(
      chainProblem(reply("0x1", { hash: hash.toUpperCase().replace("0X", "0x") }), 1, hash),
    ).toBeUndefined();
    expect(chainProblem(reply("0x1", { hash: `0x${"cd".repeat(32)}` }), 1, hash)).toMatch(
      /^has genesis block 0xcdcd/,
    );
    expect(chainProblem(reply("0x1"), 1, hash)).toBe("did not say which genesis block it has");
  });
});
