// Demo traffic through the gateway of `din up`: a few reads per block on every network, from several
// sessions, so the operators serve relays the gateway pays for and a newly joined operator earns too.
import type { Logger } from "pino";
import { pino } from "pino";
import { type Rounds, repeatRounds } from "./rounds.js";

/** What `din up --traffic` may say: `on` (the default) sends demo traffic through the gateway, `off` none. */
export const demoTrafficModes = ["on", "off"] as const;
export type DemoTrafficMode = (typeof demoTrafficModes)[number];

export function isDemoTrafficMode(value: string): value is DemoTrafficMode {
  return (demoTrafficModes as readonly string[]).includes(value);
}

/** Sessions per network: a session keeps its operator, so several are needed to reach several operators. */
export const DEMO_SESSIONS = 4;

/** The gateway lets a quorum ask at most this many operators (its `routing.maxQuorum` default). */
const MAX_QUORUM = 5;

export interface DemoTrafficOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8545 (its /healthz names each network's operators). */
  gateway: string;
  /** Each network's keyed RPC URL. */
  networks: ReadonlyArray<{ name: string; rpc: string }>;
  /** Time between two rounds. */
  intervalMs: number;
  /** @default DEMO_SESSIONS */
  sessions?: number;
  /** Where failures go; they are logged, never thrown. @default a silent logger */
  logger?: Logger;
}

export type DemoTraffic = Rounds;

interface HealthUpstream {
  health?: string;
  jailed?: boolean;
}

/**
 * Sends, every interval and for every network, one read per session (`din-session-id: demo-<n>`) and one
 * read all routable operators answer together (`din-quorum`). Sessions spread the reads as routing
 * allows (the cloud share cap moves sessions between clouds), but a session keeps its operator while no
 * rival is clearly better, so an operator that scores a little lower, such as one that just joined with
 * less stake, would see none of them: the quorum read reaches every healthy, unjailed operator (up to
 * the gateway's quorum bound), and each answer is a relay the gateway pays for.
 */
export function startDemoTraffic(options: DemoTrafficOptions): DemoTraffic {
  const logger = (options.logger ?? pino({ level: "silent" })).child({ component: "demo-traffic" });
  const sessions = Math.max(1, options.sessions ?? DEMO_SESSIONS);
  let warned = false;
  let reads = 0;
  // A balance at `latest` of an address no other read asks about: the gateway's cache (and its sharing of
  // identical reads in flight) would otherwise answer most of them without an operator.
  const next = (): string => `0x${(0xd1d0n * 2n ** 128n + BigInt(++reads)).toString(16).padStart(40, "0")}`;

  const round = async (): Promise<void> => {
    const routable = await routableOperators(options.gateway).catch(() => new Map<string, number>());
    const sends: Promise<void>[] = [];
    for (const network of options.networks) {
      for (let session = 1; session <= sessions; session++) {
        sends.push(read(network.rpc, next(), { "din-session-id": `demo-${session}` }));
      }
      const quorum = Math.min(MAX_QUORUM, routable.get(network.name) ?? 0);
      if (quorum >= 2) sends.push(read(network.rpc, next(), { "din-quorum": String(quorum) }));
    }
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    // An outage (`din chaos`) makes some reads fail for a moment: said once, not every round.
    if (failed.length > 0 && !warned) {
      warned = true;
      logger.warn({ err: failed[0]?.reason, failed: failed.length }, "demo traffic: some reads failed");
    } else if (failed.length === 0) warned = false;
  };

  return repeatRounds(round, options.intervalMs, (error) =>
    logger.warn({ err: error }, "demo traffic round failed"),
  );
}

/** A balance read at `latest`, which an operator answers. */
async function read(url: string, address: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getBalance",
      params: [address, "latest"],
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { error?: { message?: string } };
  if (!response.ok || body.error) {
    throw new Error(`HTTP ${response.status}: ${body.error?.message ?? "no answer"}`);
  }
}

/** How many healthy, unjailed operators each network has, as the gateway's /healthz says. */
async function routableOperators(gateway: string): Promise<Map<string, number>> {
  const response = await fetch(`${gateway}/healthz`, { signal: AbortSignal.timeout(5_000) });
  const report = (await response.json()) as {
    networks?: Array<{ name: string; upstreams?: HealthUpstream[] }>;
  };
  return new Map(
    (report.networks ?? []).map((network) => [
      network.name,
      (network.upstreams ?? []).filter((u) => u.health !== "unhealthy" && u.jailed !== true).length,
    ]),
  );
}
