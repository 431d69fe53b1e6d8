/**
 * Signed relays as the gateway checks and keeps them: an operator asked to sign (`din-sign: 1`) must
 * return an EIP-712 relay over exactly the request sent and the response received, signed by the key it
 * registered. A missing or wrong signature, and a quorum whose signed answers contradict each other, are
 * evidence: appended to a JSON-lines file and logged, for the fraud-proof path.
 */
import { appendFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import { type Relay, type RelayJson, relayFromJson, relayToJson, verifyRelay } from "../ledger/din/relay.js";
import type { UpstreamReply } from "./upstream.js";

/** A relay an operator signed, as the gateway verified it. */
export interface SignedRelay {
  upstream: string;
  /** The operator's ledger address. */
  operator: Address;
  /** The key that signed (its registered signer). */
  signer: Address;
  relay: Relay;
  signature: Hex;
}

export type Evidence =
  | {
      kind: "bad-signature";
      /** ISO time it was seen. */
      at: string;
      network: string;
      upstream: string;
      operator: Address;
      /** The signer the registry names for it. */
      registeredSigner: Address;
      method: string;
      params: unknown;
      reason: string;
      /** What the operator sent, when it sent anything. */
      relay?: RelayJson | undefined;
      signature?: string | undefined;
    }
  | {
      kind: "contradiction";
      at: string;
      network: string;
      method: string;
      params: unknown;
      /** Each distinct answer, with the signed relays of the operators that gave it. */
      sides: Array<{
        digest: string;
        majority: boolean;
        relays: Array<Omit<SignedRelay, "relay"> & { relay: RelayJson }>;
      }>;
    };

/** Where the gateway checks relays against. */
export interface RelayVerifierOptions {
  ledgerChainId: number;
  /** The DinSlasher: the EIP-712 domain's verifying contract. */
  slasher: Address;
}

export type RelayCheck =
  | { ok: true; relay: SignedRelay }
  | { ok: false; reason: string; relay?: RelayJson | undefined; signature?: string | undefined };

/**
 * Checks a signed reply: the relay is about the request sent (`requestHash`), the response received
 * (`responseHash`) and the network's chain, and `expectedSigner` signed it. Pure;
 * no I/O.
 */
export function checkSignedReply(
  reply: UpstreamReply,
  request: { method: string; params: unknown; chainId: number },
  operator: { upstream: string; address: Address; signer: Address },
  options: RelayVerifierOptions,
): RelayCheck {
  const signed = reply.signed;
  if (!signed || signed.signature === undefined || signed.relay === undefined) {
    return { ok: false, reason: signed?.error ? `not signed: ${signed.error}` : "not signed" };
  }
  const signature = signed.signature;
  let relayJson: RelayJson;
  let relay: Relay;
  try {
    relayJson = JSON.parse(signed.relay) as RelayJson;
    relay = relayFromJson(relayJson);
  } catch {
    return { ok: false, reason: "malformed din-relay header", signature };
  }
  const body = reply.body as { result?: unknown; error?: unknown } | undefined;
  const verdict = verifyRelay(
    relay,
    signature,
    {
      method: request.method,
      params: request.params,
      response: body && "error" in body ? { error: body.error } : { result: body?.result },
      chainId: BigInt(request.chainId),
      signer: operator.signer,
      now: BigInt(Math.floor(Date.now() / 1000)),
    },
    options,
  );
  if (!verdict.ok) return { ok: false, reason: verdict.reason, relay: relayJson, signature };
  return {
    ok: true,
    relay: {
      upstream: operator.upstream,
      operator: operator.address,
      signer: operator.signer,
      relay,
      signature: signature as Hex,
    },
  };
}

export function signedRelayToJson(signed: SignedRelay) {
  return { ...signed, relay: relayToJson(signed.relay) };
}

/** Whether a relay claims a block (number and hash), so a wrong hash is provable. */
export function claimsBlock(relay: Relay): boolean {
  return relay.blockNumber > 0n && !/^0x0{64}$/.test(relay.blockHash);
}

/**
 * Keeps evidence: each item is logged (warn) and, when a file is configured, appended to it as one JSON
 * line. Writes are serialized so lines never interleave; a failed write is logged, never thrown.
 */
export class EvidenceLog {
  private writing: Promise<void> = Promise.resolve();
  /** Evidence kept since start, newest last (bounded), for tests and /healthz readers. */
  readonly recent: Evidence[] = [];

  constructor(
    private readonly file: string | undefined,
    private readonly logger: Logger,
  ) {}

  record(evidence: Evidence): void {
    this.recent.push(evidence);
    if (this.recent.length > 100) this.recent.shift();
    this.logger.warn({ evidence }, `evidence: ${evidence.kind}`);
    const file = this.file;
    if (file === undefined) return;
    const line = `${JSON.stringify(evidence)}\n`;
    this.writing = this.writing.then(() =>
      appendFile(file, line, { mode: 0o600 }).catch((error: unknown) => {
        this.logger.error({ err: error, file }, "evidence could not be written");
      }),
    );
  }

  /** Resolves once every evidence recorded so far is written. */
  flush(): Promise<void> {
    return this.writing;
  }
}
