import fc from "fast-check";
import { type Hex, keccak256, recoverAddress, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { ecrecover, SignatureError } from "./ecrecover.js";

const curveOrder = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The same signature with s' = n - s and the other v: valid for a bare ecrecover, refused by the ledger. */
function malleate(signature: Hex): Hex {
  const r = signature.slice(2, 66);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130), 16);
  return `0x${r}${(curveOrder - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
}

describe("ecrecover", () => {
  it("recovers the same signer as viem for any key and digest", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (message) => {
        const key = generatePrivateKey();
        const hash = keccak256(toHex(message));
        const signature = await sign({ hash, privateKey: key, to: "hex" });
        const expected = privateKeyToAccount(key).address;
        expect(ecrecover(hash, signature)).toBe(expected);
        expect(await recoverAddress({ hash, signature })).toBe(expected);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses what the ledger refuses: upper-half s, v other than 27 or 28, wrong lengths", async () => {
    const hash = keccak256(toHex("relay"));
    const signature = await sign({ hash, privateKey: generatePrivateKey(), to: "hex" });
    expect(() => ecrecover(hash, malleate(signature))).toThrow(/upper half/);
    expect(() => ecrecover(hash, `${signature.slice(0, 130)}01` as Hex)).toThrow(/v is 1/);
    expect(() => ecrecover(hash, signature.slice(0, 120) as Hex)).toThrow(SignatureError);
    expect(() => ecrecover("0x1234", signature)).toThrow(/digest/);
    // r = 0 is no point on the curve.
    expect(() => ecrecover(hash, `0x${"0".repeat(64)}${signature.slice(66)}` as Hex)).toThrow(
      /does not recover/,
    );
  });
});
