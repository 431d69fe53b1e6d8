// A full SLA epoch: three watchers report (one lies wildly), the medians decide, slashes are queued and
// jail without deregistering, one is vetoed and one executed, fees are split by relays × performance and
// delegators claim exactly their share through the restaking core's rewards.
import { type Address, numberToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { LAST_OPERATOR, type OperatorMetrics, sortMetrics } from "../../src/ledger/din/epochs.js";
import { mulDivUp } from "../../src/ledger/slashing.js";
import {
  type DinFixture,
  deployDinFixture,
  ETHEREUM,
  expectRevert,
  GATEWAY_SET,
  healthy,
  WAD,
} from "./fixture.js";

const E18 = WAD;

describe("an SLA epoch", () => {
  let f: DinFixture;
  let op0: Address; // healthy; alice and bob delegate to it
  let op1: Address; // availability 99.5%: slashed 0.1%, executed; carol delegates to it
  let op2: Address; // p50 300 ms: slashed 0.05%, vetoed
  let startBlock: bigint;
  let epoch: bigint;
  let gateway2: Address;

  beforeAll(async () => {
    f = await deployDinFixture();
    startBlock = await f.ledger.blockNumber();
    [op0, op1, op2] = f.operators;
    await f.registerWatchersAndGateway();
    // A second gateway, admitted by governance and staked.
    gateway2 = f.ledger.accounts[14] as Address;
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setGateway", args: [gateway2, true] });
    await f.stake(gateway2, 2n * E18, GATEWAY_SET);
    await f.registerForSet(gateway2, GATEWAY_SET);
    for (const op of f.operators) await f.registerOperator(op);
    for (const [staker, op, amount] of [
      [f.alice, op0, 30n],
      [f.bob, op0, 10n],
      [f.carol, op1, 20n],
    ] as const) {
      await f.deposit(staker, amount * E18);
      await f.delegate(staker, op);
    }
    epoch = await f.currentEpoch();
  });

  it("takes the median across watchers, queues slashes, jails without deregistering and pays the rest", async () => {
    await f.payFees(ETHEREUM, 1000n * E18);
    await f.reportUsage(ETHEREUM, epoch, [
      [op0, 100n],
      [op1, 50n],
      [op2, 50n],
    ]);
    await f.endEpoch(epoch);
    const honest = [
      healthy(op0),
      { ...healthy(op1), availabilityBps: 9950 },
      { ...healthy(op2), p50LatencyMs: 300 },
    ];
    await f.submitReport(f.watchers[0] as Address, ETHEREUM, epoch, honest);
    await f.submitReport(f.watchers[1] as Address, ETHEREUM, epoch, honest);
    // The third watcher lies wildly: op0 down, op1 perfect, op2 instant, and an invented operator.
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, epoch, [
      { ...healthy(op0), availabilityBps: 0, p50LatencyMs: 9000, lagBlocks: 999 },
      healthy(op1),
      { ...healthy(op2), p50LatencyMs: 1 },
      healthy(f.outsider),
    ]);
    // A few blocks of margin, so the jail (two epochs from here) still holds when the next epoch but one is
    // finalized right after its three reports.
    await f.ledger.mine(3);
    const receipt = await f.finalize(ETHEREUM, epoch);
    const judged = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "OperatorJudged",
      fromBlock: receipt.fromBlock,
      toBlock: receipt.blockNumber,
      strict: true,
    });
    const byOperator = new Map(judged.map((e) => [e.args.operator, e.args]));
    expect(byOperator.size).toBe(3); // the invented operator is in a minority of reports: ignored
    expect(byOperator.get(op0)).toMatchObject({ availabilityBps: 10_000, p50LatencyMs: 50, lagBlocks: 0 });
    expect(byOperator.get(op1)).toMatchObject({ availabilityBps: 9950 });
    expect(byOperator.get(op2)).toMatchObject({ p50LatencyMs: 300 });

    expect(await f.queueLength()).toBe(2n);
    const s0 = await f.queuedSlash(0n);
    const s1 = await f.queuedSlash(1n);
    expect(s0).toMatchObject({ operator: op1, networkId: ETHEREUM, wad: E18 / 1000n, status: 1, reason: 1 });
    expect(s1).toMatchObject({ operator: op2, networkId: ETHEREUM, wad: E18 / 2000n, status: 1, reason: 2 });
    // Queuing jails but never deregisters, and takes nothing yet.
    for (const op of [op1, op2]) {
      expect(await f.jailed(op)).toBe(true);
      expect(await f.isMember(op)).toBe(true);
      expect(await f.maxMagnitude(op)).toBe(WAD);
    }
    expect(await f.jailed(op0)).toBe(false);

    // Only op0 met the SLA: it gets the whole pool, accrued until a flush escrows it in the
    // RewardsCoordinator for the network's operator set, over whole elapsed rewards intervals.
    expect(
      await f.ledger.public.getContractEvents({
        ...f.rc,
        eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
        fromBlock: receipt.fromBlock,
        toBlock: receipt.blockNumber,
      }),
    ).toHaveLength(0);
    expect(
      await f.ledger.public.readContract({
        ...f.epochs,
        functionName: "accruedRewards",
        args: [ETHEREUM, op0],
      }),
    ).toBe(1000n * E18);
  });

  it("refuses a second report, a late one and a second finalization", async () => {
    await expectRevert(
      f.submitReport(f.watchers[0] as Address, ETHEREUM, epoch, [healthy(op0)]),
      "FinalizationStarted",
    );
    await expectRevert(f.finalize(ETHEREUM, epoch), "AlreadyFinalized");
    await expectRevert(f.submitReport(f.outsider, ETHEREUM, epoch, [healthy(op0)]), "InvalidCaller");
  });

  it("escrows the accrued payout for the network's operator set once a whole rewards interval has elapsed", async () => {
    const flush = await f.flushRewards();
    const submissions = await f.ledger.public.getContractEvents({
      ...f.rc,
      eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
      blockHash: flush.blockHash,
      strict: true,
    });
    expect(submissions).toHaveLength(1);
    const submitted = submissions[0]?.args;
    expect(submitted?.operatorSet).toEqual({ avs: f.addresses.registry, id: ETHEREUM });
    expect(submitted?.operatorDirectedRewardsSubmission.operatorRewards).toEqual([
      { operator: op0, amount: 1000n * E18 },
    ]);
    const interval = await f.ledger.public.readContract({
      ...f.rc,
      functionName: "CALCULATION_INTERVAL_SECONDS",
    });
    const { startTimestamp, duration } = submitted?.operatorDirectedRewardsSubmission ?? {
      startTimestamp: 1,
      duration: 1,
    };
    expect(startTimestamp % interval).toBe(0);
    expect(duration % interval).toBe(0);
    expect(BigInt(startTimestamp + duration)).toBeLessThan((await f.ledger.public.getBlock()).timestamp);
    expect(await f.balanceOf(f.addresses.rewardsCoordinator)).toBe(1000n * E18);
    // Nothing accrued is left, and nothing is due again before the next interval.
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.epochs, functionName: "flushRewards", args: [ETHEREUM] }),
      "NothingToFlush",
    );
  });

  it("lets the veto committee cancel a slash within the window: the operator stays registered and whole", async () => {
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.slasher, functionName: "veto", args: [1n] }),
      "AccessControlUnauthorizedAccount",
    );
    await f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [1n] });
    expect((await f.queuedSlash(1n)).status).toBe(2);
    expect(await f.jailed(op2)).toBe(false);
    expect(await f.isMember(op2)).toBe(true);
    expect(await f.allocatedStake(op2)).toBe(5n * E18);
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.slasher, functionName: "execute", args: [1n] }),
      "NotQueued",
    );
  });

  it("executes a slash after the window (anyone): stake and delegators' shares fall as the restaking math says", async () => {
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.slasher, functionName: "execute", args: [0n] }),
      "VetoWindowOpen",
    );
    const s0 = await f.queuedSlash(0n);
    const vetoWindow = BigInt(f.deployment.params.slash.vetoWindow);
    const now = await f.ledger.blockNumber();
    const due = BigInt(s0.queuedAt) + vetoWindow + 1n;
    if (now + 1n < due) await f.ledger.mine(Number(due - now - 1n));
    const opBefore = await f.operatorShares(op1);
    await f.ledger.write(f.outsider, { ...f.slasher, functionName: "execute", args: [0n] });
    // Allocated magnitude 0.5: slashed = ceil(0.5e18 × 1e15 / 1e18), and max magnitude falls by it.
    const slashed = mulDivUp(WAD / 2n, E18 / 1000n, WAD);
    const newMax = WAD - slashed;
    expect(await f.maxMagnitude(op1)).toBe(newMax);
    expect(await f.operatorShares(op1)).toBe(mulDivUp(opBefore, newMax, WAD));
    expect(await f.withdrawable(f.carol)).toBe((20n * E18 * newMax) / WAD);
    expect(await f.withdrawable(f.alice)).toBe(30n * E18);
    // One offence: still registered (ejection comes with the repeat), still jailed.
    expect(await f.isMember(op1)).toBe(true);
    expect(await f.jailed(op1)).toBe(true);
    await expectRevert(
      f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [0n] }),
      "NotQueued",
    );
  });

  it("excludes the jailed operator from the next epoch's rewards; delegators claim exactly their share", async () => {
    const next = await f.currentEpoch(); // the epoch after the slash (the veto window took us past epoch + 1)
    await f.payFees(ETHEREUM, 900n * E18);
    // The gateway's fees are split by its own counts (op1, jailed, earns nothing).
    await f.reportUsage(ETHEREUM, next, [
      [op0, 60n],
      [op1, 100n],
      [op2, 40n],
    ]);
    // A second gateway that paid nothing counts all its relays for op2: that moves none of the fees above.
    await f.reportUsage(ETHEREUM, next, [[op2, 2n ** 64n - 1n]], gateway2);
    await expectRevert(f.reportUsage(ETHEREUM, next, [[op0, 1n]]), "UsageAlreadyReported");
    await expectRevert(f.reportUsage(ETHEREUM, next, [[op0, 1n]], f.outsider), "InvalidCaller");
    await f.endEpoch(next);
    const all = [healthy(op0), healthy(op1), healthy(op2)];
    await f.submitReport(f.watchers[0] as Address, ETHEREUM, next, all);
    await f.submitReport(f.watchers[1] as Address, ETHEREUM, next, all);
    // Two of three admitted watchers are a majority, but only all three may finalize before the deadline.
    await expectRevert(f.finalize(ETHEREUM, next), "NotFinalizable");
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, next, all);
    expect(await f.jailed(op1)).toBe(true);
    await f.finalize(ETHEREUM, next);
    const flush = await f.flushRewards();
    const [submission] = await f.ledger.public.getContractEvents({
      ...f.rc,
      eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
      blockHash: flush.blockHash,
      strict: true,
    });
    const paid = [...(submission?.args.operatorDirectedRewardsSubmission.operatorRewards ?? [])];
    const expected = [
      { operator: op0, amount: 540n * E18 },
      { operator: op2, amount: 360n * E18 },
    ].sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1));
    expect(paid).toEqual(expected);

    const { tree, rootIndex } = await f.publishRewards(startBlock);
    // op0's stake: itself 10, alice 30, bob 10; commission 10% of each submission, the rest pro rata.
    const share = (amount: bigint, stake: bigint, total: bigint) => ((amount - amount / 10n) * stake) / total;
    const aliceExpected = share(1000n * E18, 30n, 50n) + share(540n * E18, 30n, 50n);
    const bobExpected = share(1000n * E18, 10n, 50n) + share(540n * E18, 10n, 50n);
    for (const [who, amount] of [
      [f.alice, aliceExpected],
      [f.bob, bobExpected],
    ] as const) {
      await f.claim(who, tree, rootIndex);
      expect(await f.balanceOf(who)).toBe(amount);
    }
    expect(tree.claim(f.carol, [f.addresses.feeToken])).toBeUndefined();
    await expectRevert(f.claim(f.alice, tree, rootIndex), "EarningsNotGreaterThanClaimed");
  });

  it("finalizes after the deadline below a majority: a lone watcher judges nobody and the fees are carried", async () => {
    const e = await f.currentEpoch();
    const carried = await f.ledger.public.readContract({
      ...f.epochs,
      functionName: "carriedFees",
      args: [ETHEREUM, f.gateway],
    });
    await f.payFees(ETHEREUM, 7n * E18);
    await f.reportUsage(ETHEREUM, e, [[op0, 10n]]);
    await f.endEpoch(e);
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, e, [{ ...healthy(op0), availabilityBps: 0 }]);
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    await f.ledger.mine(f.deployment.params.epochs.reportWindow + 1);
    const queued = await f.queueLength();
    await f.finalize(ETHEREUM, e);
    expect(await f.queueLength()).toBe(queued);
    expect(await f.jailed(op0)).toBe(false);
    expect(
      await f.ledger.public.readContract({
        ...f.epochs,
        functionName: "carriedFees",
        args: [ETHEREUM, f.gateway],
      }),
    ).toBe(carried + 7n * E18);
  });
  it("refuses unsorted reports, impossible metrics, and reports altered at finalization", async () => {
    const e = await f.currentEpoch();
    await f.endEpoch(e);
    const [w0, w1] = f.watchers as [Address, Address];
    const sorted = sortMetrics([healthy(op0), healthy(op1)]);
    await expectRevert(
      f.ledger.write(w0, {
        ...f.epochs,
        functionName: "submitReport",
        args: [ETHEREUM, e, [...sorted].reverse()],
      }),
      "NotSorted",
    );
    await expectRevert(
      f.submitReport(w0, ETHEREUM, e, [{ ...healthy(op0), availabilityBps: 10_001 }]),
      "InvalidParameter",
    );
    const tooMany = Array.from({ length: 65 }, (_, i) =>
      healthy(numberToHex(0xf000n + BigInt(i), { size: 20 })),
    );
    await expectRevert(f.submitReport(w0, ETHEREUM, e, tooMany), "ReportTooLong");
    await expectRevert(
      f.reportUsage(
        ETHEREUM,
        e,
        tooMany.map((m) => [m.operator, 1n]),
      ),
      "ReportTooLong",
    );
    await f.submitReport(w0, ETHEREUM, e, sorted);
    await f.submitReport(w1, ETHEREUM, e, sorted);
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, e, sorted);
    const altered = [sorted, sorted, sorted.map((m) => ({ ...m, availabilityBps: 0 }))];
    const judge = (reports: OperatorMetrics[][], firstPages = reports.map(() => 0n)) =>
      f.ledger.write(f.outsider, {
        ...f.epochs,
        functionName: "finalizePage",
        args: [ETHEREUM, e, LAST_OPERATOR, firstPages, reports.map((r) => [r]), [], []],
      });
    await expectRevert(judge(altered), "ReportsMismatch");
    await expectRevert(judge([sorted, sorted]), "ReportsMismatch");
    // A page that does not exist, or a second page beyond the report's only one.
    await expectRevert(judge([sorted, sorted, sorted], [0n, 0n, 1n]), "ReportsMismatch");
    await f.finalize(ETHEREUM, e);
  });
});
