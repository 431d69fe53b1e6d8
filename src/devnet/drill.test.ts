// The drill runner's arithmetic: durations and rates as the CLI takes them, the timeline (warm-up, outage,
// recovery), and the per-window summary of the samples (availability, p50 and p99 of answered requests).
import { describe, expect, it } from "vitest";
import { drillTimeline, parseDuration, parseRate, summarizeWindows, WINDOW_MS } from "./drill.js";

describe("parseDuration and parseRate", () => {
  it("read 60s, 2m, 1500ms and bare seconds; rates as 200/s or 200", () => {
    expect(parseDuration("60s")).toBe(60_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1500ms")).toBe(1_500);
    expect(parseDuration(" 90 ")).toBe(90_000);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(() => parseDuration("soon")).toThrow(/60s, 2m or 1500ms/);
    expect(parseRate("200/s")).toBe(200);
    expect(parseRate("12.5")).toBe(12.5);
    expect(() => parseRate("0/s")).toThrow(/200\/s/);
    expect(() => parseRate("fast")).toThrow(/200\/s/);
  });
});

describe("drillTimeline", () => {
  it("warms up a quarter, takes the cloud down for the middle half, recovers the last quarter", () => {
    expect(drillTimeline(60_000)).toEqual({
      warmupMs: 15_000,
      downAtMs: 15_000,
      okAtMs: 45_000,
      endMs: 60_000,
    });
  });
});

describe("summarizeWindows", () => {
  it("sorts samples into windows by send time, marks the outage, and measures answered requests only", () => {
    const timeline = drillTimeline(20_000);
    const samples = [
      { sentMs: 0, latencyMs: 10, ok: true },
      { sentMs: 1_000, latencyMs: 20, ok: true },
      { sentMs: 4_999, latencyMs: 30, ok: true },
      // The outage: one answered slowly, two failed (their latency does not count).
      { sentMs: 5_000, latencyMs: 500, ok: true },
      { sentMs: 6_000, latencyMs: 10_000, ok: false },
      { sentMs: 9_000, latencyMs: 10_000, ok: false },
      // A sample past the end counts in the last window.
      { sentMs: 19_000, latencyMs: 5, ok: true },
      { sentMs: 20_500, latencyMs: 7, ok: true },
    ];
    const windows = summarizeWindows(samples, 20_000, timeline);
    expect(windows.map((w) => w.startMs)).toEqual([0, 5_000, 10_000, 15_000]);
    expect(windows.map((w) => w.outage)).toEqual([false, true, true, false]);
    expect(windows[0]).toEqual({
      index: 0,
      startMs: 0,
      outage: false,
      requests: 3,
      errors: 0,
      availability: 1,
      p50Ms: 20,
      p99Ms: 30,
    });
    expect(windows[1]).toMatchObject({
      requests: 3,
      errors: 2,
      availability: expect.closeTo(1 / 3),
      p50Ms: 500,
      p99Ms: 500,
    });
    expect(windows[2]).toMatchObject({
      requests: 0,
      errors: 0,
      availability: null,
      p50Ms: null,
      p99Ms: null,
    });
    expect(windows[3]).toMatchObject({ requests: 2, errors: 0, p50Ms: 7, p99Ms: 7 });
  });

  it("has one window at least, of WINDOW_MS", () => {
    const windows = summarizeWindows([], 1_000, drillTimeline(1_000));
    expect(windows).toHaveLength(1);
    expect(WINDOW_MS).toBe(5_000);
  });
});
