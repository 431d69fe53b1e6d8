// The signer of a digest, recovered the way the DinSlasher recovers it (OpenZeppelin ECDSA.recover): a
// 65-byte r‖s‖v signature with v 27 or 28 and s in the lower half of the curve order; anything else is
// refused here as it would be on-chain, so evidence accepted off-chain is evidence the ledger accepts.
// libsecp256k1 through the `secp256k1` binding (prebuilt; the package falls back to JavaScript where no
// binary loads): about 40x faster than a recovery in JavaScript, and every watcher probe and every sampled
// relay needs one.
import secp256k1 from "secp256k1";
import { type Address, bytesToHex, getAddress, type Hex, hexToBytes, keccak256 } from "viem";

// n/2 of secp256k1: the largest s a canonical signature may carry (EIP-2).
const halfCurveOrder = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** A signature the ledger would refuse, or that recovers to nobody. */
export class SignatureError extends Error {
  override name = "SignatureError";
}

/** The address that signed `digest` (32 bytes); throws {@link SignatureError} on a signature the ledger refuses. */
export function ecrecover(digest: Hex, signature: Hex): Address {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) throw new SignatureError("signature is not 65 bytes of hex");
  if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) throw new SignatureError("digest is not 32 bytes of hex");
  const bytes = hexToBytes(signature);
  const v = bytes[64] as number;
  if (v !== 27 && v !== 28) throw new SignatureError(`signature v is ${v}, not 27 or 28`);
  const rs = bytes.subarray(0, 64);
  if (BigInt(bytesToHex(rs.subarray(32))) > halfCurveOrder) {
    throw new SignatureError("signature s is in the upper half of the curve order");
  }
  let publicKey: Uint8Array;
  try {
    publicKey = secp256k1.ecdsaRecover(rs, v - 27, hexToBytes(digest), false);
  } catch {
    throw new SignatureError("signature does not recover");
  }
  // Uncompressed key: 0x04 ‖ x ‖ y; the address is the last 20 bytes of keccak256(x ‖ y).
  return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`);
}
