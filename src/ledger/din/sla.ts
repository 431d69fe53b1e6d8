// The SLA math of DinEpochs as pure functions: the median per operator across watchers' reports, and what
// the SLA table makes of it (performance multiplier and slashes). Watchers use it to predict an epoch's
// outcome; tests check the contract against it.
import type { Address } from "viem";
import type { SlaTable } from "./deploy.js";
import { medianFor, type OperatorMetrics } from "./epochs.js";

const MAX_BPS = 10_000n;

/** What the SLA table makes of one operator's median metrics. */
export type Assessment = {
  /** Performance multiplier in bps: 10000 at SLA, falling to 0. */
  multiplierBps: bigint;
  /** Slash fractions (WAD) queued; 0 when not triggered. */
  downWad: bigint;
  availabilityWad: bigint;
  latencyWad: bigint;
};

/** DinEpochs.assess: the multiplier and the slashes of a median measurement. */
export function assess(table: SlaTable, median: Omit<OperatorMetrics, "operator">): Assessment {
  const { availabilityBps, p50LatencyMs, lagBlocks } = median;
  if (availabilityBps === 0)
    return { multiplierBps: 0n, downWad: table.downWad, availabilityWad: 0n, latencyWad: 0n };
  const availabilityWad = availabilityBps < table.minAvailabilityBps ? table.availabilityWad : 0n;
  const latencyWad = p50LatencyMs > table.maxP50LatencyMs ? table.latencyWad : 0n;
  let multiplierBps = 0n;
  if (availabilityBps >= table.minAvailabilityBps) multiplierBps = MAX_BPS;
  else if (availabilityBps > table.floorAvailabilityBps) {
    multiplierBps =
      (BigInt(availabilityBps - table.floorAvailabilityBps) * MAX_BPS) /
      BigInt(table.minAvailabilityBps - table.floorAvailabilityBps);
  }
  if (p50LatencyMs > table.maxP50LatencyMs)
    multiplierBps = (multiplierBps * BigInt(table.maxP50LatencyMs)) / BigInt(p50LatencyMs);
  if (lagBlocks > table.maxLagBlocks)
    multiplierBps = (multiplierBps * BigInt(table.maxLagBlocks)) / BigInt(lagBlocks);
  return { multiplierBps, downWad: 0n, availabilityWad, latencyWad };
}

/** One operator's verdict in an epoch. */
export type Judgment = OperatorMetrics & Assessment;

/**
 * The operators an epoch's reports judge, ascending: those covered by more than half of the reports, with
 * the element at index floor(n/2) of each metric's sorted values. Fewer reports than `needed` (a majority
 * of the admitted watcher set, see finalizationThresholds) judge nobody.
 */
export function judgeReports(reports: readonly OperatorMetrics[][], table: SlaTable, needed = 1): Judgment[] {
  if (reports.length < needed) return [];
  const byOperator = new Map<Address, OperatorMetrics[]>();
  for (const report of reports) {
    for (const m of report) {
      const list = byOperator.get(m.operator) ?? [];
      list.push(m);
      byOperator.set(m.operator, list);
    }
  }
  const judgments: Judgment[] = [];
  for (const [operator, list] of byOperator) {
    if (2 * list.length <= reports.length) continue;
    const median = {
      availabilityBps: medianFor(list.map((m) => m.availabilityBps)),
      p50LatencyMs: medianFor(list.map((m) => m.p50LatencyMs)),
      lagBlocks: medianFor(list.map((m) => m.lagBlocks)),
    };
    judgments.push({ operator, ...median, ...assess(table, median) });
  }
  return judgments.sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1));
}
