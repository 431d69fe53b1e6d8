/**
 * WebSocket fan-out: how long from a block being mined to its `newHeads` notification reaching 1 and
 * 1,000 subscribers (p50/p99), and the gateway's memory per subscription.
 *
 * A Hardhat devnet (`din devnet chain`, no interval mining: the benchmark mines each block itself and
 * stamps the time) behind a gateway in its own process (`din gateway`, three upstreams on the chain);
 * the subscribers run in this process. The delay includes the gateway's head poll (health.headPollMs),
 * which is how it learns of a block from operators that offer no push.
 *
 *   npm run bench:ws [-- --quick]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { spawnChainProcess } from "../src/devnet/chainProcess.js";
import { writePerformanceSection } from "./docs.js";
import { residentBytes, startGatewayProcess, stopAll } from "./processes.js";

const quick = process.argv.includes("--quick");
const blocksPerScenario = quick ? 10 : 30;
const headPollMs = 50;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Subscriber {
  socket: WebSocket;
  close(): void;
}

/** Opens `connections` sockets with `perConnection` newHeads subscriptions each; `onHead` gets every delivery. */
async function subscribe(
  url: string,
  connections: number,
  perConnection: number,
  onHead: (blockNumber: number) => void,
): Promise<Subscriber[]> {
  return Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = new WebSocket(url);
      await new Promise((done, fail) => {
        socket.once("open", done);
        socket.once("error", fail);
      });
      let confirmed = 0;
      const ready = new Promise<void>((done) => {
        socket.on("message", (data) => {
          const message = JSON.parse(data.toString());
          if (message.method === "eth_subscription") onHead(Number(message.params.result.number));
          else if (message.result && ++confirmed === perConnection) done();
        });
      });
      for (let id = 0; id < perConnection; id++) {
        socket.send(JSON.stringify({ jsonrpc: "2.0", id, method: "eth_subscribe", params: ["newHeads"] }));
      }
      await ready;
      return { socket, close: () => socket.close() };
    }),
  );
}

async function mine(chainUrl: string): Promise<number> {
  const response = await fetch(chainUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "evm_mine", params: [] },
      { jsonrpc: "2.0", id: 2, method: "eth_blockNumber", params: [] },
    ]),
  });
  const answers = (await response.json()) as Array<{ id: number; result: string }>;
  return Number(answers.find((answer) => answer.id === 2)!.result);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** Mines blocks one at a time and measures, per delivery, mined → received. */
async function fanOut(
  chainUrl: string,
  wsUrl: string,
  subscribers: number,
): Promise<{ p50: number; p99: number }> {
  const minedAt = new Map<number, number>();
  const delays: number[] = [];
  const received = new Map<number, number>();
  const perConnection = Math.min(subscribers, 100);
  const clients = await subscribe(wsUrl, Math.ceil(subscribers / perConnection), perConnection, (block) => {
    const at = minedAt.get(block);
    if (at !== undefined) delays.push(performance.now() - at);
    received.set(block, (received.get(block) ?? 0) + 1);
  });
  await new Promise((done) => setTimeout(done, 500)); // the follower starts at the current head
  for (let i = 0; i < blocksPerScenario; i++) {
    const before = performance.now();
    const block = await mine(chainUrl);
    minedAt.set(block, before);
    const deadline = Date.now() + 5_000;
    while ((received.get(block) ?? 0) < subscribers && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 2));
    }
    // Mined blocks land between polls at random phases, as real ones do.
    await new Promise((done) => setTimeout(done, Math.random() * headPollMs));
  }
  for (const client of clients) client.close();
  const expected = blocksPerScenario * subscribers;
  if (delays.length < expected)
    log(`  warning: ${expected - delays.length} of ${expected} deliveries missing`);
  const sorted = delays.sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "din-ws-bench-"));
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  const chain = await spawnChainProcess({ name: "bench", chainId: 1337, blockTimeMs: 3_600_000 });
  try {
    const gateway = await startGatewayProcess(dir, "ws-gateway", {
      upstreams: [chain.info.url, chain.info.url, chain.info.url],
      headPollMs,
    });
    const wsUrl = gateway.url.replace(/^http/, "ws").replace("/v1/", "/ws/v1/");
    log(`gateway ${gateway.url}, chain ${chain.info.url}, ${blocksPerScenario} blocks per scenario`);
    const one = await fanOut(chain.info.url, wsUrl, 1);
    log(`1 subscriber: p50 ${one.p50.toFixed(1)} ms, p99 ${one.p99.toFixed(1)} ms`);
    const thousand = await fanOut(chain.info.url, wsUrl, 1_000);
    log(`1,000 subscribers: p50 ${thousand.p50.toFixed(1)} ms, p99 ${thousand.p99.toFixed(1)} ms`);

    // Memory: 10,000 idle subscriptions on 100 connections.
    await new Promise((done) => setTimeout(done, 1_000));
    const before = residentBytes(gateway.pid);
    const idle = await subscribe(wsUrl, 100, 100, () => undefined);
    await new Promise((done) => setTimeout(done, 2_000));
    const after = residentBytes(gateway.pid);
    for (const client of idle) client.close();
    const perSubscription = (after - before) / 10_000;
    log(
      `memory: ${(before / 2 ** 20).toFixed(1)} MiB → ${(after / 2 ** 20).toFixed(1)} MiB for 10,000 subscriptions`,
    );

    const section = [
      "## WebSocket fan-out",
      "",
      `Measured by \`npm run bench:ws\` (bench/ws.bench.ts): ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, Node ${process.version}. A Hardhat devnet without interval mining (each block mined by the benchmark, which stamps the time), the gateway in its own process with three upstreams on it and \`headPollMs: ${headPollMs}\`, subscribers in the benchmark process; ${blocksPerScenario} blocks per scenario. The delay includes the head poll: operators offer no push, so a block waits up to one poll period before the gateway fetches it from two agreeing operators.`,
      "",
      "| measure | p50 | p99 |",
      "| --- | --- | --- |",
      `| block mined → newHeads delivered, 1 subscriber | ${one.p50.toFixed(1)} ms | ${one.p99.toFixed(1)} ms |`,
      `| block mined → newHeads delivered, 1,000 subscribers (10 connections × 100) | ${thousand.p50.toFixed(1)} ms | ${thousand.p99.toFixed(1)} ms |`,
      "",
      `Memory: gateway RSS ${(before / 2 ** 20).toFixed(1)} MiB before and ${(after / 2 ** 20).toFixed(1)} MiB after opening 10,000 idle \`newHeads\` subscriptions on 100 connections: **${(perSubscription / 1024).toFixed(2)} KiB per subscription** (connection buffers included).`,
      "",
    ].join("\n");
    process.stdout.write(`${section}\n`);
    if (!quick || process.argv.includes("--write-docs"))
      writePerformanceSection("## WebSocket fan-out", section);
    return 0;
  } finally {
    await stopAll();
    await chain.stop();
  }
}

process.exitCode = await main();
