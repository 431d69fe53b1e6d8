// What the risk figures are computed from: plain data that a CLI, the metrics or a test can build from the
// ledger's registry (cloud and region come from each operator's metadata) without a chain at hand.

/** One operator serving one network. */
export interface NetworkOperator {
  id: string;
  address: string;
  /** Cloud provider from the operator's metadata ("aws", "gcp", "hetzner", "bare-metal", …). */
  cloud: string;
  /** The provider's region name; an outage of `aws` `us-east-1` is not one of `gcp` `us-east1`. */
  region: string;
  /**
   * Who runs the operator (a company, a person), when known. The registry's metadata has no such field,
   * so without it each operator counts as an entity of its own, which is the optimistic reading.
   */
  entity?: string;
  /** Stake allocated to the network's operator set (token units, as the core reports it). */
  allocatedStake: bigint;
  /** Share of the network's traffic the operator served (0..1), when known. */
  servedShare?: number;
}

/** The operators of one network. */
export interface NetworkSnapshot {
  name: string;
  operators: readonly NetworkOperator[];
}

/** The ways operators are grouped when asking how concentrated a network is. */
export const GROUPINGS = ["operator", "cloud", "region", "entity"] as const;
export type Grouping = (typeof GROUPINGS)[number];

/** The label of the group `operator` belongs to. Regions are named with their cloud: `aws/us-east-1`. */
export function groupOf(operator: NetworkOperator, by: Grouping): string {
  switch (by) {
    case "operator":
      return operator.id;
    case "cloud":
      return operator.cloud;
    case "region":
      return `${operator.cloud}/${operator.region}`;
    case "entity":
      return operator.entity ?? operator.id;
  }
}

/** Parts per unit a served share is counted in (so traffic shares use the same exact math as stake). */
export const TRAFFIC_SCALE = 1_000_000_000;

/**
 * A served share as a whole weight in parts per billion: clamped to 0..1, and 0 when missing, negative or
 * not a number (a broken report must not make the network look less concentrated than it is).
 */
export function servedWeight(share: number | undefined): bigint {
  if (share === undefined || !Number.isFinite(share) || share <= 0) return 0n;
  return BigInt(Math.round(Math.min(share, 1) * TRAFFIC_SCALE));
}

/** Stake below zero is read as zero: figures never throw on bad input, they count it as nothing. */
export function stakeWeight(stake: bigint): bigint {
  return stake > 0n ? stake : 0n;
}
