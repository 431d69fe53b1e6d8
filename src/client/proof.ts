/**
 * State proofs (EIP-1186 `eth_getProof`) checked against a block's state root: the account's nonce,
 * balance, storage root and code hash, and storage slots against the account's storage root. The trie
 * walk is @ethereumjs/mpt's (keys hashed, every node checked against its parent's reference).
 */
import { verifyMerkleProof } from "@ethereumjs/mpt";
import { type Address, bytesToHex, fromRlp, type Hex, hexToBigInt, hexToBytes, keccak256, pad } from "viem";

/** The root of an empty trie: the storage root of an account without storage. */
export const emptyTrieRoot: Hex = "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421";
/** keccak256 of empty code. */
export const emptyCodeHash: Hex = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

export interface ProvenAccount {
  nonce: bigint;
  balance: bigint;
  storageRoot: Hex;
  codeHash: Hex;
}

/** A proof that does not verify against the root, or is not a proof at all. */
export class ProofError extends Error {
  override name = "ProofError";
}

/** The value under `key` (hashed) in the trie of `root`; null when the proof shows it absent. */
async function provenValue(
  root: Hex,
  key: Hex,
  proof: readonly Hex[],
  what: string,
): Promise<Uint8Array | null> {
  if (
    !Array.isArray(proof) ||
    proof.some((node) => typeof node !== "string" || !/^0x(?:[0-9a-fA-F]{2})*$/.test(node))
  ) {
    throw new ProofError(`${what}: proof is not a list of hex nodes`);
  }
  try {
    return await verifyMerkleProof(
      hexToBytes(key),
      proof.map((node) => hexToBytes(node)),
      { root: hexToBytes(root), useKeyHashing: true },
    );
  } catch (error) {
    throw new ProofError(`${what}: proof does not verify against root ${root}: ${(error as Error).message}`);
  }
}

/** The account at `address` as its proof against `stateRoot` shows it (all zero when absent). */
export async function provenAccount(
  stateRoot: Hex,
  address: Address,
  accountProof: readonly Hex[],
): Promise<ProvenAccount> {
  const value = await provenValue(stateRoot, address, accountProof, `account ${address}`);
  if (value === null) return { nonce: 0n, balance: 0n, storageRoot: emptyTrieRoot, codeHash: emptyCodeHash };
  let fields: unknown;
  try {
    fields = fromRlp(bytesToHex(value), "hex");
  } catch {
    throw new ProofError(`account ${address}: proven value is not RLP`);
  }
  if (!Array.isArray(fields) || fields.length !== 4 || fields.some((field) => typeof field !== "string")) {
    throw new ProofError(`account ${address}: proven value is not an account`);
  }
  const [nonce, balance, storageRoot, codeHash] = fields as Hex[];
  return {
    nonce: nonce === "0x" ? 0n : hexToBigInt(nonce!),
    balance: balance === "0x" ? 0n : hexToBigInt(balance!),
    storageRoot: storageRoot!,
    codeHash: codeHash!,
  };
}

/** The value of storage slot `slot` as its proof against the account's `storageRoot` shows it. */
export async function provenStorage(
  storageRoot: Hex,
  slot: Hex,
  storageProof: readonly Hex[],
): Promise<bigint> {
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(slot)) throw new ProofError(`storage slot ${slot} is not a 32-byte key`);
  const key = pad(slot, { size: 32 });
  const value = await provenValue(storageRoot, key, storageProof, `storage slot ${key}`);
  if (value === null) return 0n;
  let decoded: unknown;
  try {
    decoded = fromRlp(bytesToHex(value), "hex");
  } catch {
    throw new ProofError(`storage slot ${key}: proven value is not RLP`);
  }
  if (typeof decoded !== "string") throw new ProofError(`storage slot ${key}: proven value is not a word`);
  return decoded === "0x" ? 0n : hexToBigInt(decoded as Hex);
}

/** keccak256 of code, as an account's code hash is. */
export function codeHashOf(code: Hex): Hex {
  return keccak256(code);
}
