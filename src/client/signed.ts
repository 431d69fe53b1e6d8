/**
 * One signed answer, checked: the relay the gateway handed on must be about exactly the request sent and
 * the answer received, on the served chain, dated near this clock, signed with a key the registry gives to
 * the operator that served it at the time it served. Anything else is a typed error naming that operator.
 */
import { type Address, getAddress, type Hex, keccak256, stringToHex } from "viem";
import { ecrecover } from "../ledger/din/ecrecover.js";
import {
  RELAY_CLOCK_SKEW_SECONDS,
  type Relay,
  type RelayJson,
  relayDigest,
  relayFromJson,
} from "../ledger/din/relay.js";
import { canonicalJson } from "../rpc/canonical.js";
import { DinVerificationError, type VerificationEvidence, type VerificationKind } from "./errors.js";
import type { GatewayClient, RpcAnswer } from "./gateway.js";
import { operatorAt, type SignerRegistry } from "./registry.js";

/** Where relays are verified: the ledger's chain and its DinSlasher (the EIP-712 domain). */
export interface RelayDomain {
  ledgerChainId: number;
  slasher: Address;
}

/** A checked signed answer with what it takes to prove it wrong later. */
export interface CheckedAnswer {
  method: string;
  answer: RpcAnswer;
  operator: Address;
  upstream: string | undefined;
  relay: Relay;
  signature: Hex;
  /** The canonical JSON strings the relay hashes. */
  request: string;
  response: string;
}

export interface SignedCallContext {
  gateway: GatewayClient;
  registry: SignerRegistry;
  domain: RelayDomain;
  /** Chain id of the network served. */
  chainId: bigint;
  /** Unix seconds now. */
  now(): bigint;
}

/** Asks the gateway for a signed answer and checks its relay. */
export async function signedCall(
  context: SignedCallContext,
  method: string,
  params: readonly unknown[],
): Promise<CheckedAnswer> {
  const reply = await context.gateway.call(method, params, { sign: true });
  const request = canonicalJson({ method, params });
  const response = canonicalJson(
    "error" in reply.answer ? { error: reply.answer.error } : { result: reply.answer.result },
  );
  const claimed = reply.signed?.operator;
  const fail = (kind: VerificationKind, message: string, evidence: VerificationEvidence = {}): never => {
    throw new DinVerificationError(kind, message, {
      operator: claimed && /^0x[0-9a-fA-F]{40}$/.test(claimed) ? getAddress(claimed) : undefined,
      upstream: reply.upstream,
      method,
      evidence: { request, response, ...evidence },
    });
  };
  if (!reply.signed) return fail("unsigned", "the gateway handed on no signed relay");
  const signature = reply.signed.signature as Hex;
  let relay: Relay;
  try {
    relay = relayFromJson(JSON.parse(reply.signed.relay) as RelayJson);
  } catch {
    return fail("bad-signature", "the signed relay is malformed");
  }
  const evidence: VerificationEvidence = { relay, signature };
  if (!claimed || !/^0x[0-9a-fA-F]{40}$/.test(claimed)) {
    return fail("unsigned", "the gateway named no operator for the signed relay", evidence);
  }
  const operator = getAddress(claimed);
  if (relay.chainId !== context.chainId) {
    return fail(
      "request-mismatch",
      `the relay names chain ${relay.chainId}, not ${context.chainId}`,
      evidence,
    );
  }
  if (relay.requestHash !== keccak256(stringToHex(request))) {
    return fail("request-mismatch", "the relay is not about the request sent", evidence);
  }
  if (relay.responseHash !== keccak256(stringToHex(response))) {
    return fail("response-mismatch", "the relay is not about the answer received", evidence);
  }
  const now = context.now();
  const skew = relay.servedAt > now ? relay.servedAt - now : now - relay.servedAt;
  if (skew > RELAY_CLOCK_SKEW_SECONDS) {
    return fail("stale-relay", `the relay is dated ${skew} s from this clock`, evidence);
  }
  let signer: Address;
  try {
    signer = ecrecover(relayDigest(relay, context.domain.ledgerChainId, context.domain.slasher), signature);
  } catch (error) {
    return fail("bad-signature", `the relay signature is refused: ${(error as Error).message}`, evidence);
  }
  const registered = await operatorAt(context.registry, signer, relay.servedAt);
  if ("reason" in registered) {
    return fail("unregistered-signer", `the relay is signed by an unregistered key: ${registered.reason}`, {
      ...evidence,
      signer,
    });
  }
  if (registered.operator !== operator) {
    return fail("wrong-signer", `the relay is signed by ${registered.operator}'s key ${signer}`, {
      ...evidence,
      signer,
    });
  }
  return {
    method,
    answer: reply.answer,
    operator,
    upstream: reply.upstream,
    relay,
    signature,
    request,
    response,
  };
}

/** Evidence of a checked answer, for an error about its content. */
export function answerEvidence(checked: CheckedAnswer): VerificationEvidence {
  return {
    relay: checked.relay,
    signature: checked.signature,
    request: checked.request,
    response: checked.response,
  };
}

/** A typed error about a checked answer's content, naming its operator. */
export function answerError(
  checked: CheckedAnswer,
  kind: VerificationKind,
  message: string,
  evidence: VerificationEvidence = {},
): DinVerificationError {
  return new DinVerificationError(kind, message, {
    operator: checked.operator,
    upstream: checked.upstream,
    method: checked.method,
    evidence: { ...answerEvidence(checked), ...evidence },
  });
}
