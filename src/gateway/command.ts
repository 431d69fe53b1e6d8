// `din gateway --config din.yaml`: a gateway in front of any operators or plain RPC URLs.
import cluster, { type Worker } from "node:cluster";
import { type Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { closeServing, installShutdown, shutdownTimeoutMs, stopHelp, trackSockets } from "../cli/shutdown.js";
import { ConfigError, type GatewayConfig, loadGatewayConfig } from "./config.js";
import { type Gateway, startGateway } from "./server.js";

interface GatewayFlags {
  config: string;
  port?: number;
  host?: string;
  workers?: number;
  logLevel?: GatewayConfig["server"]["logLevel"];
  databaseUrl?: string;
  redisUrl?: string;
}

export function registerGatewayCommand(program: Command): void {
  program
    .command("gateway")
    .description(
      "run a gateway in front of the upstreams listed in a YAML configuration (no chain needed), or of the operators registered on a DIN ledger (ledger section)",
    )
    .requiredOption("-c, --config <file>", "YAML configuration (see docs/gateway.md)")
    .option("--port <port>", "override server.port (0 picks a free one)", parseInteger)
    .option("--host <host>", "override server.host")
    .option("--workers <n>", "processes sharing the port (scales with cores)", parseInteger)
    .option(
      "--database-url <url>",
      "PostgreSQL for keys and usage (turns keys on; default: embedded PGlite)",
      (url) => parseUrl(url, /^postgres(ql)?:\/\//, "a postgres:// URL"),
    )
    .option(
      "--redis-url <url>",
      "Redis shared by gateways for limits and key changes (turns keys on)",
      (url) => parseUrl(url, /^rediss?:\/\//, "a redis:// URL"),
    )
    .option(
      "--log-level <level>",
      "override server.logLevel (fatal, error, warn, info, debug, trace, silent)",
    )
    .addHelpText(
      "after",
      "\nEndpoints: POST /v1/<network>[/<apiKey>], GET /healthz, GET /metrics, /admin/… (keys on; docs/keys.md)\n" +
        "Headers: din-session-id (sticky primary, monotonic head), din-quorum: N (N operators on different clouds must agree; din-quorum-mode: strict for all N asked)\n" +
        `${stopHelp}\n` +
        "Example:\n  din gateway --config din.yaml --port 8545 --workers 2",
    )
    .action(async (flags: GatewayFlags, command: Command) => {
      let config: GatewayConfig;
      try {
        config = loadGatewayConfig(flags.config);
      } catch (error) {
        if (error instanceof ConfigError) command.error(`error: ${error.message}`, { exitCode: 2 });
        throw error;
      }
      if (flags.port !== undefined) config.server.port = flags.port;
      if (flags.host !== undefined) config.server.host = flags.host;
      if (flags.workers !== undefined) config.server.workers = flags.workers;
      if (flags.logLevel !== undefined) config.server.logLevel = flags.logLevel;
      if (flags.databaseUrl !== undefined)
        config.keys = { ...config.keys, enabled: true, databaseUrl: flags.databaseUrl };
      if (flags.redisUrl !== undefined)
        config.keys = { ...config.keys, enabled: true, redisUrl: flags.redisUrl };
      if (config.keys.enabled && config.keys.databaseUrl === undefined && config.server.workers > 1) {
        command.error(
          "error: an embedded database has one owner process: with --workers > 1 give --database-url",
          {
            exitCode: 2,
          },
        );
      }
      if (config.ledger && config.server.workers > 1) {
        command.error(
          "error: a gateway on the ledger reports its usage with one key from one process: use --workers 1",
          { exitCode: 2 },
        );
      }
      if (config.keys.enabled && config.keys.redisUrl === undefined && config.server.workers > 1) {
        process.stderr.write(
          `warning: without --redis-url each of the ${config.server.workers} workers enforces key limits on its own\n`,
        );
      }
      await runGateway(config);
    });
}

/** What a primary sends a worker to stop it (see runPrimary). */
const stopMessage = { din: "stop" } as const;

function isStopMessage(message: unknown): boolean {
  return (
    typeof message === "object" && message !== null && (message as { din?: unknown }).din === stopMessage.din
  );
}

/**
 * Runs a gateway in this process, or in `workers` processes sharing the port. Stops on SIGINT/SIGTERM
 * within DIN_SHUTDOWN_TIMEOUT_MS (10 s): exit 0 when everything closed, 1 when the stop had to be forced
 * (the deadline passed, or a second signal came).
 */
export async function runGateway(config: GatewayConfig): Promise<void> {
  const logger = pino({ level: config.server.logLevel }, pino.destination(2));
  let timeoutMs: number;
  try {
    timeoutMs = shutdownTimeoutMs();
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (config.server.workers > 1 && cluster.isPrimary) {
    runPrimary(config, logger, timeoutMs);
    return;
  }
  let gateway: Gateway;
  try {
    gateway = await startGateway(config, { logger });
  } catch (error) {
    if (error instanceof ConfigError) {
      // A bad ledger section (unreadable key or deployment, unknown network): a message, not a stack.
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    logger.fatal({ err: error }, "gateway could not start");
    process.exitCode = 1;
    return;
  }
  const sockets = trackSockets(gateway.server);
  const shutdown = installShutdown({
    logger,
    timeoutMs,
    steps: () => [
      [{ name: "gateway", close: () => closeServing(() => gateway.close(), gateway.server, sockets) }],
    ],
  });
  if (cluster.isWorker) {
    // The primary asks over the IPC channel, not with a signal: a worker that already got the terminal's
    // SIGINT would take a second signal as "force the stop now".
    process.on("message", (message) => {
      if (isStopMessage(message)) void shutdown.stop("asked by the primary");
    });
    process.send?.({ ready: gateway.url });
  } else
    process.stdout.write(
      `${JSON.stringify({ gateway: gateway.url, networks: [...gateway.networks.keys()] })}\n`,
    );
}

function runPrimary(config: GatewayConfig, logger: pino.Logger, timeoutMs: number): void {
  let ready = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.on("message", (message: { ready?: string }) => {
      if (message.ready && ++ready === config.server.workers) {
        process.stdout.write(
          `${JSON.stringify({ gateway: message.ready, workers: config.server.workers, networks: config.networks.map((n) => n.name) })}\n`,
        );
      }
    });
  };
  for (let i = 0; i < config.server.workers; i++) fork();
  const workers = () => Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
  const shutdown = installShutdown({
    logger,
    timeoutMs,
    // Each worker stops itself within the same deadline; the primary's own deadline is the backstop.
    steps: () => [
      workers().map((worker) => ({ name: `worker ${worker.process.pid}`, close: () => stopWorker(worker) })),
    ],
    force: () => {
      for (const worker of workers()) worker.process.kill("SIGKILL");
    },
  });
  cluster.on("exit", (worker, code) => {
    if (shutdown.stopping) return;
    logger.error({ pid: worker.process.pid, code }, "gateway worker exited; starting another");
    fork();
  });
}

/** Asks a worker to stop; resolves once it exited, rejects when it exited with an error (a forced stop). */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (code === 0) resolve();
      else reject(new Error(`worker ${worker.process.pid} exited with ${signal ?? code}`));
    };
    const child = worker.process;
    if (child.exitCode !== null || child.signalCode !== null) return settle(child.exitCode, child.signalCode);
    child.once("exit", settle);
    // A send that fails means the channel closed: the worker is exiting already, and its exit settles this.
    if (worker.isConnected()) worker.send(stopMessage, undefined, () => undefined);
    else child.kill("SIGTERM");
  });
}

function parseUrl(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new InvalidArgumentError(`expected ${what}`);
  return value;
}

function parseInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError("expected a non-negative integer");
  return number;
}
