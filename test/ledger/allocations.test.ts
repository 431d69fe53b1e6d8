// Operator sets, allocations with delays, registration through the AVS registrar, ejection, and the
// validation of slashOperator.
import { decodeEventLog, type Hash } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { allocationManagerAbi } from "../../src/ledger/artifacts/index.js";
import { readOperatorSetStake } from "../../src/ledger/stake.js";
import { deployFixture, e18, expectRevert, type Fixture, SET_A, SET_B, WAD } from "./fixture.js";

describe("operator sets and allocations", () => {
  let f: Fixture;
  let snap: Hash;

  beforeAll(async () => {
    f = await deployFixture();
    await f.registerOperator(f.operator);
    await f.deposit(f.alice, e18(100));
    await f.delegate(f.alice, f.operator);
    snap = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snap);
    snap = await f.ledger.snapshot();
  });

  const allocation = (setId: number) => f.am.read.getAllocation([f.operator, f.set(setId), f.strategy]);
  const encumbered = () => f.am.read.getEncumberedMagnitude([f.operator, f.strategy]);

  it("an allocation is encumbered at once but slashable only from its effect block", async () => {
    await f.registerOperator(f.operator2, 3);
    await f.deposit(f.bob, e18(100));
    await f.delegate(f.bob, f.operator2);
    await f.registerForSets(f.operator2, [SET_A]);
    await f.allocate(f.operator2, SET_A, [f.strategy], [e18("0.5")]);
    expect(await f.am.read.getEncumberedMagnitude([f.operator2, f.strategy])).toBe(e18("0.5"));
    expect(await f.allocatedStake(f.operator2, SET_A)).toBe(0n);
    await f.slash(f.operator2, SET_A, [f.strategy], [e18("0.5")]); // nothing allocated yet: skipped
    expect(await f.maxMagnitude(f.operator2)).toBe(WAD);
    await f.ledger.mine(2);
    expect(await f.allocatedStake(f.operator2, SET_A)).toBe(e18(50));
  });

  it("setting the same magnitude reverts, and only one change may be pending per allocation", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.3")]);
    await expectRevert(f.allocate(f.operator, SET_A, [f.strategy], [e18("0.3")]), "SameMagnitude");
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.1")]);
    await expectRevert(
      f.allocate(f.operator, SET_A, [f.strategy], [e18("0.2")]),
      "ModificationAlreadyPending",
    );
  });

  it("a deallocation while slashable waits DEALLOCATION_DELAY + 1 blocks, then a permissionless call frees it", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    const receipt = await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.2")]);
    const a = await allocation(SET_A);
    expect(a.currentMagnitude).toBe(e18("0.5"));
    expect(a.pendingDiff).toBe(-e18("0.3"));
    expect(BigInt(a.effectBlock)).toBe(receipt.blockNumber + BigInt(f.params.deallocationDelay) + 1n);
    expect(await encumbered()).toBe(e18("0.5"));
    expect(await f.allocatedStake(f.operator, SET_A)).toBe(e18(50)); // still slashable in full

    await f.ledger.mine(f.params.deallocationDelay);
    expect((await allocation(SET_A)).currentMagnitude).toBe(e18("0.5"));
    await f.ledger.mine(1);
    expect((await allocation(SET_A)).currentMagnitude).toBe(e18("0.2"));
    // In effect now: the views count it as freed; storage frees it on the next clearing, by anyone.
    expect(await encumbered()).toBe(e18("0.2"));
    expect(await f.am.read.getAllocatableMagnitude([f.operator, f.strategy])).toBe(e18("0.8"));
    expect(await f.am.read.getDeallocationQueueLength([f.operator, f.strategy])).toBe(1n);
    await f.ledger.write(f.carol, {
      ...f.amc,
      functionName: "clearDeallocationQueue",
      args: [f.operator, [f.strategy], [10]],
    });
    expect(await encumbered()).toBe(e18("0.2"));
    expect(await f.am.read.getDeallocationQueueLength([f.operator, f.strategy])).toBe(0n);
  });

  it("counts a set's deallocation once even when a slash left an older queue entry for it", async () => {
    await f.registerForSets(f.operator, [SET_A, SET_B]);
    await f.allocate(f.operator, SET_B, [f.strategy], [e18("0.3")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.allocate(f.operator, SET_B, [f.strategy], [e18("0.1")]); // queued first
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.2")]); // queued behind it
    await f.slash(f.operator, SET_A, [f.strategy], [WAD]); // takes all of A, its pending deallocation too
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.1")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [0n]); // A is queued a second time
    expect(await f.am.read.getDeallocationQueueLength([f.operator, f.strategy])).toBe(3n);
    await f.ledger.mine(f.params.deallocationDelay + 1);
    expect(await encumbered()).toBe(e18("0.1"));
    await f.ledger.write(f.carol, {
      ...f.amc,
      functionName: "clearDeallocationQueue",
      args: [f.operator, [f.strategy], [10]],
    });
    expect(await encumbered()).toBe(e18("0.1"));
    expect(await f.am.read.getDeallocationQueueLength([f.operator, f.strategy])).toBe(0n);
  });

  it("a deallocation while not slashable applies at once", async () => {
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [0n]);
    expect((await allocation(SET_A)).currentMagnitude).toBe(0n);
    expect(await encumbered()).toBe(0n);
  });

  it("a slash during a pending deallocation shrinks it proportionally", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.1")]);
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    const a = await allocation(SET_A);
    expect(a.currentMagnitude).toBe(e18("0.25"));
    expect(a.pendingDiff).toBe(-e18("0.2"));
    expect(await encumbered()).toBe(e18("0.25"));
    await f.ledger.mine(f.params.deallocationDelay + 1);
    expect((await allocation(SET_A)).currentMagnitude).toBe(e18("0.05"));
  });

  it("an operator cannot allocate more than its max magnitude, nor dust below 1e9", async () => {
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.7")]);
    await expectRevert(f.allocate(f.operator, SET_B, [f.strategy], [e18("0.4")]), "InsufficientMagnitude");
    await expectRevert(f.allocate(f.operator, SET_B, [f.strategy], [1000n]), "MagnitudeTooSmall");
    await expectRevert(f.allocate(f.operator, 99, [f.strategy], [e18("0.1")]), "InvalidOperatorSet");
    await expectRevert(
      f.allocate(f.operator, SET_B, [f.strategy, f.strategy], [e18("0.1"), e18("0.2")]),
      "DuplicateStrategy",
    );
  });

  it("refuses magnitude on a strategy the set does not use, but always lets it be deallocated", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.4")]);
    await f.ledger.write(f.avs, {
      ...f.amc,
      functionName: "removeStrategiesFromOperatorSet",
      args: [f.avs, SET_A, [f.strategy]],
    });
    await expectRevert(f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]), "InvalidStrategy");
    // No longer slashable through this set, so the deallocation applies at once.
    await f.allocate(f.operator, SET_A, [f.strategy], [0n]);
    expect(await encumbered()).toBe(0n);
  });

  it("minimum slashable stake at a future block subtracts pending deallocations, not pending increases", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.2")]);
    const now = Number(await f.ledger.blockNumber());
    const at = async (block: number) =>
      (await f.am.read.getMinimumSlashableStake([f.set(SET_A), [f.operator], [f.strategy], block]))[0]?.[0];
    expect(await at(now)).toBe(e18(50));
    expect(await at(now + f.params.deallocationDelay)).toBe(e18(50));
    expect(await at(now + f.params.deallocationDelay + 1)).toBe(e18(20));
    // Not registered for B: nothing is slashable there whatever is allocated.
    await f.allocate(f.operator, SET_B, [f.strategy], [e18("0.3")]);
    expect(
      (await f.am.read.getMinimumSlashableStake([f.set(SET_B), [f.operator], [f.strategy], now]))[0]?.[0],
    ).toBe(0n);
  });

  it("readOperatorSetStake lists members with allocated and minimum slashable stake", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.2")]);
    const now = await f.ledger.blockNumber();
    const read = (atBlock: bigint) =>
      readOperatorSetStake(f.ledger.public, f.addresses.allocationManager, f.set(SET_A), [f.strategy], {
        atBlock,
      });
    expect(await read(now)).toEqual([
      { operator: f.operator, allocated: [e18(50)], minimumSlashable: [e18(50)] },
    ]);
    const later = now + BigInt(f.params.deallocationDelay) + 1n;
    expect((await read(later))[0]?.minimumSlashable).toEqual([e18(20)]);
    expect(
      await readOperatorSetStake(f.ledger.public, f.addresses.allocationManager, f.set(SET_B), [f.strategy]),
    ).toEqual([]);
  });

  it("changing the allocation delay takes ALLOCATION_CONFIGURATION_DELAY blocks", async () => {
    expect(await f.am.read.getAllocationDelay([f.operator])).toEqual([true, 0]);
    await f.ledger.write(f.operator, { ...f.amc, functionName: "setAllocationDelay", args: [f.operator, 7] });
    expect(await f.am.read.getAllocationDelay([f.operator])).toEqual([true, 0]);
    await f.ledger.mine(f.params.allocationConfigurationDelay + 1);
    expect(await f.am.read.getAllocationDelay([f.operator])).toEqual([true, 7]);
    await expectRevert(
      f.ledger.write(f.bob, { ...f.amc, functionName: "setAllocationDelay", args: [f.operator, 1] }),
      "InvalidCaller",
    );
  });

  it("registration goes through the AVS registrar, and a registrar revert blocks it", async () => {
    await f.ledger.write(f.avs, { ...f.regc, functionName: "setRefusals", args: [true, false] });
    await expectRevert(f.registerForSets(f.operator, [SET_A]), "RegistrationRefused");
    expect(await f.am.read.isMemberOfOperatorSet([f.operator, f.set(SET_A)])).toBe(false);
    await f.ledger.write(f.avs, { ...f.regc, functionName: "setRefusals", args: [false, false] });
    await f.registerForSets(f.operator, [SET_A, SET_B]);
    expect(await f.am.read.getMembers([f.set(SET_A)])).toEqual([f.operator]);
    expect(await f.am.read.getRegisteredSets([f.operator])).toEqual([f.set(SET_A), f.set(SET_B)]);
    await expectRevert(f.registerForSets(f.operator, [SET_A]), "AlreadyMemberOfSet");
    await expectRevert(f.registerForSets(f.bob, [SET_A]), "InvalidOperator");
  });

  it("a registrar that reverts on deregistration cannot trap the operator", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.ledger.write(f.avs, { ...f.regc, functionName: "setRefusals", args: [false, true] });
    const receipt = await f.ledger.write(f.operator, {
      ...f.amc,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: f.operator, avs: f.avs, operatorSetIds: [SET_A] }],
    });
    const names = receipt.logs
      .filter((l) => l.address.toLowerCase() === f.addresses.allocationManager.toLowerCase())
      .map((l) => decodeEventLog({ abi: allocationManagerAbi, ...l }).eventName);
    expect(names).toContain("RegistrarDeregistrationFailed");
    expect(await f.am.read.isMemberOfOperatorSet([f.operator, f.set(SET_A)])).toBe(false);
  });

  it("an operator that left a set cannot rejoin it while still slashable from leaving", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    const left = await f.ledger.write(f.operator, {
      ...f.amc,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: f.operator, avs: f.avs, operatorSetIds: [SET_A] }],
    });
    // Slashable until left + DEALLOCATION_DELAY: a fresh membership would take the old one's slashes.
    await expectRevert(f.registerForSets(f.operator, [SET_A]), "AlreadyMemberOfSet");
    const until = left.blockNumber + BigInt(f.params.deallocationDelay);
    const head = await f.ledger.blockNumber();
    // The next transaction lands at `until`: still slashable, still refused.
    if (until - 1n > head) await f.ledger.mine(Number(until - 1n - head));
    await expectRevert(f.registerForSets(f.operator, [SET_A]), "AlreadyMemberOfSet");
    await f.registerForSets(f.operator, [SET_A]);
    expect(await f.am.read.isMemberOfOperatorSet([f.operator, f.set(SET_A)])).toBe(true);
  });

  it("the AVS can eject an operator, who stays slashable for DEALLOCATION_DELAY blocks", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.amc,
        functionName: "deregisterFromOperatorSets",
        args: [{ operator: f.operator, avs: f.avs, operatorSetIds: [SET_A] }],
      }),
      "InvalidCaller",
    );
    await f.ledger.write(f.avs, {
      ...f.amc,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: f.operator, avs: f.avs, operatorSetIds: [SET_A] }],
    });
    expect(await f.am.read.getMembers([f.set(SET_A)])).toEqual([]);
    expect(await f.am.read.isOperatorSlashable([f.operator, f.set(SET_A)])).toBe(true);
    // Deregistering does not deallocate, and a deallocation inside the window is still queued.
    expect((await allocation(SET_A)).currentMagnitude).toBe(e18("0.5"));
    await f.allocate(f.operator, SET_A, [f.strategy], [0n]);
    expect((await allocation(SET_A)).pendingDiff).toBe(-e18("0.5"));
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.1")]);
    expect(await f.maxMagnitude(f.operator)).toBe(e18("0.95"));
    await f.ledger.mine(f.params.deallocationDelay);
    expect(await f.am.read.isOperatorSlashable([f.operator, f.set(SET_A)])).toBe(false);
    await expectRevert(f.slash(f.operator, SET_A, [f.strategy], [e18("0.1")]), "OperatorNotSlashable");
  });

  it("slashOperator validates its caller, strategies and fractions", async () => {
    await f.registerForSets(f.operator, [SET_A]);
    await f.allocate(f.operator, SET_A, f.sortedStrategies, [e18("0.5"), e18("0.5")]);
    const [low, high] = f.sortedStrategies;
    const slashBy = (who: `0x${string}`, strategies: `0x${string}`[], wads: bigint[]) =>
      f.ledger.write(who, {
        ...f.amc,
        functionName: "slashOperator",
        args: [
          f.avs,
          { operator: f.operator, operatorSetId: SET_A, strategies, wadsToSlash: wads, description: "" },
        ],
      });
    await expectRevert(slashBy(f.avs, [low], [e18("0.1")]), "InvalidCaller");
    await expectRevert(
      slashBy(f.slasher, [high, low], [e18("0.1"), e18("0.1")]),
      "StrategiesMustBeInAscendingOrder",
    );
    await expectRevert(
      slashBy(f.slasher, [low, low], [e18("0.1"), e18("0.1")]),
      "StrategiesMustBeInAscendingOrder",
    );
    await expectRevert(slashBy(f.slasher, [low], [0n]), "InvalidWadToSlash");
    await expectRevert(slashBy(f.slasher, [low], [WAD + 1n]), "InvalidWadToSlash");
    await expectRevert(slashBy(f.slasher, [low], [e18("0.1"), e18("0.1")]), "InputArrayLengthMismatch");
    await expectRevert(f.slash(f.operator2, SET_A, [low], [e18("0.1")]), "OperatorNotSlashable");
    await f.ledger.write(f.avs, {
      ...f.amc,
      functionName: "removeStrategiesFromOperatorSet",
      args: [f.avs, SET_A, [high]],
    });
    await expectRevert(slashBy(f.slasher, [high], [e18("0.1")]), "InvalidStrategy");
    await slashBy(f.slasher, [low], [e18("0.1")]);
    expect(await f.maxMagnitude(f.operator, low)).toBe(e18("0.95"));
  });

  it("a set with a redistribution recipient sends slashed funds there instead of burning them", async () => {
    await f.ledger.write(f.avs, {
      ...f.amc,
      functionName: "createRedistributingOperatorSets",
      args: [f.avs, [{ operatorSetId: 3, strategies: [f.strategy], slasher: f.slasher }], [f.dave]],
    });
    await f.registerForSets(f.operator, [3]);
    await f.allocate(f.operator, 3, [f.strategy], [e18("0.4")]);
    await f.slash(f.operator, 3, [f.strategy], [e18("0.5")]);
    expect(await f.sm.read.getBurnOrRedistributableShares([f.dave, f.strategy])).toBe(e18(20));
    await f.ledger.write(f.carol, {
      ...f.smc,
      functionName: "burnOrRedistributeShares",
      args: [f.dave, f.strategy],
    });
    expect(await f.balanceOf(f.dave)).toBe(e18(20));
    expect(await f.withdrawable(f.alice)).toBe(e18(80));
  });
});
