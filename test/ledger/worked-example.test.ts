// The reference's worked example (reference/restaking.md, "Slashing math"), number for number.
import { beforeAll, describe, expect, it } from "vitest";
import { deployFixture, e18, type Fixture, SET_A, SET_B } from "./fixture.js";

describe("slashing: the reference's worked example", () => {
  let f: Fixture;

  beforeAll(async () => {
    f = await deployFixture();
  });

  it("Alice and Bob deposit 100 each with O; A slashes half of its 0.30; every number matches", async () => {
    const { alice, bob, carol, operator: o, strategy } = f;
    await f.registerOperator(o);
    await f.deposit(alice, e18(100));
    await f.deposit(bob, e18(100));
    await f.delegate(alice, o);
    await f.delegate(bob, o);
    expect(await f.opShares(o)).toBe(e18(200));
    expect(await f.maxMagnitude(o)).toBe(e18(1));

    await f.registerForSets(o, [SET_A, SET_B]);
    await f.allocate(o, SET_A, [strategy], [e18("0.3")]);
    await f.allocate(o, SET_B, [strategy], [e18("0.2")]);
    expect(await f.allocatedStake(o, SET_A)).toBe(e18(60));
    expect(await f.allocatedStake(o, SET_B)).toBe(e18(40));

    const { withdrawal: bobsWithdrawal } = await f.queue(bob, strategy, e18(50));
    expect(await f.opShares(o)).toBe(e18(150));

    await f.slash(o, SET_A, [strategy], [e18("0.5")]);
    expect(await f.maxMagnitude(o)).toBe(e18("0.85"));
    expect((await f.am.read.getAllocation([o, f.set(SET_A), strategy])).currentMagnitude).toBe(e18("0.15"));
    // 22.5 from operator shares + 7.5 from Bob's queued withdrawal
    expect(
      await f.sm.read.getBurnOrRedistributableShares([await f.sm.read.DEFAULT_BURN_ADDRESS(), strategy]),
    ).toBe(e18(30));
    expect(await f.opShares(o)).toBe(e18("127.5"));
    expect(await f.withdrawable(alice)).toBe(e18(85));
    expect(await f.withdrawable(bob)).toBe(e18("42.5"));
    expect((await f.lastWithdrawal(bob)).shares[0]).toBe(e18("42.5"));
    expect(await f.allocatedStake(o, SET_A)).toBe(e18("22.5"));
    expect(await f.allocatedStake(o, SET_B)).toBe(e18(30));

    // Carol joins after the slash: she is not charged for it.
    await f.deposit(carol, e18(100));
    await f.delegate(carol, o);
    expect(await f.dm.read.depositScalingFactor([carol, strategy])).toBe((e18(1) * e18(1)) / e18("0.85"));
    const carols = await f.withdrawable(carol);
    expect(carols).toBeLessThanOrEqual(e18(100)); // rounded down, in the protocol's favour
    expect(e18(100) - carols).toBeLessThan(1000n);

    // Everything adds up: Bob's withdrawal pays 42.5 tokens, the burn takes 30, the rest is backed.
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks + 1);
    const before = await f.balanceOf(bob);
    await f.complete(bob, bobsWithdrawal.withdrawal, true);
    expect((await f.balanceOf(bob)) - before).toBe(e18("42.5"));
    const burnAddress = await f.sm.read.DEFAULT_BURN_ADDRESS();
    await f.ledger.write(carol, {
      ...f.smc,
      functionName: "burnOrRedistributeShares",
      args: [burnAddress, strategy],
    });
    expect(await f.balanceOf(burnAddress)).toBe(e18(30));
    expect(await f.balanceOf(strategy)).toBe(e18(200 - 42.5 - 30 + 100));
  });
});
