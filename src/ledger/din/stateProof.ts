// Wrong state as evidence: an operator's signed answer to eth_getBalance, eth_getTransactionCount, eth_getCode
// or eth_getStorageAt at a numbered block, proven wrong on the ledger from the block's header and
// `eth_getProof` proofs (DinSlasher.proveWrongState, or proveWrongStateAttested for another chain). Pure
// and typed: watchers, the gateway and client code gather evidence with an honest source and send it here.
import {
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  keccak256,
  type PublicClient,
  pad,
  type Transport,
  toHex,
  type WalletClient,
} from "viem";
import { dinSlasherAbi } from "../artifacts/index.js";
import { blockHeader } from "./header.js";
import { type Relay, requestJson, responseJson } from "./relay.js";

/** The state requests the slasher can prove wrong. */
export const STATE_METHODS = [
  "eth_getBalance",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getStorageAt",
] as const;
export type StateMethod = (typeof STATE_METHODS)[number];

/** A signed answer to a state request: the relay and its signature, and what it is about. */
export type SignedStateAnswer = {
  relay: Relay;
  signature: Hex;
  method: string;
  params: readonly unknown[];
  /** The JSON-RPC answer received: its result (an error answer proves nothing). */
  response: { result?: unknown; error?: unknown };
};

/** Everything DinSlasher.proveWrongState takes. `request` and `response` are the canonical JSON the relay hashes. */
export type StateEvidence = {
  relay: Relay;
  signature: Hex;
  request: string;
  response: string;
  /** RLP header of the block the request names. */
  header: Hex;
  /** `eth_getProof`'s accountProof. */
  accountProof: Hex[];
  /** `eth_getProof`'s storageProof[0].proof for eth_getStorageAt; empty otherwise. */
  storageProof: Hex[];
};

/** Why a signed answer cannot be (or need not be) proven wrong. */
export type StateEvidenceProblem =
  /** Not one of STATE_METHODS with a hex address (and slot), or an error answer. */
  | "unprovable"
  /** The block is a tag, not a number: no fixed block to prove at. */
  | "block-not-pinned"
  /** The relay's hashes are not of this request and answer. */
  | "relay-mismatch"
  /** The honest source agrees with the answer. */
  | "not-fraudulent"
  /** The account or slot is absent from the trie: absence cannot be proven on-chain. */
  | "absent";

/** A signed answer that cannot be proven wrong, and why. */
export class StateEvidenceError extends Error {
  override name = "StateEvidenceError";
  constructor(
    readonly problem: StateEvidenceProblem,
    message: string,
  ) {
    super(message);
  }
}

/** A parsed provable state request. */
export type StateCall = { method: StateMethod; address: Address; slot?: Hex; blockNumber: bigint };

const addressPattern = /^0x[0-9a-fA-F]{40}$/;
const wordPattern = /^0x[0-9a-fA-F]{1,64}$/;

/**
 * Parses a state request as the slasher does (see StateJson.sol): the method, a hex address, for
 * eth_getStorageAt a hex slot, and a hex block number (the gateway pins tags to numbers before asking).
 */
export function parseStateCall(method: string, params: readonly unknown[]): StateCall {
  if (!(STATE_METHODS as readonly string[]).includes(method)) {
    throw new StateEvidenceError("unprovable", `${method} is not a provable state request`);
  }
  const state = method as StateMethod;
  const arity = state === "eth_getStorageAt" ? 3 : 2;
  const [address, ...rest] = params;
  if (params.length !== arity || typeof address !== "string" || !addressPattern.test(address)) {
    throw new StateEvidenceError(
      "unprovable",
      `${method} needs [address${arity === 3 ? ", slot" : ""}, block]`,
    );
  }
  const slot = arity === 3 ? rest[0] : undefined;
  if (arity === 3 && (typeof slot !== "string" || !wordPattern.test(slot))) {
    throw new StateEvidenceError("unprovable", `${method} needs a hex slot of at most 32 bytes`);
  }
  const block = rest[arity - 2];
  if (typeof block !== "string" || !block.startsWith("0x")) {
    throw new StateEvidenceError("block-not-pinned", `${method} names its block by a tag, not a number`);
  }
  if (!wordPattern.test(block)) throw new StateEvidenceError("unprovable", `malformed block number ${block}`);
  return {
    method: state,
    address: address as Address,
    ...(slot === undefined ? {} : { slot: slot as Hex }),
    blockNumber: BigInt(block),
  };
}

/** The answer's value as the slasher reads it: a quantity, or (eth_getCode) the code's keccak256. */
function claimedValue(call: StateCall, result: unknown): bigint | Hex {
  const pattern = call.method === "eth_getCode" ? /^0x(?:[0-9a-fA-F]{2})*$/ : /^0x[0-9a-fA-F]+$/;
  if (typeof result !== "string" || !pattern.test(result)) {
    throw new StateEvidenceError("unprovable", `the answer to ${call.method} is not a hex result`);
  }
  return call.method === "eth_getCode" ? keccak256(result as Hex) : BigInt(result);
}

/** What eth_getProof answers (the fields used here). */
type RpcProof = {
  balance: Hex;
  nonce: Hex;
  codeHash: Hex;
  storageHash: Hex;
  accountProof: Hex[];
  storageProof: { key: Hex; value: Hex; proof: Hex[] }[];
};

const emptyCodeHash = keccak256("0x");
const emptyTrieRoot = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";

/** The proven value of the call, or undefined when the account or slot is absent from the trie. */
function provenValue(call: StateCall, proof: RpcProof): bigint | Hex | undefined {
  const absent =
    BigInt(proof.nonce) === 0n &&
    BigInt(proof.balance) === 0n &&
    proof.codeHash.toLowerCase() === emptyCodeHash &&
    proof.storageHash.toLowerCase() === emptyTrieRoot;
  if (absent) return undefined;
  switch (call.method) {
    case "eth_getBalance":
      return BigInt(proof.balance);
    case "eth_getTransactionCount":
      return BigInt(proof.nonce);
    case "eth_getCode":
      return proof.codeHash.toLowerCase() as Hex;
    case "eth_getStorageAt": {
      const value = BigInt(proof.storageProof[0]?.value ?? "0x0");
      return value === 0n ? undefined : value;
    }
  }
}

/**
 * Gathers the evidence that a signed state answer is wrong: the canonical JSON the relay hashes, the RLP
 * header of the request's block and `eth_getProof` at that block, all read from `client` (an honest
 * source: the ledger's own node for its chain, a trusted archive node for another). Throws
 * StateEvidenceError when the answer cannot be proven wrong (see StateEvidenceProblem): in particular when
 * the honest source agrees with it, so callers never pay for a proof the slasher would refuse.
 */
export async function gatherStateEvidence(
  client: Pick<PublicClient, "request">,
  signed: SignedStateAnswer,
): Promise<StateEvidence> {
  const call = parseStateCall(signed.method, signed.params);
  if (!("result" in signed.response) || "error" in signed.response) {
    throw new StateEvidenceError("unprovable", "an error answer claims no state");
  }
  const claimed = claimedValue(call, signed.response.result);
  const request = requestJson(signed.method, signed.params);
  const response = responseJson(signed.response);
  if (
    keccak256(toHex(request)) !== signed.relay.requestHash ||
    keccak256(toHex(response)) !== signed.relay.responseHash
  ) {
    throw new StateEvidenceError("relay-mismatch", "the relay is not about this request and answer");
  }
  const blockTag = toHex(call.blockNumber);
  const [header, proof] = await Promise.all([
    blockHeader(client, call.blockNumber),
    client.request({
      method: "eth_getProof",
      // Some nodes take only 32-byte keys; the slasher reads the slot as a quantity either way.
      params: [call.address, call.slot === undefined ? [] : [pad(call.slot, { size: 32 })], blockTag],
    } as never) as Promise<RpcProof>,
  ]);
  const proven = provenValue(call, proof);
  if (proven === undefined) {
    throw new StateEvidenceError(
      "absent",
      `${call.method}: the account or slot is absent; absence has no proof`,
    );
  }
  const same = typeof proven === "bigint" ? proven === claimed : proven === (claimed as Hex).toLowerCase();
  if (same) throw new StateEvidenceError("not-fraudulent", `${call.method}: the answer is the proven value`);
  return {
    relay: signed.relay,
    signature: signed.signature,
    request,
    response,
    header,
    accountProof: proof.accountProof,
    storageProof: call.slot === undefined ? [] : (proof.storageProof[0]?.proof ?? []),
  };
}

/** The arguments of DinSlasher.proveWrongState (and proveWrongStateAttested) for `evidence`. */
export function stateProofArgs(evidence: StateEvidence) {
  return [
    evidence.relay,
    evidence.signature,
    {
      header: evidence.header,
      request: toHex(evidence.request),
      response: toHex(evidence.response),
      accountProof: evidence.accountProof,
      storageProof: evidence.storageProof,
    },
  ] as const;
}

type LedgerWallet = WalletClient<Transport, Chain, Account>;

/**
 * Sends DinSlasher.proveWrongState (the relay is about the ledger's own chain: slashed at once), or with
 * `attested`, proveWrongStateAttested (another chain, against its fixed attested hash: queued behind the
 * veto window). Resolves with the transaction hash once sent; the caller waits for its receipt.
 */
export function proveWrongState(
  wallet: LedgerWallet,
  slasher: Address,
  evidence: StateEvidence,
  options: { attested?: boolean } = {},
): Promise<Hash> {
  return wallet.writeContract({
    address: slasher,
    abi: dinSlasherAbi,
    functionName: options.attested ? "proveWrongStateAttested" : "proveWrongState",
    args: stateProofArgs(evidence),
    account: wallet.account,
    chain: wallet.chain,
  });
}

/** proveWrongState for a relay about another chain (see proveWrongState's `attested`). */
export function proveWrongStateAttested(
  wallet: LedgerWallet,
  slasher: Address,
  evidence: StateEvidence,
): Promise<Hash> {
  return proveWrongState(wallet, slasher, evidence, { attested: true });
}
