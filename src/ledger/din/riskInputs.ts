// The risk figures' inputs (src/risk) as the ledger holds them: each network's registered operators with the
// cloud and region of their metadata and their allocated stake, and, when a gateway reports it, the share
// of the network's relays each one answered. Read with the directory's own readers, so `din risk`, the
// gateway's gauges and `din status` count the same operators and the same stake.
import { type Address, getAddress, type PublicClient } from "viem";
import type { HealthReport } from "../../gateway/healthReport.js";
import { type NetworkRisk, networkRisk, networkVerdicts } from "../../risk/report.js";
import type { NetworkOperator, NetworkSnapshot } from "../../risk/types.js";
import type { DinDeployment, DinNetwork } from "./deploy.js";
import { type DirectoryOperator, readOperators, readSlashes } from "./directory.js";
import { type EntityOptions, readOperatorEntities } from "./operatorEntities.js";

/** Relays served per operator address, by network name (e.g. a gateway's `relaysThisEpoch`). */
export type ServedRelays = ReadonlyMap<string, ReadonlyMap<Address, number>>;

/** What a metadata field says, or `unknown` when it says nothing (as the gateway labels its upstreams). */
const declared = (text: string) => text.trim() || "unknown";

/** A readable operator id when no better one is known: `<cloud>/<region>/<address's first 8 hex>`. */
export function defaultOperatorId(operator: Pick<DirectoryOperator, "cloud" | "region" | "address">): string {
  return `${declared(operator.cloud)}/${declared(operator.region)}/${operator.address.slice(2, 10).toLowerCase()}`;
}

/**
 * Each served count as a share of the network's relays; none when nothing was served (no traffic to
 * measure, so the traffic figures stay null rather than claiming every operator served nothing).
 */
export function servedShares(relays: ReadonlyMap<Address, number> | undefined): Map<Address, number> {
  const shares = new Map<Address, number>();
  if (!relays) return shares;
  const counted = [...relays].filter(([, n]) => Number.isFinite(n) && n > 0);
  const total = counted.reduce((sum, [, n]) => sum + n, 0);
  if (total <= 0) return shares;
  for (const [address, n] of counted) shares.set(getAddress(address), n / total);
  return shares;
}

/**
 * One network's registered operators as a risk snapshot. Every registered operator counts, jailed or not:
 * its stake still backs the network (a jail keeps traffic away, not stake). With `relays`, an operator the
 * gateway counted nothing for gets a served share of 0; without, the operators carry no served share.
 */
export function riskSnapshot(
  name: string,
  operators: readonly DirectoryOperator[],
  options: {
    idOf?: (operator: DirectoryOperator) => string;
    relays?: ReadonlyMap<Address, number>;
    /** Who runs each operator, as declared in its profile (src/ledger/din/operatorEntities.ts). */
    entities?: ReadonlyMap<Address, string>;
  } = {},
): NetworkSnapshot {
  const shares = servedShares(options.relays);
  const idOf = options.idOf ?? defaultOperatorId;
  return {
    name,
    operators: operators.map(
      (operator): NetworkOperator => ({
        id: idOf(operator),
        address: operator.address,
        cloud: declared(operator.cloud),
        region: declared(operator.region),
        allocatedStake: operator.allocatedStake,
        ...(options.entities?.has(operator.address)
          ? { entity: options.entities.get(operator.address)! }
          : {}),
        ...(shares.size > 0 ? { servedShare: shares.get(operator.address) ?? 0 } : {}),
      }),
    ),
  };
}

/**
 * The risk snapshots of `networks` (default: every network of the deployment), read from the ledger.
 * `ids` names operators by address (e.g. a `din up` data dir's ids); `served` gives relays per network.
 */
export async function readRiskSnapshots(
  client: PublicClient,
  deployment: DinDeployment,
  options: {
    networks?: readonly DinNetwork[];
    ids?: ReadonlyMap<Address, string>;
    served?: ServedRelays;
    /** Read each operator's declared entity from its profile; http(s) profiles only with fetchRemote. */
    entities?: EntityOptions;
  } = {},
): Promise<Array<NetworkSnapshot & { networkId: number }>> {
  const networks = options.networks ?? deployment.networks;
  const addresses = deployment.addresses;
  const slashes = await readSlashes(client, addresses);
  const lists = await Promise.all(networks.map((n) => readOperators(client, addresses, n.id, slashes)));
  const entities = options.entities
    ? await readOperatorEntities(
        client,
        deployment,
        [...new Set(lists.flat().map((o) => o.address))],
        options.entities,
      )
    : undefined;
  const ids = options.ids;
  return networks.map((network, index) => ({
    networkId: network.id,
    ...riskSnapshot(network.name, lists[index] ?? [], {
      ...(ids ? { idOf: (o: DirectoryOperator) => ids.get(o.address) ?? defaultOperatorId(o) } : {}),
      ...(options.served?.has(network.name) ? { relays: options.served.get(network.name) } : {}),
      ...(entities ? { entities } : {}),
    }),
  }));
}

/** One network's risk figures and their verdicts, as `din risk` prints them and the dashboard shows them. */
export type NetworkRiskReport = {
  name: string;
  networkId: number;
  operators: NetworkOperator[];
  risk: NetworkRisk;
  verdicts: string[];
};

/** Each network's risk figures and verdicts, read from the registry. */
export async function readNetworkRisks(
  client: PublicClient,
  deployment: DinDeployment,
  options: {
    networks?: readonly DinNetwork[];
    ids?: ReadonlyMap<Address, string>;
    served?: ServedRelays;
    entities?: EntityOptions;
  },
): Promise<NetworkRiskReport[]> {
  const snapshots = await readRiskSnapshots(client, deployment, options);
  return snapshots.map(({ networkId, ...snapshot }) => {
    const risk = networkRisk(snapshot);
    return {
      name: snapshot.name,
      networkId,
      operators: [...snapshot.operators],
      risk,
      verdicts: networkVerdicts(risk),
    };
  });
}

/** The relays each operator answered this epoch, per network, from a gateway's health report. */
export function servedRelaysOf(report: HealthReport): ServedRelays {
  const served = new Map<string, Map<Address, number>>();
  for (const network of report.networks) {
    const relays = new Map<Address, number>();
    for (const u of network.upstreams ?? []) {
      if (typeof u.address === "string" && typeof u.relaysThisEpoch === "number")
        relays.set(getAddress(u.address), u.relaysThisEpoch);
    }
    if (relays.size > 0) served.set(network.name, relays);
  }
  return served;
}
