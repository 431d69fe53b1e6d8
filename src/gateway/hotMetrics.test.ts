import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { collectHot, HotCount, HotObservations } from "./hotMetrics.js";

const buckets = [0.001, 0.01, 0.1, 1];

/** A counter and a histogram in their own registry; `hot` ones fold local series in when read. */
function metrics(hot: boolean) {
  const registry = new Registry();
  const counter = new Counter({
    name: "t_requests_total",
    help: "h",
    labelNames: ["network", "outcome"] as const,
    registers: [registry],
    ...(hot ? { collect: collectHot } : {}),
  });
  const histogram = new Histogram({
    name: "t_latency_seconds",
    help: "h",
    labelNames: ["network"] as const,
    buckets,
    registers: [registry],
    ...(hot ? { collect: collectHot } : {}),
  });
  return { registry, counter, histogram };
}

describe("per-request metrics counted locally", () => {
  it("reports exactly what prom-client reports for the same updates, read after read (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.tuple(
              fc.constantFrom("a", "b"),
              fc.constantFrom("ok", "error"),
              fc.double({ min: 0, max: 5, noNaN: true }),
            ),
            { maxLength: 30 },
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (reads) => {
          const plain = metrics(false);
          const hot = metrics(true);
          const counts = new Map<string, HotCount>();
          const observations = new Map<string, HotObservations>();
          for (const updates of reads) {
            for (const [network, outcome, value] of updates) {
              plain.counter.labels(network, outcome).inc();
              plain.histogram.labels(network).observe(value);
              const key = `${network}/${outcome}`;
              if (!counts.has(key))
                counts.set(key, new HotCount(hot.counter, hot.counter.labels(network, outcome)));
              if (!observations.has(network))
                observations.set(network, new HotObservations(hot.histogram, { network }, buckets));
              counts.get(key)!.inc();
              observations.get(network)!.observe(value);
            }
            // Each read folds in what came since the last one, and only that.
            const [expected, actual] = await Promise.all([
              plain.registry.getMetricsAsJSON(),
              hot.registry.getMetricsAsJSON(),
            ]);
            const sorted = (json: typeof expected) =>
              json.map((metric) => ({
                ...metric,
                values: [...metric.values]
                  .map((v) => ({ ...v, value: Math.round(v.value * 1e9) / 1e9 }))
                  .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
              }));
            expect(sorted(actual)).toEqual(sorted(expected));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("is in the text exposition a scrape reads, after a reset too", async () => {
    const { registry, counter, histogram } = metrics(true);
    const count = new HotCount(counter, counter.labels("a", "ok"));
    const latency = new HotObservations(histogram, { network: "a" }, buckets);
    count.inc();
    count.inc();
    latency.observe(0.005);
    latency.observe(7);
    const text = await registry.metrics();
    expect(text).toContain('t_requests_total{network="a",outcome="ok"} 2');
    expect(text).toContain('t_latency_seconds_bucket{le="0.01",network="a"} 1');
    expect(text).toContain('t_latency_seconds_bucket{le="+Inf",network="a"} 2');
    expect(text).toContain('t_latency_seconds_count{network="a"} 2');
    registry.resetMetrics();
    latency.observe(0.05);
    expect(await registry.metrics()).toContain('t_latency_seconds_count{network="a"} 1');
  });
});
