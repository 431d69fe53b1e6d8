// Slashing is O(1) in the number of stakers: the same slash costs the same gas whether 1 or many stakers
// delegate to the operator. (The 500-staker comparison is in `npm run bench:gas`.)
import { type Address, getAddress, numberToHex } from "viem";
import { describe, expect, it } from "vitest";
import { deployFixture, e18, type Fixture, SET_A } from "./fixture.js";

async function operatorWithStakers(f: Fixture, operator: Address, count: number, offset: number) {
  await f.registerOperator(operator);
  await f.registerForSets(operator, [SET_A]);
  for (let i = 0; i < count; i++) {
    const staker = getAddress(numberToHex(0x5700_0000n + BigInt(offset + i), { size: 20 }));
    await f.ledger.fund(staker);
    await f.deposit(staker, e18(1 + i));
    await f.delegate(staker, operator);
  }
  await f.allocate(operator, SET_A, [f.strategy], [e18("0.5")]);
}

describe("slash cost", () => {
  it("does not depend on how many stakers delegate to the operator", async () => {
    const f = await deployFixture();
    await operatorWithStakers(f, f.operator, 1, 0);
    await operatorWithStakers(f, f.operator2, 40, 1);
    const before = await f.ledger.snapshot();
    const one = await f.slash(f.operator, SET_A, [f.strategy], [e18("0.3")]);
    await f.ledger.revert(before);
    const many = await f.slash(f.operator2, SET_A, [f.strategy], [e18("0.3")]);
    expect(many.gasUsed).toBe(one.gasUsed);
  });
});
