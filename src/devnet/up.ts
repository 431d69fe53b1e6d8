// `din up`: the whole data plane on one machine — two Hardhat devnets (in child processes, mining with
// generated traffic), five operators per network on diverse simulated clouds and regions, one gateway.
import pino, { type Logger } from "pino";
import { parseGatewayConfig } from "../gateway/config.js";
import { type Gateway, startGateway } from "../gateway/server.js";
import { type OperatorNode, startOperatorNode } from "../operator/proxy.js";
import { type ChainProcessHandle, spawnChainProcess } from "./chainProcess.js";
import { devnetKeysConfig, ensureDevnetKey } from "./keys.js";
import {
  isAlive,
  type NetworkState,
  NoNetworkError,
  readNetworkState,
  removeNetworkState,
  writeNetworkState,
} from "./state.js";

export interface UpOptions {
  /** Where the network's state lives. @default ".din" */
  dataDir: string;
  /** Gateway port; 0 picks a free one. @default 8545 */
  port: number;
  /** @default "127.0.0.1" */
  host: string;
  /** Block time of the devnets. @default 1000 */
  blockTimeMs: number;
  logger?: Logger;
}

/** The networks of the devnet and where their operators (simulated) run. */
export const devnetNetworks = [
  {
    name: "ethereum",
    chainId: 31337,
    operators: [
      { cloud: "aws", region: "us-east-1" },
      { cloud: "aws", region: "eu-west-1" },
      { cloud: "gcp", region: "us-central1" },
      { cloud: "hetzner", region: "eu-central" },
      { cloud: "bare-metal", region: "eu-west" },
    ],
  },
  {
    name: "polygon",
    chainId: 31338,
    operators: [
      { cloud: "aws", region: "ap-south-1" },
      { cloud: "aws", region: "us-west-2" },
      { cloud: "gcp", region: "europe-west4" },
      { cloud: "hetzner", region: "us-east" },
      { cloud: "bare-metal", region: "ap-southeast" },
    ],
  },
] as const;

export interface RunningNetwork {
  state: NetworkState;
  gateway: Gateway;
  /** Stops everything; nothing is left listening. Idempotent. */
  stop(): Promise<void>;
  /** Settles if a chain process dies unexpectedly. */
  failed: Promise<Error>;
}

export async function up(options: UpOptions): Promise<RunningNetwork> {
  const logger = options.logger ?? pino({ level: "silent" });
  assertNotRunning(options.dataDir);
  const chains: ChainProcessHandle[] = [];
  const operators: Array<{ node: OperatorNode; network: string; cloud: string; region: string }> = [];
  let gateway: Gateway | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    removeNetworkState(options.dataDir);
    await gateway?.close().catch(() => undefined);
    await Promise.all(operators.map(({ node }) => node.close().catch(() => undefined)));
    await Promise.all(chains.map((chain) => chain.stop().catch(() => undefined)));
  };
  try {
    chains.push(
      ...(await Promise.all(
        devnetNetworks.map((network) =>
          spawnChainProcess({
            name: network.name,
            chainId: network.chainId,
            blockTimeMs: options.blockTimeMs,
            traffic: true,
          }),
        ),
      )),
    );
    logger.info({ chains: chains.map((chain) => chain.info) }, "devnet chains ready");
    for (const [index, network] of devnetNetworks.entries()) {
      const chain = chains[index]!;
      for (const placement of network.operators) {
        const id = `${network.name}-${placement.cloud}-${placement.region}`;
        const node = await startOperatorNode({
          id,
          upstream: chain.info.url,
          chaos: true,
          labels: { cloud: placement.cloud, region: placement.region },
          logger: logger.child({ operator: id }),
        });
        operators.push({ node, network: network.name, ...placement });
      }
    }
    const config = parseGatewayConfig({
      server: { host: options.host, port: options.port, logLevel: logger.level as "info" },
      health: { headPollMs: Math.max(100, Math.min(1_000, Math.floor(options.blockTimeMs / 2))) },
      // Keys on, as a developer meets a hosted gateway: /v1/<network> alone is refused.
      keys: devnetKeysConfig(options.dataDir),
      networks: devnetNetworks.map((network) => ({
        name: network.name,
        chainId: network.chainId,
        upstreams: operators
          .filter((operator) => operator.network === network.name)
          .map(({ node, cloud, region }) => ({ id: node.id, url: node.url, cloud, region })),
      })),
    });
    gateway = await startGateway(config, { logger });
    const gatewayUrl = gateway.url;
    const apiKey = await ensureDevnetKey(gateway);
    const state: NetworkState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      gateway: gatewayUrl,
      networks: devnetNetworks.map((network, index) => ({
        name: network.name,
        chainId: network.chainId,
        rpc: `${gatewayUrl}/v1/${network.name}/${apiKey}`,
        ws: `${gatewayUrl.replace(/^http/, "ws")}/ws/v1/${network.name}/${apiKey}`,
        chain: chains[index]!.info.url,
      })),
      operators: operators.map(({ node, network, cloud, region }) => ({
        id: node.id,
        network,
        cloud,
        region,
        url: node.url,
        controlUrl: node.controlUrl,
      })),
    };
    writeNetworkState(options.dataDir, state);
    const failed = Promise.race(
      chains.map((chain) =>
        chain.exited.then(
          ({ code, signal }) => new Error(`chain ${chain.info.name} exited (${signal ?? code})`),
        ),
      ),
    );
    return { state, gateway, stop, failed };
  } catch (error) {
    await stop();
    throw error;
  }
}

function assertNotRunning(dataDir: string): void {
  try {
    const state = readNetworkState(dataDir);
    if (isAlive(state.pid)) {
      throw new Error(
        `a local network is already running from ${dataDir} (pid ${state.pid}, gateway ${state.gateway}); stop it first or use --data-dir`,
      );
    }
  } catch (error) {
    if (!(error instanceof NoNetworkError)) throw error;
  }
}

/** The one JSON line `din up --json` prints when ready. */
export function readyLine(state: NetworkState, dataDir: string): string {
  return JSON.stringify({
    gateway: state.gateway,
    networks: state.networks.map(({ name, chainId, rpc, ws, chain }) => ({ name, chainId, rpc, ws, chain })),
    operators: state.operators.map(({ id, network, cloud, region, url }) => ({
      id,
      network,
      cloud,
      region,
      url,
    })),
    dataDir,
  });
}

/** The human summary `din up` prints when ready. */
export function summary(state: NetworkState, dataDir = ".din"): string {
  const at = (command: string) =>
    dataDir === ".din" ? `npx din ${command}` : `npx din ${command} --data-dir ${dataDir}`;
  const lines = [`OpenDIN local network is up (gateway ${state.gateway})`, ""];
  for (const network of state.networks) {
    lines.push(`  ${network.name.padEnd(9)} chainId ${String(network.chainId).padEnd(6)} RPC ${network.rpc}`);
  }
  lines.push("", "  operators:");
  for (const operator of state.operators) {
    lines.push(
      `    ${operator.id.padEnd(32)} ${operator.cloud.padEnd(10)} ${operator.region.padEnd(13)} ${operator.url}`,
    );
  }
  lines.push(
    "",
    "  try:   curl -s -X POST -H 'content-type: application/json' \\",
    `           --data '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}' ${state.networks[0]?.rpc}`,
    `         ${at("status")}            # operator health as the gateway sees it`,
    `         ${at("chaos --cloud aws --mode down")}   # take a whole cloud out`,
    `         ${at("keys list")} · ${at("usage")}   # API keys and what they used`,
    "",
    "  Ctrl-C stops everything.",
  );
  return lines.join("\n");
}
