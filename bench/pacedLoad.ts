/**
 * Open-loop load at a fixed rate: requests are started on schedule whether or not earlier ones have been
 * answered, over a pool of keep-alive connections, and each latency counts from when its request was due
 * (no coordinated omission). Requests are spaced evenly, to the microsecond, not sent in a burst per
 * timer tick: at 10,000 req/s a 1 ms timer would send ten at a time, and the latency measured would be
 * the target's queue behind each burst (a target that costs 70 µs a request makes the tenth wait 0.6 ms).
 * Latency is measured with `performance.now()` to the microsecond — autocannon's histogram has a 1 ms
 * resolution, too coarse for an added-latency target of 0.3 ms. Every answer is checked: a non-200
 * status, a transport failure or a JSON-RPC error counts as a client error.
 *
 * The generator shares the machine with what it measures, so it is kept cheap: requests go through
 * undici's dispatch API (no stream or promise chain per request), answers are checked as bytes, and the
 * waits between requests sleep in the kernel rather than spin.
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
/** What the sender sleeps on between two requests less than a millisecond apart (never woken early). */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** The longest the sender blocks before it reads answers again. */
const sliceMs = 0.05;

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
  constructor(
    private readonly tally: Tally,
    private readonly started: number,
  ) {}

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
  await new Promise<void>((resolve) => {
    const step = () => {
      if (sent >= total) {
        resolve();
        return;
      }
      const now = performance.now();
      if (!actionDone && options.at && now - start >= options.at.afterMs) {
        actionDone = true;
        void options.at.action();
      }
      const dueAt = start + sent * intervalMs;
      if (dueAt - now > 2) {
        // A long wait (a low rate) sleeps on a timer, which has a millisecond's resolution.
        setTimeout(step, dueAt - now - 1);
        return;
      }
      // A short one sleeps in slices of at most `sliceMs`, blocking this thread, with a turn of the event
      // loop between slices to read the answers that came meanwhile. Timers cannot wait less than a
      // millisecond, and sending every request due within one millisecond at once would measure the
      // target's queue behind a burst (at 10,000 req/s, ten requests at a time), not its latency; a busy
      // loop would take a core from the process under test. An answer waits at most one slice to be read,
      // for every target alike.
      if (dueAt > now) {
        Atomics.wait(sleeper, 0, 0, Math.min(sliceMs, dueAt - now));
        if (dueAt > performance.now()) {
          setImmediate(step);
          return;
        }
      }
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) {
        // Latency counts from when the request was due, not from when it left: a generator that fell
        // behind must not hide the wait (coordinated omission).
        const scheduled = start + sent * intervalMs;
        sent++;
        tally.pending++;
        pool.dispatch(request, new Answer(tally, scheduled));
      }
      setImmediate(step);
    };
    step();
  });
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
