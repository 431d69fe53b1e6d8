import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import {
  emptyEpoch,
  epochMetrics,
  histogramMedian,
  latencyBucket,
  recordProbe,
  toOperatorMetrics,
} from "../../src/watcher/measurements.js";

const A = getAddress("0x00000000000000000000000000000000000000aa");
const B = getAddress("0x00000000000000000000000000000000000000bb");
const C = getAddress("0x00000000000000000000000000000000000000cc");

describe("watcher measurements", () => {
  it("gives an operator that never answered availability 0 and no latency or lag", () => {
    const epoch = emptyEpoch(1, 7n);
    for (let i = 0; i < 5; i++) recordProbe(epoch, A, { ok: false });
    expect(toOperatorMetrics(A, epoch.operators[A])).toEqual({
      operator: A,
      availabilityBps: 0,
      p50LatencyMs: 0,
      lagBlocks: 0,
    });
  });

  it("floors availability to whole bps, so 2 of 3 is 6666 and one miss in 10 000 is below 100%", () => {
    const epoch = emptyEpoch(1, 0n);
    recordProbe(epoch, A, { ok: true, latencyMs: 10, lagBlocks: 0 });
    recordProbe(epoch, A, { ok: true, latencyMs: 10, lagBlocks: 0 });
    recordProbe(epoch, A, { ok: false });
    const [metrics] = epochMetrics(epoch, [A]);
    expect(metrics?.availabilityBps).toBe(6666);

    const long = emptyEpoch(1, 0n);
    for (let i = 0; i < 9999; i++) recordProbe(long, B, { ok: true, latencyMs: 5, lagBlocks: 0 });
    recordProbe(long, B, { ok: false });
    expect(epochMetrics(long, [B])[0]?.availabilityBps).toBe(9999);
  });

  it("takes p50 latency and mean lag over the ok probes only", () => {
    const epoch = emptyEpoch(1, 3n);
    for (const [latencyMs, lagBlocks] of [
      [12, 0],
      [30, 1],
      [18.4, 2],
      [500, 2],
    ] as const) {
      recordProbe(epoch, A, { ok: true, latencyMs, lagBlocks });
    }
    recordProbe(epoch, A, { ok: false });
    expect(epochMetrics(epoch, [A])).toEqual([
      { operator: A, availabilityBps: 8000, p50LatencyMs: 18, lagBlocks: 1 },
    ]);
  });

  it("keeps memory bounded: 200 000 probes of latencies up to 2 s fill at most 1101 histogram buckets", () => {
    const epoch = emptyEpoch(1, 0n);
    for (let i = 0; i < 200_000; i++) {
      recordProbe(epoch, A, { ok: true, latencyMs: (i * 7919) % 2000, lagBlocks: 0 });
    }
    const counters = Object.values(epoch.operators)[0];
    expect(Object.keys(counters?.latencies ?? {}).length).toBeLessThanOrEqual(1101);
    expect(counters?.ok).toBe(200_000);
    expect(latencyBucket(1234.4)).toBe(1230);
    expect(latencyBucket(199.6)).toBe(200);
  });

  it("takes the lower middle as the median of an even count, the value that favours the operator", () => {
    expect(histogramMedian({ "10": 1, "300": 1 })).toBe(10);
    expect(histogramMedian({ "10": 1, "20": 1, "300": 1 })).toBe(20);
    expect(histogramMedian({})).toBe(0);
  });

  it("reports every registered operator it probed, and leaves out the unprobed and the departed", () => {
    const epoch = emptyEpoch(2, 9n);
    recordProbe(epoch, A, { ok: true, latencyMs: 4, lagBlocks: 0 });
    recordProbe(epoch, C, { ok: false });
    const metrics = epochMetrics(epoch, [A, B]);
    expect(metrics.map((m) => m.operator)).toEqual([A]);
  });

  it("survives a JSON round trip unchanged, so a restarted watcher continues its counts", () => {
    const epoch = emptyEpoch(1, 4n);
    recordProbe(epoch, A, { ok: true, latencyMs: 21, lagBlocks: 3 });
    recordProbe(epoch, A, { ok: false });
    const revived = JSON.parse(JSON.stringify(epoch)) as typeof epoch;
    recordProbe(revived, A, { ok: true, latencyMs: 25, lagBlocks: 1 });
    expect(epochMetrics(revived, [A])[0]).toMatchObject({
      availabilityBps: 6666,
      p50LatencyMs: 21,
      lagBlocks: 2,
    });
  });
});
