/**
 * The verification core both front-ends (viem, ethers) share. Every request goes to the gateway; a sample
 * of the requests this core can check (and every one with `verify: "always"`, and every one the caller
 * marks) is asked for signed and checked: the relay (signer registered to the operator at servedAt, about
 * exactly what was sent and received), block headers against the majority of operators and their parent
 * links, and state answers against `eth_getProof` at the same block, checked against the header's state
 * root. Block tags are resolved to a number first, so the answer and its proof are about one block.
 */
import { type Address, getAddress, type Hex, hexToBigInt, isAddress } from "viem";
import { DinRpcError, type DinVerificationError } from "./errors.js";
import { GatewayClient, type GatewayClientOptions, quantity, type RpcAnswer } from "./gateway.js";
import { HeaderVerifier, type VerifiedHeader } from "./headers.js";
import { codeHashOf, ProofError, type ProvenAccount, provenAccount, provenStorage } from "./proof.js";
import { ledgerRegistry, type SignerRegistry, snapshotRegistry } from "./registry.js";
import {
  answerError,
  type CheckedAnswer,
  type RelayDomain,
  type SignedCallContext,
  signedCall,
} from "./signed.js";

/** Where relays are verified and whose keys sign them. */
export type LedgerOptions = {
  /** Chain id of the ledger (the EIP-712 domain relays are signed under). */
  chainId: number;
  /** The DinSlasher's address (the domain's verifying contract). */
  slasher: Address;
} & (
  | {
      /** The ledger's JSON-RPC URL: signer keys are read from the DinRegistry there. */
      rpcUrl: string;
      registry: Address;
      /** The DIN network id of the served network. */
      networkId: number;
    }
  | {
      /** A pinned snapshot of the registry's signer keys. */
      signers: Parameters<typeof snapshotRegistry>[0];
    }
  | { signerRegistry: SignerRegistry }
);

export interface DinVerifierOptions extends GatewayClientOptions {
  ledger: LedgerOptions;
  /** "always": check every request this library can check; "sample": a `sampleRate` share. @default "sample" */
  verify?: "sample" | "always";
  /** Share of checkable requests checked under "sample". @default 0.01 */
  sampleRate?: number;
  /** Requests to check whatever the sample says. */
  mark?: (method: string, params: readonly unknown[]) => boolean;
  /** Operators whose majority decides a block header (`din-quorum`). @default 3 */
  quorum?: number;
  /** Chain id of the served network; read once from the gateway when omitted. */
  chainId?: number;
  /** Verified headers kept. @default 4096 */
  maxHeaders?: number;
  /** Random numbers in [0, 1) for the sample (tests). @default Math.random */
  random?: () => number;
  /** Unix seconds now (tests). */
  now?: () => bigint;
}

/** State reads checked against proofs, and the index of their block parameter. */
export const stateMethods: Readonly<Record<string, number>> = {
  eth_getBalance: 1,
  eth_getTransactionCount: 1,
  eth_getCode: 1,
  eth_getStorageAt: 2,
};

/** Reads checked by their signed relay only (and blocks against the verified header). */
export const signedMethods: Readonly<Record<string, number | undefined>> = {
  eth_getBlockByNumber: 0,
  eth_getBlockByHash: undefined,
  eth_getTransactionByHash: undefined,
  eth_getTransactionReceipt: undefined,
  eth_getProof: 2,
};

/** Whether this library can check answers to `method`. */
export function isVerifiable(method: string): boolean {
  return method in stateMethods || method in signedMethods;
}

const maxCachedProofs = 4096;

/** An account (and a slot) as a checked proof shows it, with the proof's nodes (evidence). */
interface ProvenState {
  account: ProvenAccount;
  proof: Hex[];
  storageProof: Hex[];
  proven: bigint | undefined;
}

export class DinVerifier {
  readonly gateway: GatewayClient;
  private readonly registry: SignerRegistry;
  private readonly domain: RelayDomain;
  private readonly options: DinVerifierOptions;
  private chainId: Promise<bigint> | undefined;
  private headerVerifier: Promise<HeaderVerifier> | undefined;
  private readonly accounts = new Map<string, Promise<ProvenState>>();

  constructor(url: string, options: DinVerifierOptions) {
    this.options = options;
    this.gateway = new GatewayClient(url, options);
    const ledger = options.ledger;
    if (!ledger || !Number.isInteger(ledger.chainId) || !isAddress(ledger.slasher)) {
      throw new TypeError("ledger.chainId and ledger.slasher (the DinSlasher's address) are required");
    }
    this.domain = { ledgerChainId: ledger.chainId, slasher: getAddress(ledger.slasher) };
    if ("signerRegistry" in ledger) this.registry = ledger.signerRegistry;
    else if ("signers" in ledger) this.registry = snapshotRegistry(ledger.signers);
    else if ("rpcUrl" in ledger && isAddress(ledger.registry) && Number.isInteger(ledger.networkId)) {
      this.registry = ledgerRegistry({
        rpcUrl: ledger.rpcUrl,
        registry: ledger.registry,
        networkId: ledger.networkId,
      });
    } else {
      throw new TypeError("ledger needs rpcUrl, registry and networkId, or a signers snapshot");
    }
    const rate = options.sampleRate ?? 0.01;
    if (!(rate >= 0 && rate <= 1)) throw new TypeError("sampleRate must be between 0 and 1");
  }

  /** Whether this request is to be checked. */
  shouldVerify(method: string, params: readonly unknown[], force = false): boolean {
    if (!isVerifiable(method)) return false;
    if (force || this.options.verify === "always" || this.options.mark?.(method, params)) return true;
    return (this.options.random ?? Math.random)() < (this.options.sampleRate ?? 0.01);
  }

  /**
   * Answers one JSON-RPC request: the result, a {@link DinRpcError} for a JSON-RPC error, or a
   * {@link DinVerificationError} when a checked answer is wrong. `verify` forces the check.
   */
  async request(method: string, params: readonly unknown[] = [], verify = false): Promise<unknown> {
    if (!this.shouldVerify(method, params, verify))
      return unwrap((await this.gateway.call(method, params)).answer);
    if (method in stateMethods) return this.verifiedState(method, params);
    return this.verifiedSigned(method, params);
  }

  /** The verified header of a block (cached). */
  async header(number: bigint): Promise<VerifiedHeader> {
    return (await this.headers()).header(number);
  }

  private async context(): Promise<SignedCallContext> {
    this.chainId ??= (async () => {
      if (this.options.chainId !== undefined) return BigInt(this.options.chainId);
      const answer = (await this.gateway.call("eth_chainId", [])).answer;
      return hexToBigInt(unwrap(answer) as Hex);
    })();
    this.chainId.catch(() => {
      this.chainId = undefined;
    });
    return {
      gateway: this.gateway,
      registry: this.registry,
      domain: this.domain,
      chainId: await this.chainId,
      now: this.options.now ?? (() => BigInt(Math.floor(Date.now() / 1000))),
    };
  }

  private headers(): Promise<HeaderVerifier> {
    this.headerVerifier ??= this.context().then(
      (context) =>
        new HeaderVerifier(context, {
          ...(this.options.quorum !== undefined ? { quorum: this.options.quorum } : {}),
          ...(this.options.maxHeaders !== undefined ? { maxHeaders: this.options.maxHeaders } : {}),
        }),
    );
    this.headerVerifier.catch(() => {
      this.headerVerifier = undefined;
    });
    return this.headerVerifier;
  }

  /** A block tag or number as a number: `latest` and `pending` are the gateway's head. */
  private async resolveBlock(tag: unknown): Promise<bigint | undefined> {
    if (tag === undefined || tag === null || tag === "latest" || tag === "pending") {
      return hexToBigInt(unwrap((await this.gateway.call("eth_blockNumber", [])).answer) as Hex);
    }
    if (tag === "earliest") return 0n;
    if (typeof tag === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(tag)) return hexToBigInt(tag as Hex);
    if (tag === "safe" || tag === "finalized") {
      const block = unwrap((await this.gateway.call("eth_getBlockByNumber", [tag, false])).answer) as {
        number?: Hex;
      } | null;
      return block?.number ? hexToBigInt(block.number) : undefined;
    }
    return undefined; // a block hash (EIP-1898): not resolved here
  }

  /** Params with the block parameter at `index` pinned to a number, or undefined when it cannot be. */
  private async pinned(
    params: readonly unknown[],
    index: number,
  ): Promise<{ params: unknown[]; number: bigint } | undefined> {
    const number = await this.resolveBlock(params[index]);
    if (number === undefined) return undefined;
    const copy = [...params];
    while (copy.length < index) copy.push(null);
    copy[index] = quantity(number);
    return { params: copy, number };
  }

  private async verifiedSigned(method: string, params: readonly unknown[]): Promise<unknown> {
    const index = signedMethods[method];
    let sent: readonly unknown[] = params;
    if (index !== undefined) {
      const pinned = await this.pinned(params, index);
      if (!pinned) return unwrap((await this.gateway.call(method, params)).answer);
      sent = pinned.params;
    }
    const context = await this.context();
    const checked = await signedCall(context, method, sent);
    const result = unwrap(checked.answer);
    if ((method === "eth_getBlockByNumber" || method === "eth_getBlockByHash") && result !== null) {
      await (await this.headers()).checkServedBlock(checked, result);
    }
    return result;
  }

  private async verifiedState(method: string, params: readonly unknown[]): Promise<unknown> {
    const address = params[0];
    const slot = method === "eth_getStorageAt" ? params[1] : undefined;
    const pinned = await this.pinned(params, stateMethods[method]!);
    if (typeof address !== "string" || !isAddress(address, { strict: false }) || !pinned) {
      // Malformed params get the node's own error; a block by hash is not checked (see docs/client.md).
      return unwrap((await this.gateway.call(method, params)).answer);
    }
    const context = await this.context();
    // The answer, its block's header and the proof are fetched at once; the proof is checked once the
    // header is.
    const header = this.header(pinned.number);
    const [checked, verified, state] = await Promise.all([
      signedCall(context, method, pinned.params),
      header,
      this.proven(
        context,
        pinned.number,
        header,
        address as Address,
        typeof slot === "string" ? (slot as Hex) : undefined,
      ),
    ]);
    const result = unwrap(checked.answer);
    const { account, proof: accountProof, storageProof, proven } = state;
    let matches: boolean;
    try {
      switch (method) {
        case "eth_getBalance":
          matches = hexToBigInt(result as Hex) === account.balance;
          break;
        case "eth_getTransactionCount":
          matches = hexToBigInt(result as Hex) === account.nonce;
          break;
        case "eth_getCode":
          matches = typeof result === "string" && codeHashOf(result as Hex) === account.codeHash;
          break;
        default:
          matches = hexToBigInt(result as Hex) === proven;
      }
    } catch {
      matches = false;
    }
    if (!matches) {
      throw answerError(
        checked,
        "wrong-state",
        `${method} answered ${String(result).slice(0, 80)}, which the state proof at block ${pinned.number} refutes`,
        {
          header: verified.rlp,
          accountProof,
          storageProof,
        },
      );
    }
    return result;
  }

  /** The account (and slot) at a verified block, from a proof checked against its state root. */
  private async proven(
    context: SignedCallContext,
    number: bigint,
    header: Promise<VerifiedHeader>,
    address: Address,
    slot: Hex | undefined,
  ): Promise<ProvenState> {
    if (slot !== undefined) return this.fetchProof(context, number, header, address, slot);
    const key = `${number}:${address.toLowerCase()}`;
    let cached = this.accounts.get(key);
    if (!cached) {
      cached = this.fetchProof(context, number, header, address, undefined);
      cached.catch(() => this.accounts.delete(key));
      if (this.accounts.size >= maxCachedProofs) this.accounts.clear();
      this.accounts.set(key, cached);
    }
    return cached;
  }

  private async fetchProof(
    context: SignedCallContext,
    number: bigint,
    header: Promise<VerifiedHeader>,
    address: Address,
    slot: Hex | undefined,
  ): Promise<ProvenState> {
    const [checked, verified] = await Promise.all([
      signedCall(context, "eth_getProof", [address, slot === undefined ? [] : [slot], quantity(number)]),
      header,
    ]);
    const answer = unwrap(checked.answer) as {
      accountProof?: Hex[];
      storageProof?: Array<{ key?: string; proof?: Hex[] }>;
    } | null;
    const proof = answer?.accountProof ?? [];
    const storageProof = answer?.storageProof?.[0]?.proof ?? [];
    try {
      const account = await provenAccount(verified.stateRoot, address, proof);
      const proven =
        slot === undefined ? undefined : await provenStorage(account.storageRoot, slot, storageProof);
      return { account, proof, storageProof, proven };
    } catch (error) {
      if (!(error instanceof ProofError)) throw error;
      throw proofError(checked, error, verified);
    }
  }
}

function proofError(checked: CheckedAnswer, error: ProofError, header: VerifiedHeader): DinVerificationError {
  const answer =
    "result" in checked.answer ? (checked.answer.result as { accountProof?: Hex[] } | null) : null;
  return answerError(checked, "bad-proof", error.message, {
    header: header.rlp,
    accountProof: Array.isArray(answer?.accountProof) ? answer.accountProof : undefined,
  });
}

/** The result of a JSON-RPC answer; its error as a {@link DinRpcError}. */
export function unwrap(answer: RpcAnswer): unknown {
  if ("error" in answer) {
    const error = answer.error ?? { code: -32603, message: "malformed error" };
    throw new DinRpcError(error.code, error.message, error.data);
  }
  return answer.result;
}
