import fc from "fast-check";
import { type Address, getAddress, numberToHex } from "viem";
import { describe, expect, it } from "vitest";
import {
  averageOperatorStake,
  buildRewardsTree,
  type Earnings,
  earnerLeafHash,
  earningsKey,
  processProof,
  splitOperatorReward,
  tokenLeafHash,
} from "./rewards.js";

const address = (n: number): Address => getAddress(numberToHex(n + 1, { size: 20 }));
const STRATEGY = address(9999);
const TOKEN = address(8888);

describe("splitOperatorReward", () => {
  it("pays the commission and the stakers pro rata, never more than the amount, losing at most 1 wei per staker", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 27n }), { minLength: 1, maxLength: 20 }),
        (amount, split, shares) => {
          const out = splitOperatorReward(
            {
              operator: address(0),
              token: TOKEN,
              amount,
              splitBips: BigInt(split),
              strategiesAndMultipliers: [{ strategy: STRATEGY, multiplier: 10n ** 18n }],
            },
            {
              operator: address(0),
              stakers: shares.map((s, i) => ({ staker: address(i + 1), shares: new Map([[STRATEGY, s]]) })),
            },
          );
          const total = [...out.values()].reduce((a, b) => a + b, 0n);
          expect(total).toBeLessThanOrEqual(amount);
          expect(amount - total).toBeLessThanOrEqual(BigInt(shares.length));
        },
      ),
    );
  });

  it("gives everything to the operator when nobody has stake", () => {
    const out = splitOperatorReward(
      { operator: address(0), token: TOKEN, amount: 100n, strategiesAndMultipliers: [] },
      { operator: address(0), stakers: [] },
    );
    expect(out.get(earningsKey(address(0), TOKEN))).toBe(100n);
  });
});

describe("buildRewardsTree", () => {
  it("gives every earner proofs that the coordinator's two-level, index-based check accepts, and none for others", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 30n }), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (amounts, twoTokens) => {
          const earnings: Earnings = new Map(amounts.map((a, i) => [earningsKey(address(i), TOKEN), a]));
          if (twoTokens) earnings.set(earningsKey(address(0), address(999)), 7n);
          const tree = buildRewardsTree(earnings);
          amounts.forEach((a, i) => {
            const claim = tree.claim(address(i), [TOKEN]);
            if (!claim) throw new Error("no claim");
            expect(claim.tokenLeaves).toEqual([{ token: TOKEN, cumulativeEarnings: a }]);
            const earnerLeaf = earnerLeafHash(claim.earnerLeaf.earner, claim.earnerLeaf.earnerTokenRoot);
            expect(processProof(claim.earnerTreeProof, earnerLeaf, claim.earnerIndex)).toBe(tree.root);
            const proof = claim.tokenTreeProofs[0] ?? "0x";
            const index = claim.tokenIndices[0] ?? 0;
            expect(processProof(proof, tokenLeafHash(TOKEN, a), index)).toBe(
              claim.earnerLeaf.earnerTokenRoot,
            );
            expect(processProof(proof, tokenLeafHash(TOKEN, a + 1n), index)).not.toBe(
              claim.earnerLeaf.earnerTokenRoot,
            );
            // Another earner's leaf does not fit this earner's proof.
            const other = earnerLeafHash(address(i + 1), claim.earnerLeaf.earnerTokenRoot);
            expect(processProof(claim.earnerTreeProof, other, claim.earnerIndex)).not.toBe(tree.root);
          });
          expect(tree.claim(address(1000), [TOKEN])).toBeUndefined();
          if (twoTokens) expect(tree.claim(address(0))?.tokenLeaves).toHaveLength(2);
          expect(tree.earned(address(0), TOKEN)).toBe(amounts[0]);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("averageOperatorStake", () => {
  it("weights stake by the share of snapshots it was present in", () => {
    const op = address(0);
    const early = { staker: address(1), shares: new Map([[STRATEGY, 100n]]) };
    const late = { staker: address(2), shares: new Map([[STRATEGY, 400n]]) };
    const avg = averageOperatorStake([
      { operator: op, stakers: [early] },
      { operator: op, stakers: [early] },
      { operator: op, stakers: [early] },
      { operator: op, stakers: [early, late] },
    ]);
    expect(avg.stakers.map((s) => [s.staker, s.shares.get(STRATEGY)])).toEqual([
      [address(1), 100n],
      [address(2), 100n],
    ]);
    expect(() => averageOperatorStake([])).toThrow();
  });
});
