/**
 * Open-loop load at a fixed rate: requests are started on schedule whether or not earlier ones have been
 * answered (no coordinated omission), over a pool of keep-alive connections. Latency is measured with
 * `performance.now()` to the microsecond — autocannon's histogram has a 1 ms resolution, too coarse for an
 * added-latency target of 0.3 ms. Every answer is checked: a non-200 status, a transport failure or a
 * JSON-RPC error counts as a client error.
 *
 * The generator shares the machine with what it measures, so it is kept cheap: requests go through
 * undici's dispatch API (no stream or promise chain per request) and answers are checked as bytes, which
 * halves its CPU time per request against `pool.request` + `body.text()` and leaves the cores to the
 * target.
 */
import { type Dispatcher, Pool } from "undici";

export interface PacedOptions {
  url: string;
  body: string;
  ratePerSecond: number;
  durationSeconds: number;
  connections: number;
  /** Called once, this many milliseconds into the run. */
  at?: { afterMs: number; action: () => void | Promise<void> };
}

export interface PacedResult {
  sent: number;
  errors: number;
  /** A few distinct error descriptions, for the report. */
  errorSamples: string[];
  achievedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const errorMarker = Buffer.from('"error"');

/** What one run collects; each answer's handler reports to it. */
class Tally {
  /** Latencies in ms, in the order answers came; preallocated so the run allocates as little as it can. */
  readonly latencies: Float64Array;
  count = 0;
  readonly samples = new Set<string>();
  errors = 0;
  pending = 0;
  private drained: (() => void) | undefined;

  constructor(total: number) {
    this.latencies = new Float64Array(total);
  }

  fail(description: string): void {
    this.errors++;
    if (this.samples.size < 5) this.samples.add(description.slice(0, 200));
  }

  settled(started: number): void {
    this.latencies[this.count++] = performance.now() - started;
    this.pending--;
    if (this.pending === 0) this.drained?.();
  }

  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }
}

type Controller = Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseStart"]>>[0];

/** One request's answer: its status and body bytes, checked when it ends. */
class Answer implements Dispatcher.DispatchHandler {
  private status = 0;
  private readonly chunks: Buffer[] = [];
  private readonly started = performance.now();

  constructor(private readonly tally: Tally) {}

  /** Present so that undici treats this as a handler of its current dispatch API. */
  onRequestStart(): void {}

  onResponseStart(_controller: Controller, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (this.status !== 200) this.tally.fail(`HTTP ${this.status}: ${body.toString("utf8")}`);
    else if (body.includes(errorMarker)) this.tally.fail(body.toString("utf8"));
    this.tally.settled(this.started);
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.tally.fail(`${error.name}: ${error.message}`);
    this.tally.settled(this.started);
  }
}

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, keepAliveTimeout: 60_000 });
  const request: Dispatcher.DispatchOptions = {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: Buffer.from(options.body),
  };
  let sent = 0;
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const tally = new Tally(total);
  const intervalMs = 1000 / options.ratePerSecond;

  const start = performance.now();
  let actionDone = options.at === undefined;
  while (sent < total) {
    const elapsed = performance.now() - start;
    if (!actionDone && options.at && elapsed >= options.at.afterMs) {
      actionDone = true;
      void options.at.action();
    }
    const due = Math.min(total, Math.floor(elapsed / intervalMs) + 1);
    while (sent < due) {
      sent++;
      tally.pending++;
      pool.dispatch(request, new Answer(tally));
    }
    // Requests due within the same millisecond leave together; a busy loop would take a core from the
    // process under test on a small machine.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const sendingMs = performance.now() - start;
  await tally.drain();
  await pool.close();
  const latencies = tally.latencies.subarray(0, tally.count).sort();
  const quantile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    sent,
    errors: tally.errors,
    errorSamples: [...tally.samples],
    achievedPerSecond: (sent / sendingMs) * 1000,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
}
