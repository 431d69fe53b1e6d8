import fc from "fast-check";
import { type Address, concat, getAddress, type Hex, keccak256, numberToHex } from "viem";
import { describe, expect, it } from "vitest";
import {
  averageOperatorStake,
  buildRewardsTree,
  type Earnings,
  earningsKey,
  rewardsLeaf,
  splitOperatorReward,
} from "./rewards.js";

const address = (n: number): Address => getAddress(numberToHex(n + 1, { size: 20 }));
const STRATEGY = address(9999);
const TOKEN = address(8888);

/** OpenZeppelin MerkleProof.verify, in TypeScript. */
function verify(proof: Hex[], root: Hex, leaf: Hex): boolean {
  let hash = leaf;
  for (const p of proof)
    hash = BigInt(hash) < BigInt(p) ? keccak256(concat([hash, p])) : keccak256(concat([p, hash]));
  return hash === root;
}

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
  it("gives every earner a proof that OpenZeppelin's MerkleProof accepts, and none for others", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 30n }), { minLength: 1, maxLength: 40 }),
        (amounts) => {
          const earnings: Earnings = new Map(amounts.map((a, i) => [earningsKey(address(i), TOKEN), a]));
          const tree = buildRewardsTree(earnings);
          amounts.forEach((a, i) => {
            const claim = tree.claim(address(i), TOKEN);
            expect(claim?.cumulativeEarnings).toBe(a);
            expect(verify(claim?.proof ?? [], tree.root, rewardsLeaf(address(i), TOKEN, a))).toBe(true);
            expect(verify(claim?.proof ?? [], tree.root, rewardsLeaf(address(i), TOKEN, a + 1n))).toBe(false);
          });
          expect(tree.claim(address(1000), TOKEN)).toBeUndefined();
          const published = JSON.parse(JSON.stringify(tree)) as ReturnType<typeof tree.toJSON>;
          expect(published.root).toBe(tree.root);
          for (const c of published.claims) {
            expect(
              verify(c.proof, tree.root, rewardsLeaf(c.earner, c.token, BigInt(c.cumulativeEarnings))),
            ).toBe(true);
          }
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
