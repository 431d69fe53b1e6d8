/**
 * What `GET /healthz` answers: every network's head and, for each upstream, its health as the gateway sees
 * it now (verdict, breaker, head and lag, latency, errors, quarantine, ledger state, share of traffic).
 * The dashboard and `din status` read the same report.
 */
import type { Network } from "./network.js";

export interface HealthReport {
  status: "ok" | "degraded" | "down";
  networks: Array<{
    name: string;
    chainId: number;
    head: { latest: string | null; safe: string | null; finalized: string | null };
    upstreams: Array<{
      id: string;
      cloud: string;
      region: string;
      health: string;
      reasons: string[];
      breaker: string;
      head: string | null;
      lagBlocks: number | null;
      latencyMs: number;
      /** While it is quarantined for contradicting a quorum's agreed answer (ISO time it ends). */
      quarantinedUntil?: string;
      errorRate: number;
      /** Ledger operators only: its ledger address, allocated stake (decimal), jail and queued slashes. */
      address?: string;
      stake?: string;
      jailed?: boolean;
      queuedSlashes?: number;
      /** Relays it answered through this gateway in the current ledger epoch. */
      relaysThisEpoch?: number;
    }>;
    /** The ledger epoch (decimal) usage is counted in; only when the gateway follows a ledger. */
    epoch?: string | null;
    /** Each cloud's share of the last requests routed, and the cap on one cloud's share. */
    clouds: { cap: number; measured: number; shares: { cloud: string; share: number }[] };
  }>;
}

export function healthReport(networks: ReadonlyMap<string, Network>): HealthReport {
  const now = Date.now();
  let status: HealthReport["status"] = "ok";
  const list = [...networks.values()].map((network) => {
    const head = network.head;
    const upstreams = network.upstreams.map((upstream) => {
      const view = upstream.view(head?.latest, now);
      return {
        id: upstream.id,
        cloud: upstream.cloud,
        region: upstream.region,
        health: upstream.verdict.state,
        reasons: upstream.verdict.reasons,
        breaker: upstream.breaker.state(now),
        head: upstream.head ? upstream.head.latest.toString() : null,
        lagBlocks: view.lagBlocks ?? null,
        latencyMs: Math.round(view.latencyMs * 100) / 100,
        errorRate: Math.round(view.errorRate * 1000) / 1000,
        ...(upstream.quarantinedUntil > now
          ? {
              quarantinedUntil: new Date(upstream.quarantinedUntil).toISOString(),
              reasons: [
                ...upstream.verdict.reasons,
                `quarantined until ${new Date(upstream.quarantinedUntil).toISOString()}: ${upstream.quarantineReason}`,
              ],
            }
          : {}),
        ...(upstream.operator
          ? {
              address: upstream.operator.address,
              stake: upstream.operator.stake.toString(),
              jailed: upstream.operator.jailed,
              queuedSlashes: upstream.operator.queuedSlashes,
              relaysThisEpoch: network.ledger?.relaysThisEpoch(upstream.operator.address) ?? 0,
            }
          : {}),
      };
    });
    // A jailed operator is out of routing by the ledger's decision, not the network's health.
    const routable = upstreams.filter((u) => u.jailed !== true);
    const usable = routable.filter((u) => u.health !== "unhealthy").length;
    if (usable === 0) status = "down";
    else if (usable < routable.length && status === "ok") status = "degraded";
    return {
      name: network.name,
      chainId: network.chainId,
      head: {
        latest: head?.latest.toString() ?? null,
        safe: head?.safe?.toString() ?? null,
        finalized: head?.finalized?.toString() ?? null,
      },
      upstreams,
      ...(network.ledger ? { epoch: network.ledger.epoch()?.toString() ?? null } : {}),
      clouds: {
        cap: network.cloudShare.cap,
        measured: network.cloudShare.measured,
        shares: network.cloudShare
          .shares()
          .map(({ cloud, share }) => ({ cloud, share: Math.round(share * 1000) / 1000 })),
      },
    };
  });
  return { status, networks: list };
}
