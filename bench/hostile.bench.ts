// Hostile soak: `din up`, then the same open-loop client load twice — alone, and alongside a hostile mix
// (expensive log ranges, gas bombs, 12 KB session-id floods, made-up methods, wrong keys with 1 MB bodies,
// forged operator tokens) — and the ratios: client errors, p99, and the memory of the network's process
// and of its chains. `DURATION` seconds per phase (default 60).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Pool } from "undici";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ACCESS_TOKEN_HEADER, createAccessToken } from "../src/ledger/din/auth.js";
import { writePerformanceSection } from "./docs.js";
import { type PacedResult, runPaced } from "./pacedLoad.js";
import { residentBytes } from "./processes.js";

const bin = join(import.meta.dirname, "../bin/din.mjs");
const durationSeconds = Number(process.env.DURATION ?? 60);
const normalRate = Number(process.env.RATE ?? 100);

interface Ready {
  gateway: string;
  networks: Array<{ name: string; rpc: string }>;
  operators: Array<{ url: string; address: `0x${string}`; network: string }>;
  ledger: { chainId: number };
}

const dataDir = mkdtempSync(join(tmpdir(), "din-hostile-"));
const network = spawn(
  process.execPath,
  [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--log-level", "error"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const ready = await new Promise<Ready>((resolve, reject) => {
  createInterface({ input: network.stdout! }).once("line", (line) => resolve(JSON.parse(line) as Ready));
  network.once("exit", (code) => reject(new Error(`din up exited with ${code}`)));
});
const ethereum = ready.networks.find((n) => n.name === "ethereum")!;
const gatewayHost = new URL(ready.gateway);

/** The network process and its chain processes (its children), resident bytes each. */
function memory(): { network: number; chains: number } {
  let chains = 0;
  for (const task of readdirSync(`/proc/${network.pid}/task`)) {
    const children = readFileSync(`/proc/${network.pid}/task/${task}/children`, "utf8").trim();
    for (const pid of children ? children.split(" ") : []) {
      try {
        chains += residentBytes(Number(pid));
      } catch {
        // exited meanwhile
      }
    }
  }
  return { network: residentBytes(network.pid!), chains };
}

/**
 * The attacker's own key, with a paid tier's limit (`ATTACKER_CREDITS` per second): volume beyond what a
 * key pays for is the limiter's job; what is measured is everything a key's credits do not bound —
 * the cost of each request, the state it leaves, the operator time it takes.
 */
const attackerCredits = Number(process.env.ATTACKER_CREDITS ?? 500);
const attackerKey = (() => {
  const created = spawnSync(
    process.execPath,
    [
      bin,
      "keys",
      "create",
      "--project",
      "attacker",
      "--credits-per-second",
      String(attackerCredits),
      "--json",
      "--data-dir",
      dataDir,
    ],
    { encoding: "utf8" },
  );
  const key = /[0-9a-f]{32}/.exec(created.stdout)?.[0];
  if (!key) throw new Error(`no attacker key: ${created.stdout} ${created.stderr}`);
  return key;
})();
const attackerUrl = `/v1/ethereum/${attackerKey}`;

/** Why operators were unhealthy, for the report. */
const unhealthyReasons = new Map<string, number>();

/** Unhealthy operators seen by the gateway, polled each second of a phase. */
async function watchHealth(until: Promise<unknown>): Promise<number> {
  let worst = 0;
  let done = false;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    try {
      const health = (await (await fetch(`${ready.gateway}/healthz`)).json()) as {
        networks: Array<{
          name: string;
          upstreams: Array<{ health: string; jailed?: boolean; reasons: string[] }>;
        }>;
      };
      const unhealthy = health.networks.flatMap((n) =>
        n.upstreams.filter((u) => u.health === "unhealthy" && u.jailed !== true).map((u) => ({ n, u })),
      );
      for (const { n, u } of unhealthy) {
        const reason = `${n.name}: ${u.reasons.join("; ").replace(/[0-9]+/g, "N")}`;
        unhealthyReasons.set(reason, (unhealthyReasons.get(reason) ?? 0) + 1);
      }
      worst = Math.max(worst, unhealthy.length);
    } catch {
      worst = Math.max(worst, 99);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return worst;
}

const normalBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "eth_getBalance",
  params: ["0x00000000000000000000000000000000000000aa", "latest"],
});

async function normalPhase(): Promise<PacedResult> {
  return runPaced({
    url: ethereum.rpc,
    body: normalBody,
    ratePerSecond: normalRate,
    durationSeconds,
    connections: 32,
  });
}

/** Runs `attack` in `concurrency` loops until `stop` is set; counts what was sent and how it was answered. */
function loop(
  name: string,
  concurrency: number,
  attack: () => Promise<number>,
  stats: Map<string, Map<number, number>>,
  stop: { now: boolean },
): Promise<void> {
  // ONLY=gas,log…: run only the loops whose names contain one of these words (to find what costs what).
  const only = process.env.ONLY?.split(",").filter(Boolean);
  if (only && !only.some((word) => name.includes(word))) return Promise.resolve();
  const counts = new Map<number, number>();
  stats.set(name, counts);
  return Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop.now) {
        let status: number;
        try {
          status = await attack();
        } catch {
          status = 0;
        }
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
    }),
  ).then(() => undefined);
}

const gatewayPool = new Pool(gatewayHost.origin, { connections: 64 });
async function postGateway(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const response = await gatewayPool.request({
    path,
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  await response.body.dump();
  return response.statusCode;
}
const call = (method: string, params: unknown[]) => JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });

async function hostileMix(stop: { now: boolean }): Promise<Map<string, Map<number, number>>> {
  const stats = new Map<string, Map<number, number>>();
  const megabyte = call("eth_call", [{ data: `0x${"00".repeat(500_000)}` }, "latest"]);
  const forgers = ready.operators.slice(0, 4);
  await Promise.all([
    loop(
      "expensive log ranges",
      4,
      () =>
        postGateway(
          attackerUrl,
          JSON.stringify([
            {
              jsonrpc: "2.0",
              id: 1,
              method: "eth_getLogs",
              params: [{ fromBlock: "pending", toBlock: "0xffffffff" }],
            },
            {
              jsonrpc: "2.0",
              id: 2,
              method: "eth_getLogs",
              params: [{ fromBlock: "earliest", toBlock: "latest" }],
            },
            { jsonrpc: "2.0", id: 3, method: "eth_newFilter", params: [{ fromBlock: "earliest" }] },
          ]),
        ),
      stats,
      stop,
    ),
    loop(
      "gas bombs",
      2,
      () => postGateway(attackerUrl, call("eth_call", [{ data: "0x5b600056", gas: "0x1c9c380" }, "latest"])),
      stats,
      stop,
    ),
    loop(
      "12 KB session ids",
      4,
      () =>
        postGateway(attackerUrl, call("eth_blockNumber", []), {
          "din-session-id": `${randomBytes(6).toString("hex")}${"s".repeat(12_000)}`,
        }),
      stats,
      stop,
    ),
    loop(
      "made-up methods (batches of 100)",
      1,
      () =>
        postGateway(
          attackerUrl,
          JSON.stringify(
            Array.from({ length: 100 }, (_, id) => ({
              jsonrpc: "2.0",
              id,
              method: id % 10 === 0 ? "constructor" : `eth_${randomBytes(6).toString("hex")}`,
              params: [],
            })),
          ),
        ),
      stats,
      stop,
    ),
    loop(
      "wrong keys with 1 MB bodies",
      2,
      () => postGateway(`/v1/ethereum/${randomBytes(16).toString("hex")}`, megabyte),
      stats,
      stop,
    ),
    loop(
      "forged operator tokens",
      2,
      async () => {
        const operator = forgers[Math.floor(Math.random() * forgers.length)]!;
        const token = await createAccessToken(privateKeyToAccount(generatePrivateKey()), {
          role: "gateway",
          audience: operator.address,
          ledgerChainId: ready.ledger.chainId,
        });
        const response = await fetch(operator.url, {
          method: "POST",
          headers: { "content-type": "application/json", [ACCESS_TOKEN_HEADER]: token },
          body: call("eth_blockNumber", []),
        });
        await response.arrayBuffer();
        return response.status;
      },
      stats,
      stop,
    ),
  ]);
  return stats;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
try {
  // Let the network settle (first epochs, caches) before measuring.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const before = memory();
  const calmRun = normalPhase();
  const calmUnhealthy = await watchHealth(calmRun);
  const calm = await calmRun;
  const afterCalm = memory();

  const stop = { now: false };
  const hostileRun = hostileMix(stop);
  const underAttackRun = normalPhase().finally(() => {
    stop.now = true;
  });
  const attackUnhealthy = await watchHealth(underAttackRun);
  const underAttack = await underAttackRun;
  const stats = await hostileRun;
  const afterAttack = memory();
  const health = (await (await fetch(`${ready.gateway}/healthz`)).json()) as { status: string };

  const hostileLines = [...stats].map(([name, counts]) => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const byStatus = [...counts].map(([status, n]) => `${status === 0 ? "failed" : status}: ${n}`).join(", ");
    return `| ${name} | ${total} | ${byStatus} |`;
  });
  const ratio = (a: number, b: number) => (b === 0 ? "n/a" : `${(a / b).toFixed(2)}×`);
  const lines = [
    `Normal load: eth_getBalance at ${normalRate} req/s (open loop, 32 connections) for ${durationSeconds} s per phase, on \`din up\`. The hostile mix runs closed loops (each sends its next request when the last is answered) with an attacker key of ${attackerCredits} credits/s, and without keys for wrong-key and forged-token floods.`,
    "",
    "| phase | sent | client errors | p50 | p99 | unhealthy operators (worst) |",
    "|---|---|---|---|---|---|",
    `| alone | ${calm.sent} | ${calm.errors} | ${calm.p50Ms.toFixed(2)} ms | ${calm.p99Ms.toFixed(2)} ms | ${calmUnhealthy} |`,
    `| with the hostile mix | ${underAttack.sent} | ${underAttack.errors} | ${underAttack.p50Ms.toFixed(2)} ms | ${underAttack.p99Ms.toFixed(2)} ms | ${attackUnhealthy} |`,
    "",
    `p99 under attack / alone: **${ratio(underAttack.p99Ms, calm.p99Ms)}** (target ≤ 2×); client errors under attack: **${underAttack.errors}** (target 0)${underAttack.errorSamples.length ? ` — e.g. ${underAttack.errorSamples[0]}` : ""}.`,
    `Memory of the network process (gateway, operator nodes, watchers): ${mb(before.network)} → ${mb(afterCalm.network)} after the calm phase → ${mb(afterAttack.network)} after the attack (growth under attack ${ratio(afterAttack.network, afterCalm.network)}); chains: ${mb(before.chains)} → ${mb(afterCalm.chains)} → ${mb(afterAttack.chains)}. Gateway health after: ${health.status}.`,
    "",
    ...(unhealthyReasons.size > 0
      ? [
          `Why operators were unhealthy (operator-seconds): ${[...unhealthyReasons].map(([reason, n]) => `${reason} (${n})`).join(", ")}.`,
          "",
        ]
      : []),
    "| hostile loop | requests | answers by HTTP status |",
    "|---|---|---|",
    ...hostileLines,
  ];
  const report = lines.join("\n");
  console.log(report);
  writePerformanceSection(
    "## Hostile soak (`npm run bench:hostile`)",
    `## Hostile soak (\`npm run bench:hostile\`)\n\n${report}\n`,
  );
} finally {
  await gatewayPool.close();
  const exited = new Promise((resolve) => network.once("exit", resolve));
  network.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  if (network.exitCode === null) network.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
}
