// Registration on a DIN network: the metadata an operator declares, encoded as the registration data the
// AllocationManager hands to the DinRegistry.
import {
  type Address,
  encodeAbiParameters,
  type Hex,
  keccak256,
  type LocalAccount,
  parseAbiParameters,
  toBytes,
} from "viem";

/** What an operator declares per network (IDinRegistry.OperatorMetadata). */
export type OperatorMetadata = {
  /** Public endpoint URL (not unique: the node is known by its signer). */
  endpoint: string;
  /** Cloud provider ("aws", "gcp", "hetzner", "bare-metal", …). */
  cloud: string;
  region: string;
  /** Execution client and version, e.g. "geth/1.14". */
  client: string;
  /** The key that signs relays; bound to this operator on this network for good, valid until rotated away. */
  signer: Address;
};

/** Operator set ids of the watcher and gateway sets (DinRegistry.WATCHER_SET / GATEWAY_SET). */
export const WATCHER_SET = 1_000_000;
export const GATEWAY_SET = 1_000_001;

/** A signing key's consent to sign relays for an operator at an endpoint (IDinRegistry.SignerProof). */
export type SignerProof = { deadline: bigint; signature: Hex };

/** Seconds a signer proof stays usable by default. */
export const SIGNER_PROOF_TTL = 3600n;

/**
 * The signer's EIP-712 proof that it signs for `operator` on `networkId` at `endpoint` until `deadline`
 * (unix seconds): what the registry requires to register or rotate to a signing key.
 */
export async function signSignerProof(
  signer: LocalAccount,
  p: {
    registry: Address;
    chainId: number;
    operator: Address;
    networkId: number;
    endpoint: string;
    deadline: bigint;
  },
): Promise<SignerProof> {
  if (!signer.signTypedData) throw new Error("the signing key cannot sign typed data");
  const signature = await signer.signTypedData({
    domain: { name: "DinRegistry", version: "1", chainId: p.chainId, verifyingContract: p.registry },
    types: {
      SignerProof: [
        { name: "operator", type: "address" },
        { name: "networkId", type: "uint32" },
        { name: "signer", type: "address" },
        { name: "endpointHash", type: "bytes32" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "SignerProof",
    message: {
      operator: p.operator,
      networkId: p.networkId,
      signer: signer.address,
      endpointHash: keccak256(toBytes(p.endpoint)),
      deadline: p.deadline,
    },
  });
  return { deadline: p.deadline, signature };
}

/** The `data` of `registerForOperatorSets` for one DIN network: the metadata and its signer's proof. */
export function encodeOperatorMetadata(metadata: OperatorMetadata, proof: SignerProof): Hex {
  return encodeAbiParameters(
    parseAbiParameters([
      "(string endpoint, string cloud, string region, string client, address signer)",
      "(uint256 deadline, bytes signature)",
    ]),
    [metadata, proof],
  );
}
