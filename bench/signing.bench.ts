/**
 * What relay signatures cost the gateway: requests/s it sustains with the DIN ledger on and `din-sign`
 * asked for 1% of relays (the default `signSampleRate`) against 0%, with 100% as a line for scale
 * (`npm run bench:signing [-- --quick]`).
 *
 * Setup, all on this machine: a Hardhat ledger chain in this process (chain id 31337, a block a second)
 * with the DIN service deployed and three operators registered on three clouds (src/devnet/ledger.ts);
 * each operator is a `din operator serve` process (access tokens checked against the registry, relays
 * signed with its registered key) in front of one nginx stub answering from memory; one `din gateway`
 * process per sample rate, reading its operators from the registry. The workload is the gateway bench's
 * pass-through body (`eth_getBalance` at `pending`, never cached), so every request is a relay.
 *
 * Rounds alternate the rates (0%, 1%, 100%, then 1%, 0%, 100%, …) so machine noise hits each alike;
 * the median of the rounds is reported. The gateway exports no counter of signed relays, so the sample
 * is checked at the end with evidence: the operators are restarted with keys the registry does not name,
 * so each relay the 1% gateway asks to be signed fails the recover check and is kept as a bad-signature
 * evidence line; their count over the relays sent to the operators is the sampled share.
 *
 * Flags: --quick (3 s per measurement), --rounds N (default 6), --duration S, --connections C,
 * --threads T, --write-docs (also with --quick; a full run always updates docs/performance.md).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startDevnetChain } from "../src/devnet/chain.js";
import { bootstrapLedger, type DevnetKey, type DevnetOperatorPlan, devnetKey } from "../src/devnet/ledger.js";
import { writePerformanceSection } from "./docs.js";
import { freePort, missingTools, startStub, stopAll } from "./processes.js";
import { runWrk, type WrkResult, wrkScript } from "./wrk.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
    threads: { type: "string", default: "2" },
    "write-docs": { type: "boolean", default: false },
  },
});

const quick = flags.quick;
const durationSeconds = Number(flags.duration ?? (quick ? 3 : 10));
const warmupSeconds = quick ? 1 : 2;
const rounds = Math.max(1, Number(flags.rounds ?? 6));
const connections = Number(flags.connections);
const threads = Number(flags.threads);
const checkSeconds = quick ? 5 : 15;

const ledgerChainId = 31337;
const network = { name: "bench", chainId: 1337 };
const passThroughBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "eth_getBalance",
  params: ["0x00000000000000000000000000000000000000aa", "pending"],
});
const rates = [0, 0.01, 1] as const;
type Rate = (typeof rates)[number];
const rateLabel = (rate: number) => `${rate * 100}%`;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const fmt = {
  rps: (value: number) => Math.round(value).toLocaleString("en-US"),
  ms: (value: number) => value.toFixed(3),
  ratio: (value: number) => `${value.toFixed(3)}×`,
};

// ---- child processes of this benchmark (operators and gateways; nginx is tracked by processes.ts) ----

interface Proc {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const procs = new Set<Proc>();

async function stopProcs(): Promise<void> {
  await Promise.all([...procs].map((proc) => proc.stop()));
}

/** Spawns `node bin/din.mjs <args>` and resolves with the JSON line it prints once it listens. */
async function startDin(
  dir: string,
  name: string,
  args: string[],
): Promise<{ proc: Proc; ready: Record<string, unknown> }> {
  const root = resolve(import.meta.dirname, "..");
  const child = spawn(process.execPath, [join(root, "bin/din.mjs"), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logFile = join(dir, `${name}.log`);
  child.stderr?.pipe(createWriteStream(logFile));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const proc: Proc = {
    name,
    child,
    async stop() {
      procs.delete(proc);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  procs.add(proc);
  const lines = createInterface({ input: child.stdout! });
  try {
    const ready = await new Promise<Record<string, unknown>>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      lines.once("line", (line) => {
        clearTimeout(timer);
        try {
          resolveReady(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`${name} printed an unexpected line: ${line}`));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        let stderr = "";
        try {
          stderr = readFileSync(logFile, "utf8");
        } catch {}
        reject(new Error(`${name} exited (${code}) before it was ready\n${stderr}`));
      });
    });
    return { proc, ready };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

interface OperatorSetup {
  plan: DevnetOperatorPlan;
  port: number;
  url: string;
  proc: Proc;
}

interface LedgerSetup {
  rpc: string;
  deploymentFile: string;
  stubUrl: string;
}

async function startOperator(
  dir: string,
  ledger: LedgerSetup,
  plan: DevnetOperatorPlan,
  port: number,
  signer: DevnetKey,
): Promise<OperatorSetup> {
  const { proc, ready } = await startDin(dir, `${plan.id}-${signer.name}`, [
    "operator",
    "serve",
    "--upstream",
    ledger.stubUrl,
    "--port",
    String(port),
    "--id",
    plan.id,
    "--cloud",
    plan.cloud,
    "--region",
    plan.region,
    "--ledger-rpc",
    ledger.rpc,
    "--deployment",
    ledger.deploymentFile,
    "--network",
    network.name,
    "--operator-address",
    plan.ledger.account.address,
    "--signer-key-file",
    signer.file,
    "--log-level",
    "warn",
  ]);
  if (typeof ready.url !== "string") throw new Error(`${plan.id} printed no url`);
  return { plan, port, url: ready.url, proc };
}

interface GatewaySetup {
  rate: number;
  proc: Proc;
  /** Base URL (healthz, metrics). */
  base: string;
  /** JSON-RPC endpoint of the bench network. */
  url: string;
}

async function startGateway(
  dir: string,
  ledger: LedgerSetup,
  gatewayKey: DevnetKey,
  rate: number,
  name: string,
  evidenceFile?: string,
): Promise<GatewaySetup> {
  const config = {
    server: { host: "127.0.0.1", logLevel: "warn" },
    health: { headPollMs: 60_000 },
    ledger: {
      rpc: ledger.rpc,
      deployment: ledger.deploymentFile,
      keyFile: gatewayKey.file,
      signSampleRate: rate,
      ...(evidenceFile ? { evidenceFile } : {}),
    },
    networks: [{ name: network.name, chainId: network.chainId, upstreams: [] }],
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const { proc, ready } = await startDin(dir, name, ["gateway", "--config", file, "--port", "0"]);
  if (typeof ready.gateway !== "string") throw new Error(`${name} printed no gateway url`);
  return { rate, proc, base: ready.gateway, url: `${ready.gateway}/v1/${network.name}` };
}

interface HealthUpstream {
  id: string;
  health: string;
  address?: string;
}

async function upstreamsOf(gateway: GatewaySetup): Promise<HealthUpstream[]> {
  const response = await fetch(`${gateway.base}/healthz`);
  const report = (await response.json()) as {
    networks?: Array<{ name: string; upstreams: HealthUpstream[] }>;
  };
  return report.networks?.find((n) => n.name === network.name)?.upstreams ?? [];
}

/** Waits until the gateway routes to all `count` operators, each healthy, and answers the workload. */
async function waitHealthy(gateway: GatewaySetup, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: HealthUpstream[] = [];
  while (Date.now() < deadline) {
    try {
      last = await upstreamsOf(gateway);
      if (last.length === count && last.every((u) => u.health === "healthy")) {
        const response = await fetch(gateway.url, {
          method: "POST",
          body: passThroughBody,
          headers: { "content-type": "application/json" },
        });
        const text = await response.text();
        if (response.status === 200 && text.includes('"result"')) return;
        throw new Error(`gateway at ${rateLabel(gateway.rate)} answered HTTP ${response.status}: ${text}`);
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("gateway at")) throw error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `gateway at ${rateLabel(gateway.rate)}: ${count} healthy operators expected within ${timeoutMs} ms, ` +
      `saw ${JSON.stringify(last.map((u) => ({ id: u.id, health: u.health })))}`,
  );
}

/** Attempts the gateway sent to one upstream, summed over outcomes, from /metrics. */
async function upstreamRequests(gateway: GatewaySetup, upstream: string): Promise<number> {
  const text = await (await fetch(`${gateway.base}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^din_upstream_requests_total\{([^}]*)\} (\d+)/gm)) {
    if (match[1]!.includes(`upstream="${upstream}"`)) total += Number(match[2]);
  }
  return total;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface SampleCheck {
  served: number;
  rejected: number;
  clientErrors: number;
  requests: number;
}

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing.length > 0) {
    log(
      `The signing benchmark needs ${missing.join(" and ")} (missing).\n` +
        "Install them from Debian/Ubuntu packages:\n  sudo apt-get update && sudo apt-get install -y nginx wrk",
    );
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "din-bench-signing-"));
  const dataDir = join(dir, "data");
  const chain = await startDevnetChain({ name: "ledger", chainId: ledgerChainId, blockTimeMs: 1_000 });
  const stopOnSignal = () => {
    void Promise.all([stopProcs(), stopAll(), chain.close()]).finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const started = new Date();
  const startLoad = loadavg()[0]!;
  try {
    log(`temporary directory: ${dir}`);
    const stub = await startStub(dir, "stub", { workers: 1, masterProcess: false });

    // Keys and operators: three operators on three clouds, each with a ledger key and a signing key.
    let keyIndex = 0;
    const key = (name: string) => devnetKey(dataDir, name, keyIndex++);
    const keys = {
      deployer: key("deployer"),
      guardian: key("guardian"),
      gateway: key("gateway"),
      watchers: [key("watcher-1"), key("watcher-2"), key("watcher-3")],
      stakers: [] as DevnetKey[],
    };
    const placements = [
      { cloud: "aws", region: "us-east-1" },
      { cloud: "gcp", region: "europe-west1" },
      { cloud: "hetzner", region: "fsn1" },
    ];
    const plans: DevnetOperatorPlan[] = placements.map((placement, index) => {
      const id = `operator-${index + 1}`;
      return {
        id,
        network: network.name,
        ...placement,
        ledger: key(id),
        signer: key(`${id}.signer`),
        selfStake: 10n * 10n ** 18n,
      };
    });
    const ledgerSetup: LedgerSetup = {
      rpc: chain.url,
      deploymentFile: join(dataDir, "ledger", "deployment.json"),
      stubUrl: stub.url,
    };
    const operators: OperatorSetup[] = [];
    // The deployment file is written by deployDin before startOperators is called; the operators read it.
    const ledger = await bootstrapLedger({
      dataDir,
      rpc: chain.url,
      chainId: ledgerChainId,
      networks: [network],
      operators: plans,
      keys,
      startOperators: async () => {
        const endpoints = new Map<string, string>();
        for (const plan of plans) {
          const operator = await startOperator(dir, ledgerSetup, plan, await freePort(), plan.signer);
          operators.push(operator);
          endpoints.set(plan.id, operator.url);
        }
        return endpoints;
      },
    });
    if (ledger.deploymentFile !== ledgerSetup.deploymentFile)
      throw new Error(
        `deployment written to ${ledger.deploymentFile}, operators read ${ledgerSetup.deploymentFile}`,
      );
    log(`ledger ready: registry ${ledger.deployment.addresses.registry}, 3 operators registered`);

    // One gateway per sample rate, all running for the whole measurement (each sees the same background).
    const gateways = new Map<Rate, GatewaySetup>();
    for (const rate of rates) {
      const gateway = await startGateway(dir, ledgerSetup, keys.gateway, rate, `gateway-${rate * 100}pct`);
      await waitHealthy(gateway, plans.length);
      gateways.set(rate, gateway);
    }
    log("gateways ready: 3 healthy operators each");

    const script = wrkScript(dir, "passThrough", passThroughBody);
    const wrkOptions = { connections, threads, durationSeconds };
    const results = new Map<Rate, WrkResult[]>(rates.map((rate) => [rate, []]));
    for (let round = 1; round <= rounds; round++) {
      const order: Rate[] = round % 2 === 1 ? [0, 0.01, 1] : [0.01, 0, 1];
      for (const rate of order) {
        const gateway = gateways.get(rate)!;
        await runWrk(gateway.url, script, { ...wrkOptions, durationSeconds: warmupSeconds });
        const result = await runWrk(gateway.url, script, wrkOptions);
        results.get(rate)!.push(result);
        log(
          `round ${round} ${rateLabel(rate).padStart(4)}  ${fmt.rps(result.requestsPerSecond).padStart(7)} req/s  p50 ${fmt.ms(result.p50Ms)} ms  p99 ${fmt.ms(result.p99Ms)} ms  errors ${result.errors}`,
        );
      }
    }
    for (const gateway of gateways.values()) await gateway.proc.stop();

    const check = await checkSample(dir, dataDir, ledgerSetup, keys.gateway, operators, keyIndex, script);

    const report = buildReport({ results, check, started, startLoad });
    process.stdout.write(`\n${report.terminal}\n`);
    if (!quick || flags["write-docs"]) {
      writePerformanceSection("## Relay signatures: sampled at 1% vs 0%", report.markdown);
      log("docs/performance.md updated (section “Relay signatures: sampled at 1% vs 0%”).");
    } else {
      log("--quick: docs/performance.md left unchanged (pass --write-docs to update it).");
    }
    return 0;
  } finally {
    await stopProcs();
    await stopAll();
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The sample, checked: every operator restarted on its port with a signing key the registry does not
 * name (so routing stays even across them); a fresh 1% gateway under the same load keeps each relay it
 * asked to be signed (and found signed by someone else) as bad-signature evidence, and retries it on
 * another operator. Evidence lines over the relays the operators were sent is the sampled share.
 */
async function checkSample(
  dir: string,
  dataDir: string,
  ledger: LedgerSetup,
  gatewayKey: DevnetKey,
  operators: OperatorSetup[],
  keyIndex: number,
  script: string,
): Promise<SampleCheck> {
  for (const [index, operator] of operators.entries()) {
    await operator.proc.stop();
    const wrongSigner = devnetKey(dataDir, `unregistered-${index + 1}.signer`, keyIndex + index);
    operators[index] = await startOperator(dir, ledger, operator.plan, operator.port, wrongSigner);
  }
  const evidenceFile = join(dir, "evidence.jsonl");
  const gateway = await startGateway(dir, ledger, gatewayKey, 0.01, "gateway-check", evidenceFile);
  try {
    await waitHealthy(gateway, operators.length);
    const ids = (await upstreamsOf(gateway)).map((u) => u.id);
    const sent = async () =>
      (await Promise.all(ids.map((id) => upstreamRequests(gateway, id)))).reduce((a, b) => a + b, 0);
    const before = await sent();
    const result = await runWrk(gateway.url, script, { connections, threads, durationSeconds: checkSeconds });
    await new Promise((r) => setTimeout(r, 1_000)); // evidence lines are appended asynchronously
    const served = (await sent()) - before;
    let text = "";
    try {
      text = readFileSync(evidenceFile, "utf8");
    } catch {}
    const rejected = text
      .split("\n")
      .filter(
        (line) => line.trim() !== "" && (JSON.parse(line) as { kind?: string }).kind === "bad-signature",
      ).length;
    log(
      `sample check: operators were sent ${served} relays, ${rejected} asked to sign and rejected ` +
        `(${((rejected / Math.max(1, served)) * 100).toFixed(2)}%), client errors ${result.errors}`,
    );
    return { served, rejected, clientErrors: result.errors, requests: result.requests };
  } finally {
    await gateway.proc.stop();
  }
}

interface ReportInput {
  results: Map<Rate, WrkResult[]>;
  check: SampleCheck;
  started: Date;
  startLoad: number;
}

function buildReport(input: ReportInput): { terminal: string; markdown: string } {
  const summary = (rate: Rate) => {
    const list = input.results.get(rate)!;
    return {
      rps: median(list.map((r) => r.requestsPerSecond)),
      p50: median(list.map((r) => r.p50Ms)),
      p99: median(list.map((r) => r.p99Ms)),
      errors: list.reduce((sum, r) => sum + r.errors, 0),
      rounds: list.map((r) => fmt.rps(r.requestsPerSecond)).join(", "),
    };
  };
  const base = summary(0);
  const sampled = summary(0.01);
  const ratio = sampled.rps / base.rps;
  const everyRatio = summary(1).rps / base.rps;
  // Adjacent runs of one round share the machine's state: their ratio is steadier than one of medians.
  const pairRatio = median(
    input.results.get(0.01)!.map((r, i) => r.requestsPerSecond / input.results.get(0)![i]!.requestsPerSecond),
  );
  const share = input.check.rejected / Math.max(1, input.check.served);
  // Binomial at 1%: the count is expected within three standard deviations of 1% of the relays served.
  const expected = input.check.served * 0.01;
  const spread = 3 * Math.sqrt(input.check.served * 0.01 * 0.99);
  const low = Math.max(0, expected - spread);
  const high = expected + spread;
  const absolute = [
    [
      "signSampleRate",
      `req/s (median of ${rounds})`,
      "p50 ms",
      "p99 ms",
      "errors (all rounds)",
      "vs 0%",
      "req/s per round",
    ],
    ...rates.map((rate) => {
      const s = summary(rate);
      return [
        rateLabel(rate),
        fmt.rps(s.rps),
        fmt.ms(s.p50),
        fmt.ms(s.p99),
        String(s.errors),
        fmt.ratio(s.rps / base.rps),
        s.rounds,
      ];
    }),
  ];
  const verdicts = [
    ["measure", "measured", "target", "verdict"],
    [
      "requests/s, signing sampled at 1% / at 0%",
      fmt.ratio(ratio),
      "≥ 0.95×",
      ratio >= 0.95 ? "PASS" : "MISS",
    ],
    [
      "requests/s, 1% / 0%, median of the per-round ratios",
      fmt.ratio(pairRatio),
      "≥ 0.95×",
      pairRatio >= 0.95 ? "PASS" : "MISS",
    ],
    ["requests/s, every relay signed (100%) / 0%, for scale", fmt.ratio(everyRatio), "—", "—"],
    [
      "sampled share at 1%: relays the operators were asked to sign / relays sent to them",
      `${input.check.rejected} / ${input.check.served} = ${(share * 100).toFixed(2)}%`,
      `1% ± 3σ: ${low.toFixed(1)}–${high.toFixed(1)} relays`,
      input.check.rejected > 0 && input.check.rejected >= low && input.check.rejected <= high
        ? "PASS"
        : "MISS",
    ],
  ];
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const setup =
    `${input.started.toISOString().slice(0, 16).replace("T", " ")} UTC, ${availableParallelism()} cores (${cpu}), ` +
    `Node ${process.version}; wrk, ${connections} connections, ${threads} threads, ${durationSeconds} s per ` +
    `measurement after a ${warmupSeconds} s warm-up, median of ${rounds} rounds alternating the rates; ledger ` +
    `chain, operators, stub, gateways and load generator share the machine (load average ` +
    `${input.startLoad.toFixed(1)} at the start).`;
  const markdown = [
    "## Relay signatures: sampled at 1% vs 0%",
    "",
    `Measured by \`npm run bench:signing${quick ? " -- --quick" : ""}\` (bench/signing.bench.ts): ${setup}`,
    "",
    "The gateway (`din gateway`, one process per rate) reads its three operators from the DIN registry on a " +
      "Hardhat ledger chain (chain id 31337, a block a second) and sends each request with its `din-auth` " +
      "access token; on the sampled share it asks for `din-sign: 1` and recovers the signer of the relay. " +
      "Each operator is a `din operator serve` process (tokens checked against the registry, relays signed " +
      "with its registered key; three clouds) in front of one nginx stub answering from memory. Workload: " +
      "`eth_getBalance` at `pending` (never cached: every request is a relay). Rounds alternate 0% and 1% " +
      "(100% after them) so machine noise hits both alike.",
    "",
    markdownTable(verdicts),
    "",
    markdownTable(absolute),
    "",
    "The sampled share is checked with evidence, since the gateway exports no counter of signed relays: " +
      "after the rounds, each operator is restarted with a signing key the registry does not name, " +
      "and a fresh gateway at 1% runs the same load for " +
      `${checkSeconds} s; each relay it asked to be signed fails the recover check, is kept as a ` +
      "`bad-signature` evidence line and retried on another operator " +
      `(client errors in that run: ${input.check.clientErrors} of ${input.check.requests.toLocaleString("en-US")} requests).`,
    "",
    "Cost of one signed relay: the operator signs with viem (about 0.7 ms) and the gateway recovers the " +
      "signer with libsecp256k1 (about 0.07 ms; `src/ledger/din/ecrecover.ts`). With viem's JavaScript " +
      "recovery (about 2.9 ms) the same benchmark measured 0.070× at 100% and 0.878× at 1% (median of the " +
      "per-round ratios) on 2026-11-22.",
    "",
    "Not measured here: the quorum path (quorum answers are always signed, whatever the rate), batches, " +
      "WebSocket subscriptions, the operators' own CPU per signature apart from its effect on the gateway's " +
      "requests/s, usage reports and fee payments on the ledger (the gateway sends them once per epoch, alike " +
      "at every rate), and operators on other machines (network latency would hide more of the signing cost).",
    "",
  ].join("\n");
  const terminal = [
    `Relay signing benchmark — ${setup}`,
    "",
    textTable(verdicts),
    "",
    textTable(absolute),
  ].join("\n");
  return { terminal, markdown };
}

function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  return [
    `| ${head!.join(" | ")} |`,
    `| ${head!.map(() => "---").join(" | ")} |`,
    ...body.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ")).join("\n");
}

process.exitCode = await main();
