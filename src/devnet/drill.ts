// `din drill`: the founding scenario on a running `din up`. The same open-loop client load goes, side by
// side, to a single-provider baseline (one operator's node, called directly) and to the gateway's keyed
// URL; a whole cloud is taken down for the middle of the run (the same code as `din chaos`), then brought
// back. Per 5-second window: requests, errors, availability, p50 and p99 for both clients. Then the
// ledger's verdicts on the epochs the outage covered (judged, slashes queued or held, who was paid). This
// module runs the load and reads the verdicts; drillReport.ts writes the report (Markdown with the inline
// SVG charts of drillCharts.ts, and JSON) in `<data-dir>/drills/`.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Pool } from "undici";
import { type Address, getAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { dinEpochsAbi } from "../ledger/artifacts/index.js";
import { ACCESS_TOKEN_HEADER, createAccessToken } from "../ledger/din/auth.js";
import { connectLedger, readDeployment, readEpochClock } from "../ledger/din/directory.js";
import { applyChaos, type ChaosChange } from "./chaos.js";
import type { ClientSummary, DrillReport, DrillSlash, DrillWindow, EpochVerdict } from "./drillReport.js";
import { devnetKeyFile } from "./ledger.js";
import { type NetworkState, type NetworkStateOperator, readNetworkState } from "./state.js";
import { fetchStatus, type StatusReport } from "./status.js";

export const WINDOW_MS = 5_000;
/** A request not answered within this is an error (a client gives up). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface DrillOptions {
  dataDir: string;
  cloud: string;
  durationMs: number;
  ratePerSecond: number;
  /** Longest wait for the ledger to finalize the epochs the outage covered. */
  verdictWaitMs: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/** "60s", "2m", "1500ms", "90" (seconds) → ms. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new Error(`expected a duration like 60s, 2m or 1500ms, got "${value}"`);
  const n = Number(match[1]);
  const unit = match[2] ?? "s";
  return Math.round(n * (unit === "ms" ? 1 : unit === "s" ? 1_000 : 60_000));
}

/** "200/s", "200" → requests per second. */
export function parseRate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value.trim());
  const n = match ? Number(match[1]) : Number.NaN;
  if (!(n > 0)) throw new Error(`expected a rate like 200/s, got "${value}"`);
  return n;
}

/** Warm-up a quarter of the run, the cloud down for the middle half, recovery the last quarter. */
export function drillTimeline(durationMs: number) {
  const warmupMs = Math.round(durationMs / 4);
  return { warmupMs, downAtMs: warmupMs, okAtMs: durationMs - warmupMs, endMs: durationMs };
}

/** Reads that no cache or coalescing can share: each asks about an address of its own. */
function readBody(sequence: number): string {
  const address = `0x${randomBytes(20).toString("hex")}`;
  const method = ["eth_getBalance", "eth_getTransactionCount", "eth_getCode"][sequence % 3];
  return JSON.stringify({ jsonrpc: "2.0", id: sequence, method, params: [address, "latest"] });
}

interface Sample {
  sentMs: number;
  latencyMs: number;
  ok: boolean;
}

class LoadClient {
  readonly samples: Sample[] = [];
  readonly errorSamples = new Set<string>();
  private readonly pool: Pool;
  private readonly path: string;

  constructor(
    readonly name: "baseline" | "gateway",
    readonly url: string,
    private readonly headers: () => Record<string, string>,
  ) {
    const parsed = new URL(url);
    this.pool = new Pool(parsed.origin, {
      connections: 64,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
      connectTimeout: REQUEST_TIMEOUT_MS,
    });
    this.path = `${parsed.pathname}${parsed.search}`;
  }

  async send(body: string, sentMs: number, clock: () => number): Promise<void> {
    const fail = (description: string) => {
      if (this.errorSamples.size < 5) this.errorSamples.add(description.slice(0, 200));
    };
    let ok = false;
    try {
      const response = await this.pool.request({
        path: this.path,
        method: "POST",
        headers: { "content-type": "application/json", ...this.headers() },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) fail(`HTTP ${response.statusCode}: ${text}`);
      else if (text.includes('"error"')) fail(text);
      else ok = true;
    } catch (error) {
      fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    this.samples.push({ sentMs, latencyMs: clock() - sentMs, ok });
  }

  /**
   * One request before the clock starts: opens a connection and fills the caches a first request pays for
   * (the operator's ledger check of the baseline's token, the gateway's key lookup); throws if refused.
   */
  async preflight(): Promise<void> {
    const response = await this.pool.request({
      path: this.path,
      method: "POST",
      headers: { "content-type": "application/json", ...this.headers() },
      body: readBody(0),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200 || text.includes('"error"'))
      throw new Error(
        `the ${this.name} (${redactKey(this.url)}) refused a first request: HTTP ${response.statusCode} ${text.slice(0, 200)}`,
      );
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  summary(durationMs: number, timeline: ReturnType<typeof drillTimeline>): ClientSummary {
    const windows = summarizeWindows(this.samples, durationMs, timeline);
    const errors = this.samples.filter((s) => !s.ok).length;
    return {
      name: this.name,
      url: redactKey(this.url),
      requests: this.samples.length,
      errors,
      availability: this.samples.length ? 1 - errors / this.samples.length : null,
      errorSamples: [...this.errorSamples],
      windows,
    };
  }
}

/** Per window of {@link WINDOW_MS}, by the time each request was sent. */
export function summarizeWindows(
  samples: readonly Sample[],
  durationMs: number,
  timeline: { downAtMs: number; okAtMs: number },
): DrillWindow[] {
  const count = Math.max(1, Math.ceil(durationMs / WINDOW_MS));
  const windows: DrillWindow[] = [];
  for (let index = 0; index < count; index++) {
    const startMs = index * WINDOW_MS;
    const endMs = startMs + WINDOW_MS;
    const inside = samples.filter((s) => s.sentMs >= startMs && (s.sentMs < endMs || index === count - 1));
    const errors = inside.filter((s) => !s.ok).length;
    const latencies = inside
      .filter((s) => s.ok)
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    const quantile = (q: number) =>
      latencies.length
        ? round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!)
        : null;
    windows.push({
      index,
      startMs,
      outage: startMs < timeline.okAtMs && endMs > timeline.downAtMs,
      requests: inside.length,
      errors,
      availability: inside.length ? 1 - errors / inside.length : null,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
    });
  }
  return windows;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The API key in a keyed URL is a secret: reports show its first characters only. */
function redactKey(url: string): string {
  return url.replace(/(\/v1\/[^/]+\/)([^/?]{6})[^/?]*/, "$1$2…");
}

/** The operator the baseline depends on alone: the first of the cloud's operators on the first network. */
function pickBaselineOperator(state: NetworkState, cloud: string): NetworkStateOperator {
  const candidates = state.operators.filter((o) => o.cloud === cloud);
  const first = state.networks.map((n) => candidates.find((o) => o.network === n.name)).find(Boolean);
  if (!first) {
    const clouds = [...new Set(state.operators.map((o) => o.cloud))].join(", ");
    throw new Error(`no operator runs on cloud "${cloud}"; clouds of this network: ${clouds}`);
  }
  return first;
}

/**
 * Operator nodes serve only callers admitted on the ledger (a stranger gets 401). The baseline is admitted
 * as the devnet's registered gateway would be: with an access token signed by the gateway's key that
 * `din up` keeps in the data dir, naming the one operator it calls. It is the single-provider setup an
 * application has when it holds credentials for exactly one RPC provider.
 */
async function baselineAdmission(state: NetworkState, dataDir: string, operator: NetworkStateOperator) {
  const keyFile = devnetKeyFile(resolve(dataDir), "gateway");
  const account = privateKeyToAccount(readFileSync(keyFile, "utf8").trim() as Hex);
  let token = "";
  let expires = 0;
  const refresh = async () => {
    token = await createAccessToken(account, {
      role: "gateway",
      audience: operator.address as Address,
      ledgerChainId: state.ledger.chainId,
      ttlSeconds: 120,
    });
    expires = Date.now() + 60_000;
  };
  await refresh();
  return {
    headers: () => ({ [ACCESS_TOKEN_HEADER]: token }),
    /** Called between ticks: tokens are re-signed well before they expire. */
    maybeRefresh: async () => {
      if (Date.now() > expires) await refresh();
    },
    description: `direct to ${operator.id}'s node, admitted with the devnet gateway's key (${keyFile}) as a registered caller`,
  };
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const log = options.log ?? (() => {});
  const state = readNetworkState(options.dataDir);
  const operator = pickBaselineOperator(state, options.cloud);
  const keyed = state.networks.find((n) => n.name === operator.network);
  if (!keyed) throw new Error(`the network state lists no keyed URL for ${operator.network}`);
  const admission = await baselineAdmission(state, options.dataDir, operator);
  const timeline = drillTimeline(options.durationMs);
  const startedAt = new Date();

  const ledger = state.ledger ? connectLedger(state.ledger.rpc, state.ledger.chainId).public : undefined;
  const deployment = state.ledger ? readDeployment(state.ledger.deployment) : undefined;
  const epochsAt = async () =>
    ledger && deployment ? readEpochClock(ledger, deployment.addresses.epochs) : undefined;

  const baseline = new LoadClient("baseline", operator.url, admission.headers);
  const gateway = new LoadClient("gateway", keyed.rpc, () => ({}));
  const clients = [baseline, gateway];
  await Promise.all(clients.map((c) => c.preflight()));
  log(
    `drill: ${options.ratePerSecond}/s for ${options.durationMs / 1000}s to ${operator.id} (baseline) and the gateway; ${options.cloud} down from ${timeline.downAtMs / 1000}s to ${timeline.okAtMs / 1000}s`,
  );

  const chaos: { down: ChaosChange[]; ok: ChaosChange[] } = { down: [], ok: [] };
  let downClock: Awaited<ReturnType<typeof epochsAt>>;
  let downBlock = 0n;
  let okClock: Awaited<ReturnType<typeof epochsAt>>;
  let okBlock = 0n;
  let cloudDown = false;
  let downSwitch: Promise<void> = Promise.resolve();
  const start = performance.now();
  const clock = () => performance.now() - start;
  const inflight = new Set<Promise<void>>();
  try {
    const total = Math.round((options.ratePerSecond * options.durationMs) / 1000);
    const intervalMs = 1000 / options.ratePerSecond;
    let sent = 0;
    let phase: "warmup" | "down" | "ok" = "warmup";
    while (sent < total) {
      const elapsed = clock();
      if (phase === "warmup" && elapsed >= timeline.downAtMs) {
        phase = "down";
        // The chaos switch runs beside the load: the open loop does not wait for it.
        const switching = (async () => {
          chaos.down = await applyChaos(options.dataDir, { cloud: options.cloud }, { mode: "down" });
          cloudDown = true;
          downClock = await epochsAt();
          downBlock = ledger ? await ledger.getBlockNumber({ cacheTime: 0 }) : 0n;
          log(
            `drill: ${options.cloud} down at ${(clock() / 1000).toFixed(1)}s (ledger epoch ${downClock?.epoch ?? "?"})`,
          );
        })();
        downSwitch = switching;
        inflight.add(switching);
        void switching.then(
          () => inflight.delete(switching),
          () => inflight.delete(switching),
        );
      } else if (phase === "down" && elapsed >= timeline.okAtMs) {
        phase = "ok";
        const switching = (async () => {
          await downSwitch; // never back before down
          chaos.ok = await applyChaos(options.dataDir, { cloud: options.cloud }, { mode: "ok" });
          cloudDown = false;
          okClock = await epochsAt();
          okBlock = ledger ? await ledger.getBlockNumber({ cacheTime: 0 }) : 0n;
          log(
            `drill: ${options.cloud} back at ${(clock() / 1000).toFixed(1)}s (ledger epoch ${okClock?.epoch ?? "?"})`,
          );
        })();
        inflight.add(switching);
        void switching.then(
          () => inflight.delete(switching),
          () => inflight.delete(switching),
        );
      }
      const due = Math.min(total, Math.floor(elapsed / intervalMs) + 1);
      while (sent < due) {
        const body = readBody(sent);
        const sentMs = sent * intervalMs;
        sent++;
        for (const client of clients) {
          const promise = client.send(body, sentMs, clock).finally(() => inflight.delete(promise));
          inflight.add(promise);
        }
      }
      await admission.maybeRefresh();
      await new Promise((r) => setTimeout(r, 1));
    }
    while (inflight.size > 0) await Promise.all([...inflight]);
  } finally {
    // Whatever happened, the cloud comes back: a drill never leaves the network broken.
    if (cloudDown || chaos.ok.length === 0) {
      const restored = await applyChaos(options.dataDir, { cloud: options.cloud }, { mode: "ok" }).catch(
        () => [],
      );
      if (chaos.ok.length === 0) chaos.ok = restored;
    }
    await Promise.all(clients.map((c) => c.close()));
  }

  const report: DrillReport = {
    startedAt: startedAt.toISOString(),
    cloud: options.cloud,
    durationMs: options.durationMs,
    ratePerSecond: options.ratePerSecond,
    windowMs: WINDOW_MS,
    timeline,
    baseline: {
      operator: operator.id,
      network: operator.network,
      url: operator.url,
      admission: admission.description,
    },
    chaos,
    clients: clients.map((c) => c.summary(options.durationMs, timeline)),
    ledger: null,
  };
  for (const c of report.clients) {
    log(`drill: ${c.name}: ${c.requests} requests, ${c.errors} errors`);
  }

  if (ledger && deployment && downClock && okClock) {
    report.ledger = await readVerdicts(state, options, {
      ledger,
      epochsAddress: deployment.addresses.epochs,
      networks: deployment.networks,
      fromEpoch: downClock.epoch,
      toEpoch: okClock.epoch,
      fromBlock: downBlock,
      toBlock: okBlock,
      log,
    });
  }
  return report;
}

async function readVerdicts(
  state: NetworkState,
  options: DrillOptions,
  context: {
    ledger: ReturnType<typeof connectLedger>["public"];
    epochsAddress: Address;
    networks: Array<{ id: number; name: string }>;
    fromEpoch: bigint;
    toEpoch: bigint;
    fromBlock: bigint;
    toBlock: bigint;
    log: (line: string) => void;
  },
): Promise<NonNullable<DrillReport["ledger"]>> {
  const { ledger, fromEpoch, toEpoch } = context;
  const wanted: Array<{ networkId: number; epoch: bigint }> = [];
  for (const network of context.networks) {
    for (let epoch = fromEpoch; epoch <= toEpoch; epoch++) wanted.push({ networkId: network.id, epoch });
  }
  context.log(
    `drill: waiting up to ${Math.round(options.verdictWaitMs / 1000)}s for the ledger to finalize epoch(s) ${fromEpoch}${toEpoch > fromEpoch ? `–${toEpoch}` : ""}`,
  );
  const deadline = Date.now() + options.verdictWaitMs;
  let finalized = false;
  while (true) {
    const logs = await ledger.getContractEvents({
      address: context.epochsAddress,
      abi: dinEpochsAbi,
      eventName: "EpochFinalized",
      fromBlock: 0n,
      strict: true,
    });
    finalized = wanted.every((w) =>
      logs.some((l) => l.args.networkId === w.networkId && l.args.epoch === w.epoch),
    );
    if (finalized || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  // The settling step that follows judging queues the slashes: give it a few blocks.
  if (finalized) await new Promise((r) => setTimeout(r, Math.min(3_000, Math.max(0, deadline - Date.now()))));

  const status: StatusReport = await fetchStatus(options.dataDir, { epochs: true, epochLimit: 1_000 });
  const idOf = (address: string) =>
    state.operators.find((o) => o.address && getAddress(o.address) === getAddress(address));
  const epochs: EpochVerdict[] = [];
  for (const network of context.networks) {
    for (let epoch = fromEpoch; epoch <= toEpoch; epoch++) {
      const record = status.epochs?.find((e) => e.network === network.name && e.epoch === epoch.toString());
      epochs.push({
        network: network.name,
        epoch: epoch.toString(),
        finalized: record !== undefined,
        ...(record ? { reports: record.reports, paid: record.paid, carried: record.carried } : {}),
        judged: (record?.judged ?? []).map((j) => ({
          operator: j.operator,
          id: idOf(j.operator)?.id ?? j.operator,
          cloud: idOf(j.operator)?.cloud ?? "?",
          availabilityBps: j.availabilityBps,
          p50LatencyMs: j.p50LatencyMs,
          lagBlocks: j.lagBlocks,
          multiplierBps: j.multiplierBps,
          down: j.multiplierBps === 0,
          paid: j.multiplierBps > 0,
        })),
        heldForGovernance: (record?.heldForGovernance ?? []).map((h) => ({
          ...h,
          operators: h.operators.map((o) => idOf(o)?.id ?? o),
        })),
      });
    }
  }
  const allocated = (address: string, network: string) =>
    Number(
      status.networks
        .find((n) => n.name === network)
        ?.operators.find((o) => getAddress(o.address) === getAddress(address))?.allocated ?? 0,
    );
  const slashes: DrillSlash[] = status.slashes
    .filter((s) => BigInt(s.queuedAt) >= context.fromBlock)
    .map((s) => ({
      amount: ((allocated(s.operator, s.network) * Number.parseFloat(s.percent)) / 100).toFixed(6),
      id: s.id,
      operator: s.operator,
      idOf: idOf(s.operator)?.id ?? s.operator,
      network: s.network,
      reason: s.reason,
      percent: s.percent,
      status: s.status,
      queuedAt: s.queuedAt,
    }));
  const note = finalized
    ? `every network finalized epoch(s) ${fromEpoch}${toEpoch > fromEpoch ? `–${toEpoch}` : ""} within the wait`
    : `not every epoch the outage covered was finalized within ${Math.round(options.verdictWaitMs / 1000)}s: the verdicts below are partial (run \`din status --epochs\` later)`;
  return {
    outageEpochs: Array.from({ length: Number(toEpoch - fromEpoch) + 1 }, (_, i) =>
      (fromEpoch + BigInt(i)).toString(),
    ),
    outageBlocks: { from: context.fromBlock.toString(), to: context.toBlock.toString() },
    finalized,
    note,
    epochs,
    slashes,
  };
}
