// What an outage would cost, played by the real contracts on a fork of the ledger: the ledger's state at its
// latest block is forked into a fresh in-process Hardhat network; there the admitted watchers (impersonated)
// report the epochs an outage of N epochs' length starting after the fork block covers, the chosen operators
// available only for the blocks of each epoch outside the outage and the others healthy, the epochs are
// finalized step by step as a watcher finalizes them, queued slashes are executed once their veto windows
// are over (nobody vetoes), and the stake, the delegators' withdrawable shares and the accrued fees are
// read before and after. Whatever the contracts rule (jail, ceilings, the correlated-failure guard) is what
// the simulation reports. The live ledger only answers the fork's reads: it never receives a transaction.
import { type Address, defineChain, getAddress, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { forkChain } from "../../devnet/chain.js";
import { type NetworkRisk, networkRisk } from "../../risk/report.js";
import type { NetworkSnapshot } from "../../risk/types.js";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
} from "../artifacts/index.js";
import { createHardhatLedger } from "../hardhat.js";
import type { DinDeployment } from "./deploy.js";
import { type DirectoryOperator, readOperators } from "./directory.js";
import {
  type OperatorMetrics,
  readEpochReportPages,
  readEpochUsagePages,
  readFinalization,
  runFinalization,
  sortMetrics,
  toPages,
} from "./epochs.js";
import { WATCHER_SET } from "./registry.js";
import { defaultOperatorId, riskSnapshot } from "./riskInputs.js";

/** Which operators go down: those matching every given field (`chainHalt`: every operator of a network). */
export type OutageSelection = {
  cloud?: string;
  region?: string;
  /** Operator ids (a `din up` data dir's) or addresses. */
  operators?: readonly string[];
  /** A network name: every one of its operators is down. */
  chainHalt?: string;
};

export type SimulatedOperator = {
  id: string;
  address: Address;
  network: string;
  cloud: string;
  region: string;
  down: boolean;
  allocatedStakeBefore: bigint;
  allocatedStakeAfter: bigint;
  stakeLost: bigint;
  /** Fees accrued to the operator in the simulated epochs (before the rewards coordinator splits them). */
  feesEarned: bigint;
  jailed: boolean;
  /** Slashes executed on it (wad each, as the slasher emitted them). */
  slashesExecuted: bigint[];
  /** Slashes held for governance by the correlated-failure guard. */
  slashesHeld: number;
};

export type SimulatedDelegator = {
  staker: Address;
  operator: Address;
  withdrawableBefore: bigint;
  withdrawableAfter: bigint;
  lost: bigint;
};

export type SimulationReport = {
  ledger: { rpc: string; chainId: number; forkBlock: bigint; endBlock: bigint };
  /** The outage covers blocks fromBlock..toBlock: `epochs` epochs' worth, from the block after the fork. */
  outage: OutageSelection & { epochs: number; fromBlock: bigint; toBlock: bigint };
  /**
   * Every epoch the outage touches, from the fork block's: the down operators' availability in each is the
   * share of its blocks outside the outage (an outage that starts mid-epoch leaves that epoch partly served).
   */
  epochs: Array<{ network: string; epoch: bigint; reports: number; downAvailabilityBps: number }>;
  operators: SimulatedOperator[];
  delegators: SimulatedDelegator[];
  networks: Array<{
    name: string;
    networkId: number;
    operatorsDown: number;
    stakeBefore: bigint;
    stakeLost: bigint;
    riskBefore: NetworkRisk;
    riskAfter: NetworkRisk;
  }>;
  /** SlashCapped events: a ceiling cut the wad the slash asked for. */
  capped: Array<{ slashId: bigint; requestedWad: bigint; appliedWad: bigint }>;
  /** CorrelatedFailure events: the guard held a rule's slashes for governance. */
  correlated: Array<{
    network: string;
    epoch: bigint;
    reason: number;
    failedStakeBps: bigint;
    count: bigint;
  }>;
  /** SlashHeld events. */
  held: Array<{ heldId: bigint; operator: Address; network: string; epoch: bigint; wad: bigint }>;
};

const sortAddress = (a: Address, b: Address) => (BigInt(a) < BigInt(b) ? -1 : 1);

/** Whether `o` is down under `selection` on `network`. */
export function isDown(
  selection: OutageSelection,
  network: string,
  o: { id: string; address: Address; cloud: string; region: string },
): boolean {
  if (selection.chainHalt !== undefined) return selection.chainHalt === network;
  if (selection.cloud === undefined && selection.region === undefined && !selection.operators?.length)
    return false;
  if (selection.cloud !== undefined && o.cloud !== selection.cloud) return false;
  if (selection.region !== undefined && o.region !== selection.region) return false;
  if (selection.operators?.length) {
    const hit = selection.operators.some((s) => s === o.id || s.toLowerCase() === o.address.toLowerCase());
    if (!hit) return false;
  }
  return true;
}

type Stakers = Map<Address, Address>;

/** Stakers delegated to any of `operators`, from the core's delegation events (current delegation checked). */
async function readDelegators(
  client: PublicClient,
  deployment: DinDeployment,
  operators: ReadonlySet<Address>,
): Promise<Stakers> {
  const dm = deployment.addresses.delegationManager;
  const logs = await client.getContractEvents({
    address: dm,
    abi: delegationManagerAbi,
    eventName: "StakerDelegated",
    fromBlock: 0n,
    strict: true,
  });
  const stakers = new Set(logs.map((l) => getAddress(l.args.staker)));
  for (const o of operators) stakers.add(o);
  const out: Stakers = new Map();
  for (const staker of stakers) {
    const operator = getAddress(
      await client.readContract({
        address: dm,
        abi: delegationManagerAbi,
        functionName: "delegatedTo",
        args: [staker],
      }),
    );
    if (operators.has(operator)) out.set(staker, operator);
  }
  return out;
}

async function withdrawable(
  client: PublicClient,
  deployment: DinDeployment,
  staker: Address,
): Promise<bigint> {
  const strategies = deployment.addresses.strategies;
  const [shares] = await client.readContract({
    address: deployment.addresses.delegationManager,
    abi: delegationManagerAbi,
    functionName: "getWithdrawableShares",
    args: [staker, strategies],
  });
  return shares.reduce((sum, s) => sum + s, 0n);
}

/**
 * Plays `epochs` epochs of the outage `selection` on a fork of the ledger at `rpc` and reports what the
 * contracts did. `ids` names operators by address (a `din up` data dir's ids).
 */
export async function simulateOutage(options: {
  rpc: string;
  deployment: DinDeployment;
  selection: OutageSelection;
  epochs: number;
  ids?: ReadonlyMap<Address, string>;
}): Promise<SimulationReport> {
  const { deployment, selection } = options;
  const d = deployment.addresses;
  if (selection.chainHalt !== undefined && !deployment.networks.some((n) => n.name === selection.chainHalt)) {
    throw new Error(
      `unknown network "${selection.chainHalt}"; this deployment serves: ${deployment.networks.map((n) => n.name).join(", ")}`,
    );
  }
  const fork = await forkChain({ jsonRpcUrl: options.rpc, chainId: deployment.chainId });
  const chain = defineChain({ ...hardhat, id: deployment.chainId });
  const ledger = await createHardhatLedger({ provider: fork.provider, chain });
  const client = ledger.public as PublicClient;
  const idOf = (o: DirectoryOperator) => options.ids?.get(o.address) ?? defaultOperatorId(o);

  // Before: the operators of every network, who is down, their stake and their delegators' shares.
  const before = await Promise.all(deployment.networks.map((n) => readOperators(client, d, n.id)));
  const downBy = new Map<number, Set<Address>>();
  for (const [i, network] of deployment.networks.entries()) {
    const down = new Set<Address>();
    for (const o of before[i] ?? []) {
      if (isDown(selection, network.name, { ...o, id: idOf(o) })) down.add(o.address);
    }
    downBy.set(network.id, down);
  }
  if ([...downBy.values()].every((s) => s.size === 0)) {
    throw new Error(
      "no registered operator matches the outage (--cloud, --region, --operator, --chain-halt)",
    );
  }
  const allOperators = new Set(before.flat().map((o) => o.address));
  const stakers = await readDelegators(client, deployment, allOperators);
  const sharesBefore = new Map<Address, bigint>();
  for (const staker of stakers.keys())
    sharesBefore.set(staker, await withdrawable(client, deployment, staker));
  const accrued = (networkId: number, operator: Address) =>
    client.readContract({
      address: d.epochs,
      abi: dinEpochsAbi,
      functionName: "accruedRewards",
      args: [networkId, operator],
    });
  const accruedBefore = new Map<string, bigint>();
  for (const [i, network] of deployment.networks.entries())
    for (const o of before[i] ?? [])
      accruedBefore.set(`${network.id}:${o.address}`, await accrued(network.id, o.address));

  // The admitted watchers, impersonated; a keeper that finalizes and executes.
  const watcherMembers = await client.readContract({
    address: d.allocationManager,
    abi: allocationManagerAbi,
    functionName: "getMembers",
    args: [{ avs: d.registry, id: WATCHER_SET }],
  });
  const watchers: Address[] = [];
  for (const w of watcherMembers) {
    const active = await client.readContract({
      address: d.registry,
      abi: dinRegistryAbi,
      functionName: "isActiveWatcher",
      args: [w],
    });
    if (active) watchers.push(getAddress(w));
  }
  if (watchers.length === 0) throw new Error("the ledger has no admitted watcher to report the outage");
  for (const w of watchers) await ledger.fund(w);
  const keeper = getAddress("0x00000000000000000000000000000000000d1500");
  await ledger.fund(keeper);

  const epochsContract = { address: d.epochs, abi: dinEpochsAbi } as const;
  const slasher = { address: d.slasher, abi: dinSlasherAbi } as const;
  const played: SimulationReport["epochs"] = [];
  const executeDue = async (all: boolean) => {
    const length = await client.readContract({ ...slasher, functionName: "queueLength" });
    for (let id = 0n; id < length; id++) {
      const s = await client.readContract({ ...slasher, functionName: "getQueuedSlash", args: [id] });
      if (s.status !== 1) continue; // queued only
      const due = BigInt(s.queuedAt) + BigInt(s.vetoWindow) + 1n;
      const head = await ledger.blockNumber();
      if (head + 1n < due) {
        if (!all) continue;
        await ledger.mine(Number(due - head - 1n));
      }
      await ledger.write(keeper, { ...slasher, functionName: "execute", args: [id] });
    }
  };

  // The outage starts after the fork block, the live ledger's head: the blocks up to it were served, as a
  // `din chaos` run now would find them. It lasts `epochs` epochs' worth of blocks, so an outage starting
  // mid-epoch touches one epoch more than it lasts, the first and last partly served.
  const bounds = (epoch: bigint) =>
    client.readContract({ ...epochsContract, functionName: "epochBounds", args: [epoch] });
  const { epochLength } = await client.readContract({ ...epochsContract, functionName: "getEpochParams" });
  const fromBlock = fork.forkBlock + 1n;
  const toBlock = fork.forkBlock + BigInt(options.epochs) * BigInt(epochLength);
  const epochOf = async (block: bigint) => {
    let epoch = await client.readContract({ ...epochsContract, functionName: "currentEpoch" });
    for (
      let [start, end] = await bounds(epoch);
      block < start || block >= end;
      [start, end] = await bounds(epoch)
    )
      epoch += block < start ? -1n : 1n;
    return epoch;
  };
  const [firstEpoch, lastEpoch] = [await epochOf(fork.forkBlock), await epochOf(toBlock)];

  for (let epoch = firstEpoch; epoch <= lastEpoch; epoch++) {
    const [start, end] = await bounds(epoch);
    const head = await ledger.blockNumber();
    if (head + 1n < end) await ledger.mine(Number(end - head - 1n));
    const first = fromBlock > start ? fromBlock : start;
    const last = toBlock < end - 1n ? toBlock : end - 1n;
    const downBlocks = last >= first ? last - first + 1n : 0n;
    // Watchers measure availability over the epoch's probes; blocks come at a steady pace, so the share of
    // the epoch's blocks served stands for it. Only 0 (down all epoch), under the SLA's minimum, or at it
    // decides a slash, and the multiplier (fees) follows it linearly between the floor and the minimum.
    const downAvailabilityBps = Number((10_000n * (end - start - downBlocks)) / (end - start));
    for (const network of deployment.networks) {
      const members = await readOperators(client, d, network.id);
      if (members.length === 0) continue;
      const down = downBy.get(network.id) ?? new Set();
      const metrics = sortMetrics(
        members.map(
          (o): OperatorMetrics => ({
            operator: o.address,
            availabilityBps: down.has(o.address) ? downAvailabilityBps : 10_000,
            p50LatencyMs: 50,
            lagBlocks: 0,
          }),
        ),
      );
      const pages = toPages(metrics);
      let reports = 0;
      for (const watcher of watchers) {
        const reported = await client.readContract({
          ...epochsContract,
          functionName: "hasReported",
          args: [network.id, epoch, watcher],
        });
        if (!reported) {
          for (const [i, page] of pages.entries()) {
            await ledger.write(watcher, {
              ...epochsContract,
              functionName: "submitReportPage",
              args: [network.id, epoch, BigInt(i), i === pages.length - 1, page],
            });
          }
        }
        reports++;
      }
      const [reportPages, usagePages] = await Promise.all([
        readEpochReportPages(client, d.epochs, network.id, epoch, start),
        readEpochUsagePages(client, d.epochs, network.id, epoch, start),
      ]);
      await runFinalization(
        network.id,
        epoch,
        reportPages,
        usagePages,
        () => readFinalization(client, d.epochs, network.id, epoch),
        async (step) => {
          await ledger.write(keeper, { ...epochsContract, ...step } as never);
        },
      );
      played.push({ network: network.name, epoch, reports, downAvailabilityBps });
    }
    await executeDue(false);
  }
  await executeDue(true);
  const endBlock = await ledger.blockNumber();

  // After: what the contracts did.
  const after = await Promise.all(deployment.networks.map((n) => readOperators(client, d, n.id)));
  const range = { fromBlock: fork.forkBlock + 1n, toBlock: endBlock, strict: true } as const;
  const [executed, capped, held, correlated] = await Promise.all([
    client.getContractEvents({ ...slasher, eventName: "SlashExecuted", ...range }),
    client.getContractEvents({ ...slasher, eventName: "SlashCapped", ...range }),
    client.getContractEvents({ ...epochsContract, eventName: "SlashHeld", ...range }),
    client.getContractEvents({ ...epochsContract, eventName: "CorrelatedFailure", ...range }),
  ]);
  const nameOf = (id: number) => deployment.networks.find((n) => n.id === id)?.name ?? String(id);

  const operators: SimulatedOperator[] = [];
  for (const [i, network] of deployment.networks.entries()) {
    const afterBy = new Map((after[i] ?? []).map((o) => [o.address, o]));
    for (const o of before[i] ?? []) {
      const a = afterBy.get(o.address);
      // Read directly: an ejected operator is no member any more, but its allocation is not lost.
      const stakeAfter = await client.readContract({
        address: d.registry,
        abi: dinRegistryAbi,
        functionName: "allocatedStake",
        args: [o.address, network.id],
      });
      const key = `${network.id}:${o.address}`;
      operators.push({
        id: idOf(o),
        address: o.address,
        network: network.name,
        cloud: o.cloud,
        region: o.region,
        down: downBy.get(network.id)?.has(o.address) ?? false,
        allocatedStakeBefore: o.allocatedStake,
        allocatedStakeAfter: stakeAfter,
        stakeLost: o.allocatedStake - stakeAfter,
        feesEarned: (await accrued(network.id, o.address)) - (accruedBefore.get(key) ?? 0n),
        jailed: a?.jailed ?? false,
        slashesExecuted: executed
          .filter((e) => e.args.operator === o.address && e.args.networkId === network.id)
          .map((e) => e.args.wad),
        slashesHeld: held.filter((e) => e.args.operator === o.address && e.args.networkId === network.id)
          .length,
      });
    }
  }
  const delegators: SimulatedDelegator[] = [];
  for (const [staker, operator] of [...stakers].sort(([a], [b]) => sortAddress(a, b))) {
    const b = sharesBefore.get(staker) ?? 0n;
    const a = await withdrawable(client, deployment, staker);
    delegators.push({ staker, operator, withdrawableBefore: b, withdrawableAfter: a, lost: b - a });
  }
  const snapshot = (name: string, list: readonly DirectoryOperator[]): NetworkSnapshot =>
    riskSnapshot(name, list, { idOf });
  return {
    ledger: { rpc: options.rpc, chainId: deployment.chainId, forkBlock: fork.forkBlock, endBlock },
    outage: { ...selection, epochs: options.epochs, fromBlock, toBlock },
    epochs: played,
    operators,
    delegators,
    networks: deployment.networks.map((network, i) => {
      const mine = operators.filter((o) => o.network === network.name);
      return {
        name: network.name,
        networkId: network.id,
        operatorsDown: mine.filter((o) => o.down).length,
        stakeBefore: mine.reduce((s, o) => s + o.allocatedStakeBefore, 0n),
        stakeLost: mine.reduce((s, o) => s + o.stakeLost, 0n),
        riskBefore: networkRisk(snapshot(network.name, before[i] ?? [])),
        riskAfter: networkRisk(snapshot(network.name, after[i] ?? [])),
      };
    }),
    capped: capped.map((e) => ({
      slashId: e.args.slashId,
      requestedWad: e.args.requestedWad,
      appliedWad: e.args.appliedWad,
    })),
    correlated: correlated.map((e) => ({
      network: nameOf(e.args.networkId),
      epoch: e.args.epoch,
      reason: e.args.reason,
      failedStakeBps: e.args.failedStakeBps,
      count: e.args.count,
    })),
    held: held.map((e) => ({
      heldId: e.args.heldId,
      operator: e.args.operator,
      network: nameOf(e.args.networkId),
      epoch: e.args.epoch,
      wad: e.args.wad,
    })),
  };
}
