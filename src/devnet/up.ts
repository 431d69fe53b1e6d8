// `din up`: the whole network on one machine — two Hardhat devnets (in child processes, mining with
// generated traffic), the DIN service deployed on the `ethereum` devnet (the ledger), five staked operators
// per network on diverse simulated clouds and regions, stakers delegating to them, three watchers measuring
// them and posting epoch reports, the gateway routing by what the ledger says, and the rewards updater.
import { rmSync } from "node:fs";
import type { Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import pino, { type Logger } from "pino";
import type { Address } from "viem";
import {
  type CloseStep,
  closeServing,
  runCloseSteps,
  shutdownTimeoutMs,
  trackSockets,
} from "../cli/shutdown.js";
import { parseGatewayConfig } from "../gateway/config.js";
import { type Gateway, startGateway } from "../gateway/server.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { connectLedger, ledgerClients, registryCallerCheck } from "../ledger/din/directory.js";
import { publishRewards } from "../ledger/din/rewardsPublisher.js";
import { generateControlToken, writeControlToken } from "../operator/controlToken.js";
import { type OperatorNode, startOperatorNode } from "../operator/proxy.js";
import { startWatcher, type Watcher, type WatcherOptions } from "../watcher/watcher.js";
import { type ChainProcessHandle, spawnChainProcess } from "./chainProcess.js";
import { type DemoTraffic, type DemoTrafficMode, startDemoTraffic } from "./demoTraffic.js";
import { devnetKeysConfig, ensureDevnetKey } from "./keys.js";
import {
  bootstrapLedger,
  type DevnetLedger,
  type DevnetOperatorPlan,
  devnetKey,
  genesisAccountKey,
} from "./ledger.js";
import {
  controlTokenFile,
  isAlive,
  type NetworkState,
  NoNetworkError,
  readNetworkState,
  removeNetworkState,
  writeNetworkState,
} from "./state.js";
import { TRAFFIC_ACCOUNTS } from "./traffic.js";

/**
 * Gas cap of calls on the devnets, at the gateway and the operator nodes (`din up --call-gas-cap`). A
 * Hardhat chain runs a network's calls one at a time for all its operators, at about a million gas of a
 * tight loop per 80–150 ms, holding about 0.2 GB of memory per million gas (measured: 8 concurrent
 * 2M-gas loops peak at 1.7 GB, 8 of 5M at 5 GB): a gas bomb at this cap holds the chain about as long as
 * a block takes to mine. Deploying a larger contract needs an explicit gas limit, or a higher cap.
 */
export const devnetCallGasCap = 1_000_000;

/**
 * Operator time one client may spend on expensive requests on the devnets: one request at a time (the
 * chain runs them one at a time anyway), a quarter of the chain on average.
 */
const devnetCostBudget = { costlyMsPerSecond: 250, costlyBurstMs: 1_000, costlyMaxInFlight: 1 } as const;

export interface UpOptions {
  /** Where the network's state lives. @default ".din" */
  dataDir: string;
  /** Gateway port; 0 picks a free one. @default 8545 */
  port: number;
  /** @default "127.0.0.1" */
  host: string;
  /** Block time of the devnets. @default 1000 */
  blockTimeMs: number;
  /** Most gas a call may burn, at the gateway and every operator node. @default devnetCallGasCap */
  callGasCap?: number;
  /**
   * Demo reads through the gateway from several sessions, so every healthy operator serves and earns
   * (`din up --traffic`). A test that measures the gateway's traffic turns it off. @default "on"
   */
  traffic?: DemoTrafficMode;
  /** How long stop() waits for the components to close before killing the chains. @default shutdownTimeoutMs() (10 s) */
  shutdownTimeoutMs?: number;
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
  ledger: DevnetLedger;
  watchers: Watcher[];
  /** Stops watcher `index` and starts it again on the same key and state file (as a restart would). */
  restartWatcher(index: number): Promise<Watcher>;
  /**
   * Stops everything within the shutdown deadline; nothing is left listening. A component whose close
   * failed or hung is logged; when one hung, the chain processes are killed. Never rejects. Idempotent.
   */
  stop(): Promise<void>;
  /**
   * The graceful stop as close steps for installShutdown: first the callers (gateway, watchers), then the
   * operators, then the chains — each closes while what it depends on still runs.
   */
  closeSteps(): CloseStep[][];
  /** The forced stop: SIGKILL to the chain processes (the listeners in this process end with it). */
  kill(): void;
  /** Settles if a chain process dies unexpectedly. */
  failed: Promise<Error>;
}

/** The ledger chain: the DIN service lives on the `ethereum` devnet. */
const ledgerNetwork = devnetNetworks[0];

export async function up(options: UpOptions): Promise<RunningNetwork> {
  const logger = options.logger ?? pino({ level: "silent" });
  assertNotRunning(options.dataDir);
  // A new chain each time: state of a previous run (watchers' epochs, rewards) would describe another chain.
  for (const dir of ["watchers", "ledger", "keys"]) {
    rmSync(join(resolve(options.dataDir), dir), { recursive: true, force: true });
  }
  const chains: ChainProcessHandle[] = [];
  const operators: Array<{
    node: OperatorNode;
    network: string;
    cloud: string;
    region: string;
    address: Address;
    signer: Address;
  }> = [];
  const watchers: Watcher[] = [];
  let gateway: Gateway | undefined;
  let gatewaySockets: ReadonlySet<Socket> = new Set();
  let rewardsTimer: NodeJS.Timeout | undefined;
  let demoTraffic: DemoTraffic | undefined;
  let stopped = false;
  let published: NetworkState | undefined;
  const timeoutMs = options.shutdownTimeoutMs ?? shutdownTimeoutMs();
  // Every close is its own step: one that fails or hangs no longer skips the ones after it (a gateway
  // close waiting on a socket used to leave the operators, watchers and chains running).
  const closeSteps = (): CloseStep[][] => [
    [
      {
        name: "network state",
        close: () => {
          stopped = true;
          clearInterval(rewardsTimer);
          removeNetworkState(options.dataDir);
        },
      },
      ...(demoTraffic ? [stopStep("demo traffic", demoTraffic)] : []),
      ...(gateway ? [gatewayStep(gateway, gatewaySockets)] : []),
      ...watchers.map((watcher, index) => watcherStep(watcher, index, chains[0], logger)),
    ],
    operators.map(({ node }) => ({ name: `operator ${node.id}`, close: () => node.close() })),
    chains.map((chain) => ({ name: `chain ${chain.info.name}`, close: () => chain.stop() })),
  ];
  const kill = () => {
    for (const chain of chains) chain.kill();
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const report = await runCloseSteps(closeSteps(), { deadline: Date.now() + timeoutMs, logger });
      if (report.hung.length > 0 || report.skipped.length > 0) {
        logger.error({ ...report, timeoutMs }, "the network did not stop in time: killing its chains");
        kill();
      }
    })();
    return stopping;
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
    const ledgerRpc = chains[0]!.info.url;

    let keyIndex = 0;
    const key = (name: string) => devnetKey(options.dataDir, name, keyIndex++);
    const keys = {
      deployer: key("deployer"),
      guardian: key("guardian"),
      gateway: key("gateway"),
      watchers: [key("watcher-1"), key("watcher-2"), key("watcher-3")],
      stakers: [key("staker-1"), key("staker-2"), key("staker-3"), key("staker-4")],
    };
    // Genesis accounts the traffic generator never sends from: for people's own transactions.
    const accounts = Array.from({ length: RESERVED_ACCOUNTS }, (_, i) =>
      genesisAccountKey(options.dataDir, `account-${i + 1}`, TRAFFIC_ACCOUNTS + i),
    );
    const plans: DevnetOperatorPlan[] = devnetNetworks.flatMap((network) =>
      network.operators.map((placement) => {
        const id = `${network.name}-${placement.cloud}-${placement.region}`;
        return {
          id,
          network: network.name,
          ...placement,
          ledger: key(id),
          signer: key(`${id}.signer`),
          selfStake: 10n * 10n ** 18n,
        };
      }),
    );

    const ledger = await bootstrapLedger({
      dataDir: options.dataDir,
      rpc: ledgerRpc,
      chainId: ledgerNetwork.chainId,
      networks: devnetNetworks.map(({ name, chainId }) => ({ name, chainId })),
      operators: plans,
      keys,
      startOperators: async (deployment) => {
        const ledgerReads = connectLedger(ledgerRpc, ledgerNetwork.chainId).public;
        const isCaller = registryCallerCheck(ledgerReads, deployment.addresses.registry, 5_000);
        // The chaos controls' secret: only `din chaos` (which reads it from the data dir) changes faults.
        const controlToken = generateControlToken();
        writeControlToken(controlTokenFile(options.dataDir), controlToken);
        const endpoints = new Map<string, string>();
        for (const [index, network] of devnetNetworks.entries()) {
          const chain = chains[index]!;
          const served = deployment.networks.find((n) => n.name === network.name);
          for (const plan of plans.filter((p) => p.network === network.name)) {
            const node = await startOperatorNode({
              id: plan.id,
              upstream: chain.info.url,
              chaos: true,
              controlToken,
              gasCap: options.callGasCap ?? devnetCallGasCap,
              labels: { cloud: plan.cloud, region: plan.region },
              logger,
              relaySigner: {
                account: plan.signer.account,
                chainId: network.chainId,
                ledgerChainId: ledgerNetwork.chainId,
                slasher: deployment.addresses.slasher,
              },
              auth: {
                operator: plan.ledger.account.address,
                ledgerChainId: ledgerNetwork.chainId,
                isCaller,
              },
              // EigenLayer's AVS node API and metrics, on a port of its own.
              nodeApi: {
                ledger: {
                  client: ledgerReads,
                  deployment,
                  operator: plan.ledger.account.address,
                  ...(served ? { network: served } : {}),
                },
              },
            });
            operators.push({
              node,
              network: network.name,
              cloud: plan.cloud,
              region: plan.region,
              address: plan.ledger.account.address,
              signer: plan.signer.account.address,
            });
            endpoints.set(plan.id, node.url);
          }
        }
        return endpoints;
      },
    });
    logger.info({ registry: ledger.deployment.addresses.registry }, "ledger deployed and operators staked");

    const config = parseGatewayConfig({
      server: { host: options.host, port: options.port, logLevel: logger.level as "info" },
      health: { headPollMs: Math.max(100, Math.min(1_000, Math.floor(options.blockTimeMs / 2))) },
      routing: { callGasCap: options.callGasCap ?? devnetCallGasCap, ...devnetCostBudget },
      // Keys on, as a developer meets a hosted gateway: /v1/<network> alone is refused.
      keys: devnetKeysConfig(options.dataDir),
      ledger: {
        rpc: ledgerRpc,
        deployment: ledger.deploymentFile,
        keyFile: keys.gateway.file,
        syncMs: Math.max(250, Math.min(1_000, options.blockTimeMs)),
        evidenceFile: join(resolve(options.dataDir), "ledger", "evidence.jsonl"),
      },
      // The operators come from the ledger's registry, not from this file.
      networks: devnetNetworks.map((network) => ({
        name: network.name,
        chainId: network.chainId,
        upstreams: [],
      })),
    });
    // The dashboard names operators by their devnet ids once the network's state is written.
    gateway = await startGateway(config, {
      logger,
      dashboard: {
        local: () => (published ? { operators: published.operators, dataDir: options.dataDir } : undefined),
      },
    });
    gatewaySockets = trackSockets(gateway.server);
    const gatewayUrl = gateway.url;
    const apiKey = await ensureDevnetKey(gateway);

    const watcherOptions = (index: number): WatcherOptions => {
      const watcherKey = keys.watchers[index]!;
      return {
        account: watcherKey.account,
        ledgerRpc,
        deployment: ledger.deployment,
        stateFile: join(resolve(options.dataDir), "watchers", `${watcherKey.name}.json`),
        probeIntervalMs: Math.max(250, Math.min(1_000, options.blockTimeMs)),
        // Probes count for the epoch of the block they were sent in: follow the ledger closely.
        ledgerPollMs: Math.max(50, Math.min(200, Math.floor(options.blockTimeMs / 4))),
        logger: logger.child({ key: watcherKey.name }),
        // A restarted watcher serves its metrics where it served them before.
        metrics: { port: metricsPorts[index] ?? 0 },
      };
    };
    const metricsPorts: number[] = [];
    for (const index of keys.watchers.keys()) {
      const watcher = await startWatcher(watcherOptions(index));
      metricsPorts[index] = Number(new URL(watcher.metricsUrl!).port);
      watchers.push(watcher);
    }

    // The rewards updater: publishes a distribution root once finalized epochs escrowed new rewards.
    const rewardsFile = join(resolve(options.dataDir), "ledger", "rewards.json");
    const updater = ledgerClients(ledgerRpc, ledgerNetwork.chainId, keys.deployer.account);
    let publishing = false;
    rewardsTimer = setInterval(
      () => {
        if (publishing || stopped) return;
        publishing = true;
        publishRewards(updater, ledger.deployment, { file: rewardsFile })
          .then((round) => {
            if (round) logger.info({ rootIndex: round.rootIndex }, "rewards root published");
          })
          .catch((error: Error) => logger.warn({ error: error.message }, "rewards round failed; retrying"))
          .finally(() => {
            publishing = false;
          });
      },
      Math.max(2_000, options.blockTimeMs * 5),
    );
    rewardsTimer.unref();

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
      operators: operators.map(({ node, network, cloud, region, address, signer }) => ({
        id: node.id,
        network,
        cloud,
        region,
        url: node.url,
        controlUrl: node.controlUrl,
        nodeApiUrl: node.nodeApiUrl,
        address,
        signer,
      })),
      ledger: {
        rpc: ledgerRpc,
        chainId: ledgerNetwork.chainId,
        deployment: ledger.deploymentFile,
        rewards: rewardsFile,
      },
      contracts: contractAddresses(ledger.deployment),
      watchers: watchers.map((watcher, index) => ({
        address: watcher.address,
        stateFile: watcherOptions(index).stateFile,
        ...(watcher.metricsUrl ? { metricsUrl: `${watcher.metricsUrl}/metrics` } : {}),
      })),
      stakers: ledger.delegations,
      accounts: accounts.map((a) => ({ address: a.account.address, keyFile: a.file })),
      blockTimeMs: options.blockTimeMs,
    };
    writeNetworkState(options.dataDir, state);
    published = state;
    if ((options.traffic ?? "on") === "on") {
      demoTraffic = startDemoTraffic({
        gateway: gatewayUrl,
        networks: state.networks,
        // A round a second at most: enough for every operator to serve each epoch, little load on the chains.
        intervalMs: Math.max(1_000, options.blockTimeMs),
        logger,
      });
    }
    const failed = Promise.race(
      chains.map((chain) =>
        chain.exited.then(
          ({ code, signal }) => new Error(`chain ${chain.info.name} exited (${signal ?? code})`),
        ),
      ),
    );
    const restartWatcher = async (index: number) => {
      const current = watchers[index];
      if (!current) throw new Error(`no watcher ${index}`);
      await current.close();
      const next = await startWatcher(watcherOptions(index));
      watchers[index] = next;
      return next;
    };
    return { state, gateway, ledger, watchers, restartWatcher, stop, closeSteps, kill, failed };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The gateway's close, which cannot be held by a socket its HTTP server no longer tracks (closeServing). */
function gatewayStep(gateway: Gateway, sockets: ReadonlySet<Socket>): CloseStep {
  return { name: "gateway", close: () => closeServing(() => gateway.close(), gateway.server, sockets) };
}

/** A close step for something that only stops. */
function stopStep(name: string, running: { stop(): Promise<void> }): CloseStep {
  return { name, close: () => running.stop() };
}

/** Once the ledger chain is gone, a watcher's close gets this long before the stop goes on without it. */
const watcherGraceAfterLedgerMs = 1_000;

/**
 * A watcher's close waits for its in-flight ledger transactions. Once the ledger chain has exited (a
 * Ctrl-C reaches the chain processes too) they can never be mined, and waiting for their receipts would
 * hold the stop until viem's 3-minute timeout: the stop goes on without the watcher.
 */
function watcherStep(
  watcher: Watcher,
  index: number,
  ledgerChain: ChainProcessHandle | undefined,
  logger: Logger,
): CloseStep {
  const name = `watcher ${index + 1}`;
  return {
    name,
    close: async () => {
      let abandoned = false;
      const closing = watcher.close();
      const ledgerGone = new Promise<void>((resolve) => {
        void ledgerChain?.exited.then(() => setTimeout(resolve, watcherGraceAfterLedgerMs).unref());
      });
      await Promise.race([
        closing,
        ledgerGone.then(() => {
          abandoned = true;
        }),
      ]);
      if (abandoned)
        logger.warn(
          { watcher: name },
          "the ledger chain is gone: not waiting for the watcher's transactions",
        );
    },
  };
}

/** The contracts a user looks up, by name. */
function contractAddresses(deployment: DinDeployment): Record<string, Address> {
  const a = deployment.addresses;
  return {
    registry: a.registry,
    slasher: a.slasher,
    epochs: a.epochs,
    strategyManager: a.strategyManager,
    delegationManager: a.delegationManager,
    allocationManager: a.allocationManager,
    rewardsCoordinator: a.rewardsCoordinator,
    feeToken: a.feeToken,
    governanceToken: a.governanceToken,
    governor: a.governor,
    timelock: a.timelock,
    ...Object.fromEntries(a.strategies.map((strategy, i) => [`strategy${i + 1}`, strategy])),
  };
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

/** The web dashboard the gateway serves: the network map, operators, epochs, risk and governance. */
export function dashboardUrl(state: Pick<NetworkState, "gateway">): string {
  return `${state.gateway}/dashboard`;
}

/** The one JSON line `din up --json` prints when ready. */
export function readyLine(state: NetworkState, dataDir: string): string {
  return JSON.stringify({
    gateway: state.gateway,
    dashboard: dashboardUrl(state),
    networks: state.networks.map(({ name, chainId, rpc, ws, chain }) => ({ name, chainId, rpc, ws, chain })),
    operators: state.operators.map(({ id, network, cloud, region, url, nodeApiUrl, address }) => ({
      id,
      network,
      cloud,
      region,
      url,
      nodeApiUrl,
      address,
    })),
    ledger: { rpc: state.ledger.rpc, chainId: state.ledger.chainId },
    contracts: state.contracts,
    watchers: state.watchers,
    accounts: state.accounts ?? [],
    dataDir,
  });
}

/** Genesis accounts (#10–#19, 10,000 ETH on every devnet chain) `din up` leaves to people. */
const RESERVED_ACCOUNTS = 10;

/** The human summary `din up` prints when ready. */
export function summary(state: NetworkState, dataDir = ".din"): string {
  const at = (command: string) =>
    dataDir === ".din" ? `npx din ${command}` : `npx din ${command} --data-dir ${dataDir}`;
  const lines = [
    `OpenDIN local network is up (gateway ${state.gateway})`,
    `  dashboard: ${dashboardUrl(state)}`,
    "",
  ];
  for (const network of state.networks) {
    lines.push(`  ${network.name.padEnd(9)} chainId ${String(network.chainId).padEnd(6)} RPC ${network.rpc}`);
  }
  lines.push("", "  operators (staked and registered on the ledger):");
  for (const operator of state.operators) {
    lines.push(
      `    ${operator.id.padEnd(32)} ${operator.cloud.padEnd(10)} ${operator.region.padEnd(13)} ${operator.address} ${operator.url}`,
    );
  }
  lines.push(
    "",
    `  ledger:   ${state.ledger.rpc} (chainId ${state.ledger.chainId}), registry ${state.contracts.registry}`,
    `  watchers: ${state.watchers.map((w) => w.address).join(", ")}`,
    ...(state.accounts?.length
      ? [
          `  accounts: ${state.accounts[0]!.address} (key ${state.accounts[0]!.keyFile}) and ${state.accounts.length - 1} more in ${dirname(state.accounts[0]!.keyFile)}/account-*.key:`,
          "            10,000 ETH on both devnets, never used by the devnet's own traffic — send from these",
        ]
      : []),
    `  metrics:  ${state.gateway}/metrics (gateway)${state.watchers
      .flatMap((w) => (w.metricsUrl ? [w.metricsUrl] : []))
      .map((url) => `, ${url}`)
      .join("")}`,
  );
  lines.push(
    "",
    "  try:   curl -s -X POST -H 'content-type: application/json' \\",
    `           --data '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}' ${state.networks[0]?.rpc}`,
    `         ${at("status")}            # health, stake, SLA, rewards and slashes per operator`,
    `         ${at("status --epochs")}   # the epoch history: reports, judgments, fees`,
    `         ${at("chaos --cloud aws --mode down")}   # take a whole cloud out`,
    `         ${at("keys list")} · ${at("usage")}   # API keys and what they used`,
    "",
    "  Ctrl-C stops everything.",
  );
  return lines.join("\n");
}
