/**
 * Signed relays for clients (`din-sign: 1`): a single read is routed to a ledger-sourced operator asked to
 * sign what it serves; the gateway checks the relay as it checks any signed attempt (a bad one is a failed
 * attempt and evidence) and hands it on in `din-operator`, `din-signature` and `din-relay` headers, so a
 * client can check the answer itself and keep the signature as evidence against the operator. Such reads
 * skip the cache and in-flight sharing: a cached answer carries no signature. The read itself is
 * pipeline.ts `signedRead`; this module holds the headers both ends speak.
 */
import type { Address, Hex } from "viem";
import { relayToJson } from "../ledger/din/relay.js";
import type { SignedRelay } from "./evidence.js";

/** The request header a client sends to be handed the operator's signed relay. */
export const SIGN_HEADER = "din-sign";

/** Response headers that carry a signed relay to the client (and are exposed to browsers). */
export const relayResponseHeaders = ["din-operator", "din-signature", "din-relay"] as const;

/** Whether a request's `din-sign` header asks for a signed relay. */
export function wantsSignedRelay(header: string | undefined): boolean {
  return header === "1";
}

/** The headers that hand a checked relay to the client. */
export function signedRelayHeaders(signed: {
  operator: Address;
  signature: Hex;
  relay: SignedRelay["relay"];
}): Record<(typeof relayResponseHeaders)[number], string> {
  return {
    "din-operator": signed.operator,
    "din-signature": signed.signature,
    "din-relay": JSON.stringify(relayToJson(signed.relay)),
  };
}
