// Reading SLA epochs back from the ledger: the reports watchers and gateways submitted page by page (the
// contract keeps only each page's hash; finalization takes them back), and finalizing with them in steps.
import type { Address, Hash, PublicClient } from "viem";
import { dinEpochsAbi } from "../artifacts/index.js";
import type { LedgerClients } from "../deploy.js";
import { sendAndWait } from "../send.js";

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

/** Most operators one page of a report may list (DinEpochs.MAX_PAGE_LENGTH). */
export const MAX_PAGE_LENGTH = 64;
/** The upper end of the last operator range of a finalization step. */
export const LAST_OPERATOR: Address = "0xffffffffffffffffffffffffffffffffffffffff";

/** Splits a sorted report into the pages submitReportPage / reportUsagePage take (at least one page). */
export function toPages<T>(items: readonly T[], pageLength = MAX_PAGE_LENGTH): T[][] {
  const pages: T[][] = [];
  for (let i = 0; i < items.length; i += pageLength) pages.push(items.slice(i, i + pageLength));
  return pages.length > 0 ? pages : [[]];
}

/**
 * Complete reports of (network, epoch) from `eventName` page events, grouped by reporter and ordered by the
 * completion index the contract gave them: report → pages → entries.
 */
async function readPaged<T>(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock: bigint,
  kind: "reports" | "usage",
  entries: (log: unknown) => T[],
): Promise<T[][][]> {
  const [pageLogs, completeLogs] = await Promise.all([
    client.getContractEvents({
      address: epochs,
      abi: dinEpochsAbi,
      eventName: kind === "reports" ? "ReportSubmitted" : "UsageReported",
      args: { networkId, epoch },
      fromBlock,
      strict: true,
    }),
    client.getContractEvents({
      address: epochs,
      abi: dinEpochsAbi,
      eventName: kind === "reports" ? "ReportCompleted" : "UsageCompleted",
      args: { networkId, epoch },
      fromBlock,
      strict: true,
    }),
  ]);
  const pages = new Map<string, T[][]>();
  for (const log of pageLogs) {
    const args = log.args as { page: bigint; watcher?: Address; gateway?: Address };
    const reporter = (args.watcher ?? args.gateway ?? "").toLowerCase();
    const list = pages.get(reporter) ?? [];
    list[Number(args.page)] = entries(log);
    pages.set(reporter, list);
  }
  const byIndex = new Map<bigint, T[][]>();
  for (const log of completeLogs) {
    const args = log.args as { index: bigint; watcher?: Address; gateway?: Address };
    byIndex.set(args.index, pages.get((args.watcher ?? args.gateway ?? "").toLowerCase()) ?? [[]]);
  }
  return [...byIndex.keys()].sort((a, b) => (a < b ? -1 : 1)).map((i) => byIndex.get(i) ?? [[]]);
}

/** The complete watchers' reports of (network, epoch), page by page, in completion order. */
export async function readEpochReportPages(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorMetrics[][][]> {
  return readPaged(client, epochs, networkId, epoch, fromBlock, "reports", (log) =>
    (log as { args: { metrics: readonly OperatorMetrics[] } }).args.metrics.map((m) => ({
      operator: m.operator,
      availabilityBps: m.availabilityBps,
      p50LatencyMs: m.p50LatencyMs,
      lagBlocks: m.lagBlocks,
    })),
  );
}

/** The complete usage reports of (network, epoch), page by page, in completion order. */
export async function readEpochUsagePages(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorUsage[][][]> {
  return readPaged(client, epochs, networkId, epoch, fromBlock, "usage", (log) =>
    (log as { args: { usage: readonly OperatorUsage[] } }).args.usage.map((u) => ({
      operator: u.operator,
      relays: u.relays,
    })),
  );
}

/** The complete watchers' reports of (network, epoch), each flattened, in completion order. */
export async function readEpochReports(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorMetrics[][]> {
  return (await readEpochReportPages(client, epochs, networkId, epoch, fromBlock)).map((r) => r.flat());
}

/** The complete usage reports of (network, epoch), each flattened, in completion order. */
export async function readEpochUsage(
  client: PublicClient,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<OperatorUsage[][]> {
  return (await readEpochUsagePages(client, epochs, networkId, epoch, fromBlock)).map((r) => r.flat());
}

/** The pages of a report a step over (from, upTo] needs: their first index and the pages themselves. */
export function pagesFor<T extends { operator: Address }>(
  pages: readonly T[][],
  from: Address,
  upTo: Address,
): { first: bigint; pages: T[][] } {
  const lo = BigInt(from);
  const hi = BigInt(upTo);
  // The page's last operator (an empty page ends where the previous one did).
  const lasts: bigint[] = [];
  let last = 0n;
  for (const page of pages) {
    const end = page.at(-1);
    if (end) last = BigInt(end.operator);
    lasts.push(last);
  }
  let first = lasts.findIndex((l) => l > lo);
  if (first < 0) first = pages.length - 1;
  let end = first;
  while (end < pages.length - 1 && (lasts[end] ?? 0n) < hi) end++;
  return { first: BigInt(first), pages: pages.slice(first, end + 1) };
}

/**
 * Upper ends of the operator ranges finalization judges (and pays) step by step: the last operator of each
 * page of the report with the most pages (honest watchers page alike, so a step takes one page of each
 * report), the last one open-ended.
 */
export function stepBounds(reports: readonly { operator: Address }[][][]): Address[] {
  let longest: readonly { operator: Address }[][] = [];
  for (const report of reports) if (report.length > longest.length) longest = report;
  const bounds: Address[] = [];
  for (const page of longest.slice(0, -1)) {
    const end = page.at(-1);
    if (end && (bounds.length === 0 || BigInt(end.operator) > BigInt(bounds.at(-1) ?? 0)))
      bounds.push(end.operator);
  }
  bounds.push(LAST_OPERATOR);
  return bounds;
}

/** Slashes one settling step queues or holds. */
export const SETTLE_PAGE = 100;

/** One finalization transaction: DinEpochs' function and its arguments. */
export type FinalizationStep = {
  functionName: "finalizePage" | "settlePage" | "payPage";
  args: readonly unknown[];
};

/**
 * Runs (network, epoch)'s finalization to its end from wherever it stands, with `reports` and `usage` as
 * readEpochReportPages / readEpochUsagePages return them: judging a range of operators per step (one page
 * of every report), settling `settlePage` slashes per step, paying a range per step. `stage` reads
 * getFinalization; `send` sends one step and resolves once it is mined.
 */
export async function runFinalization(
  networkId: number,
  epoch: bigint,
  reports: readonly OperatorMetrics[][][],
  usage: readonly OperatorUsage[][][],
  stage: () => Promise<readonly [number, Address, bigint, bigint]>,
  send: (step: FinalizationStep) => Promise<void>,
  settlePage = SETTLE_PAGE,
): Promise<void> {
  const runs = <T extends { operator: Address }>(all: readonly T[][][], from: Address, upTo: Address) => {
    const picked = all.map((r) => pagesFor(r, from, upTo));
    return [picked.map((p) => p.first), picked.map((p) => p.pages)] as const;
  };
  let [current, cursor] = await stage();
  // Judging: every report's pages for each range (Stage.Reporting = 0 starts it, Judging = 1).
  if (current <= 1) {
    for (const upTo of stepBounds(reports)) {
      if (BigInt(upTo) <= BigInt(cursor)) continue;
      const [firstPages, pages] = runs(reports, cursor, upTo);
      const [firstUsage, usagePages] = runs(usage, cursor, upTo);
      await send({
        functionName: "finalizePage",
        args: [networkId, epoch, upTo, firstPages, pages, firstUsage, usagePages],
      });
      cursor = upTo;
    }
    [current, cursor] = await stage();
  }
  // Settling (2): the recorded slashes, a page at a time.
  while (current === 2) {
    await send({ functionName: "settlePage", args: [networkId, epoch, BigInt(settlePage)] });
    [current, cursor] = await stage();
  }
  // Paying (3): every usage report's pages for each range.
  if (current === 3) {
    for (const upTo of stepBounds(usage.length > 0 ? usage : reports)) {
      if (BigInt(upTo) <= BigInt(cursor)) continue;
      const [firstUsage, usagePages] = runs(usage, cursor, upTo);
      await send({ functionName: "payPage", args: [networkId, epoch, upTo, firstUsage, usagePages] });
      cursor = upTo;
    }
  }
}

/** Reads where (network, epoch)'s finalization stands (DinEpochs.getFinalization). */
export function readFinalization(client: PublicClient, epochs: Address, networkId: number, epoch: bigint) {
  return client.readContract({
    address: epochs,
    abi: dinEpochsAbi,
    functionName: "getFinalization",
    args: [networkId, epoch],
  });
}

/**
 * Finalizes (network, epoch) with the watchers' reports and gateways' usage read back from the chain, step
 * by step, resuming where an earlier call stopped; returns the steps' transaction hashes.
 */
export async function finalizeEpoch(
  clients: LedgerClients,
  epochs: Address,
  networkId: number,
  epoch: bigint,
  fromBlock = 0n,
): Promise<Hash[]> {
  const [reports, usage] = await Promise.all([
    readEpochReportPages(clients.public, epochs, networkId, epoch, fromBlock),
    readEpochUsagePages(clients.public, epochs, networkId, epoch, fromBlock),
  ]);
  const hashes: Hash[] = [];
  await runFinalization(
    networkId,
    epoch,
    reports,
    usage,
    () => readFinalization(clients.public, epochs, networkId, epoch),
    async (step) => {
      hashes.push(await sendAndWait(clients, { address: epochs, abi: dinEpochsAbi, ...step }));
    },
  );
  // Paying only accrued the epoch's rewards: escrow them if a whole rewards interval has elapsed. A flush the
  // core refuses keeps them accrued for the next try; it never fails the finalization.
  const flushed = await flushRewardsIfDue(clients, epochs, networkId).catch(() => undefined);
  if (flushed) hashes.push(flushed);
  return hashes;
}

/**
 * Escrows a network's accrued rewards in the RewardsCoordinator (DinEpochs.flushRewards, anyone may) when
 * something accrued and a whole CALCULATION_INTERVAL_SECONDS elapsed since the last flush; returns the
 * transaction, or undefined when nothing is due.
 */
export async function flushRewardsIfDue(
  clients: LedgerClients,
  epochs: Address,
  networkId: number,
): Promise<Hash | undefined> {
  const contract = { address: epochs, abi: dinEpochsAbi } as const;
  const [[, duration], accrued] = await Promise.all([
    clients.public.readContract({ ...contract, functionName: "rewardsPeriod", args: [networkId] }),
    clients.public.readContract({ ...contract, functionName: "accruedTotal", args: [networkId] }),
  ]);
  if (duration === 0 || accrued === 0n) return undefined;
  const { request } = await clients.public.simulateContract({
    ...contract,
    functionName: "flushRewards",
    args: [networkId],
    account: clients.wallet.account,
  });
  return sendAndWait(clients, request);
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
