// `din status`: each operator of a running local network as the gateway sees it (health, head, lag) and as
// the ledger records it (stake, last epoch's median measurements, rewards, slashes, jail); `--epochs` adds
// the epoch history.
import { type Address, formatUnits, getAddress, type PublicClient } from "viem";
import type { HealthReport } from "../gateway/healthReport.js";
import {
  delegationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
} from "../ledger/artifacts/index.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import {
  connectLedger,
  readDeployment,
  readEpochClock,
  readOperators,
  readSlashes,
  type SlashRecord,
} from "../ledger/din/directory.js";
import { escrowedRewards } from "../ledger/din/operatorRecord.js";
import { readStrategies } from "../ledger/din/strategies.js";
import { type EventLogCache, readEvents } from "../ledger/eventLog.js";
import { devnetKeyFile } from "./ledger.js";
import { type NetworkState, readNetworkState } from "./state.js";

/** One epoch's median measurement of an operator, as finalize judged it. */
export type Judgment = {
  epoch: string;
  availabilityBps: number;
  p50LatencyMs: number;
  lagBlocks: number;
  multiplierBps: number;
};

/** An operator as the gateway and the ledger see it. */
export type OperatorStatus = {
  id: string;
  address: string;
  cloud: string;
  region: string;
  /**
   * Health as the gateway sees it (`absent` when the gateway does not route to it, `jailed` while the
   * ledger jails it).
   */
  health: string;
  lagBlocks: number | null;
  reasons: string[];
  /** Stake delegated to it (its own and its stakers'), over every strategy, token units (decimal). */
  stake: string;
  /** The part of it allocated to the network's operator set: what the network can slash. */
  allocated: string;
  jailed: boolean;
  jailedUntil: string;
  lastEpoch: Judgment | null;
  /** Fee-token rewards escrowed for it (operator and its delegators), token units. */
  rewards: string;
  slashes: { queued: number; vetoed: number; executed: number };
  /** For a devnet operator the registry ejected: the command that registers it again. */
  rejoin?: string;
};

export type EpochRecord = {
  network: string;
  epoch: string;
  reports: number;
  paid: string;
  carried: string;
  judged: Array<{ operator: string } & Judgment>;
  /**
   * Rules that failed for a correlated share of the network's judged stake: their slashes are held for
   * governance (released into the slasher's queue, or dropped) instead of queued.
   */
  heldForGovernance: Array<{ reason: string; failedStake: string; operators: string[] }>;
};

const SLA_REASONS = ["wrong data", "unavailable", "slow latency", "down"];

export type NetworkStatus = HealthReport["networks"][number] & { operators: OperatorStatus[] };

export type StatusReport = Omit<HealthReport, "networks"> & {
  gateway: string;
  networks: NetworkStatus[];
  ledger: { rpc: string; chainId: number; block: string; epoch: string; epochEndsAt: string } | null;
  slashes: Array<Omit<SlashRecord, "id" | "wad"> & { id: string; percent: string; network: string }>;
  /** Wrong data proven on-chain with the operator's own signature (slashed at once, never queued). */
  fraudProofs: Array<{
    operator: string;
    network: string;
    blockNumber: string;
    provenAt: string;
    relayDigest: string;
  }>;
  epochs?: EpochRecord[];
  /** What the amounts are in: `stake` and `allocated` in the strategies' tokens, `rewards` and fees in `fee`. */
  units?: { stake: string; fee: string };
};

const tokens = (value: bigint) => formatUnits(value, 18);

export async function fetchStatus(
  dataDir: string,
  options: { epochs?: boolean; epochLimit?: number } = {},
): Promise<StatusReport> {
  const state = readNetworkState(dataDir);
  const response = await fetch(`${state.gateway}/healthz`);
  const report = (await response.json()) as HealthReport;
  if (!state.ledger) return gatewayOnlyStatus(state.gateway, report);
  const deployment = readDeployment(state.ledger.deployment);
  const client = connectLedger(state.ledger.rpc, state.ledger.chainId).public;
  return ledgerStatus(state, report, deployment, client, { ...options, dataDir });
}

/**
 * The status of any deployment, not just the local one: the ledger at `rpc`, the operators by address, and
 * health from `gateway`'s /healthz when one is given (otherwise nothing observed: every network with no
 * upstreams, so each operator's health reads "unknown").
 */
export async function fetchDeploymentStatus(options: {
  rpc: string;
  deploymentFile: string;
  gateway?: string;
  epochs?: boolean;
  epochLimit?: number;
}): Promise<StatusReport> {
  const deployment = readDeployment(options.deploymentFile);
  const client = connectLedger(options.rpc, deployment.chainId).public;
  const report: HealthReport = options.gateway
    ? ((await (
        await fetch(new URL("/healthz", options.gateway), { signal: AbortSignal.timeout(10_000) })
      ).json()) as HealthReport)
    : {
        status: "ok",
        networks: deployment.networks.map((n) => ({
          name: n.name,
          chainId: Number(n.chainId),
          head: { latest: null, safe: null, finalized: null },
          upstreams: [],
          clouds: { cap: 1, measured: 0, shares: [] },
        })),
      };
  return ledgerStatus(
    {
      gateway: options.gateway ?? "",
      ledger: { rpc: options.rpc, chainId: deployment.chainId },
      operators: [],
    },
    report,
    deployment,
    client,
    {
      epochs: options.epochs ?? false,
      ...(options.epochLimit !== undefined ? { epochLimit: options.epochLimit } : {}),
    },
  );
}

/** The status of a gateway that follows no ledger: its upstreams, no operators. */
export function gatewayOnlyStatus(gateway: string, report: HealthReport): StatusReport {
  return {
    ...report,
    gateway,
    networks: report.networks.map((n) => ({ ...n, operators: [] })),
    ledger: null,
    slashes: [],
    fraudProofs: [],
  };
}

/**
 * What the status reads besides the gateway's health: where the gateway and the ledger are, and the
 * operators a local network started (their ids, and the commands that bring ejected ones back).
 */
export type StatusSource = {
  gateway: string;
  ledger: { rpc: string; chainId: number };
  operators: readonly NetworkState["operators"][number][];
};

/**
 * The status from a health report and the ledger: `din status` and the dashboard both read through here.
 * `dataDir` is the local network's (for rejoin commands); without it none are given.
 */
export async function ledgerStatus(
  state: StatusSource,
  report: HealthReport,
  deployment: DinDeployment,
  client: PublicClient,
  options: {
    epochs?: boolean;
    epochLimit?: number;
    dataDir?: string;
    /** Keeps the events read between calls, so a reader asking every second reads only new blocks. */
    events?: EventLogCache;
  },
): Promise<StatusReport> {
  const a = deployment.addresses;
  const { dataDir } = options;
  const epochs = { address: a.epochs, abi: dinEpochsAbi, fromBlock: 0n } as const;
  const slasher = { address: a.slasher, abi: dinSlasherAbi, fromBlock: 0n } as const;
  const coordinator = { address: a.rewardsCoordinator, abi: rewardsCoordinatorAbi, fromBlock: 0n } as const;
  const [
    block,
    clock,
    slashes,
    judgedLogs,
    finalizedLogs,
    submissions,
    proofLogs,
    correlatedLogs,
    heldLogs,
    units,
  ] = await Promise.all([
    client.getBlockNumber({ cacheTime: 0 }),
    readEpochClock(client, a.epochs),
    readSlashes(client, a),
    readEvents(client, { ...epochs, eventName: "OperatorJudged" }, options.events),
    readEvents(client, { ...epochs, eventName: "EpochFinalized" }, options.events),
    readEvents(
      client,
      { ...coordinator, eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated" },
      options.events,
    ),
    readEvents(client, { ...slasher, eventName: "FraudProven" }, options.events),
    readEvents(client, { ...epochs, eventName: "CorrelatedFailure" }, options.events),
    readEvents(client, { ...epochs, eventName: "SlashHeld" }, options.events),
    amountUnits(client, deployment),
  ]);
  const rewards = escrowedRewards(submissions);
  const judgment = (log: (typeof judgedLogs)[number]): Judgment => ({
    epoch: log.args.epoch.toString(),
    availabilityBps: log.args.availabilityBps,
    p50LatencyMs: log.args.p50LatencyMs,
    lagBlocks: log.args.lagBlocks,
    multiplierBps: Number(log.args.multiplierBps),
  });
  const networkName = (id: number) => deployment.networks.find((n) => n.id === id)?.name ?? String(id);

  const networks: NetworkStatus[] = [];
  for (const network of report.networks) {
    const din = deployment.networks.find((n) => n.name === network.name);
    const registered = din ? await readOperators(client, a, din.id, slashes) : [];
    const delegated = await Promise.all(registered.map((o) => delegatedStake(client, a, o.address)));
    /** An operator's slashes on this network; fraud proofs slash at once, so they count as executed. */
    const slashCounts = (address: Address) => {
      const own = slashes.filter((s) => s.operator === address && s.networkId === din?.id);
      return {
        queued: own.filter((s) => s.status === "queued").length,
        vetoed: own.filter((s) => s.status === "vetoed").length,
        executed:
          own.filter((s) => s.status === "executed").length +
          proofLogs.filter((p) => getAddress(p.args.operator) === address && p.args.networkId === din?.id)
            .length,
      };
    };
    const operators = registered.map((operator, i): OperatorStatus => {
      const local = state.operators.find((o) => o.address && getAddress(o.address) === operator.address);
      const upstream = network.upstreams.find(
        (u) => (u as { address?: string }).address === operator.address,
      );
      const last = judgedLogs
        .filter((log) => log.args.networkId === din?.id && getAddress(log.args.operator) === operator.address)
        .at(-1);
      // The gateway neither routes to nor polls a jailed operator: its last health there is stale.
      const seen = operator.jailed
        ? { health: "jailed", lagBlocks: null, reasons: ["jailed on the ledger: no traffic"] }
        : {
            health: upstream?.health ?? "absent",
            lagBlocks: upstream?.lagBlocks ?? null,
            reasons: upstream?.reasons ?? [],
          };
      return {
        id: local?.id ?? operator.address,
        address: operator.address,
        cloud: operator.cloud,
        region: operator.region,
        ...seen,
        stake: tokens(delegated[i] ?? 0n),
        allocated: tokens(operator.allocatedStake),
        jailed: operator.jailed,
        jailedUntil: operator.jailedUntil.toString(),
        lastEpoch: last ? judgment(last) : null,
        rewards: tokens(rewards.get(operator.address) ?? 0n),
        slashes: slashCounts(operator.address),
      };
    });
    // Operators the registry no longer lists but that served here (this devnet's, or any with slashes on
    // the network): ejected after repeated slashes, or gone. Devnet ones get the command that rejoins.
    const gone = new Map<Address, (typeof state.operators)[number] | undefined>();
    for (const local of state.operators.filter((o) => o.network === network.name && o.address)) {
      gone.set(getAddress(local.address), local);
    }
    for (const s of slashes.filter((x) => x.networkId === din?.id)) {
      if (!gone.has(s.operator)) gone.set(s.operator, undefined);
    }
    for (const [address, local] of gone) {
      if (operators.some((o) => o.address === address)) continue;
      const rejoin = local && dataDir !== undefined ? rejoinCommand(local, dataDir) : undefined;
      const [jailedUntil, stake] = await Promise.all([
        din
          ? client.readContract({
              address: a.registry,
              abi: dinRegistryAbi,
              functionName: "jailedUntil",
              args: [address, din.id],
            })
          : 0n,
        delegatedStake(client, a, address),
      ]);
      operators.push({
        id: local?.id ?? address,
        address,
        cloud: local?.cloud ?? "?",
        region: local?.region ?? "?",
        health: "absent",
        lagBlocks: null,
        reasons: [
          "not registered on the ledger: ejected after repeated slashes (register again to rejoin once the deallocation delay has passed)",
        ],
        ...(rejoin ? { rejoin } : {}),
        stake: tokens(stake),
        allocated: "0",
        // A jail outlives the ejection: registering again waits for it.
        jailed: jailedUntil > block,
        jailedUntil: jailedUntil.toString(),
        lastEpoch: null,
        rewards: tokens(rewards.get(address) ?? 0n),
        slashes: slashCounts(address),
      });
    }
    networks.push({ ...network, operators });
  }
  const status: StatusReport = {
    ...report,
    gateway: state.gateway,
    networks,
    units,
    ledger: {
      rpc: state.ledger.rpc,
      chainId: state.ledger.chainId,
      block: block.toString(),
      epoch: clock.epoch.toString(),
      epochEndsAt: clock.end.toString(),
    },
    fraudProofs: proofLogs.map((p) => ({
      operator: getAddress(p.args.operator),
      network: networkName(p.args.networkId),
      blockNumber: p.args.blockNumber.toString(),
      provenAt: (p.blockNumber ?? 0n).toString(),
      relayDigest: p.args.relayDigest,
    })),
    slashes: slashes.map(({ id, wad, ...s }) => ({
      ...s,
      id: id.toString(),
      percent: `${formatUnits(wad * 100n, 18)}%`,
      network: networkName(s.networkId),
    })),
  };
  if (options.epochs) {
    // The most recent epochs: a network left running for a day has thousands.
    status.epochs = finalizedLogs.slice(-2 * (options.epochLimit ?? 10)).map((log) => ({
      network: networkName(log.args.networkId),
      epoch: log.args.epoch.toString(),
      reports: Number(log.args.reports),
      paid: tokens(log.args.paid),
      carried: tokens(log.args.carried),
      judged: judgedLogs
        .filter((j) => j.args.networkId === log.args.networkId && j.args.epoch === log.args.epoch)
        .map((j) => ({ operator: getAddress(j.args.operator), ...judgment(j) })),
      heldForGovernance: correlatedLogs
        .filter((c) => c.args.networkId === log.args.networkId && c.args.epoch === log.args.epoch)
        .map((c) => ({
          reason: SLA_REASONS[c.args.reason] ?? String(c.args.reason),
          failedStake: pct(Number(c.args.failedStakeBps)),
          operators: heldLogs
            .filter(
              (h) =>
                h.args.networkId === c.args.networkId &&
                h.args.epoch === c.args.epoch &&
                h.args.reason === c.args.reason,
            )
            .map((h) => getAddress(h.args.operator)),
        })),
    }));
  }
  return status;
}

export const pct = (bps: number) => `${(bps / 100).toFixed(2)}%`;

/**
 * The symbols amounts are printed with: stake is summed over the strategies (shares of each, one for one
 * with its token on a fresh deployment), so it is named by all of them, e.g. `stETH+rETH`.
 */
export async function amountUnits(
  client: PublicClient,
  deployment: DinDeployment,
): Promise<{ stake: string; fee: string }> {
  const [strategies, fee] = await Promise.all([
    readStrategies(client, deployment),
    client
      .readContract({ address: deployment.addresses.feeToken, abi: mockERC20Abi, functionName: "symbol" })
      .catch(() => "fee token"),
  ]);
  return { stake: strategies.map((s) => s.symbol).join("+") || "tokens", fee };
}

/** Shares delegated to `operator` (its own and its stakers'), summed over the deployment's strategies. */
async function delegatedStake(
  client: PublicClient,
  a: DinDeployment["addresses"],
  operator: Address,
): Promise<bigint> {
  const shares = await client.readContract({
    address: a.delegationManager,
    abi: delegationManagerAbi,
    functionName: "getOperatorShares",
    args: [operator, a.strategies],
  });
  return shares.reduce((sum, s) => sum + s, 0n);
}

/** The `din operator register` that brings an ejected devnet operator back, with its own keys and labels. */
function rejoinCommand(local: NetworkState["operators"][number], dataDir: string): string {
  return [
    "npx din operator register",
    `--data-dir ${dataDir}`,
    `--key-file ${devnetKeyFile(dataDir, local.id)}`,
    `--network ${local.network}`,
    `--endpoint ${local.url}`,
    `--cloud ${local.cloud}`,
    `--region ${local.region}`,
    "--client hardhat",
    `--signer-key-file ${devnetKeyFile(dataDir, `${local.id}.signer`)}`,
    // Half of its magnitude, as din up allocated it first (the ejection released the allocation).
    "--allocate 0.5",
  ].join(" ");
}
