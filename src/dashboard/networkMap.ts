// The network map: every operator of every network, grouped by cloud and region, as `din status` reports
// it (health as the gateway sees it now, stake, jail, slashes), with the gateway's latency and the share of
// the epoch's relays each one answered.
import { type Address, getAddress } from "viem";
import type { StatusReport } from "../devnet/status.js";
import { servedShares } from "../ledger/din/riskInputs.js";
import type { HealthState, LedgerClock, MapOperator, NetworkMap } from "./types.js";

type Upstream = StatusReport["networks"][number]["upstreams"][number];

const HEALTH_STATES: readonly string[] = ["healthy", "degraded", "unhealthy", "jailed", "absent"];

/** The gateway's word for an operator's health; `unobserved` when there is no gateway to ask. */
function healthOf(health: string, observed: boolean): HealthState {
  if (!observed && health === "absent") return "unobserved";
  return (HEALTH_STATES.includes(health) ? health : "absent") as HealthState;
}

export function ledgerClock(status: StatusReport): LedgerClock | null {
  return status.ledger
    ? { block: status.ledger.block, epoch: status.ledger.epoch, epochEndsAt: status.ledger.epochEndsAt }
    : null;
}

/** Every operator of every network, flat, as the map shows them. */
export function mapOperators(status: StatusReport, observed: boolean): MapOperator[] {
  return status.networks.flatMap((network) => {
    const byAddress = new Map<string, Upstream>();
    const relays = new Map<Address, number>();
    for (const u of network.upstreams) {
      if (u.address === undefined) continue;
      byAddress.set(u.address.toLowerCase(), u);
      if (u.relaysThisEpoch !== undefined) relays.set(getAddress(u.address), u.relaysThisEpoch);
    }
    const shares = servedShares(relays);
    // A gateway without a ledger has upstreams but no operators: show those.
    if (network.operators.length === 0) {
      return network.upstreams.map(
        (u): MapOperator => ({
          id: u.id,
          address: u.address ?? null,
          network: network.name,
          cloud: u.cloud,
          region: u.region,
          health: healthOf(u.health, observed),
          reasons: u.reasons,
          lagBlocks: u.lagBlocks,
          latencyMs: u.latencyMs,
          trafficShare: null,
          relaysThisEpoch: u.relaysThisEpoch ?? null,
          stake: null,
          allocated: null,
          jailed: u.jailed ?? false,
          jailedUntil: null,
          slashes: null,
        }),
      );
    }
    return network.operators.map((o): MapOperator => {
      const upstream = byAddress.get(o.address.toLowerCase());
      return {
        id: o.id,
        address: o.address,
        network: network.name,
        cloud: o.cloud,
        region: o.region,
        health: healthOf(o.health, observed),
        reasons: o.reasons,
        lagBlocks: o.lagBlocks,
        latencyMs: upstream && !o.jailed ? upstream.latencyMs : null,
        trafficShare: shares.size > 0 ? (shares.get(getAddress(o.address)) ?? 0) : null,
        relaysThisEpoch: upstream?.relaysThisEpoch ?? null,
        stake: o.stake,
        allocated: o.allocated,
        jailed: o.jailed,
        jailedUntil: o.jailed ? o.jailedUntil : null,
        slashes: o.slashes,
      };
    });
  });
}

export function networkMap(status: StatusReport, gateway: string | null): NetworkMap {
  const observed = gateway !== null;
  const operators = mapOperators(status, observed);
  return {
    gateway,
    status: observed ? status.status : null,
    ledger: ledgerClock(status),
    networks: status.networks.map((network) => {
      const clouds = new Map<string, Map<string, MapOperator[]>>();
      for (const o of operators.filter((x) => x.network === network.name)) {
        const regions = clouds.get(o.cloud) ?? new Map<string, MapOperator[]>();
        regions.set(o.region, [...(regions.get(o.region) ?? []), o]);
        clouds.set(o.cloud, regions);
      }
      const measured = network.clouds.measured > 0;
      return {
        name: network.name,
        chainId: network.chainId,
        head: network.head,
        clouds: [...clouds].map(([cloud, regions]) => ({
          cloud,
          share: measured ? (network.clouds.shares.find((s) => s.cloud === cloud)?.share ?? 0) : null,
          regions: [...regions].map(([region, list]) => ({ region, operators: list })),
        })),
      };
    }),
  };
}
