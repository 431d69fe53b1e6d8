// `din operator serve`: runs an operator node in front of an execution client until SIGINT/SIGTERM. With a
// ledger (an RPC URL and the DIN deployment, or a local network's data dir) it signs relays with its
// registered key and serves only the gateways and watchers the registry admits.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Logger } from "pino";
import { type Address, getAddress, isAddress, type LocalAccount, zeroAddress } from "viem";
import { LOG_FORMATS, type LogFormat, stderrLogger } from "../cli/logs.js";
import { installShutdown, shutdownTimeoutMs, stopHelp } from "../cli/shutdown.js";
import { defaultListenerLimits, type TlsFiles } from "../http/listener.js";
import { dinRegistryAbi } from "../ledger/artifacts/index.js";
import type { DinDeployment, DinNetwork } from "../ledger/din/deploy.js";
import { connectLedger, findNetwork, readDeployment } from "../ledger/din/directory.js";
import { loadSigningKey } from "../ledger/din/signingKey.js";
import { type OperatorAuthOptions, registryRoleReader } from "./auth.js";
import { defaultCallLimits } from "./callLimits.js";
import { loadOrCreateControlToken } from "./controlToken.js";
import type { LedgerView } from "./nodeHealth.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";
import type { RelaySignerOptions } from "./relaySigner.js";
import { readTlsFiles } from "./tls.js";

interface ServeFlags {
  upstream: string;
  host: string;
  port: number;
  id?: string;
  cloud?: string;
  region?: string;
  chaos: boolean;
  controlPort: number;
  controlTokenFile?: string;
  maxBodyBytes: number;
  gasCap: number;
  maxLogRange: number;
  upstreamTimeoutMs: number;
  headersTimeoutMs: number;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  logFormat: LogFormat;
  logJson?: boolean;
  signerKeyFile?: string;
  signerKeyEnv?: string;
  ledgerRpc?: string;
  deployment?: string;
  dataDir?: string;
  network?: string;
  operatorAddress?: Address;
  /** False with --no-auth. */
  auth: boolean;
  /** False with --no-node-api. */
  nodeApi: boolean;
  nodeApiHost: string;
  nodeApiPort: number;
  latencyBudgetMs: number;
  maxHeadAge?: number;
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
        '{"id","url","controlUrl","nodeApiUrl","metricsUrl","address","signer","auth"} on stdout when listening, ' +
        "logs JSON to stderr",
    )
    .requiredOption("--upstream <url>", "HTTP JSON-RPC URL of the execution client", parseHttpUrl)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 0)
    .option("--id <id>", "operator id (default: operator-<hostname>)")
    .option("--cloud <name>", "cloud provider label, e.g. aws, gcp, hetzner, bare-metal")
    .option("--region <name>", "region label, e.g. eu-central-1")
    .option("--chaos", "devnet only: expose a chaos control on 127.0.0.1 for fault injection", false)
    .option("--control-port <port>", "port of the chaos control (0 picks a free one)", parsePort, 0)
    .option(
      "--control-token-file <file>",
      "with --chaos: file (mode 0600) with the secret a chaos change needs; created with a random one if missing",
    )
    .option("--max-body-bytes <bytes>", "largest request body accepted", parsePositiveInt, 1024 * 1024)
    .option(
      "--gas-cap <gas>",
      "most gas an eth_call, eth_estimateGas, eth_createAccessList or trace may use (clamped; never above the block gas limit)",
      parsePositiveInt,
      Number(defaultCallLimits.gasCap),
    )
    .option(
      "--max-log-range <blocks>",
      "most blocks an eth_getLogs range may span (longer: -32005)",
      parsePositiveInt,
      defaultCallLimits.maxLogRange,
    )
    .option(
      "--upstream-timeout-ms <ms>",
      "time the execution client has to answer a request",
      parsePositiveInt,
      30_000,
    )
    .option(
      "--headers-timeout-ms <ms>",
      "time a client has to send a request's headers (at most 30000, the whole request's)",
      parsePositiveInt,
      defaultListenerLimits.headersTimeoutMs,
    )
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM, with --tls-key)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--ledger-rpc <url>", "HTTP JSON-RPC URL of the ledger chain (with --deployment)", parseHttpUrl)
    .option("--deployment <file>", "DIN deployment JSON (addresses, networks) written by the deploy script")
    .option(
      "--data-dir <dir>",
      "a local network's data dir: ledger RPC from network.json, deployment from ledger/deployment.json",
    )
    .option("--network <name>", "the served network (e.g. ethereum); its chain id is the relays' chainId")
    .option(
      "--operator-address <address>",
      "this operator's ledger address: the audience of callers' access tokens (required for auth)",
      parseAddress,
    )
    .option("--signer-key-file <file>", "file (mode 0600) with the 0x key that signs relays; enables signing")
    .option("--signer-key-env <name>", "environment variable holding the relay signing key instead of a file")
    .option("--no-auth", "serve anyone, without access tokens (a private setup only)")
    .option("--node-api-host <host>", "interface of the AVS node API and /metrics listener", "127.0.0.1")
    .option(
      "--node-api-port <port>",
      "port of the AVS node API (/eigen/node/…) and Prometheus /metrics (0 picks a free one)",
      parsePort,
      0,
    )
    .option("--no-node-api", "do not serve the AVS node API and metrics")
    .option(
      "--latency-budget-ms <ms>",
      "a call answered within this time counts as good in eigen_performance_score",
      parsePositiveInt,
      1_000,
    )
    .option(
      "--max-head-age <seconds>",
      "the execution client is Down when its latest block is older than this (default: not checked)",
      parsePositiveInt,
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "silent"])
        .default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "logs on stderr: readable lines on a terminal, JSON otherwise")
        .choices(LOG_FORMATS)
        .default("auto"),
    )
    .option("--log-json", "logs as one JSON object per line, even on a terminal (same as --log-format json)")
    .addHelpText(
      "after",
      "\nWith a ledger and --operator-address, every JSON-RPC request needs a din-auth access token from a\n" +
        "gateway or watcher the DIN registry admits; others get HTTP 401 (503 while the ledger cannot be read).\n" +
        "AVS node API and metrics (no token, GET only, on --node-api-host/--node-api-port): GET /eigen/node,\n" +
        "  /eigen/node/spec-version, /eigen/node/version, /eigen/node/health (200/206/503),\n" +
        "  /eigen/node/services, /eigen/node/services/<id>/health, and Prometheus /metrics\n" +
        "Chaos control (with --chaos and --control-token-file): GET /chaos, GET /stats, and\n" +
        '  POST /chaos {"mode":"down|slow|lag|lie|corrupt|flap|errors|ok","value":N}\n' +
        "  with content-type: application/json and authorization: Bearer <the token in the file>\n" +
        `${stopHelp}\n` +
        "Examples:\n  din operator serve --upstream http://127.0.0.1:8545 --port 9001 --cloud aws --region us-east-1\n" +
        "  din operator serve --upstream http://127.0.0.1:8545 --ledger-rpc https://ledger.example \\\n" +
        "    --deployment din.json --network ethereum --operator-address 0x… --signer-key-file signer.key",
    )
    .action(async (flags: ServeFlags, command: Command) => {
      await serve(flags, command);
    });
}

async function serve(flags: ServeFlags, command: Command): Promise<void> {
  // Logs go to stderr so stdout carries only the machine-readable line.
  const logger = stderrLogger(flags.logLevel, flags.logJson ? "json" : flags.logFormat);
  const labels = {
    ...(flags.cloud !== undefined ? { cloud: flags.cloud } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
  };
  let identity: Identity;
  try {
    identity = resolveIdentity(flags, logger);
  } catch (error) {
    command.error(`error: ${error instanceof Error ? error.message : String(error)}`, { exitCode: 1 });
  }
  let tls: TlsFiles | undefined;
  try {
    tls = readTlsFiles(flags.tlsCert, flags.tlsKey);
  } catch (error) {
    command.error(`error: ${error instanceof Error ? error.message : String(error)}`, { exitCode: 1 });
  }
  let shutdownTimeout: number;
  try {
    shutdownTimeout = shutdownTimeoutMs();
  } catch (error) {
    command.error(`error: ${error instanceof Error ? error.message : String(error)}`, { exitCode: 1 });
  }
  let node: OperatorNode;
  try {
    node = await startOperatorNode({
      id: flags.id ?? `operator-${hostname()}`,
      upstream: flags.upstream,
      host: flags.host,
      port: flags.port,
      chaos: flags.chaos,
      controlPort: flags.controlPort,
      ...(flags.chaos ? { controlToken: controlTokenOf(flags) } : {}),
      maxBodyBytes: flags.maxBodyBytes,
      gasCap: flags.gasCap,
      maxLogRange: flags.maxLogRange,
      upstreamTimeoutMs: flags.upstreamTimeoutMs,
      listenerLimits: { headersTimeoutMs: flags.headersTimeoutMs },
      ...(tls ? { tls } : {}),
      labels,
      logger,
      ...(identity.relaySigner ? { relaySigner: identity.relaySigner } : {}),
      ...(identity.auth ? { auth: identity.auth } : {}),
      ...(flags.nodeApi
        ? {
            nodeApi: {
              host: flags.nodeApiHost,
              port: flags.nodeApiPort,
              latencyBudgetMs: flags.latencyBudgetMs,
              ...(flags.maxHeadAge !== undefined ? { maxHeadAgeMs: flags.maxHeadAge * 1000 } : {}),
              ...(identity.ledger ? { ledger: identity.ledger } : {}),
            },
          }
        : {}),
    });
  } catch (error) {
    // A taken port or a bad host is a user error: one clear line, no stack trace.
    const reason = error instanceof Error ? error.message : String(error);
    command.error(`error: operator node could not start: ${reason}`, { exitCode: 1 });
  }
  await identity.checkRegistration?.();
  const ready = {
    id: node.id,
    url: node.url,
    controlUrl: node.controlUrl,
    nodeApiUrl: node.nodeApiUrl ?? null,
    metricsUrl: node.nodeApiUrl !== undefined ? `${node.nodeApiUrl}/metrics` : null,
    address: identity.address ?? null,
    signer: identity.relaySigner?.account.address ?? null,
    auth: identity.auth !== undefined,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);

  // Exits once the node closed (exit 0), rather than when the event loop drains: a ledger client's timer
  // or a pooled upstream socket would otherwise keep a stopped node's process alive.
  installShutdown({
    logger,
    timeoutMs: shutdownTimeout,
    steps: () => [[{ name: `operator node ${node.id}`, close: () => node.close() }]],
  });
}

/** Who this node is on the ledger, resolved from the flags. */
interface Identity {
  address: Address | undefined;
  relaySigner: RelaySignerOptions | undefined;
  auth: OperatorAuthOptions | undefined;
  /** Warns when the registry does not name this signer for (operator, network); never throws. */
  checkRegistration: (() => Promise<void>) | undefined;
  /** The ledger as the node API probes and reads it. */
  ledger: LedgerView | undefined;
}

/** The ledger a node talks to: its RPC and the DIN deployment on it. */
interface LedgerTarget {
  rpc: string;
  deployment: DinDeployment;
}

function resolveLedger(flags: ServeFlags): LedgerTarget | undefined {
  let rpc = flags.ledgerRpc;
  let deploymentFile = flags.deployment;
  if (flags.dataDir !== undefined) {
    const dir = resolve(flags.dataDir);
    const stateFile = join(dir, "network.json");
    let state: { ledger?: { rpc?: unknown; deployment?: unknown } };
    try {
      state = JSON.parse(readFileSync(stateFile, "utf8")) as typeof state;
    } catch {
      throw new Error(`no local network state in ${stateFile} (start one with: din up)`);
    }
    if (rpc === undefined) {
      if (typeof state.ledger?.rpc !== "string") throw new Error(`${stateFile} names no ledger.rpc`);
      rpc = state.ledger.rpc;
    }
    deploymentFile ??=
      typeof state.ledger?.deployment === "string"
        ? state.ledger.deployment
        : join(dir, "ledger", "deployment.json");
  }
  if (rpc === undefined && deploymentFile === undefined) return undefined;
  if (rpc === undefined) throw new Error("--deployment needs --ledger-rpc <url> (or --data-dir)");
  if (deploymentFile === undefined) throw new Error("--ledger-rpc needs --deployment <file> (or --data-dir)");
  return { rpc, deployment: readDeployment(deploymentFile) };
}

function loadRelayKey(flags: ServeFlags): LocalAccount | undefined {
  if (flags.signerKeyFile !== undefined) return loadSigningKey({ keyFile: flags.signerKeyFile });
  if (flags.signerKeyEnv === undefined) return undefined;
  const value = process.env[flags.signerKeyEnv];
  if (value === undefined || value.trim() === "") {
    throw new Error(`--signer-key-env ${flags.signerKeyEnv}: that environment variable is not set`);
  }
  return loadSigningKey({ keyEnv: flags.signerKeyEnv });
}

function resolveIdentity(flags: ServeFlags, logger: Logger): Identity {
  const ledger = resolveLedger(flags);
  const signer = loadRelayKey(flags);
  const address = flags.operatorAddress;
  let network: DinNetwork | undefined;
  if (ledger && flags.network !== undefined) network = findNetwork(ledger.deployment, flags.network);
  if (signer && !(ledger && network)) {
    throw new Error(
      "relay signing needs the ledger (--ledger-rpc and --deployment, or --data-dir) and --network: " +
        "relays are signed for the network's chain id and the ledger's DinSlasher",
    );
  }
  if (!ledger && address !== undefined && flags.auth) {
    throw new Error(
      "--operator-address turns on authentication, which needs the ledger (--ledger-rpc and --deployment, or --data-dir)",
    );
  }
  if (ledger && !address && flags.auth) {
    throw new Error(
      "with a ledger, authentication is on and needs --operator-address <this operator's ledger address>; " +
        "pass --no-auth to serve anyone (a private setup only)",
    );
  }
  const client = ledger ? connectLedger(ledger.rpc, ledger.deployment.chainId).public : undefined;
  const { deployment } = ledger ?? {};
  const relaySigner =
    signer && deployment && network
      ? {
          account: signer,
          chainId: Number(network.chainId),
          ledgerChainId: deployment.chainId,
          slasher: deployment.addresses.slasher,
        }
      : undefined;
  const auth =
    client && deployment && address && flags.auth
      ? {
          operator: address,
          ledgerChainId: deployment.chainId,
          isCaller: registryRoleReader(client, deployment.addresses.registry),
        }
      : undefined;
  if (!auth) {
    logger.warn(
      "authentication is off: this node serves anyone who reaches it; keep it on a private network " +
        "(give --ledger-rpc/--deployment or --data-dir and --operator-address to serve only admitted gateways and watchers)",
    );
  }
  const checkRegistration =
    client && deployment && network && address
      ? async () => {
          try {
            const metadata = await client.readContract({
              address: deployment.addresses.registry,
              abi: dinRegistryAbi,
              functionName: "getMetadata",
              args: [address, network.id],
            });
            const registered = getAddress(metadata.signer);
            if (registered === zeroAddress) {
              logger.warn(
                { operator: address, network: network.name },
                `operator ${address} is not registered on network ${network.name} yet: gateways will not route to it ` +
                  "until it registers for this network",
              );
            } else if (signer && registered !== signer.address) {
              logger.warn(
                { registeredSigner: registered, signer: signer.address },
                `the registry names signer ${registered} for ${address} on ${network.name}, but this node signs with ` +
                  `${signer.address}: its signed relays will not be accepted as this operator's`,
              );
            } else {
              logger.info(
                { operator: address, network: network.name, signer: registered },
                "registered on the ledger",
              );
            }
          } catch (error) {
            const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
            logger.warn(`cannot check this operator's registration on the ledger: ${reason}`);
          }
        }
      : undefined;
  const ledgerView =
    client && deployment
      ? {
          client,
          deployment,
          ...(address !== undefined ? { operator: address } : {}),
          ...(network ? { network } : {}),
        }
      : undefined;
  return { address, relaySigner, auth, checkRegistration, ledger: ledgerView };
}

/** The chaos control's token: without a file nobody could use the control, so --chaos needs one. */
function controlTokenOf(flags: ServeFlags): string {
  if (flags.controlTokenFile === undefined) {
    throw new Error("--chaos needs --control-token-file <file> (created with a random token if missing)");
  }
  return loadOrCreateControlToken(flags.controlTokenFile);
}

function parseAddress(value: string): Address {
  if (!isAddress(value, { strict: false }))
    throw new InvalidArgumentError("expected a 0x address (20 bytes)");
  return getAddress(value);
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
