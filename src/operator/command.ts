// `din operator serve`: runs an operator node in front of an execution client until SIGINT/SIGTERM.
import { hostname } from "node:os";
import { type Command, InvalidArgumentError, Option } from "commander";
import { pino } from "pino";
import { type OperatorNode, startOperatorNode } from "./proxy.js";

interface ServeFlags {
  upstream: string;
  host: string;
  port: number;
  id?: string;
  cloud?: string;
  region?: string;
  chaos: boolean;
  controlPort: number;
  maxBodyBytes: number;
  logLevel: string;
}

/** Adds `din operator …` to the `din` program. */
export function registerOperatorCommand(program: Command): void {
  const operator = program
    .command("operator")
    .description("run and manage an operator node (the proxy in front of an execution client)");

  operator
    .command("serve")
    .description(
      "serve JSON-RPC from an execution client as an OpenDIN operator; prints one JSON line " +
        '{"id","url","controlUrl"} on stdout when listening, logs JSON to stderr',
    )
    .requiredOption("--upstream <url>", "HTTP JSON-RPC URL of the execution client", parseHttpUrl)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 0)
    .option("--id <id>", "operator id (default: operator-<hostname>)")
    .option("--cloud <name>", "cloud provider label, e.g. aws, gcp, hetzner, bare-metal")
    .option("--region <name>", "region label, e.g. eu-central-1")
    .option("--chaos", "devnet only: expose a chaos control on 127.0.0.1 for fault injection", false)
    .option("--control-port <port>", "port of the chaos control (0 picks a free one)", parsePort, 0)
    .option("--max-body-bytes <bytes>", "largest request body accepted", parsePositiveInt, 1024 * 1024)
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "silent"])
        .default("info"),
    )
    .addHelpText(
      "after",
      "\nChaos control (with --chaos): GET /chaos, GET /stats, and\n" +
        '  POST /chaos {"mode":"down|slow|lag|lie|flap|errors|ok","value":N}\n' +
        "Example:\n  din operator serve --upstream http://127.0.0.1:8545 --port 9001 --cloud aws --region us-east-1",
    )
    .action(async (flags: ServeFlags, command: Command) => {
      await serve(flags, command);
    });
}

async function serve(flags: ServeFlags, command: Command): Promise<void> {
  // Logs go to stderr so stdout carries only the machine-readable line.
  const logger = pino({ level: flags.logLevel }, pino.destination({ dest: 2, sync: true }));
  const labels = {
    ...(flags.cloud !== undefined ? { cloud: flags.cloud } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
  };
  let node: OperatorNode;
  try {
    node = await startOperatorNode({
      id: flags.id ?? `operator-${hostname()}`,
      upstream: flags.upstream,
      host: flags.host,
      port: flags.port,
      chaos: flags.chaos,
      controlPort: flags.controlPort,
      maxBodyBytes: flags.maxBodyBytes,
      labels,
      logger,
    });
  } catch (error) {
    // A taken port or a bad host is a user error: one clear line, no stack trace.
    const reason = error instanceof Error ? error.message : String(error);
    command.error(`error: operator node could not start: ${reason}`, { exitCode: 1 });
  }
  process.stdout.write(`${JSON.stringify({ id: node.id, url: node.url, controlUrl: node.controlUrl })}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(received);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  logger.info({ signal }, "stopping operator node");
  await node.close();
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError("expected a port between 0 and 65535");
  }
  return port;
}

function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError("expected a positive integer");
  return number;
}

function parseHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected an http(s) URL, e.g. http://127.0.0.1:8545");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError("expected an http(s) URL, e.g. http://127.0.0.1:8545");
  }
  return value;
}
