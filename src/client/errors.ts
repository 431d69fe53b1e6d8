/**
 * What a client is told when an answer does not check out: a typed error naming the operator that served
 * it, with everything needed to show the fault to anyone else (and, for a wrong block hash or wrong state,
 * to prove it on the ledger). A verifying client never returns a value it could not verify once it tried.
 */
import { type Address, BaseError, type Hex } from "viem";
import type { Relay } from "../ledger/din/relay.js";

/** What went wrong, from the first check that failed. */
export type VerificationKind =
  /** The gateway returned no signed relay where one was asked for. */
  | "unsigned"
  /** The signature is malformed, or one the ledger would refuse. */
  | "bad-signature"
  /** The key that signed is not registered to any operator when the answer was served. */
  | "unregistered-signer"
  /** The key that signed is registered to another operator than the one that served. */
  | "wrong-signer"
  /** The relay is not about the request sent (method and params), or about another chain. */
  | "request-mismatch"
  /** The relay is not about the answer received. */
  | "response-mismatch"
  /** The relay is dated too far from this client's clock. */
  | "stale-relay"
  /** A block hash disagrees with the majority of operators. */
  | "wrong-block-hash"
  /** A block's fields do not hash to its hash. */
  | "bad-header"
  /** Verified headers do not link by parent hash. */
  | "broken-parent-link"
  /** Operators disagree with no majority: the answer cannot be verified. */
  | "no-majority"
  /** An answer about state disagrees with the proof of that state against the header's state root. */
  | "wrong-state"
  /** A state proof does not verify against the header's state root, or is malformed. */
  | "bad-proof";

/**
 * Evidence of a wrong state answer, shaped as the ledger's state fraud proof takes it: the signed relay and
 * the exact canonical JSON strings it hashes, the canonical header (RLP) of the block and the proofs (RLP
 * trie nodes) of the true state against its state root.
 */
export interface StateEvidence {
  relay: Relay;
  signature: Hex;
  /** Canonical JSON of `{method, params}`: keccak256 of it is `relay.requestHash`. */
  request: string;
  /** Canonical JSON of `{result}`: keccak256 of it is `relay.responseHash`. */
  response: string;
  header: Hex;
  accountProof: Hex[];
  storageProof: Hex[];
}

/** What a verification error carries; fields are absent where the check that failed had none. */
export interface VerificationEvidence {
  relay?: Relay | undefined;
  signature?: Hex | undefined;
  /** Canonical JSON of the request sent, as the relay hashes it. */
  request?: string | undefined;
  /** Canonical JSON of the answer received, as the relay hashes it. */
  response?: string | undefined;
  /** The majority's (canonical) block header, RLP-encoded. */
  header?: Hex | undefined;
  /** The header the operator served, when it differs from the canonical one (as JSON). */
  servedBlock?: unknown;
  accountProof?: Hex[] | undefined;
  storageProof?: Hex[] | undefined;
  /** The signer recovered from the signature. */
  signer?: Address | undefined;
}

/** The JSON-RPC error code a verification failure carries (viem and ethers do not retry on it). */
export const VERIFICATION_ERROR_CODE = -32098;

/**
 * A served answer failed a check. Never caught and turned into a value by this library. A viem error (so
 * viem passes it through unchanged) with a JSON-RPC code that neither viem nor ethers retries on: asking
 * again could land on an honest operator and hide the fault.
 */
export class DinVerificationError extends BaseError {
  override name = "DinVerificationError";
  readonly code = VERIFICATION_ERROR_CODE;
  readonly kind: VerificationKind;
  /** The ledger address of the operator that served the faulty answer (as the gateway named it). */
  readonly operator: Address | undefined;
  /** The gateway's id of its endpoint (`din-upstream`). */
  readonly upstream: string | undefined;
  readonly method: string;
  readonly evidence: VerificationEvidence;

  constructor(
    kind: VerificationKind,
    message: string,
    details: {
      operator: Address | undefined;
      upstream: string | undefined;
      method: string;
      evidence?: VerificationEvidence;
    },
  ) {
    super(
      `${message} (${details.method}, operator ${details.operator ?? "unknown"}${details.upstream ? ` at ${details.upstream}` : ""})`,
      { name: "DinVerificationError" },
    );
    this.kind = kind;
    this.operator = details.operator;
    this.upstream = details.upstream;
    this.method = details.method;
    this.evidence = details.evidence ?? {};
  }

  /** The state fraud proof this error carries, when it is about wrong state with a full proof. */
  stateEvidence(): StateEvidence | undefined {
    const e = this.evidence;
    if (this.kind !== "wrong-state") return undefined;
    if (!e.relay || !e.signature || !e.request || !e.response || !e.header || !e.accountProof)
      return undefined;
    return {
      relay: e.relay,
      signature: e.signature,
      request: e.request,
      response: e.response,
      header: e.header,
      accountProof: e.accountProof,
      storageProof: e.storageProof ?? [],
    };
  }
}

/** The gateway could not be reached or answered something that is not JSON-RPC. */
export class DinTransportError extends Error {
  override name = "DinTransportError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A JSON-RPC error answer, passed on as the node gave it. */
export class DinRpcError extends Error {
  override name = "DinRpcError";
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}
