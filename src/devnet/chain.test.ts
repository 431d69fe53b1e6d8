import { createPublicClient, http, webSocket } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_ACCOUNT_BALANCE_WEI, type DevnetChain, startDevnetChain } from "./chain.js";

const BLOCK_TIME_MS = 250;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: unknown };
  if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

describe("startDevnetChain", () => {
  const chains: DevnetChain[] = [];
  afterAll(async () => {
    await Promise.all(chains.map((c) => c.close()));
  });

  it("runs two chains in one process with distinct chain ids, each mining on its own interval", async () => {
    const [ethereum, polygon] = await Promise.all([
      startDevnetChain({ name: "ethereum", chainId: 1337, blockTimeMs: BLOCK_TIME_MS }),
      startDevnetChain({ name: "polygon", chainId: 80002, blockTimeMs: BLOCK_TIME_MS }),
    ]);
    chains.push(ethereum, polygon);

    expect(ethereum.url).not.toBe(polygon.url);
    expect(await rpc(ethereum.url, "eth_chainId")).toBe("0x539");
    expect(await rpc(polygon.url, "eth_chainId")).toBe("0x13882");

    // No transactions are sent: any block past the current one comes from the interval miner.
    for (const chain of [ethereum, polygon]) {
      const client = createPublicClient({ transport: http(chain.url) });
      const start = await client.getBlockNumber({ cacheTime: 0 });
      await waitFor(`${chain.name} to mine 3 blocks`, async () => {
        const now = await client.getBlockNumber({ cacheTime: 0 });
        return now >= start + 3n ? now : undefined;
      });
    }

    // Independent chains: closing one does not stop the other's miner.
    await polygon.close();
    const ethClient = createPublicClient({ transport: http(ethereum.url) });
    const afterClose = await ethClient.getBlockNumber({ cacheTime: 0 });
    await waitFor("ethereum to keep mining", async () => {
      const now = await ethClient.getBlockNumber({ cacheTime: 0 });
      return now >= afterClose + 2n ? now : undefined;
    });
    await expect(fetch(polygon.url, { method: "POST" })).rejects.toThrow();
  });

  it("answers safe and finalized with the latest block (post-merge hardfork, instant finality)", async () => {
    const chain = await startDevnetChain({ name: "finality", chainId: 4242, blockTimeMs: BLOCK_TIME_MS });
    chains.push(chain);
    await waitFor("a mined block", async () =>
      BigInt((await rpc(chain.url, "eth_blockNumber")) as string) > 0n ? true : undefined,
    );
    // The three reads are not atomic against the miner, so retry until they land in one block interval.
    const tags = await waitFor("latest, safe and finalized in one block", async () => {
      const [latest, safe, finalized] = (await Promise.all(
        ["latest", "safe", "finalized"].map((tag) => rpc(chain.url, "eth_getBlockByNumber", [tag, false])),
      )) as { hash: string; number: string }[];
      return latest?.hash === safe?.hash && safe?.hash === finalized?.hash ? latest : undefined;
    });
    expect(BigInt(tags.number)).toBeGreaterThan(0n);
  });

  it("exposes the default accounts, serves WebSocket on the same port and closes cleanly", async () => {
    const chain = await startDevnetChain({ name: "ethereum", chainId: 31337, blockTimeMs: BLOCK_TIME_MS });
    expect(chain.accounts).toHaveLength(20);
    expect(chain.accounts[0]?.toLowerCase()).toBe("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    expect(BigInt((await rpc(chain.url, "eth_getBalance", [chain.accounts[19], "latest"])) as string)).toBe(
      DEFAULT_ACCOUNT_BALANCE_WEI,
    );
    expect(chain.wsUrl).toBe(chain.url.replace("http://", "ws://"));

    const wsClient = createPublicClient({ transport: webSocket(chain.wsUrl, { reconnect: false }) });
    expect(await wsClient.getChainId()).toBe(31337);
    // A live WebSocket and a keep-alive HTTP connection must not hold close() open.
    await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "keep-alive" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    await chain.close();
    await chain.close();
    await expect(fetch(chain.url, { method: "POST" })).rejects.toThrow();
  });

  it("takes custom accounts; rejects a bad chain id and a taken port", async () => {
    const privateKey = `0x${"11".repeat(32)}` as const;
    const chain = await startDevnetChain({
      name: "custom",
      chainId: 777,
      blockTimeMs: BLOCK_TIME_MS,
      accounts: [{ privateKey, balanceWei: 5n * 10n ** 18n }],
    });
    chains.push(chain);
    expect(chain.accounts).toEqual(["0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a"]);
    expect(BigInt((await rpc(chain.url, "eth_getBalance", [chain.accounts[0], "latest"])) as string)).toBe(
      5n * 10n ** 18n,
    );
    await expect(startDevnetChain({ name: "bad", chainId: 0 })).rejects.toThrow(/chainId/);
    const port = Number(new URL(chain.url).port);
    await expect(startDevnetChain({ name: "clash", chainId: 778, port })).rejects.toThrow(/EADDRINUSE/);
  });
});
