/**
 * The metrics every request updates, counted in plain numbers and folded into prom-client's series when
 * the registry is read (its `collect` hook). prom-client builds a label object and a hash string on every
 * update of a series, child or not: four updates a request were about a kilobyte of garbage per request.
 * Here an update is an addition; a read of `/metrics` (or of a metric's `get()`) first adds what was
 * counted since the last read, so what prom-client reports is never behind.
 */
import type { Counter, Histogram } from "prom-client";

interface Flushable {
  flush(): void;
}

/** What each metric has to fold in when it is read. */
const pendingOf = new WeakMap<object, Flushable[]>();

/** The `collect` hook of a metric with hot series: folds them in before prom-client reports. */
export function collectHot(this: object): void {
  for (const series of pendingOf.get(this) ?? []) series.flush();
}

function track(metric: object, series: Flushable): void {
  let list = pendingOf.get(metric);
  if (!list) {
    list = [];
    pendingOf.set(metric, list);
  }
  list.push(series);
}

/** One counter series, counted locally. */
export class HotCount implements Flushable {
  private pending = 0;

  constructor(
    counter: Counter<string>,
    private readonly series: { inc(value: number): void },
  ) {
    track(counter, this);
  }

  inc(): void {
    this.pending++;
  }

  flush(): void {
    if (this.pending === 0) return;
    this.series.inc(this.pending);
    this.pending = 0;
  }
}

/** prom-client's record of one histogram series (non-cumulative counts per upper bound). */
interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** One histogram series, observed into local buckets. */
export class HotObservations implements Flushable {
  /** Per upper bound, then the values above the last one (counted by `count` alone, as prom-client does). */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    track(histogram, this);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += value;
    this.count++;
  }

  flush(): void {
    if (this.count === 0) return;
    const entry = this.entry();
    this.bounds.forEach((bound, index) => {
      entry.bucketValues[bound] = (entry.bucketValues[bound] ?? 0) + this.counts[index]!;
    });
    entry.sum += this.sum;
    entry.count += this.count;
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** prom-client's record of this series, created (at zero, its public `zero`) when it has none yet. */
  private entry(): HistogramEntry {
    const find = () =>
      Object.values((this.histogram as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap).find(
        (entry) => Object.entries(this.labels).every(([name, value]) => entry.labels[name] === value),
      );
    let entry = find();
    if (!entry) {
      this.histogram.zero(this.labels);
      entry = find();
    }
    if (!entry) throw new Error(`prom-client keeps no series for ${JSON.stringify(this.labels)}`);
    return entry;
  }
}
