// Relays as evidence: the EIP-712 typed data an operator signs over what it served, and the hashes of the
// request and the response (keccak256 of their canonical JSON: keys sorted, no whitespace).
import type { Account, Address, Hex, LocalAccount, TypedDataDomain } from "viem";
import { hashTypedData, keccak256, toHex } from "viem";
import { canonicalJson } from "../../rpc/canonical.js";

/** What an operator signs (IDinSlasher.Relay). */
export type Relay = {
  /** Chain id of the chain the response is about. */
  chainId: bigint;
  requestHash: Hex;
  responseHash: Hex;
  /** The block the response claims (0 when none). */
  blockNumber: bigint;
  /** Its hash, as the response claims it (zero when none). */
  blockHash: Hex;
  /** Unix seconds when it was served. */
  servedAt: bigint;
};

/** The EIP-712 types of a relay. */
export const relayTypes = {
  Relay: [
    { name: "chainId", type: "uint256" },
    { name: "requestHash", type: "bytes32" },
    { name: "responseHash", type: "bytes32" },
    { name: "blockNumber", type: "uint256" },
    { name: "blockHash", type: "bytes32" },
    { name: "servedAt", type: "uint256" },
  ],
} as const;

/** The EIP-712 domain: the DinSlasher on the ledger's chain verifies relays. */
export function relayDomain(ledgerChainId: number, slasher: Address): TypedDataDomain {
  return { name: "OpenDIN", version: "1", chainId: ledgerChainId, verifyingContract: slasher };
}

/** JSON with object keys sorted and no whitespace, so equal values hash equally (the gateway's own). */
export { canonicalJson } from "../../rpc/canonical.js";

/** requestHash of a JSON-RPC request: its method and params. */
export function hashRequest(method: string, params: unknown): Hex {
  return keccak256(toHex(canonicalJson({ method, params: params ?? [] })));
}

/** responseHash of a JSON-RPC response: its result, or its error. */
export function hashResponse(response: { result?: unknown; error?: unknown }): Hex {
  return keccak256(
    toHex(canonicalJson("error" in response ? { error: response.error } : { result: response.result })),
  );
}

/** The digest the DinSlasher recovers the signer from. */
export function relayDigest(relay: Relay, ledgerChainId: number, slasher: Address): Hex {
  return hashTypedData({
    domain: relayDomain(ledgerChainId, slasher),
    types: relayTypes,
    primaryType: "Relay",
    message: relay,
  });
}

/** Signs a relay with a local account (the operator's signing key). */
export function signRelay(
  signer: LocalAccount | (Account & { signTypedData: LocalAccount["signTypedData"] }),
  relay: Relay,
  ledgerChainId: number,
  slasher: Address,
): Promise<Hex> {
  return signer.signTypedData({
    domain: relayDomain(ledgerChainId, slasher),
    types: relayTypes,
    primaryType: "Relay",
    message: relay,
  });
}
