// Registration on a DIN network: the metadata an operator declares, encoded as the registration data the
// AllocationManager hands to the DinRegistry.
import { type Address, encodeAbiParameters, type Hex, parseAbiParameters } from "viem";

/** What an operator declares per network (IDinRegistry.OperatorMetadata). */
export type OperatorMetadata = {
  /** Public endpoint URL; unique across the service. */
  endpoint: string;
  /** Cloud provider ("aws", "gcp", "hetzner", "bare-metal", …). */
  cloud: string;
  region: string;
  /** Execution client and version, e.g. "geth/1.14". */
  client: string;
  /** The key that signs relays; bound to this operator on this network for good. */
  signer: Address;
};

/** Operator set ids of the watcher and gateway sets (DinRegistry.WATCHER_SET / GATEWAY_SET). */
export const WATCHER_SET = 1_000_000;
export const GATEWAY_SET = 1_000_001;

/** The `data` of `registerForOperatorSets` for one DIN network. */
export function encodeOperatorMetadata(metadata: OperatorMetadata): Hex {
  return encodeAbiParameters(
    parseAbiParameters("(string endpoint, string cloud, string region, string client, address signer)"),
    [metadata],
  );
}
