// The network shape `din up` starts (src/devnet/up.ts and src/devnet/ledger.ts): five operators per
// network on four clouds, each depositing 10 tokens and allocating half of its stake to its network's set;
// then four stakers delegate 20, 30, 40 and 50 tokens to the first, fourth, seventh and tenth operator.
// Kept here as data so the figures in docs/risk.md are computed, and tested, from the same shape.
import type { NetworkOperator, NetworkSnapshot } from "./types.js";

const TOKEN = 10n ** 18n;

const placements = {
  ethereum: [
    ["aws", "us-east-1"],
    ["aws", "eu-west-1"],
    ["gcp", "us-central1"],
    ["hetzner", "eu-central"],
    ["bare-metal", "eu-west"],
  ],
  polygon: [
    ["aws", "ap-south-1"],
    ["aws", "us-west-2"],
    ["gcp", "europe-west4"],
    ["hetzner", "us-east"],
    ["bare-metal", "ap-southeast"],
  ],
} as const;

/** Tokens delegated to an operator by the devnet's stakers, by operator id. */
const delegated: Record<string, bigint> = {
  "ethereum-aws-us-east-1": 20n,
  "ethereum-hetzner-eu-central": 30n,
  "polygon-aws-us-west-2": 40n,
  "polygon-bare-metal-ap-southeast": 50n,
};

/** The `din up` networks; with `withDelegations`, as they stand once the stakers have delegated. */
export function dinUpNetworks(withDelegations: boolean): NetworkSnapshot[] {
  return Object.entries(placements).map(([name, list]) => ({
    name,
    operators: list.map(([cloud, region], i): NetworkOperator => {
      const id = `${name}-${cloud}-${region}`;
      const shares = 10n + (withDelegations ? (delegated[id] ?? 0n) : 0n);
      return {
        id,
        address: `0x${(name === "ethereum" ? 1 : 2).toString(16)}${i.toString(16).padStart(39, "0")}`,
        cloud,
        region,
        allocatedStake: (shares * TOKEN) / 2n,
      };
    }),
  }));
}
