/**
 * Gateway throughput with API keys + credits + usage on, against the same gateway with keys off, in one
 * run (`node bin/run-ts.mjs bench/keys.bench.ts [--quick]`): keys on embedded PGlite, and keys on
 * PostgreSQL + Redis (the setup several gateways share). Target: ≥ 0.9× the keys-off throughput.
 *
 * Two workloads: `eth_chainId` (answered by the gateway itself, so admission is the largest share of the
 * work: the worst case for the ratio) and `eth_getBalance` at a final block (the gateway caches it after
 * the first answer from the stub upstream, nginx answering from memory as in bench/gateway.bench.ts).
 * The key has limits high enough never to refuse, so every request still pays the credit check and the
 * usage count.
 *
 * Verdicts use the gateway process's CPU time per request (from /proc), which other processes on the
 * machine barely disturb; Redis and PostgreSQL CPU is not counted (in production they run elsewhere).
 *
 * Flags: --quick (3 s per measurement), --rounds N (interleaved repeats, best kept), --duration S,
 * --connections C, --write-docs (also with --quick; a full run always updates its section of
 * docs/performance.md).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { KeyAdmission } from "../src/gateway/keys/admission.js";
import { creditTable } from "../src/gateway/keys/credits.js";
import { openDatabase } from "../src/gateway/keys/database.js";
import { memoryLimiter } from "../src/gateway/keys/limiter.js";
import { migrate } from "../src/gateway/keys/migrations.js";
import { KeyRegistry } from "../src/gateway/keys/registry.js";
import { KeyStore } from "../src/gateway/keys/store.js";
import { UsageRecorder } from "../src/gateway/keys/usage.js";
import { parseRequestBody } from "../src/rpc/jsonrpc.js";
import { createDatabase, type RunningService, startPostgres, startRedis } from "../test/keys/services.js";
import { writePerformanceSection } from "./docs.js";
import { missingTools, startStub, stopAll } from "./processes.js";
import { runWrk, type WrkResult, wrkScript } from "./wrk.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
    "write-docs": { type: "boolean", default: false },
  },
});
const quick = flags.quick;
const durationSeconds = Number(flags.duration ?? (quick ? 3 : 10));
const rounds = Number(flags.rounds ?? (quick ? 1 : 2));
const connections = Number(flags.connections);
const adminToken = "bench-admin-token-0123456789abcdef";

interface Setup {
  name: "keys off" | "keys on, PGlite" | "keys on, PostgreSQL + Redis";
  keys: Record<string, unknown> | undefined;
}

interface RunningGateway {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

async function startGateway(dir: string, setup: Setup, stubUrl: string): Promise<RunningGateway> {
  const name = setup.name.replace(/[^a-z]+/gi, "-");
  const config = {
    server: { host: "127.0.0.1", logLevel: "warn" },
    health: { headPollMs: 60_000 },
    ...(setup.keys ? { keys: setup.keys } : {}),
    networks: [
      {
        name: "bench",
        chainId: 1337,
        upstreams: [{ id: "stub", url: stubUrl, cloud: "c", region: "r" }],
      },
    ],
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config));
  const root = resolve(import.meta.dirname, "..");
  const child = spawn(
    process.execPath,
    [join(root, "bin/din.mjs"), "gateway", "--config", file, "--port", "0"],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const line = await new Promise<string>((done, reject) => {
    createInterface({ input: child.stdout! }).once("line", done);
    child.once("exit", (code) => reject(new Error(`${setup.name}: gateway exited (${code})\n${stderr}`)));
  });
  const base = (JSON.parse(line) as { gateway: string }).gateway;
  return {
    base,
    pid: child.pid!,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

async function createBenchKey(base: string): Promise<string> {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  await fetch(`${base}/admin/projects`, { method: "POST", headers, body: JSON.stringify({ name: "bench" }) });
  const response = await fetch(`${base}/admin/keys`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      project: "bench",
      limits: { creditsPerSecond: 1_000_000_000, creditsPerDay: 1_000_000_000_000 },
    }),
  });
  const created = (await response.json()) as { key: { key: string } };
  return created.key.key;
}

/** CPU time (user + system, all threads) a process has used, in microseconds, from /proc/<pid>/stat. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11] and [12] are utime and stime (fields 14 and 15 of the file), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const workloads = [
  { key: "local", label: "eth_chainId (answered by the gateway)", method: "eth_chainId", params: [] },
  {
    key: "passThrough",
    label: "eth_getBalance at a final block (cached)",
    method: "eth_getBalance",
    params: ["0x00000000000000000000000000000000000000aa", "0x10"],
  },
] as const;

/**
 * The admission stage alone, in this process, without sockets: API key lookup, allowlists, credits
 * (memory limiter) and usage counting for one eth_chainId body. Stable whatever else the machine runs.
 */
async function admissionCost(): Promise<{ microsPerRequest: number }> {
  const db = await openDatabase({});
  try {
    await migrate(db);
    const store = new KeyStore(db);
    const project = await store.createProject("bench");
    const { record } = await store.createKey({
      projectId: project.id,
      name: "bench",
      limits: { creditsPerSecond: 1_000_000_000, creditsPerDay: 1_000_000_000_000 },
    });
    const registry = new KeyRegistry(store, { syncIntervalMs: 60_000 });
    await registry.start();
    const usage = new UsageRecorder(store, { flushIntervalMs: 60_000 });
    const admission = new KeyAdmission(registry, memoryLimiter(), creditTable(), usage);
    const parsed = parseRequestBody('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}');
    if (!parsed.ok) throw new Error("bad body");
    const answer = { jsonrpc: "2.0" as const, id: 1, result: "0x539" };
    const credentials = { network: "bench", apiKey: record.key, userAgent: "bench/1.0" };
    const run = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const admitted = await admission.admitter(credentials)({ batch: false, entries: parsed.entries });
        if (!admitted.ok) throw new Error(admitted.error.message);
        admitted.settle([answer]);
      }
    };
    await run(20_000);
    const count = 200_000;
    const started = performance.now();
    await run(count);
    const microsPerRequest = ((performance.now() - started) * 1000) / count;
    registry.stop();
    await usage.close();
    return { microsPerRequest };
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const missing = missingTools();
  if (missing.length) {
    throw new Error(`missing ${missing.join(", ")}: apt-get install -y ${missing.join(" ")}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "din-bench-keys-"));
  const services: RunningService[] = [];
  const gateways: RunningGateway[] = [];
  try {
    const stub = await startStub(dir, "stub", { workers: 1, masterProcess: false });
    const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    services.push(redis, postgres);
    const databaseUrl = await createDatabase(postgres.url, "din_bench");
    const setups: Setup[] = [
      { name: "keys off", keys: undefined },
      {
        name: "keys on, PGlite",
        keys: { enabled: true, adminToken, dataDir: join(dir, "pglite") },
      },
      {
        name: "keys on, PostgreSQL + Redis",
        keys: { enabled: true, adminToken, databaseUrl, redisUrl: redis.url },
      },
    ];
    const targets: Array<{ setup: Setup; url: string; pid: number }> = [];
    for (const setup of setups) {
      const gateway = await startGateway(dir, setup, stub.url);
      gateways.push(gateway);
      const key = setup.keys ? await createBenchKey(gateway.base) : undefined;
      targets.push({ setup, url: `${gateway.base}/v1/bench${key ? `/${key}` : ""}`, pid: gateway.pid });
    }
    const best = new Map<string, WrkResult>();
    // Gateway CPU per request: what keys cost the gateway itself, far less sensitive than throughput to
    // whatever else runs on the machine. Lowest of the rounds.
    const cpuPerRequest = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      for (const workload of workloads) {
        const body = JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: workload.method,
          params: workload.params,
        });
        const script = wrkScript(dir, workload.key, body);
        for (const target of targets) {
          // Warm-up: JIT, connection pools, the key cache.
          await runWrk(target.url, script, { connections, threads: 1, durationSeconds: 1 });
          const cpuBefore = cpuMicros(target.pid);
          const result = await runWrk(target.url, script, { connections, threads: 1, durationSeconds });
          const cpu = (cpuMicros(target.pid) - cpuBefore) / Math.max(1, result.requests);
          const id = `${workload.key}|${target.setup.name}`;
          cpuPerRequest.set(id, Math.min(cpuPerRequest.get(id) ?? Number.POSITIVE_INFINITY, cpu));
          const previous = best.get(id);
          if (!previous || result.requestsPerSecond > previous.requestsPerSecond) best.set(id, result);
          process.stderr.write(
            `round ${round + 1} ${workload.key.padEnd(12)} ${target.setup.name.padEnd(28)} ${Math.round(result.requestsPerSecond)} req/s, ${cpu.toFixed(1)} µs CPU/request, ${result.errors} errors\n`,
          );
        }
      }
    }
    const lines = [
      `Keys on vs off (bench/keys.bench.ts): ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${availableParallelism()} cores, Node ${process.version}; wrk, ${connections} connections, ${durationSeconds} s per measurement after a 1 s warm-up, best of ${rounds}; load average ${loadavg()[0]!.toFixed(1)} at the end.`,
      "",
      "| workload | setup | req/s | p50 ms | p99 ms | errors | req/s vs keys off | gateway CPU µs/request | requests per CPU second vs keys off | target ≥ 0.9× |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ];
    let allPass = true;
    for (const workload of workloads) {
      const baseline = best.get(`${workload.key}|keys off`)!;
      const baselineCpu = cpuPerRequest.get(`${workload.key}|keys off`)!;
      for (const setup of setups) {
        const result = best.get(`${workload.key}|${setup.name}`)!;
        const ratio = result.requestsPerSecond / baseline.requestsPerSecond;
        const cpu = cpuPerRequest.get(`${workload.key}|${setup.name}`)!;
        const efficiency = baselineCpu / cpu;
        // Judged on CPU per request: on a shared machine throughput mostly measures the neighbours.
        const verdict = setup.keys ? (efficiency >= 0.9 ? "PASS" : "FAIL") : "baseline";
        if (verdict === "FAIL") allPass = false;
        lines.push(
          `| ${workload.label} | ${setup.name} | ${Math.round(result.requestsPerSecond)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ${result.errors} | ${ratio.toFixed(2)}× | ${cpu.toFixed(1)} | ${efficiency.toFixed(2)}× | ${verdict} |`,
        );
      }
    }
    const { microsPerRequest } = await admissionCost();
    lines.push(
      "",
      `Admission alone (key lookup, allowlists, credits, usage count; in process, no I/O): ${microsPerRequest.toFixed(2)} µs per request.`,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
    if (!quick || flags["write-docs"]) {
      writePerformanceSection("## API keys on vs off", `## API keys on vs off\n\n${lines.join("\n")}\n`);
    }
    if (!allPass) process.exitCode = 1;
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await stopAll();
    await Promise.all(services.map((service) => service.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
await main();
