// Relays as evidence: the EIP-712 typed data an operator signs over what it served, and the hashes of the
// request and the response (keccak256 of their canonical JSON: keys sorted, no whitespace).
import type { Account, Address, Hex, LocalAccount, TypedDataDomain } from "viem";
import { hashTypedData, keccak256, toHex } from "viem";
import { canonicalJson } from "../../rpc/canonical.js";
import { ecrecover } from "./ecrecover.js";

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

/** A relay with its numbers as decimal strings, as it travels in a `din-relay` header and is kept in JSON. */
export type RelayJson = { [K in keyof Relay]: Relay[K] extends bigint ? string : Relay[K] };

/** The JSON form of a relay. */
export function relayToJson(relay: Relay): RelayJson {
  return {
    chainId: relay.chainId.toString(),
    requestHash: relay.requestHash,
    responseHash: relay.responseHash,
    blockNumber: relay.blockNumber.toString(),
    blockHash: relay.blockHash,
    servedAt: relay.servedAt.toString(),
  };
}

const hex32 = /^0x[0-9a-fA-F]{64}$/;

/** Revives a relay from its JSON form; throws on anything malformed. */
export function relayFromJson(json: RelayJson): Relay {
  const { chainId, requestHash, responseHash, blockNumber, blockHash, servedAt } = json ?? {};
  for (const hash of [requestHash, responseHash, blockHash]) {
    if (typeof hash !== "string" || !hex32.test(hash)) throw new Error("malformed relay hash");
  }
  const int = (value: unknown) => {
    if (typeof value !== "string" || !/^\d{1,78}$/.test(value)) throw new Error("malformed relay number");
    return BigInt(value);
  };
  return {
    chainId: int(chainId),
    requestHash,
    responseHash,
    blockNumber: int(blockNumber),
    blockHash,
    servedAt: int(servedAt),
  };
}

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

/** The canonical JSON a requestHash is taken over: `{"method":…,"params":…}`. */
export function requestJson(method: string, params: unknown): string {
  return canonicalJson({ method, params: params ?? [] });
}

/** The canonical JSON a responseHash is taken over: `{"result":…}`, or `{"error":…}`. */
export function responseJson(response: { result?: unknown; error?: unknown }): string {
  return canonicalJson("error" in response ? { error: response.error } : { result: response.result });
}

/** requestHash of a JSON-RPC request: its method and params. */
export function hashRequest(method: string, params: unknown): Hex {
  return keccak256(toHex(requestJson(method, params)));
}

/** responseHash of a JSON-RPC response: its result, or its error. */
export function hashResponse(response: { result?: unknown; error?: unknown }): Hex {
  return keccak256(toHex(responseJson(response)));
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

/** What a relay must vouch for: the request sent, the answer received, on which chain, signed by whom. */
export type RelayExpectation = {
  method: string;
  params: unknown;
  /** The JSON-RPC answer received: its result, or its error. */
  response: { result?: unknown; error?: unknown };
  /** Chain id of the network served. */
  chainId: bigint;
  /** The operator's registered signing key. */
  signer: Address;
  /**
   * Unix seconds of the checker's clock: a relay dated more than `RELAY_CLOCK_SKEW_SECONDS` from it is
   * refused. An operator could otherwise backdate `servedAt` so that a lie about a final block looks like
   * an answer about the head (not final when served, so never evidence). Omitted: not checked.
   */
  now?: bigint;
};

/** How far a relay's `servedAt` may be from the checker's clock (operators keep their clocks in sync). */
export const RELAY_CLOCK_SKEW_SECONDS = 60n;

/** The outcome of {@link verifyRelay}. */
export type RelayVerdict = { ok: true; digest: Hex } | { ok: false; reason: string };

/**
 * Checks that `relay`, signed with `signature`, is about exactly `expected` (request, answer, chain) and was
 * signed by `expected.signer` under the DinSlasher's EIP-712 domain — that is, evidence the ledger would
 * accept. Pure; no I/O.
 */
export function verifyRelay(
  relay: Relay,
  signature: string,
  expected: RelayExpectation,
  domain: { ledgerChainId: number; slasher: Address },
): RelayVerdict {
  if (relay.chainId !== expected.chainId) {
    return { ok: false, reason: `relay names chain ${relay.chainId}, not ${expected.chainId}` };
  }
  if (relay.requestHash !== hashRequest(expected.method, expected.params)) {
    return { ok: false, reason: "relay is not about the request sent" };
  }
  if (relay.responseHash !== hashResponse(expected.response)) {
    return { ok: false, reason: "relay is not about the answer received" };
  }
  if (expected.now !== undefined) {
    const skew =
      relay.servedAt > expected.now ? relay.servedAt - expected.now : expected.now - relay.servedAt;
    if (skew > RELAY_CLOCK_SKEW_SECONDS) {
      return {
        ok: false,
        reason: `relay dated ${skew} s from this clock (at most ${RELAY_CLOCK_SKEW_SECONDS} s)`,
      };
    }
  }
  const digest = relayDigest(relay, domain.ledgerChainId, domain.slasher);
  let signer: Address;
  try {
    signer = ecrecover(digest, signature as Hex);
  } catch (error) {
    // A malformed signature, one the ledger refuses (upper-half s, v ∉ {27, 28}), or none that recovers.
    return { ok: false, reason: `relay signature refused: ${(error as Error).message}` };
  }
  if (signer.toLowerCase() !== expected.signer.toLowerCase()) {
    return { ok: false, reason: `relay signed by ${signer}, not the registered signer ${expected.signer}` };
  }
  return { ok: true, digest };
}
