import { Writable } from "node:stream";
import { pino } from "pino";
import { type Block, createPublicClient, http, type PublicClient, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, requestDevnet, startDevnetChain } from "./chain.js";
import { PING_ABI, PING_TOPIC, startTraffic, TRAFFIC_ACCOUNTS, type Traffic } from "./traffic.js";

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

describe("startTraffic", () => {
  let chain: DevnetChain;
  let traffic: Traffic;
  let client: PublicClient;

  beforeAll(async () => {
    chain = await startDevnetChain({ name: "ethereum", chainId: 1337, blockTimeMs: BLOCK_TIME_MS });
    traffic = await startTraffic(chain);
    client = createPublicClient({ transport: http(chain.url) });
  });
  afterAll(async () => {
    await traffic?.stop();
    await chain?.close();
  });

  it("deploys the Ping contract before resolving", async () => {
    expect(traffic.pingTopic).toBe(PING_TOPIC);
    const code = await client.getCode({ address: traffic.pingContract });
    expect(code).toBeDefined();
    expect(code).toContain(PING_TOPIC.slice(2));
  });

  it("produces Ping logs retrievable by eth_getLogs, with the caller as topic1", async () => {
    const logs = await waitFor("4 Ping logs", async () => {
      const found = await client.getLogs({
        address: traffic.pingContract,
        fromBlock: 0n,
        toBlock: "latest",
      });
      return found.length >= 4 ? found : undefined;
    });
    for (const log of logs) expect(log.topics[0]).toBe(PING_TOPIC);
    const pings = parseEventLogs({ abi: PING_ABI, logs, eventName: "Ping" });
    expect(pings).toHaveLength(logs.length);
    const senders = new Set(chain.accounts.map((a) => a.toLowerCase()));
    for (const ping of pings) expect(senders.has(ping.args.sender.toLowerCase())).toBe(true);
    // Topic filters work as the gateway's eth_getLogs splitting expects.
    const lastBlock = logs.at(-1)!.blockNumber!;
    const byTopic = await client.request({
      method: "eth_getLogs",
      params: [{ fromBlock: "0x0", toBlock: `0x${lastBlock.toString(16)}`, topics: [PING_TOPIC] }],
    });
    expect(byTopic.length).toBeGreaterThanOrEqual(logs.length);
  });

  it("fills blocks with transfers and contract calls that have successful receipts", async () => {
    const block = await waitFor("a block with a transfer and a ping", async () => {
      const latest = (await client.getBlock({ blockTag: "latest", includeTransactions: true })) as Block<
        bigint,
        true
      >;
      const hasTransfer = latest.transactions.some((tx) => tx.value > 0n && tx.input === "0x");
      const hasPing = latest.transactions.some((tx) => tx.to === traffic.pingContract);
      return hasTransfer && hasPing ? latest : undefined;
    });
    for (const tx of block.transactions) {
      const receipt = await client.getTransactionReceipt({ hash: tx.hash });
      expect(receipt.status).toBe("success");
      expect(receipt.blockHash).toBe(block.hash);
      if (tx.to === traffic.pingContract) expect(receipt.logs[0]?.topics[0]).toBe(PING_TOPIC);
    }
  });

  it("never sends from or to the genesis accounts it leaves to people (#10 and up)", async () => {
    // Enough rounds to have gone round its ten accounts several times.
    await waitFor("40 traffic transactions", async () =>
      (await client.getTransactionCount({ address: chain.accounts[9]! })) >= 4 ? true : undefined,
    );
    const reserved = chain.accounts.slice(TRAFFIC_ACCOUNTS);
    expect(reserved.length).toBeGreaterThan(0);
    for (const account of reserved) {
      expect(await client.getTransactionCount({ address: account })).toBe(0);
      expect(await client.getBalance({ address: account })).toBe(10_000n * 10n ** 18n);
    }
  });

  it("sends nothing more once stopped", async () => {
    await traffic.stop();
    // Whatever was in the mempool lands in the next block; blocks after that must be empty.
    const stoppedAt = await client.getBlockNumber({ cacheTime: 0 });
    const later = await waitFor("3 more blocks", async () => {
      const now = await client.getBlockNumber({ cacheTime: 0 });
      return now >= stoppedAt + 3n ? now : undefined;
    });
    for (let n = stoppedAt + 2n; n <= later; n++) {
      const block = await client.getBlock({ blockNumber: n });
      expect(block.transactions).toHaveLength(0);
    }
  });
});

describe("startTraffic errors", () => {
  it("logs failures instead of throwing when its transactions are rejected", async () => {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const chain = await startDevnetChain({ name: "flaky", chainId: 999, blockTimeMs: BLOCK_TIME_MS });
    const traffic = await startTraffic(chain, { logger: pino({ level: "warn" }, sink), intervalMs: 50 });
    // Break every send: the accounts' balances cannot pay for gas any more.
    for (const account of chain.accounts) {
      await requestDevnet(chain.provider, "hardhat_setBalance", [account, "0x0"]);
    }
    await waitFor("a logged traffic failure", async () =>
      lines.some((l) => l.level >= 40) ? true : undefined,
    );
    await traffic.stop();
    await chain.close();
  });
});
