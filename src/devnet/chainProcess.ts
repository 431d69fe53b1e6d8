// One devnet chain in its own process (`din devnet chain …`), and the parent-side helper that spawns it.
// A chain per process keeps each chain's miner and JSON-RPC server off the other chains' event loops.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pino } from "pino";
import type { Address } from "viem";
import { z } from "zod";
import { installShutdown, type Shutdown } from "../cli/shutdown.js";
import { type DevnetChain, startDevnetChain } from "./chain.js";
import { startTraffic, type Traffic } from "./traffic.js";

/** The one JSON line a chain process prints on stdout once it serves. */
export interface ChainProcessInfo {
  name: string;
  chainId: number;
  url: string;
  wsUrl: string;
  /** The Ping contract of the traffic generator; null when started without `--traffic`. */
  pingContract: Address | null;
}

const chainProcessInfoSchema = z.object({
  name: z.string(),
  chainId: z.number().int().positive(),
  url: z.string().url(),
  wsUrl: z.string(),
  pingContract: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .transform((a) => a as Address)
    .nullable(),
});

const chainArgsSchema = z.object({
  name: z.string().min(1, "--name is required"),
  chainId: z.coerce.number().int().positive(),
  blockTimeMs: z.coerce.number().int().positive(),
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  traffic: z.boolean(),
});

export type ChainProcessArgs = z.infer<typeof chainArgsSchema>;

/**
 * Parses the flags of `din devnet chain`. Positionals (such as the "devnet chain" verb itself) are
 * ignored, so the whole argv after the script may be passed.
 */
export function parseChainArgs(argv: readonly string[]): ChainProcessArgs {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      "chain-id": { type: "string" },
      "block-time": { type: "string", default: "1000" },
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      traffic: { type: "boolean", default: false },
    },
  });
  const parsed = chainArgsSchema.safeParse({
    name: values.name ?? "",
    chainId: values["chain-id"],
    blockTimeMs: values["block-time"],
    port: values.port,
    host: values.host,
    traffic: values.traffic,
  });
  if (!parsed.success) {
    const flags: Record<string, string> = { chainId: "--chain-id", blockTimeMs: "--block-time" };
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      return `${flags[key] ?? `--${key}`}: ${issue.message}`;
    });
    throw new Error(`din devnet chain: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/**
 * Entry of a chain child process: starts one chain (and traffic with `--traffic`), prints one
 * ChainProcessInfo JSON line on stdout, logs to stderr. SIGTERM/SIGINT close it and exit 0 (1 when the
 * close did not finish within DIN_SHUTDOWN_TIMEOUT_MS, or on a second signal); it also shuts down if its
 * parent dies, so a killed `din up` leaves no chain behind. Bad flags or a failed start exit 1. Never
 * resolves on success: the process ends through one of those exits.
 */
export async function runChainProcess(argv: readonly string[]): Promise<void> {
  const logger = pino({ name: "din-devnet-chain" }, pino.destination({ dest: 2, sync: true }));
  let args: ChainProcessArgs;
  try {
    args = parseChainArgs(argv);
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  const log = logger.child({ chain: args.name, chainId: args.chainId });

  let chain: DevnetChain | undefined;
  let traffic: Traffic | undefined;
  let shutdown: Shutdown;
  try {
    // Registered before the chain starts, so a signal during startup still closes what was opened. Bounded:
    // an orphaned chain (its parent gone) has no one left to SIGKILL it.
    shutdown = installShutdown({
      logger: log,
      steps: () => [
        [{ name: "traffic", close: () => traffic?.stop() }],
        [{ name: "chain", close: () => chain?.close() }],
      ],
    });
  } catch (error) {
    log.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void shutdown.stop("parent exited");
  }, 1000).unref();

  try {
    chain = await startDevnetChain({
      name: args.name,
      chainId: args.chainId,
      blockTimeMs: args.blockTimeMs,
      host: args.host,
      port: args.port,
    });
    if (args.traffic) traffic = await startTraffic(chain, { logger });
  } catch (error) {
    log.error({ err: error }, "chain failed to start");
    await chain?.close().catch(() => undefined);
    process.exit(1);
  }
  if (shutdown.stopping) return;
  const info: ChainProcessInfo = {
    name: chain.name,
    chainId: chain.chainId,
    url: chain.url,
    wsUrl: chain.wsUrl,
    pingContract: traffic?.pingContract ?? null,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  log.info({ url: info.url, wsUrl: info.wsUrl, pingContract: info.pingContract }, "chain ready");
}

export interface SpawnChainProcessOptions {
  name: string;
  chainId: number;
  /** @default 1000 */
  blockTimeMs?: number;
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Start the traffic generator in the child. @default false */
  traffic?: boolean;
  /** Script the child runs with `process.execPath`. @default the package's bin/din.mjs */
  binPath?: string;
  /** Node flags placed before the script, e.g. ["--import", "tsx"] for a .ts entry. @default [] */
  nodeArgs?: string[];
  /** How long to wait for the ready line before killing the child. @default 60000 */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. @default 10000 */
  stopTimeoutMs?: number;
}

export interface ChainProcessHandle {
  info: ChainProcessInfo;
  pid: number;
  /** Settles when the child exits, for whatever reason (a parent can watch for unexpected deaths). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves once the child has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now, for a stop that is being forced; nothing if the child already exited. */
  kill(): void;
}

const DEFAULT_BIN_PATH = fileURLToPath(new URL("../../bin/din.mjs", import.meta.url));
const STDERR_TAIL_CHARS = 4000;

/** Spawns `din devnet chain …` and resolves with its ready line. */
export function spawnChainProcess(options: SpawnChainProcessOptions): Promise<ChainProcessHandle> {
  const args = [
    ...(options.nodeArgs ?? []),
    options.binPath ?? DEFAULT_BIN_PATH,
    "devnet",
    "chain",
    "--name",
    options.name,
    "--chain-id",
    String(options.chainId),
    "--block-time",
    String(options.blockTimeMs ?? 1000),
    "--port",
    String(options.port ?? 0),
    "--host",
    options.host ?? "127.0.0.1",
    ...(options.traffic ? ["--traffic"] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });

  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  const describe = (what: string): string =>
    `chain process ${options.name} (chainId ${options.chainId}) ${what}` +
    (stderrTail.trim() === "" ? "" : `; stderr tail:\n${stderrTail.trimEnd()}`);

  return new Promise<ChainProcessHandle>((resolve, reject) => {
    let settled = false;
    let stdoutBuffer = "";
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      fail(new Error(describe(`printed no ready line within ${timeoutMs} ms`)));
      child.kill("SIGKILL");
    }, timeoutMs);

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };

    child.once("error", (error) => fail(new Error(describe(`could not start: ${error.message}`))));
    void exited.then(({ code, signal }) =>
      fail(new Error(describe(`exited before it was ready (code ${code}, signal ${signal})`))),
    );

    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      if (settled) return;
      stdoutBuffer += chunk;
      const newline = stdoutBuffer.indexOf("\n");
      if (newline < 0) return;
      const line = stdoutBuffer.slice(0, newline);
      let info: ChainProcessInfo;
      try {
        info = chainProcessInfoSchema.parse(JSON.parse(line));
      } catch (error) {
        fail(new Error(describe(`printed an invalid ready line ${JSON.stringify(line)}: ${String(error)}`)));
        child.kill("SIGKILL");
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve({
        info,
        pid: child.pid!,
        exited,
        stop: stopper(child, exited, options.stopTimeoutMs ?? 10_000),
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
      });
    });
  });
}

function stopper(child: ChildProcess, exited: Promise<unknown>, stopTimeoutMs: number): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
}
