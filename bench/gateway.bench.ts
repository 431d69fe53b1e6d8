/**
 * Gateway throughput and latency against nginx `proxy_pass`, a minimal Node proxy (bench/minimalProxy.ts:
 * node:http + an undici Pool, the runtime's floor) and a direct connection, side by side in one run, with
 * the same load generator and connections for every target (`npm run bench [-- --quick]`).
 *
 * Stub upstream: nginx answering from memory (a C server on its own cores is never the bottleneck, and a
 * Node stub would compete with the gateway for the same runtime costs); it answers the gateway's head
 * poll batch with blocks so the gateway tracks a head and a finalized block.
 *
 * Flags: --quick (3 s per measurement, 20k/200k requests for memory), --rounds N (interleaved repeats,
 * the best of each is kept), --duration S, --connections C, --profile (CPU profile of the gateway),
 * --write-docs (also with --quick; a full run always updates docs/performance.md).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hotSpots } from "./cpuProfile.js";
import { writePerformanceSection } from "./docs.js";
import { type PacedResult, runPaced } from "./pacedLoad.js";
import {
  cpuMicros,
  type GatewayProcess,
  largeAnswerPath,
  missingTools,
  processTree,
  residentBytes,
  startGatewayProcess,
  startMinimalProxy,
  startNginxProxy,
  startStub,
  stopAll,
} from "./processes.js";
import { runWrk, type WrkResult, wrkScript } from "./wrk.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
    threads: { type: "string", default: "1" },
    profile: { type: "boolean", default: false },
    "write-docs": { type: "boolean", default: false },
  },
});

const quick = flags.quick;
const durationSeconds = Number(flags.duration ?? (quick ? 3 : 10));
const warmupSeconds = quick ? 1 : 2;
const rounds = Number(flags.rounds ?? (quick ? 1 : 2));
const connections = Number(flags.connections);
const threads = Number(flags.threads);
const memoryCheckpoints = quick ? [20_000, 200_000] : [100_000, 1_000_000];
const failoverAttemptTimeoutMs = 500;

const address = "0x00000000000000000000000000000000000000aa";
const call = (method: string, params: unknown[]) => JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });

interface Workload {
  key: "passThrough" | "coalesced" | "local" | "cached" | "large";
  label: string;
  body: string;
  /** The target throughput against nginx; a workload without one is measured, not judged. */
  minVsNginx?: number;
  /** Sent to the stub's large-answer path (and the gateway's `bench-large` network). */
  large?: boolean;
}

/**
 * `eth_getBalance` at `pending` is never cached nor coalesced: every request reaches the upstream.
 * `eth_gasPrice` is never cached, but identical concurrent reads share one upstream call (in-flight
 * deduplication), so under 32 identical connections it is partly answered without an upstream call.
 */
const workloads: Workload[] = [
  {
    key: "passThrough",
    label: "pass-through: eth_getBalance at pending",
    body: call("eth_getBalance", [address, "pending"]),
    minVsNginx: 0.35,
  },
  {
    key: "coalesced",
    label: "pass-through, coalesced: eth_gasPrice",
    body: call("eth_gasPrice", []),
    minVsNginx: 0.35,
  },
  { key: "local", label: "local: eth_chainId", body: call("eth_chainId", []), minVsNginx: 0.7 },
  {
    key: "cached",
    label: "cached: eth_getBalance at final block 0x10",
    body: call("eth_getBalance", [address, "0x10"]),
    minVsNginx: 0.7,
  },
  {
    // Not cached (pending): every request carries a 66 KB block from the stub through the target.
    key: "large",
    label: "pass-through, a 66 KB answer: eth_getBlockByNumber at pending with transactions",
    body: call("eth_getBlockByNumber", ["pending", true]),
    large: true,
  },
];

/** Where `target` answers `workload`: the large answer has its own stub path and gateway network. */
function urlOf(targets: Record<TargetKey, string>, target: TargetKey, workload: Workload): string {
  const url = targets[target];
  if (!workload.large) return url;
  return target === "gateway" || target === "gateway2"
    ? url.replace(/\/v1\/bench$/, "/v1/bench-large")
    : `${url}${largeAnswerPath}`;
}

type TargetKey = "direct" | "nginx" | "node" | "gateway" | "gateway2";
/** Measured open loop at the same rate: the stub, the runtime's floor and the gateway. */
const pacedTargets = ["direct", "node", "gateway"] as const;
type PacedTarget = (typeof pacedTargets)[number];
interface Latency {
  p50: number;
  p99: number;
}
const targetLabels: Record<TargetKey, string> = {
  direct: "direct (stub)",
  nginx: "nginx proxy_pass (1 worker)",
  node: "minimal Node proxy",
  gateway: "gateway (1 process)",
  gateway2: "gateway --workers 2",
};

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const fmt = {
  rps: (value: number) => Math.round(value).toLocaleString("en-US"),
  ms: (value: number) => value.toFixed(3),
  ratio: (value: number) => `${value.toFixed(2)}×`,
  mib: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`,
};

async function main(): Promise<number> {
  const missing = missingTools();
  if (missing.length > 0) {
    log(
      `The gateway benchmark needs ${missing.join(" and ")} (missing).\n` +
        "Install them from Debian/Ubuntu packages:\n  sudo apt-get update && sudo apt-get install -y nginx wrk\n" +
        "(nginx serves the stub upstream and the proxy_pass baseline; wrk generates the load.)",
    );
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "din-bench-"));
  const stopOnSignal = () => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const started = new Date();
  const startLoad = loadavg()[0]!;
  try {
    log(`temporary directory: ${dir}`);
    const stub = await startStub(dir, "stub", { workers: "auto", masterProcess: true });
    const proxy = await startNginxProxy(dir, stub.port);
    const nodeProxy = await startMinimalProxy(dir, stub.url);
    const profileDir = join(dir, "profile");
    const gateway = await startGatewayProcess(dir, "gateway", {
      upstreams: [stub.url],
      largeNetwork: true,
      ...(flags.profile ? { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
    });
    const gateway2 = await startGatewayProcess(dir, "gateway2", {
      upstreams: [stub.url],
      workers: 2,
      largeNetwork: true,
    });
    const targets: Record<TargetKey, string> = {
      direct: stub.url,
      nginx: proxy.url,
      node: nodeProxy.url,
      gateway: gateway.url,
      gateway2: gateway2.url,
    };
    for (const workload of workloads) await checkAnswers(targets, workload);
    // CPU time per request of each target's processes: on a shared, busy machine a steadier measure of
    // the work a request costs than the throughput, which follows what else the machine runs.
    const pids: Partial<Record<TargetKey, number[]>> = {
      nginx: processTree(proxy.child.process.pid!),
      node: processTree(nodeProxy.pid),
      gateway: processTree(gateway.pid),
      gateway2: processTree(gateway2.pid),
    };
    const cpuPerRequest = new Map<string, number>();
    const memoryUrl = `${nodeProxy.url}/memory`;

    // 1. Peak throughput, closed loop, each target after a warm-up; rounds interleave the targets.
    const best = new Map<string, WrkResult>();
    const wrkOptions = { connections, threads, durationSeconds };
    for (let round = 1; round <= rounds; round++) {
      for (const workload of workloads) {
        const script = wrkScript(dir, workload.key, workload.body);
        for (const target of Object.keys(targets) as TargetKey[]) {
          const url = urlOf(targets, target, workload);
          await runWrk(url, script, { ...wrkOptions, durationSeconds: warmupSeconds });
          const cpuBefore = cpuMicros(pids[target] ?? []);
          const result = await runWrk(url, script, wrkOptions);
          if (pids[target] && result.requests > 0) {
            const micros = (cpuMicros(pids[target]) - cpuBefore) / result.requests;
            const key = `${workload.key}/${target}`;
            cpuPerRequest.set(key, Math.min(cpuPerRequest.get(key) ?? Number.POSITIVE_INFINITY, micros));
          }
          log(
            `round ${round} ${workload.key.padEnd(11)} ${target.padEnd(8)} ${fmt.rps(result.requestsPerSecond).padStart(8)} req/s  p50 ${fmt.ms(result.p50Ms)} ms  p99 ${fmt.ms(result.p99Ms)} ms${result.errors ? `  errors ${result.errors}` : ""}`,
          );
          const key = `${workload.key}/${target}`;
          const previous = best.get(key);
          if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best.set(key, result);
        }
        if (workload.key === "local") {
          // The runtime's floor for any answer from memory: node:http answering a fixed body.
          await runWrk(memoryUrl, script, { ...wrkOptions, durationSeconds: warmupSeconds });
          const result = await runWrk(memoryUrl, script, wrkOptions);
          log(
            `round ${round} ${workload.key.padEnd(11)} memory   ${fmt.rps(result.requestsPerSecond).padStart(8)} req/s  p50 ${fmt.ms(result.p50Ms)} ms  p99 ${fmt.ms(result.p99Ms)} ms`,
          );
          const previous = best.get("memory");
          if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best.set("memory", result);
        }
      }
    }
    const fromMemory = best.get("memory")!;
    const peak = (workload: Workload["key"], target: TargetKey) => best.get(`${workload}/${target}`)!;

    // 2. Added latency at half of the gateway's own peak pass-through load, open loop, same rate.
    const halfRate = Math.max(100, Math.round(peak("passThrough", "gateway").requestsPerSecond / 2));
    const passThroughBody = workloads[0]!.body;
    // The minimal Node proxy at the same rate: what the runtime itself adds on this machine.
    const paced: Record<PacedTarget, PacedResult[]> = { direct: [], node: [], gateway: [] };
    for (let round = 1; round <= Math.max(2, rounds); round++) {
      for (const target of pacedTargets) {
        const base = { url: targets[target], body: passThroughBody, ratePerSecond: halfRate, connections };
        await runPaced({ ...base, durationSeconds: warmupSeconds });
        const result = await runPaced({ ...base, durationSeconds });
        log(
          `paced ${halfRate}/s ${target.padEnd(8)} achieved ${fmt.rps(result.achievedPerSecond)}/s  p50 ${fmt.ms(result.p50Ms)} ms  p99 ${fmt.ms(result.p99Ms)} ms  errors ${result.errors}`,
        );
        paced[target].push(result);
      }
    }
    // The best of the rounds of each target: what it can do at that rate when the machine lets it.
    const pacedBest = Object.fromEntries(
      pacedTargets.map((target) => [
        target,
        {
          p50: Math.min(...paced[target].map((r) => r.p50Ms)),
          p99: Math.min(...paced[target].map((r) => r.p99Ms)),
        },
      ]),
    ) as Record<PacedTarget, Latency>;

    // 3. Memory: RSS of a fresh gateway process after N and 10 N pass-through requests.
    const memoryGateway = await startGatewayProcess(dir, "gateway-memory", { upstreams: [stub.url] });
    const memoryScript = wrkScript(dir, "memory", passThroughBody);
    const rss: number[] = [];
    let done = 0;
    for (const checkpoint of memoryCheckpoints) {
      while (done < checkpoint) {
        const seconds = Math.max(
          1,
          Math.ceil((checkpoint - done) / peak("passThrough", "gateway").requestsPerSecond),
        );
        const result = await runWrk(memoryGateway.url, memoryScript, {
          ...wrkOptions,
          durationSeconds: seconds,
        });
        done += result.requests;
      }
      // RSS follows the heap's sawtooth (it grows until a full collection): the least of a few
      // samples over 3 s is what the process keeps, not where a collection happened to be.
      let least = Number.POSITIVE_INFINITY;
      for (let sample = 0; sample < 10; sample++) {
        await new Promise((r) => setTimeout(r, 300));
        least = Math.min(least, residentBytes(memoryGateway.pid));
      }
      rss.push(least);
      log(`memory after ${done.toLocaleString("en-US")} requests: ${fmt.mib(rss.at(-1)!)}`);
    }
    await memoryGateway.child.stop();

    // 4. Failover: three stubs, the busiest one killed mid-run, open loop at a quarter of the peak rate
    // (ranking three upstreams costs more than one, and a cold gateway must not start backlogged).
    const failover = await runFailover(dir, Math.max(100, Math.round(halfRate / 2)), passThroughBody);

    // Stop the gateways before reading the CPU profile (written at exit).
    await gateway.child.stop();
    await gateway2.child.stop();
    await stopAll();

    const report = buildReport({
      peak,
      cpu: (workload, target) => cpuPerRequest.get(`${workload}/${target}`),
      fromMemory,
      halfRate,
      pacedBest,
      rss,
      memoryCheckpoints,
      failover,
      started,
      startLoad,
    });
    process.stdout.write(`\n${report.terminal}\n`);
    if (!quick || flags["write-docs"]) {
      writePerformanceSection("## Gateway throughput and latency", report.markdown);
      log("docs/performance.md updated (section “Gateway throughput and latency”).");
    } else {
      log("--quick: docs/performance.md left unchanged (pass --write-docs to update it).");
    }
    if (flags.profile) printHotSpots(profileDir);
    return 0;
  } finally {
    await stopAll();
    if (!flags.profile) rmSync(dir, { recursive: true, force: true });
  }
}

/** Every target answers the workload with a JSON-RPC result before it is measured. */
async function checkAnswers(targets: Record<TargetKey, string>, workload: Workload): Promise<void> {
  for (const target of Object.keys(targets) as TargetKey[]) {
    const response = await fetch(urlOf(targets, target, workload), {
      method: "POST",
      body: workload.body,
      headers: { "content-type": "application/json" },
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('"result"'))
      throw new Error(`${target} answered ${workload.key} with HTTP ${response.status}: ${text}`);
  }
}

interface FailoverResult {
  rate: number;
  result: PacedResult;
  killed: string;
  attemptTimeoutMs: number;
}

async function runFailover(dir: string, rate: number, body: string): Promise<FailoverResult> {
  const stubs = [];
  for (let i = 1; i <= 3; i++) {
    stubs.push(await startStub(dir, `failover-stub-${i}`, { workers: 1, masterProcess: false }));
  }
  const gateway = await startGatewayProcess(dir, "gateway-failover", {
    upstreams: stubs.map((stub) => stub.url),
    attemptTimeoutMs: failoverAttemptTimeoutMs,
    headPollMs: 1_000,
  });
  try {
    await runPaced({
      url: gateway.url,
      body,
      ratePerSecond: rate,
      durationSeconds: warmupSeconds + 2,
      connections,
    });
    const victim = await busiestUpstream(gateway);
    const stub = stubs[victim]!;
    const result = await runPaced({
      url: gateway.url,
      body,
      ratePerSecond: rate,
      durationSeconds,
      connections,
      at: { afterMs: durationSeconds * 400, action: () => stub.child.stop("SIGKILL") },
    });
    log(
      `failover ${rate}/s: killed stub-${victim + 1}; errors ${result.errors}, p50 ${fmt.ms(result.p50Ms)} ms, p99 ${fmt.ms(result.p99Ms)} ms, max ${fmt.ms(result.maxMs)} ms`,
    );
    for (const sample of result.errorSamples) log(`  error: ${sample}`);
    return { rate, result, killed: `stub-${victim + 1}`, attemptTimeoutMs: failoverAttemptTimeoutMs };
  } finally {
    await gateway.child.stop();
    for (const stub of stubs) await stub.child.stop();
  }
}

/** Index of the upstream that served most requests so far, read from the gateway's /metrics. */
async function busiestUpstream(gateway: GatewayProcess): Promise<number> {
  const metricsUrl = gateway.url.replace(/\/v1\/bench$/, "/metrics");
  const text = await (await fetch(metricsUrl)).text();
  const counts = [0, 0, 0];
  for (const match of text.matchAll(
    /^din_upstream_requests_total\{[^}]*upstream="stub-(\d)"[^}]*\} (\d+)/gm,
  )) {
    counts[Number(match[1]) - 1]! += Number(match[2]);
  }
  return counts.indexOf(Math.max(...counts));
}

interface ReportInput {
  peak: (workload: Workload["key"], target: TargetKey) => WrkResult;
  /** Least CPU time per request (µs, user + system, all of the target's processes) over the rounds. */
  cpu: (workload: Workload["key"], target: TargetKey) => number | undefined;
  /** node:http answering a fixed body from memory (the minimal proxy's /memory), on the local workload. */
  fromMemory: WrkResult;
  halfRate: number;
  /** Each target's best p50 and p99 over the rounds, open loop at `halfRate`. */
  pacedBest: Record<PacedTarget, Latency>;
  rss: number[];
  memoryCheckpoints: number[];
  failover: FailoverResult;
  started: Date;
  /** 1-minute load average when the run started: how busy the shared machine was. */
  startLoad: number;
}

interface Line {
  measure: string;
  measured: string;
  target: string;
  /** undefined: a figure given for context, not judged. */
  pass: boolean | undefined;
}

const verdict = (line: Line) => (line.pass === undefined ? "INFO" : line.pass ? "PASS" : "FAIL");

function buildReport(input: ReportInput): { terminal: string; markdown: string } {
  const { peak, failover, pacedBest } = input;
  // What a target adds over the direct path at the same rate; the minimal Node proxy's is the runtime's.
  const added = (target: PacedTarget): Latency => ({
    p50: pacedBest[target].p50 - pacedBest.direct.p50,
    p99: pacedBest[target].p99 - pacedBest.direct.p99,
  });
  const gatewayAdded = added("gateway");
  const floorAdded = added("node");
  const ratio = (workload: Workload["key"], of: TargetKey = "nginx") =>
    peak(workload, "gateway").requestsPerSecond / peak(workload, of).requestsPerSecond;
  const nodeRatio = ratio("passThrough", "node");
  const rates = (workload: Workload["key"], of: TargetKey) =>
    `${fmt.rps(peak(workload, "gateway").requestsPerSecond)} / ${fmt.rps(peak(workload, of).requestsPerSecond)} req/s`;
  const scaling =
    peak("passThrough", "gateway2").requestsPerSecond / peak("passThrough", "gateway").requestsPerSecond;
  const rssRatio = input.rss[1]! / input.rss[0]!;
  const failoverBound = failover.attemptTimeoutMs + 50;
  const lines: Line[] = [
    ...workloads.flatMap((workload) => {
      const min = workload.minVsNginx;
      if (min === undefined) return [];
      const value = ratio(workload.key);
      return {
        measure: `throughput vs nginx, ${workload.label}`,
        measured: `${fmt.ratio(value)} (${rates(workload.key, "nginx")})`,
        target: `≥ ${min}×`,
        pass: value >= min,
      };
    }),
    {
      measure: `throughput vs the minimal Node proxy, ${workloads[0]!.label}`,
      measured: `${fmt.ratio(nodeRatio)} (${rates("passThrough", "node")})`,
      target: "≥ 0.8×",
      pass: nodeRatio >= 0.8,
    },
    {
      measure: "throughput, --workers 2 vs 1 process (pass-through)",
      measured: fmt.ratio(scaling),
      target: "> 1× (scales with cores)",
      pass: scaling > 1,
    },
    {
      measure: `added p50 at half of gateway peak (${fmt.rps(input.halfRate)} req/s)`,
      measured: `${fmt.ms(gatewayAdded.p50)} ms`,
      target: "≤ 0.3 ms",
      pass: gatewayAdded.p50 <= 0.3,
    },
    {
      measure: `added p99 at half of gateway peak (${fmt.rps(input.halfRate)} req/s)`,
      measured: `${fmt.ms(gatewayAdded.p99)} ms`,
      target: "≤ 2 ms",
      pass: gatewayAdded.p99 <= 2,
    },
    {
      measure: "the runtime's floor: what the minimal Node proxy adds at the same rate, p50 / p99",
      measured: `${fmt.ms(floorAdded.p50)} / ${fmt.ms(floorAdded.p99)} ms`,
      target: "context for the two lines above",
      pass: undefined,
    },
    {
      measure: `failover: client errors, 1 of 3 upstreams killed (${fmt.rps(failover.rate)} req/s)`,
      measured: String(failover.result.errors),
      target: "0",
      pass: failover.result.errors === 0,
    },
    {
      measure: "failover: p99 latency",
      measured: `${fmt.ms(failover.result.p99Ms)} ms`,
      target: `≤ ${failoverBound} ms (attempt timeout + 50)`,
      pass: failover.result.p99Ms <= failoverBound,
    },
    {
      measure: `RSS after ${input.memoryCheckpoints[1]!.toLocaleString("en-US")} / after ${input.memoryCheckpoints[0]!.toLocaleString("en-US")} requests (${fmt.mib(input.rss[1]!)} / ${fmt.mib(input.rss[0]!)})`,
      measured: fmt.ratio(rssRatio),
      target: "≤ 1.2×",
      pass: rssRatio <= 1.2,
    },
  ];
  const targets = Object.keys(targetLabels) as TargetKey[];
  const absolute = [
    [
      "workload",
      ...targets.map((t) => `${targetLabels[t]}: req/s, p50 / p99 ms`),
      "gateway / nginx",
      "gateway / minimal Node proxy",
    ],
    ...workloads.map((workload) => [
      workload.label,
      ...targets.map((target) => {
        const r = peak(workload.key, target);
        return `${fmt.rps(r.requestsPerSecond)}, ${fmt.ms(r.p50Ms)} / ${fmt.ms(r.p99Ms)}`;
      }),
      fmt.ratio(ratio(workload.key)),
      fmt.ratio(ratio(workload.key, "node")),
    ]),
    [
      "runtime floor for an answer from memory: node:http answering a fixed body (local workload)",
      ...targets.map((target) =>
        target === "node"
          ? `${fmt.rps(input.fromMemory.requestsPerSecond)}, ${fmt.ms(input.fromMemory.p50Ms)} / ${fmt.ms(input.fromMemory.p99Ms)}`
          : "",
      ),
      `${fmt.ratio(input.fromMemory.requestsPerSecond / peak("local", "nginx").requestsPerSecond)} (floor / nginx)`,
      `${fmt.ratio(peak("local", "gateway").requestsPerSecond / input.fromMemory.requestsPerSecond)} (gateway local / floor)`,
    ],
  ];
  const ratios = [
    ["measure", "measured", "target", "verdict"],
    ...lines.map((line) => [line.measure, line.measured, line.target, verdict(line)]),
  ];
  const cpuTargets = ["nginx", "node", "gateway", "gateway2"] as const;
  const cpuOf = (workload: Workload["key"], target: TargetKey) => input.cpu(workload, target) ?? Number.NaN;
  const cpuTable = [
    [
      "CPU µs per request (user + system, all the target's processes)",
      ...cpuTargets.map((t) => targetLabels[t]),
      "gateway / nginx",
      "gateway / minimal Node proxy",
    ],
    ...workloads.map((workload) => [
      workload.label,
      ...cpuTargets.map((target) => cpuOf(workload.key, target).toFixed(1)),
      fmt.ratio(cpuOf(workload.key, "gateway") / cpuOf(workload.key, "nginx")),
      fmt.ratio(cpuOf(workload.key, "gateway") / cpuOf(workload.key, "node")),
    ]),
  ];
  const paced = [
    [
      `at the same rate, ${fmt.rps(input.halfRate)} req/s (open loop)`,
      "p50 ms",
      "p99 ms",
      "added p50 / p99 ms",
    ],
    ...pacedTargets.map((target) => [
      targetLabels[target],
      fmt.ms(pacedBest[target].p50),
      fmt.ms(pacedBest[target].p99),
      target === "direct" ? "" : `${fmt.ms(added(target).p50)} / ${fmt.ms(added(target).p99)}`,
    ]),
  ];
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const setup =
    `${input.started.toISOString().slice(0, 16).replace("T", " ")} UTC, ${availableParallelism()} cores (${cpu}), ` +
    `Node ${process.version}; wrk, ${connections} connections, ${threads} thread, ${durationSeconds} s per ` +
    `measurement after a ${warmupSeconds} s warm-up, best of ${rounds} interleaved rounds; load generator, ` +
    `stub, nginx and gateway share the machine (load average ${input.startLoad.toFixed(1)} at the start).`;
  const markdown = [
    "## Gateway throughput and latency",
    "",
    `Measured by \`npm run bench${quick ? " -- --quick" : ""}\` (bench/gateway.bench.ts): ${setup}`,
    "",
    "Targets: the stub upstream is nginx answering from memory (and the gateway's head-poll batch with " +
      "blocks); nginx `proxy_pass` with one worker and keep-alive upstream connections; the minimal Node proxy " +
      "(bench/minimalProxy.ts: node:http and an undici Pool forwarding the body and piping the answer back, " +
      "in its own process: the runtime's floor; it forwards every workload, so it answers local and cached " +
      "reads from the stub; on its path /memory it answers a fixed body without forwarding, the floor for " +
      "any answer from memory); the gateway in its " +
      "own process (`din gateway --port 0`), and with `--workers 2`; direct to the stub. Added latency is " +
      "measured open loop (requests started on schedule, evenly spaced to the microsecond, each latency counted from when its request was due) at half of the gateway's own " +
      "peak pass-through rate, gateway minus direct at the same rate, beside the minimal Node proxy at that " +
      "rate (what the runtime itself adds on this machine); the load generator runs in the benchmark's own " +
      "process on undici's dispatch API. The large answer (a block of 150 transactions, 66 KB) is served by " +
      "the stub from a file and is never cached: every request carries it through the target. Failover: three stubs, attempt timeout " +
      `${failover.attemptTimeoutMs} ms, open loop at a quarter of the gateway's peak, the busiest stub killed (SIGKILL) 40% into the run. Memory: VmRSS of ` +
      "a fresh gateway process after pass-through requests.",
    "",
    markdownTable(ratios),
    "",
    markdownTable(absolute),
    "",
    markdownTable(cpuTable),
    "",
    markdownTable(paced),
    "",
    "What a request's CPU time goes to, and what each change to the request path gained: see " +
      "“Gateway throughput: profile and changes” below.",
    "",
  ].join("\n");
  const terminal = [
    `Gateway benchmark — ${setup}`,
    "",
    textTable(absolute),
    "",
    textTable(cpuTable),
    "",
    textTable(paced),
    "",
    ...lines.map((line) => `${verdict(line)}  ${line.measure}: ${line.measured}, target ${line.target}`),
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

function printHotSpots(profileDir: string): void {
  const files = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"));
  for (const name of files) {
    log(`\nCPU profile ${join(profileDir, name)} — top self time:`);
    for (const spot of hotSpots(join(profileDir, name), 25)) {
      log(`  ${spot.sharePercent.toFixed(1).padStart(5)}%  ${spot.name}  ${spot.location}`);
    }
  }
}

process.exitCode = await main();
