// The `din` command's program: composes the roles (gateway, operator, devnet) behind one CLI. Defining it
// has no side effects; src/cli/main.ts runs it.
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { runChainProcess } from "../devnet/chainProcess.js";
import { applyChaos, chaosDurationMs, isChaosMode } from "../devnet/chaos.js";
import { type DemoTrafficMode, demoTrafficModes } from "../devnet/demoTraffic.js";
import { parseDuration, parseRate, runDrill } from "../devnet/drill.js";
import { formatDrill, writeDrillReport } from "../devnet/drillReport.js";
import { defaultDataDir, NoNetworkError } from "../devnet/state.js";
import { fetchDeploymentStatus, fetchStatus } from "../devnet/status.js";
import { formatStatus } from "../devnet/statusText.js";
import { devnetCallGasCap, readyLine, summary, up } from "../devnet/up.js";
import { registerGatewayCommand } from "../gateway/command.js";
import { chaosModes } from "../operator/chaos.js";
import { registerOperatorCommand } from "../operator/command.js";
import { registerWatcherCommand } from "../watcher/command.js";
import { registerDashboardCommand } from "./dashboard.js";
import { registerDeployCommand } from "./deploy.js";
import { registerFaucetCommand } from "./faucet.js";
import { registerGovCommands } from "./gov.js";
import { registerGuardianCommands } from "./guardian.js";
import { registerKeysCommands } from "./keys.js";
import { registerOperatorLedgerCommands } from "./operatorLedger.js";
import { registerOperatorMetadataCommand } from "./operatorMetadata.js";
import { registerRiskCommand } from "./risk.js";
import { installShutdown, stopHelp } from "./shutdown.js";
import { registerStakeCommands } from "./stake.js";

export const program = new Command()
  .name("din")
  .description("OpenDIN: an RPC network that fails over across independent, staked operators")
  .version("0.1.0")
  .showHelpAfterError("(see --help for the command's options)");

program
  .command("up")
  .description(
    "run a whole local network: two devnets, the DIN contracts on the ledger, five staked operators per network (ten in all) on diverse clouds, stakers, three watchers, the gateway",
  )
  .addHelpText("after", `\n${stopHelp}`)
  .option("--json", "print exactly one JSON line on stdout when ready (logs go to stderr)", false)
  .option("--port <port>", "gateway port (0 picks a free one)", parseInteger, 8545)
  .option("--host <host>", "gateway host", "127.0.0.1")
  .option("--data-dir <dir>", "where the network keeps its state", defaultDataDir)
  .option("--block-time <ms>", "devnet block time", parseInteger, 1000)
  .option(
    "--call-gas-cap <gas>",
    "most gas an eth_call or eth_estimateGas may burn on the devnets (raise it to estimate large deployments)",
    parseInteger,
    devnetCallGasCap,
  )
  .addOption(
    new Option(
      "--traffic <mode>",
      "demo reads through the gateway from several sessions, so every healthy operator serves and earns (off: none, e.g. to measure your own traffic alone)",
    )
      .choices(demoTrafficModes)
      .default("on"),
  )
  .addOption(
    new Option("--log-level <level>", "log level of the JSON logs on stderr")
      .choices(["fatal", "error", "warn", "info", "debug", "silent"])
      .default("warn"),
  )
  .action(
    async (flags: {
      json: boolean;
      port: number;
      host: string;
      dataDir: string;
      blockTime: number;
      callGasCap: number;
      traffic: DemoTrafficMode;
      logLevel: string;
    }) => {
      const logger = pino({ level: flags.logLevel }, pino.destination(2));
      let network: Awaited<ReturnType<typeof up>>;
      try {
        // The ledger's contracts are compiled when their sources changed since the last build.
        const { buildContracts } = await import("../ledger/build.js");
        buildContracts({ quiet: true });
        network = await up({
          dataDir: flags.dataDir,
          port: flags.port,
          host: flags.host,
          blockTimeMs: flags.blockTime,
          callGasCap: flags.callGasCap,
          traffic: flags.traffic,
          logger,
        });
      } catch (error) {
        fail(`could not start the local network: ${(error as Error).message}`);
      }
      process.stdout.write(
        `${flags.json ? readyLine(network.state, flags.dataDir) : summary(network.state, flags.dataDir)}\n`,
      );
      const shutdown = installShutdown({
        logger,
        steps: () => {
          if (!flags.json) process.stderr.write("stopping the local network…\n");
          return network.closeSteps();
        },
        force: () => network.kill(),
      });
      network.failed.then((error) => {
        if (shutdown.stopping) return; // chains exit because we asked them to
        logger.error({ error: error.message }, "a devnet chain died; stopping");
        void shutdown.stop("a devnet chain exited", 1);
      });
      // npm and npx may exit on SIGTERM without passing it on: a network whose launcher is gone stops too.
      const launcher = process.ppid;
      setInterval(() => {
        if (process.ppid !== launcher) void shutdown.stop("launcher exited");
      }, 1_000).unref();
    },
  );

registerGatewayCommand(program);
registerOperatorCommand(program);
registerOperatorLedgerCommands(program);
registerOperatorMetadataCommand(program);
registerStakeCommands(program);
registerGovCommands(program);
registerGuardianCommands(program);
registerDeployCommand(program);
registerKeysCommands(program);
registerWatcherCommand(program);
registerFaucetCommand(program);
registerRiskCommand(program);
registerDashboardCommand(program);

program
  .command("chaos")
  .description("inject a fault into operators of a running `din up` (by operator, cloud or region)")
  .option("--operator <id>", "one operator, by id (see din status)")
  .option("--cloud <name>", "every operator on this cloud (aws, gcp, hetzner, bare-metal)")
  .option("--region <name>", "every operator in this region")
  .option("--network <name>", "only operators of this network")
  .requiredOption("--mode <mode>", `one of: ${chaosModes.join(", ")}`)
  .option("--value <n>", "slow: +ms; lag: blocks; flap: ms per phase; errors: percent", Number)
  .option(
    "--for <duration>",
    "end the fault by itself after 30s, 2m, 1-epoch, 3-epochs… (default: until changed)",
  )
  .option("--data-dir <dir>", "data dir of the running network", defaultDataDir)
  .option("--json", "print the changes as one JSON document", false)
  .addHelpText(
    "after",
    "\nExamples:\n  din chaos --cloud aws --mode down\n  din chaos --operator ethereum-gcp-us-central1 --mode lag --value 20\n  din chaos --cloud aws --mode down --for 1-epoch   # back by itself after one epoch\n  din chaos --cloud aws --mode ok",
  )
  .action(
    async (flags: {
      operator?: string;
      cloud?: string;
      region?: string;
      network?: string;
      mode: string;
      value?: number;
      for?: string;
      dataDir: string;
      json: boolean;
    }) => {
      if (!flags.operator && !flags.cloud && !flags.region)
        fail("name a target: --operator, --cloud or --region");
      if (!isChaosMode(flags.mode))
        fail(`unknown mode "${flags.mode}"; use one of: ${chaosModes.join(", ")}`);
      if (flags.value !== undefined && !Number.isFinite(flags.value)) fail("--value must be a number");
      if (flags.for !== undefined && flags.mode === "ok")
        fail("--for ends a fault: it does not go with --mode ok");
      const forMs =
        flags.for === undefined
          ? undefined
          : await chaosDurationMs(flags.dataDir, flags.for).catch((error: Error) => fail(error.message));
      const changes = await applyChaos(
        flags.dataDir,
        { operator: flags.operator, cloud: flags.cloud, region: flags.region, network: flags.network },
        {
          mode: flags.mode,
          ...(flags.value !== undefined ? { value: flags.value } : {}),
          ...(forMs !== undefined ? { forMs } : {}),
        },
      ).catch((error: Error) => fail(error.message));
      if (flags.json) process.stdout.write(`${JSON.stringify({ changes })}\n`);
      else {
        for (const change of changes) {
          const what = change.error
            ? `failed: ${change.error}`
            : `${change.state?.mode}${change.state?.value !== undefined ? ` ${change.state.value}` : ""}${change.state?.forMs !== undefined ? ` for ${change.state.forMs / 1000} s` : ""}`;
          process.stdout.write(
            `${change.operator.padEnd(32)} ${change.cloud.padEnd(10)} ${change.region.padEnd(13)} ${what}\n`,
          );
        }
      }
      if (changes.some((change) => change.error)) process.exitCode = 1;
    },
  );

program
  .command("drill")
  .description(
    "the founding scenario on a running `din up`: the same load to one operator alone and to the gateway while a cloud goes down, then the ledger's verdicts; writes a report",
  )
  .requiredOption(
    "--cloud <name>",
    "the cloud to take down for the middle half of the run (aws, gcp, hetzner, bare-metal)",
  )
  .option(
    "--duration <time>",
    "how long the load runs: warm-up ¼, cloud down ½, recovery ¼ (e.g. 60s, 2m)",
    "60s",
  )
  .option("--rate <n/s>", "open-loop reads per second, sent to each client", "200/s")
  .option("--verdict-wait <time>", "longest wait for the ledger to finalize the outage's epochs", "90s")
  .option("--data-dir <dir>", "data dir of the running network", defaultDataDir)
  .option("--json", "print the report as one JSON document", false)
  .addHelpText(
    "after",
    "\nThe report goes to <data-dir>/drills/<timestamp>.md (tables, inline SVG charts) and .json.\n\nExample:\n  din drill --cloud aws --duration 60s --rate 200/s",
  )
  .action(
    async (flags: {
      cloud: string;
      duration: string;
      rate: string;
      verdictWait: string;
      dataDir: string;
      json: boolean;
    }) => {
      let durationMs = 0;
      let ratePerSecond = 0;
      let verdictWaitMs = 0;
      try {
        durationMs = parseDuration(flags.duration);
        ratePerSecond = parseRate(flags.rate);
        verdictWaitMs = parseDuration(flags.verdictWait);
      } catch (error) {
        fail((error as Error).message);
      }
      if (durationMs < 4_000) fail("--duration must be at least 4s");
      const report = await runDrill({
        dataDir: flags.dataDir,
        cloud: flags.cloud,
        durationMs,
        ratePerSecond,
        verdictWaitMs,
        log: (line) => process.stderr.write(`${line}\n`),
      }).catch((error: Error) =>
        fail(error instanceof NoNetworkError ? error.message : `the drill failed: ${error.message}`),
      );
      writeDrillReport(flags.dataDir, report);
      process.stdout.write(`${flags.json ? JSON.stringify(report) : formatDrill(report)}\n`);
    },
  );

program
  .command("status")
  .description(
    "each operator of a running `din up`: health as the gateway sees it; stake, last epoch's SLA, rewards, slashes and jail as the ledger records them",
  )
  .option("--data-dir <dir>", "data dir of the running network", defaultDataDir)
  .option("--rpc <url>", "any deployment: the ledger's JSON-RPC URL (with --deployment)")
  .option("--deployment <file>", "any deployment: its DIN deployment JSON (with --rpc)")
  .option("--gateway <url>", "with --rpc: a gateway whose /healthz gives the operators' health")
  .option("--epochs", "add the last epochs' history (reports, medians, multipliers, fees paid)", false)
  .option("--last <n>", "with --epochs: how many epochs per network", parseInteger, 10)
  .option("--addresses", "print each operator's ledger address beside its name (--json always has it)", false)
  .option("--json", "print one JSON document", false)
  .action(
    async (flags: {
      dataDir: string;
      rpc?: string;
      deployment?: string;
      gateway?: string;
      json: boolean;
      epochs: boolean;
      last: number;
      addresses: boolean;
    }) => {
      if ((flags.rpc === undefined) !== (flags.deployment === undefined))
        fail("--rpc and --deployment go together: the ledger's URL and the deployment file on it");
      const reading =
        flags.rpc !== undefined && flags.deployment !== undefined
          ? fetchDeploymentStatus({
              rpc: flags.rpc,
              deploymentFile: flags.deployment,
              ...(flags.gateway !== undefined ? { gateway: flags.gateway } : {}),
              epochs: flags.epochs,
              epochLimit: flags.last,
            })
          : fetchStatus(flags.dataDir, { epochs: flags.epochs, epochLimit: flags.last });
      const report = await reading.catch((error: Error) =>
        fail(
          error instanceof NoNetworkError
            ? error.message
            : `cannot read the network's status: ${error.message}`,
        ),
      );
      process.stdout.write(
        `${flags.json ? JSON.stringify(report) : formatStatus(report, { addresses: flags.addresses })}\n`,
      );
    },
  );

const devnet = program.command("devnet").description("pieces of the local network, run on their own");
devnet
  .command("chain")
  .description("run one Hardhat devnet chain; prints one JSON line with its URLs when ready")
  .option("--name <name>", "network name", "ethereum")
  .option("--chain-id <id>", "chain id", "31337")
  .option("--block-time <ms>", "interval mining period", "1000")
  .option("--port <port>", "port (0 picks a free one)", "0")
  .option("--host <host>", "host", "127.0.0.1")
  .option("--traffic", "generate transactions and logs every block", false)
  .action(async () => {
    await runChainProcess(process.argv.slice(2));
  });

function parseInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError("expected a non-negative integer");
  return number;
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
