/**
 * Submitting what a verifying client caught to the ledger, in one call: a signed wrong block hash is
 * proven with DinSlasher.proveWrongBlockHash (about the ledger's own chain, against the canonical header the
 * majority served: the slasher checks it against the chain's block hash and slashes the signer's operator);
 * a signed wrong state answer with DinSlasher.proveWrongState (or proveWrongStateAttested about another
 * chain), from the header and the proofs of the true state the client checked it against.
 */
import {
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  parseAbi,
  type Transport,
  type WalletClient,
} from "viem";
import { proveWrongState } from "../ledger/din/stateProof.js";
import { DinVerificationError } from "./errors.js";

/** The one slasher function called here (IDinSlasher.proveWrongBlockHash). */
const proveWrongBlockHashAbi = parseAbi([
  "function proveWrongBlockHash((uint256 chainId, bytes32 requestHash, bytes32 responseHash, uint256 blockNumber, bytes32 blockHash, uint256 servedAt) relay, bytes signature, bytes header)",
]);

/**
 * Proves a `wrong-block-hash` error on the ledger; resolves to the transaction hash. The block must be
 * final on the ledger's chain, which must be the served chain (otherwise the watchers' attestation path
 * applies). Throws when the error carries no such evidence.
 */
export async function submitWrongBlockHash(
  wallet: WalletClient<Transport, Chain | undefined, Account>,
  slasher: Address,
  error: DinVerificationError,
): Promise<Hash> {
  const { relay, signature, header } = error.evidence;
  if (
    !(error instanceof DinVerificationError) ||
    error.kind !== "wrong-block-hash" ||
    !relay ||
    !signature ||
    !header
  ) {
    throw new TypeError(
      "only a wrong-block-hash error with its relay, signature and canonical header can be submitted",
    );
  }
  return wallet.writeContract({
    address: slasher,
    abi: proveWrongBlockHashAbi,
    functionName: "proveWrongBlockHash",
    args: [relay, signature, header as Hex],
    account: wallet.account,
    chain: wallet.chain,
  });
}

/**
 * Proves a `wrong-state` error on the ledger; resolves to the transaction hash. About the ledger's own chain
 * the operator is slashed at once; with `attested`, about another chain, against its attested block hash.
 * Throws when the error carries no state evidence.
 */
export function submitWrongState(
  wallet: WalletClient<Transport, Chain, Account>,
  slasher: Address,
  error: DinVerificationError,
  options: { attested?: boolean } = {},
): Promise<Hash> {
  const evidence = error instanceof DinVerificationError ? error.stateEvidence() : undefined;
  if (!evidence) throw new TypeError("only a wrong-state error with its full evidence can be submitted");
  return proveWrongState(wallet, slasher, evidence, options);
}
