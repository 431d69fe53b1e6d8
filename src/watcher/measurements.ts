// What a watcher measured of each operator in an epoch, as plain JSON-ready counters: probes sent, probes
// answered correctly and in time, the latencies of those (a sparse integer-millisecond histogram, so
// memory stays bounded however many probes an epoch holds) and the lag behind the agreed head. At the end
// of the epoch the counters become the report's `OperatorMetrics`.
import { type Address, getAddress } from "viem";
import type { OperatorMetrics } from "../ledger/din/epochs.js";

/** One probe's result. A failed probe (error, timeout, bad signature, wrong data) has no latency. */
export type ProbeOutcome = { ok: true; latencyMs: number; lagBlocks: number } | { ok: false };

/** One operator's counters in one epoch of one network. */
export type OperatorCounters = {
  probes: number;
  ok: number;
  /** Latency of ok probes: bucket (ms, as a decimal string key) → count. */
  latencies: Record<string, number>;
  lagSum: number;
  lagCount: number;
};

/** Everything measured in one epoch of one network. */
export type EpochMeasurements = {
  networkId: number;
  /** The epoch, a decimal string (JSON has no bigints). */
  epoch: string;
  operators: Record<Address, OperatorCounters>;
};

// Below this every millisecond is its own bucket; above, ten milliseconds share one. The SLA's latency
// line (200 ms) sits well inside the exact range.
const exactBelowMs = 1000;
const coarseStepMs = 10;
// A latency is never recorded above this (probes time out long before).
const maxLatencyMs = 600_000;

/** The histogram bucket of a latency: whole milliseconds, coarser above one second. */
export function latencyBucket(latencyMs: number): number {
  const ms = Math.min(Math.max(0, Math.round(latencyMs)), maxLatencyMs);
  return ms < exactBelowMs ? ms : Math.round(ms / coarseStepMs) * coarseStepMs;
}

/** Fresh counters. */
export function emptyCounters(): OperatorCounters {
  return { probes: 0, ok: 0, latencies: {}, lagSum: 0, lagCount: 0 };
}

/** Fresh measurements of (network, epoch). */
export function emptyEpoch(networkId: number, epoch: bigint): EpochMeasurements {
  return { networkId, epoch: epoch.toString(), operators: {} };
}

/** Counts one probe of `operator` (mutates and returns `epoch`). */
export function recordProbe(
  epoch: EpochMeasurements,
  operator: Address,
  outcome: ProbeOutcome,
): EpochMeasurements {
  const key = getAddress(operator);
  let counters = epoch.operators[key];
  if (!counters) {
    counters = emptyCounters();
    epoch.operators[key] = counters;
  }
  counters.probes += 1;
  if (outcome.ok) {
    counters.ok += 1;
    const bucket = String(latencyBucket(outcome.latencyMs));
    counters.latencies[bucket] = (counters.latencies[bucket] ?? 0) + 1;
    counters.lagSum += Math.max(0, Math.round(outcome.lagBlocks));
    counters.lagCount += 1;
  }
  return epoch;
}

/**
 * The median of a latency histogram: the lower middle value (with an even count, the one that favours
 * the operator), 0 when empty.
 */
export function histogramMedian(latencies: Record<string, number>): number {
  const buckets = Object.entries(latencies)
    .map(([ms, count]) => [Number(ms), count] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return 0;
  const rank = Math.ceil(total / 2);
  let seen = 0;
  for (const [ms, count] of buckets) {
    seen += count;
    if (seen >= rank) return ms;
  }
  return buckets[buckets.length - 1]?.[0] ?? 0;
}

const uint32Max = 2 ** 32 - 1;

/**
 * One operator's metrics from its counters: availability is the floor of ok / probes in bps (0 when it
 * never answered), p50 latency and mean lag (rounded) over the ok probes.
 */
export function toOperatorMetrics(
  operator: Address,
  counters: OperatorCounters | undefined,
): OperatorMetrics {
  const c = counters ?? emptyCounters();
  return {
    operator: getAddress(operator),
    availabilityBps: c.probes === 0 ? 0 : Math.floor((c.ok * 10_000) / c.probes),
    p50LatencyMs: Math.min(histogramMedian(c.latencies), uint32Max),
    lagBlocks: c.lagCount === 0 ? 0 : Math.min(Math.round(c.lagSum / c.lagCount), uint32Max),
  };
}

/**
 * The report of an epoch: one entry per registered operator this watcher probed at least once. An
 * operator that was probed and never answered gets availability 0; one registered too late to be probed
 * at all is left out (no observation is not evidence of downtime; the other watchers' medians cover it).
 * Operators no longer registered are left out too. Unsorted: the ledger's `sortMetrics` orders it.
 */
export function epochMetrics(epoch: EpochMeasurements, registered: readonly Address[]): OperatorMetrics[] {
  const metrics: OperatorMetrics[] = [];
  for (const address of new Set(registered.map((a) => getAddress(a)))) {
    const counters = epoch.operators[address];
    if (!counters || counters.probes === 0) continue;
    metrics.push(toOperatorMetrics(address, counters));
  }
  return metrics;
}
