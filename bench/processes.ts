/**
 * The processes a gateway benchmark runs against, each a child stopped at the end: nginx as the stub
 * upstream and as the `proxy_pass` baseline (own configuration in a temporary directory, never /etc/nginx),
 * and the gateway itself through the `din gateway` command.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

/** Head the stub reports: latest 0x64, safe 0x60, finalized 0x50; reads at or below 0x50 are final. */
export const stubHead = { latest: 0x64, safe: 0x60, finalized: 0x50 } as const;

/** Chain id of the benchmark network, answered by the stub to the gateway's chain check. */
export const benchChainId = 1337;

/**
 * The stub's path for a large answer: every call to it is answered with a block of 150 transactions
 * (about 66 KB of JSON), as `eth_getBlockByNumber(…, true)` is by a real node.
 */
export const largeAnswerPath = "/large";

/** The large answer's JSON-RPC reply, written where the stub serves it from. */
function writeLargeAnswer(dir: string): void {
  const hex = (value: number, width = 0) => `0x${value.toString(16).padStart(width, "0")}`;
  const transactions = Array.from({ length: 150 }, (_, index) => ({
    hash: hex(index + 1, 64),
    from: `0x${"ab".repeat(20)}`,
    to: `0x${"cd".repeat(20)}`,
    value: hex((index + 1) * 1_000_000_007),
    gas: "0x5208",
    nonce: hex(index),
    input: `0x${"00".repeat(100)}`,
  }));
  const result = { number: hex(stubHead.latest), hash: hex(stubHead.latest, 64), transactions };
  writeFileSync(join(dir, "large.json"), JSON.stringify({ jsonrpc: "2.0", id: 1, result }), { mode: 0o644 });
  // nginx started as root serves files from unprivileged workers: they must be able to reach the file.
  chmodSync(dir, 0o711);
}

/** A child process this benchmark started; `stop` ends it and waits for its exit. */
export interface Child {
  name: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<Child>();

/** Stops every child still running (called at the end and on SIGINT/SIGTERM). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
}

/** Tells the missing tools and how to install them; empty when everything is present. */
export function missingTools(): string[] {
  const missing: string[] = [];
  for (const [tool, args] of [
    ["nginx", ["-v"]],
    ["wrk", ["--version"]],
  ] as const) {
    const probe = spawnSync(tool, args, { stdio: "ignore" });
    if (probe.error) missing.push(tool);
  }
  return missing;
}

/** A free TCP port on 127.0.0.1, chosen by the OS (closed again before the caller binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function track(name: string, child: ChildProcess): Child {
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
  const entry: Child = {
    name,
    process: child,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      children.delete(entry);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(entry);
  return entry;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing answered on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function nginxCommon(dir: string, name: string): string {
  return `daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 4096; }
`;
}

function httpCommon(dir: string): string {
  const temp = join(dir, "nginx-temp");
  mkdirSync(temp, { recursive: true });
  return `  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
`;
}

async function startNginx(dir: string, name: string, config: string, port: number): Promise<Child> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config);
  const child = spawn("nginx", ["-c", file, "-p", dir, "-e", join(dir, `${name}.error.log`)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const entry = track(name, child);
  try {
    await Promise.race([
      waitForPort(port),
      new Promise((_, reject) =>
        child.once("exit", (code) => reject(new Error(`nginx ${name} exited (${code}): ${stderr.trim()}`))),
      ),
    ]);
  } catch (error) {
    await entry.stop();
    throw error;
  }
  return entry;
}

/**
 * The stub upstream, served by nginx from memory. A single call is answered `"0x1"`; the gateway's head
 * poll (a batch of three eth_getBlockByNumber, the only body longer than 199 bytes that reaches a stub)
 * is answered with blocks, so the gateway tracks a head and knows which blocks are final.
 */
export async function startStub(
  dir: string,
  name: string,
  options: { workers: number | "auto"; masterProcess: boolean },
): Promise<{ child: Child; url: string; port: number }> {
  const port = await freePort();
  const block = (id: number, number: number) =>
    `{"jsonrpc":"2.0","id":${id},"result":{"number":"0x${number.toString(16)}","hash":"0x${number.toString(16).padStart(64, "0")}"}}`;
  // The chain check's eth_chainId (id 4) is answered too: the gateway routes only to upstreams that said
  // which chain they serve (the bench network's chain id, 1337).
  const batch = `[${block(1, stubHead.finalized)},${block(2, stubHead.safe)},${block(3, stubHead.latest)},{"jsonrpc":"2.0","id":4,"result":"0x${benchChainId.toString(16)}"}]`;
  writeLargeAnswer(dir);
  // nginx serves static files to GET only: a POST to the large path is refused (405) and that refusal
  // turned into the file, through an internal redirect (which is a GET).
  const config = `${nginxCommon(dir, name)}worker_processes ${options.workers};
master_process ${options.masterProcess ? "on" : "off"};
http {
${httpCommon(dir)}  default_type application/json;
  map $http_content_length $head_poll { default 0; "~^([2-9][0-9][0-9]|[0-9]{4,})$" 1; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      if ($head_poll) { return 200 '${batch}'; }
      return 200 '{"jsonrpc":"2.0","id":1,"result":"0x1"}';
    }
    location = ${largeAnswerPath} {
      if ($head_poll) { return 200 '${batch}'; }
      error_page 405 =200 /large.json;
      return 405;
    }
    location = /large.json { internal; root ${dir}; }
  }
}
`;
  const child = await startNginx(dir, name, config, port);
  return { child, url: `http://127.0.0.1:${port}`, port };
}

/** nginx `proxy_pass` in front of the stub: one worker, keep-alive connections to the upstream. */
export async function startNginxProxy(dir: string, stubPort: number): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const config = `${nginxCommon(dir, "proxy")}worker_processes 1;
http {
${httpCommon(dir)}  upstream stub {
    server 127.0.0.1:${stubPort};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  const child = await startNginx(dir, "proxy", config, port);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** How a Node process of the benchmark is started beyond its script: V8 or loader flags, environment. */
export interface ProcessOptions {
  nodeFlags?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

function spawnNode(args: string[], cwd: string, options: ProcessOptions): ChildProcess {
  return spawn(process.execPath, args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
}

export interface GatewayProcess {
  child: Child;
  /** The JSON-RPC endpoint of the benchmark network. */
  url: string;
  pid: number;
}

/**
 * Runs `din gateway` in its own process (so the load generator, nginx and the gateway never share an
 * event loop). The configuration is written as JSON, which is valid YAML.
 */
export async function startGatewayProcess(
  dir: string,
  name: string,
  options: {
    upstreams: string[];
    workers?: number;
    attemptTimeoutMs?: number;
    headPollMs?: number;
    /** Also serve the network `bench-large`, whose upstreams answer every call with the large answer. */
    largeNetwork?: boolean;
  } & ProcessOptions,
): Promise<GatewayProcess> {
  const upstreamsAt = (path: string) =>
    options.upstreams.map((url, index) => ({
      id: `stub-${index + 1}`,
      url: `${url}${path}`,
      cloud: `cloud-${index + 1}`,
      region: `region-${index + 1}`,
    }));
  const config = {
    server: { host: "127.0.0.1", logLevel: "warn" },
    routing: options.attemptTimeoutMs ? { attemptTimeoutMs: options.attemptTimeoutMs } : {},
    health: { headPollMs: options.headPollMs ?? 60_000 },
    networks: [
      { name: "bench", chainId: benchChainId, upstreams: upstreamsAt("") },
      ...(options.largeNetwork
        ? [{ name: "bench-large", chainId: benchChainId, upstreams: upstreamsAt(largeAnswerPath) }]
        : []),
    ],
  };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const root = resolve(import.meta.dirname, "..");
  const args = [
    ...(options.nodeFlags ?? []),
    join(root, "bin/din.mjs"),
    "gateway",
    "--config",
    file,
    "--port",
    "0",
    ...(options.workers ? ["--workers", String(options.workers)] : []),
  ];
  const child = spawnNode(args, root, options);
  const log = createWriteStream(join(dir, `${name}.log`));
  child.stderr?.pipe(log);
  const entry = track(name, child);
  const lines = createInterface({ input: child.stdout! });
  // V8's tracing flags (--trace-gc) print to stdout too: their lines go to <name>.trace.log.
  const trace = createWriteStream(join(dir, `${name}.trace.log`));
  const ready = await new Promise<{ gateway: string }>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
    let started = false;
    lines.on("line", (line) => {
      if (started || !line.startsWith("{")) {
        trace.write(`${line}\n`);
        return;
      }
      started = true;
      clearTimeout(timer);
      try {
        resolveReady(JSON.parse(line) as { gateway: string });
      } catch {
        reject(new Error(`${name} printed an unexpected line: ${line}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      let stderr = "";
      try {
        stderr = readFileSync(join(dir, `${name}.log`), "utf8");
      } catch {}
      reject(new Error(`${name} exited (${code}) before it was ready\n${stderr}`));
    });
  }).catch(async (error: unknown) => {
    await entry.stop();
    throw error;
  });
  return { child: entry, url: `${ready.gateway}/v1/bench`, pid: child.pid! };
}

/**
 * The minimal Node proxy (bench/minimalProxy.ts) in its own process, in front of `upstreamUrl`: the
 * runtime's floor for a proxy, measured beside the gateway.
 */
export async function startMinimalProxy(
  dir: string,
  upstreamUrl: string,
  options: ProcessOptions = {},
): Promise<{ child: Child; url: string; pid: number }> {
  const root = resolve(import.meta.dirname, "..");
  const args = [
    ...(options.nodeFlags ?? []),
    join(root, "bin/run-ts.mjs"),
    join(root, "bench/minimalProxy.ts"),
    upstreamUrl,
  ];
  const child = spawnNode(args, root, options);
  child.stderr?.pipe(createWriteStream(join(dir, "minimal-proxy.log")));
  const entry = track("minimal-proxy", child);
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string }>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error("the minimal proxy did not start within 30 s")), 30_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolveReady(JSON.parse(line) as { url: string });
      } catch {
        reject(new Error(`the minimal proxy printed an unexpected line: ${line}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the minimal proxy exited (${code}) before it was ready`));
    });
  }).catch(async (error: unknown) => {
    await entry.stop();
    throw error;
  });
  return { child: entry, url: ready.url, pid: child.pid! };
}

/** A process and all its descendants (nginx's workers, the gateway's cluster workers), from /proc. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), pid]);
    } catch {}
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const ticksPerSecond = 100;

/** CPU time (user + system, microseconds) the processes have used so far; ended ones count as 0. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return (ticks * 1_000_000) / ticksPerSecond;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
