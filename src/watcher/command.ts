// `din watcher run`: a watcher until SIGINT/SIGTERM. It finds the ledger from --ledger-rpc and
// --deployment, or from a local network's data dir, signs with its registered ledger key, and keeps its
// state in a JSON file so a restart neither double-posts nor skips an epoch.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { pino } from "pino";
import { type RiskAssumptionFlags, riskAssumptions, withRiskAssumptionOptions } from "../cli/risk.js";
import { dinRegistryAbi } from "../ledger/artifacts/index.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { connectLedger, readDeployment } from "../ledger/din/directory.js";
import { loadSigningKey } from "../ledger/din/signingKey.js";
import { startWatcher, type Watcher } from "./watcher.js";

type RunFlags = {
  ledgerRpc?: string;
  deployment?: string;
  dataDir?: string;
  keyFile?: string;
  keyEnv?: string;
  stateFile?: string;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  sampleEvery: number;
  logLevel: string;
  metricsHost: string;
  metricsPort?: number;
} & RiskAssumptionFlags;

const defaultDataDir = ".din";

/** Adds `din watcher …` to the `din` program. */
export function registerWatcherCommand(program: Command): void {
  const watcher = program
    .command("watcher")
    .description(
      "measure every operator, post epoch SLA reports, prove fraud (a registered watcher's duties)",
    );

  withRiskAssumptionOptions(watcher.command("run"))
    .description(
      'run a watcher until SIGINT/SIGTERM; prints one JSON line {"address","stateFile","metricsUrl"} on stdout when ' +
        "running, logs JSON to stderr",
    )
    .option("--ledger-rpc <url>", "HTTP JSON-RPC URL of the ledger")
    .option("--deployment <file>", "the DIN deployment JSON (addresses, networks)")
    .option(
      "--data-dir <dir>",
      "a local network's data dir: ledger RPC from network.json, deployment from ledger/deployment.json",
    )
    .option("--key-file <file>", "file holding the watcher's 0x ledger key (mode 600)")
    .option(
      "--key-env <name>",
      "environment variable holding the watcher's ledger key (default DIN_PRIVATE_KEY)",
    )
    .option(
      "--state-file <file>",
      "where the watcher keeps its state (default <data-dir>/watchers/<address>.json)",
    )
    .option("--probe-interval-ms <ms>", "time between probe rounds", parsePositiveInt, 1000)
    .option("--probe-timeout-ms <ms>", "a probe slower than this fails", parsePositiveInt, 2000)
    .option(
      "--sample-every <rounds>",
      "also probe a sampled block height every this many rounds",
      parsePositiveInt,
      3,
    )
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics (GET /metrics: measurements, reports, din_risk_*) on this port (0 picks one)",
      parsePort,
    )
    .option("--metrics-host <host>", "interface of the metrics listener", "127.0.0.1")
    .addOption(
      new Option("--log-level <level>", "log level of the JSON logs on stderr")
        .choices(["fatal", "error", "warn", "info", "debug", "silent"])
        .default("info"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  din watcher run --data-dir .din --key-file .din/keys/watcher-1.key\n" +
        "  DIN_PRIVATE_KEY=0x… din watcher run --ledger-rpc https://ledger.example --deployment deployment.json",
    )
    .action(async (flags: RunFlags) => {
      const logger = pino({ level: flags.logLevel }, pino.destination(2));
      let running: Watcher;
      let stateFile: string;
      try {
        const { rpc, deployment, dataDir } = resolveLedger(flags);
        const account = loadSigningKey({ keyFile: flags.keyFile, keyEnv: flags.keyEnv });
        // A watcher that is not admitted and staked would be refused by every operator and by the ledger:
        // say so and stop, rather than retry forever.
        const ledger = connectLedger(rpc, deployment.chainId).public;
        const admitted = await ledger.readContract({
          address: deployment.addresses.registry,
          abi: dinRegistryAbi,
          functionName: "isActiveWatcher",
          args: [account.address],
        });
        if (!admitted) {
          throw new Error(
            `${account.address} is not an active watcher: governance must admit it (DinRegistry.setWatcher) and it must allocate stake to and register in the watcher set before it can probe or report`,
          );
        }
        stateFile = resolve(flags.stateFile ?? join(dataDir, "watchers", `${account.address}.json`));
        running = await startWatcher({
          account,
          ledgerRpc: rpc,
          deployment,
          stateFile,
          probeIntervalMs: flags.probeIntervalMs,
          probeTimeoutMs: flags.probeTimeoutMs,
          sampleEvery: flags.sampleEvery,
          logger,
          ...(flags.metricsPort !== undefined
            ? {
                metrics: {
                  host: flags.metricsHost,
                  port: flags.metricsPort,
                  security: riskAssumptions(flags),
                },
              }
            : {}),
        });
      } catch (error) {
        process.stderr.write(`din watcher: ${(error as Error).message}\n`);
        process.exit(1);
      }
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        try {
          await running.close();
          process.exit(0);
        } catch (error) {
          process.stderr.write(`din watcher: stopping failed: ${(error as Error).message}\n`);
          process.exit(1);
        }
      };
      process.on("SIGINT", () => void stop());
      process.on("SIGTERM", () => void stop());
      const metricsUrl = running.metricsUrl ? `${running.metricsUrl}/metrics` : undefined;
      process.stdout.write(`${JSON.stringify({ address: running.address, stateFile, metricsUrl })}\n`);
    });
}

/** The ledger RPC and deployment from the flags, or from a local network's data dir. */
function resolveLedger(flags: RunFlags): { rpc: string; deployment: DinDeployment; dataDir: string } {
  let rpc = flags.ledgerRpc;
  let deploymentFile = flags.deployment;
  const dataDir = resolve(flags.dataDir ?? defaultDataDir);
  if (flags.dataDir !== undefined || (rpc === undefined && deploymentFile === undefined)) {
    const stateFile = join(dataDir, "network.json");
    let state: { ledger?: { rpc?: unknown; deployment?: unknown } };
    try {
      state = JSON.parse(readFileSync(stateFile, "utf8")) as typeof state;
    } catch {
      throw new Error(
        `no local network state in ${stateFile}: start one with din up, or pass --ledger-rpc and --deployment`,
      );
    }
    if (rpc === undefined) {
      if (typeof state.ledger?.rpc !== "string") throw new Error(`${stateFile} names no ledger.rpc`);
      rpc = state.ledger.rpc;
    }
    deploymentFile ??=
      typeof state.ledger?.deployment === "string"
        ? state.ledger.deployment
        : join(dataDir, "ledger", "deployment.json");
  }
  if (rpc === undefined) throw new Error("--deployment needs --ledger-rpc <url> (or --data-dir)");
  if (deploymentFile === undefined) throw new Error("--ledger-rpc needs --deployment <file> (or --data-dir)");
  try {
    new URL(rpc);
  } catch {
    throw new Error(`--ledger-rpc ${rpc} is not a URL`);
  }
  return { rpc, deployment: readDeployment(deploymentFile), dataDir };
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError("expected a port, 0 to 65535");
  return n;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}
