// Relays as evidence (DESIGN.md): when a caller sends `din-sign: 1`, the operator signs what it served —
// the EIP-712 Relay {chainId, requestHash, responseHash, blockNumber, blockHash, servedAt} — with its
// registered signing key. Anyone can re-check it, and a signed wrong block hash slashes on the ledger.
import type { Address, Hex, LocalAccount } from "viem";
import { hashRequest, hashResponse, type Relay, relayToJson, signRelay } from "../ledger/din/relay.js";
import { fromQuantity } from "../rpc/blockTag.js";
import type { Answer } from "./answers.js";
import { isRecord } from "./chaos.js";

export interface RelaySignerOptions {
  /** The operator's signing key (the address registered with the DIN registry). */
  account: LocalAccount;
  /** Chain id of the network this operator serves (the relay's `chainId`). */
  chainId: number;
  /** Chain id of the ledger, and the DinSlasher that verifies relays there (the EIP-712 domain). */
  ledgerChainId: number;
  slasher: Address;
}

/** Headers a signed answer carries. `din-relay` holds the signed fields, so a verifier needs nothing else. */
export interface RelayHeaders {
  "din-operator": Address;
  "din-signature": Hex;
  "din-relay": string;
}

const zeroHash: Hex = `0x${"0".repeat(64)}`;

/** What a response claims about the chain: a block's number and hash, or a transaction's/log's block. */
export function claimedBlock(result: unknown): { blockNumber: bigint; blockHash: Hex } {
  if (typeof result === "object" && result !== null && !Array.isArray(result)) {
    const object = result as Record<string, unknown>;
    const ownNumber = fromQuantity(object.number);
    if (ownNumber !== undefined && isHash(object.hash))
      return { blockNumber: ownNumber, blockHash: object.hash };
    const containing = fromQuantity(object.blockNumber);
    if (containing !== undefined && isHash(object.blockHash)) {
      return { blockNumber: containing, blockHash: object.blockHash };
    }
  }
  return { blockNumber: 0n, blockHash: zeroHash };
}

/** Builds and signs the relay of one request and the response served for it. */
export async function signServedRelay(
  options: RelaySignerOptions,
  request: { method: string; params?: unknown },
  response: { result?: unknown; error?: unknown },
  servedAt = BigInt(Math.floor(Date.now() / 1000)),
): Promise<{ relay: Relay; headers: RelayHeaders }> {
  const relay: Relay = {
    chainId: BigInt(options.chainId),
    requestHash: hashRequest(request.method, request.params ?? []),
    responseHash: hashResponse(response),
    ...claimedBlock("result" in response ? response.result : undefined),
    servedAt,
  };
  const signature = await signRelay(options.account, relay, options.ledgerChainId, options.slasher);
  return {
    relay,
    headers: {
      "din-operator": options.account.address,
      "din-signature": signature,
      "din-relay": JSON.stringify(relayToJson(relay)),
    },
  };
}

/**
 * The answer to a caller that sent `din-sign: 1`, with the signed relay's headers added (a batch is signed
 * request by request by asking for them one at a time). Without a signing key, the caller is told so
 * rather than ignored; so is a caller whose request was refused, failed, or was a batch.
 */
export async function signAnswer(
  signer: RelaySignerOptions | undefined,
  payload: unknown,
  answer: Answer,
): Promise<Answer> {
  if (!signer) return { ...answer, headers: { "din-sign-error": "this operator has no signing key" } };
  if (answer.local === true) {
    return {
      ...answer,
      headers: { "din-sign-error": "refused by this operator: nothing was served to sign" },
    };
  }
  if (!isRecord(payload) || typeof payload.method !== "string" || answer.status !== 200 || !answer.body) {
    return { ...answer, headers: { "din-sign-error": "only a single successful request is signed" } };
  }
  let response: unknown;
  try {
    response = JSON.parse(answer.body.toString());
  } catch {
    return answer;
  }
  if (!isRecord(response)) return answer;
  const { headers } = await signServedRelay(
    signer,
    { method: payload.method, params: payload.params },
    "error" in response ? { error: response.error } : { result: response.result },
  );
  return { ...answer, headers: { ...headers } };
}

function isHash(value: unknown): value is Hex {
  return typeof value === "string" && /^0x[0-9a-fA-F]{64}$/.test(value);
}
