// Reading SLA epochs back from the ledger: the reports watchers and gateways submitted (the contract keeps
// only their hashes; finalize takes them back in submission order), and finalizing with them.
import type { Address, Hash, PublicClient } from "viem";
import { dinEpochsAbi } from "../artifacts/index.js";
import type { LedgerClients } from "../deploy.js";

/** One operator's metrics in a watcher's report (IDinEpochs.Metrics). */
export type OperatorMetrics = {
  operator: Address;
  /** Share of probes answered correctly, bps. */
  availabilityBps: number;
  p50LatencyMs: number;
  lagBlocks: number;
};

/** Relays one operator served, as one gateway counted them (IDinEpochs.Usage). */
export type OperatorUsage = { operator: Address; relays: bigint };

const byOperator = (a: { operator: Address }, b: { operator: Address }) =>
  BigInt(a.operator) < BigInt(b.operator) ? -1 : 1;

/** Sorts usage by operator address, as reportUsage requires. */
export function sortUsage(usage: readonly OperatorUsage[]): OperatorUsage[] {
  return [...usage].sort(byOperator);
}

/** Sorts metrics by operator address, as submitReport requires. */
export function sortMetrics(metrics: readonly OperatorMetrics[]): OperatorMetrics[] {
  return [...metrics].sort(byOperator);
}

/** The reports submitted for (network, epoch), in submission order: the argument finalize expects. */
export async function readEpochReports(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorMetrics[][]> {
  const logs = await client.getContractEvents({
    address: epochs,
    abi: dinEpochsAbi,
    eventName: "ReportSubmitted",
    args: { networkId, epoch },
    fromBlock,
    strict: true,
  });
  const byIndex = new Map<bigint, OperatorMetrics[]>();
  for (const log of logs) {
    byIndex.set(
      log.args.index,
      log.args.metrics.map((m) => ({
        operator: m.operator,
        availabilityBps: m.availabilityBps,
        p50LatencyMs: m.p50LatencyMs,
        lagBlocks: m.lagBlocks,
      })),
    );
  }
  return [...byIndex.keys()].sort((a, b) => (a < b ? -1 : 1)).map((i) => byIndex.get(i) ?? []);
}

/** The usage reports submitted for (network, epoch), in submission order: finalize's last argument. */
export async function readEpochUsage(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorUsage[][]> {
  const logs = await client.getContractEvents({
    address: epochs,
    abi: dinEpochsAbi,
    eventName: "UsageReported",
    args: { networkId, epoch },
    fromBlock,
    strict: true,
  });
  const byIndex = new Map<bigint, OperatorUsage[]>();
  for (const log of logs) {
    byIndex.set(
      log.args.index,
      log.args.usage.map((u) => ({ operator: u.operator, relays: u.relays })),
    );
  }
  return [...byIndex.keys()].sort((a, b) => (a < b ? -1 : 1)).map((i) => byIndex.get(i) ?? []);
}

/**
 * The verdict the contract takes of `values` (one per watcher covering the operator): the element at index
 * floor(n/2) of the ascending sorted values, for every metric. With liars a strict minority of the values it
 * lies between the lowest and the highest honest value.
 */
export function medianFor(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Reports an epoch needs, with `reportCount` reports in and `activeWatchers` admitted watchers (DinEpochs'
 * thresholds): `needed` for any verdict (a majority of the admitted set, at least `reportQuorum`), `early` to
 * finalize before the report deadline (the tolerated minority, fewer than half of the admitted set, is then a
 * strict minority of the reports: every admitted watcher when their number is odd).
 */
export function finalizationThresholds(
  reportCount: number,
  activeWatchers: number,
  reportQuorum: number,
): { needed: number; early: number } {
  const n = Math.max(reportCount, activeWatchers);
  const needed = Math.max(Math.floor(n / 2) + 1, reportQuorum);
  const early = Math.max(2 * Math.floor(Math.max(n - 1, 0) / 2) + 1, needed);
  return { needed, early };
}

/**
 * Finalizes (network, epoch) with the watchers' reports and gateways' usage read back from the chain;
 * returns the transaction hash.
 */
export async function finalizeEpoch(
  clients: LedgerClients,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<Hash> {
  const reports = await readEpochReports(clients.public, epochs, networkId, epoch, fromBlock);
  const usage = await readEpochUsage(clients.public, epochs, networkId, epoch, fromBlock);
  return clients.wallet.writeContract({
    address: epochs,
    abi: dinEpochsAbi,
    functionName: "finalize",
    args: [networkId, epoch, reports, usage],
    account: clients.wallet.account,
    chain: clients.wallet.chain,
  });
}
