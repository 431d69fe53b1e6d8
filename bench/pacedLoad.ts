/**
 * Open-loop load at a fixed rate: requests are started on schedule whether or not earlier ones have been
 * answered (no coordinated omission), over a pool of keep-alive connections. Latency is measured with
 * `performance.now()` to the microsecond — autocannon's histogram has a 1 ms resolution, too coarse for an
 * added-latency target of 0.3 ms. Every answer is checked: a non-200 status, a transport failure or a
 * JSON-RPC error counts as a client error.
 */
import { Pool } from "undici";

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

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, { connections: options.connections, keepAliveTimeout: 60_000 });
  const path = `${url.pathname}${url.search}`;
  const latencies: number[] = [];
  const samples = new Set<string>();
  let errors = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const intervalMs = 1000 / options.ratePerSecond;

  const fail = (description: string) => {
    errors++;
    if (samples.size < 5) samples.add(description.slice(0, 200));
  };
  const one = async () => {
    const started = performance.now();
    try {
      const response = await pool.request({
        path,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: options.body,
      });
      const text = await response.body.text();
      latencies.push(performance.now() - started);
      if (response.statusCode !== 200) fail(`HTTP ${response.statusCode}: ${text}`);
      else if (text.includes('"error"')) fail(text);
    } catch (error) {
      latencies.push(performance.now() - started);
      fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };

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
      const promise = one().finally(() => inflight.delete(promise));
      inflight.add(promise);
    }
    // Requests due within the same millisecond leave together; a busy loop would take a core from the
    // process under test on a small machine.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const sendingMs = performance.now() - start;
  await Promise.all(inflight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    sent,
    errors,
    errorSamples: [...samples],
    achievedPerSecond: (sent / sendingMs) * 1000,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
}
