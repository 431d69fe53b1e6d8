// The attacks on SLA epochs, each with the setup and numbers that used to succeed, now failing: a colluding
// minority of watchers, a gateway inflating its relay counts, penalties compounding while jailed, a
// network-wide outage, a core that refuses the payout, a failing slash, a guardian pause across the report
// window, and an epoch nobody finalizes in time.
import type { Address, Hex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { strategyManagerAbi } from "../../src/ledger/artifacts/index.js";
import { DIN_PRESETS } from "../../src/ledger/din/deploy.js";
import type { OperatorMetrics } from "../../src/ledger/din/epochs.js";
import {
  type DinFixture,
  deployDinFixture,
  ETHEREUM,
  expectRevert,
  GATEWAY_SET,
  healthy,
  WAD,
  WATCHER_SET,
} from "./fixture.js";

const down = (operator: Address): OperatorMetrics => ({ ...healthy(operator), availabilityBps: 0 });

describe("SLA epochs under attack (five watchers, two gateways, three operators)", () => {
  let f: DinFixture;
  let watchers: Address[];
  let gateway2: Address;
  let op0: Address;
  let op1: Address;
  let op2: Address;

  beforeAll(async () => {
    // A jail longer than five epochs, so a jailed operator can stay down through them.
    f = await deployDinFixture({ params: { slash: { ...DIN_PRESETS.devnet.slash, jailCooldown: 400 } } });
    [op0, op1, op2] = f.operators;
    await f.registerWatchersAndGateway();
    const extra = [f.ledger.accounts[14], f.ledger.accounts[15]] as Address[];
    for (const w of extra) {
      await f.ledger.write(f.deployer, { ...f.registry, functionName: "setWatcher", args: [w, true] });
      await f.stake(w, 2n * WAD, WATCHER_SET);
      await f.registerForSet(w, WATCHER_SET);
    }
    watchers = [...f.watchers, ...extra];
    gateway2 = f.ledger.accounts[16] as Address;
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setGateway", args: [gateway2, true] });
    await f.stake(gateway2, 2n * WAD, GATEWAY_SET);
    await f.registerForSet(gateway2, GATEWAY_SET);
    for (const op of f.operators) await f.registerOperator(op);
  });

  const read = <T>(functionName: string, args: unknown[] = []) =>
    f.ledger.public.readContract({ ...f.epochs, functionName, args } as never) as Promise<T>;
  const carried = (gateway: Address) => read<bigint>("carriedFees", [ETHEREUM, gateway]);
  const slashesOf = async (operator: Address, fromBlock: bigint) =>
    (
      await f.ledger.public.getContractEvents({
        ...f.slasher,
        eventName: "SlashQueued",
        fromBlock,
        strict: true,
      })
    ).filter((e) => e.args.operator === operator);
  /** Waits out every jail (the cooldown is 400 blocks). */
  const serveJails = () => f.ledger.mine(401);
  /** Every watcher reports `metrics` for the epoch that just ended; then anyone finalizes. */
  async function epochWhere(metrics: OperatorMetrics[], usage: [Address, bigint][] = [], fees = 0n) {
    const e = await f.currentEpoch();
    if (fees > 0n) await f.payFees(ETHEREUM, fees);
    if (usage.length > 0) await f.reportUsage(ETHEREUM, e, usage);
    await f.endEpoch(e);
    for (const w of watchers) await f.submitReport(w, ETHEREUM, e, metrics);
    return { epoch: e, receipt: await f.finalize(ETHEREUM, e) };
  }

  it("two colluding watchers of five neither slash an honest operator nor lock the honest three out", async () => {
    const from = await f.ledger.blockNumber();
    const e = await f.currentEpoch();
    await f.endEpoch(e);
    const [h0, h1, h2, liar0, liar1] = watchers as [Address, Address, Address, Address, Address];
    const lie = [down(op0), healthy(op1), healthy(op2)];
    const truth = [healthy(op0), healthy(op1), healthy(op2)];
    // The liars race to report first; two reports are a quorum no more, nor are three with two lies in them.
    await f.submitReport(liar0, ETHEREUM, e, lie);
    await f.submitReport(liar1, ETHEREUM, e, lie);
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    await f.submitReport(h0, ETHEREUM, e, truth);
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    await f.submitReport(h1, ETHEREUM, e, truth);
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    // The honest watchers are never refused.
    await f.submitReport(h2, ETHEREUM, e, truth);
    const receipt = await f.finalize(ETHEREUM, e);
    const [judged] = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "OperatorJudged",
      args: { operator: op0 },
      fromBlock: receipt.fromBlock,
      toBlock: receipt.blockNumber,
      strict: true,
    });
    expect(judged?.args.availabilityBps).toBe(10_000);
    expect(await slashesOf(op0, from)).toHaveLength(0);
    expect(await f.jailed(op0)).toBe(false);
  });

  it("a gateway reporting 2^64 relays moves no fees paid through another gateway, and at most what it paid itself", async () => {
    const e = await f.currentEpoch();
    await f.payFees(ETHEREUM, 100n * WAD); // through the first gateway
    await f.payFees(ETHEREUM, 1n, f.addresses.feeToken, gateway2); // one wei through the second
    await f.reportUsage(ETHEREUM, e, [
      [op0, 100n],
      [op1, 100n],
    ]);
    await f.reportUsage(ETHEREUM, e, [[op2, 2n ** 64n - 1n]], gateway2);
    await f.endEpoch(e);
    const all = [healthy(op0), healthy(op1), healthy(op2)];
    for (const w of watchers) await f.submitReport(w, ETHEREUM, e, all);
    await f.finalize(ETHEREUM, e);
    const flush = await f.flushRewards();
    const [submission] = await f.ledger.public.getContractEvents({
      ...f.rc,
      eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
      blockHash: flush.blockHash,
      strict: true,
    });
    const paid = new Map(
      submission?.args.operatorDirectedRewardsSubmission.operatorRewards.map((r) => [r.operator, r.amount]),
    );
    expect(paid.get(op0)).toBe(50n * WAD);
    expect(paid.get(op1)).toBe(50n * WAD);
    expect(paid.get(op2)).toBe(1n);
  });

  it("a gateway that paid nothing moves nothing; its report leaves every fee where it was", async () => {
    const e = await f.currentEpoch();
    await f.payFees(ETHEREUM, 10n * WAD);
    await f.reportUsage(ETHEREUM, e, [[op2, 2n ** 64n - 1n]], gateway2);
    await f.endEpoch(e);
    for (const w of watchers)
      await f.submitReport(w, ETHEREUM, e, [healthy(op0), healthy(op1), healthy(op2)]);
    const before = await carried(f.gateway);
    await f.finalize(ETHEREUM, e);
    // The first gateway reported no usage: its fees are carried for it, not split by the other's report.
    expect(await carried(f.gateway)).toBe(before + 10n * WAD);
    expect(await carried(gateway2)).toBe(0n);
  });

  it("five epochs of downtime while jailed queue one slash, not five", async () => {
    const from = await f.ledger.blockNumber();
    for (let i = 0; i < 5; i++) await epochWhere([healthy(op0), healthy(op1), down(op2)]);
    const slashes = await slashesOf(op2, from);
    expect(slashes).toHaveLength(1);
    expect(slashes[0]?.args.wad).toBe(DIN_PRESETS.devnet.sla.downWad);
    expect(await f.jailed(op2)).toBe(true);
  });

  it("a whole-network outage holds the slashes for governance, which releases or drops each", async () => {
    const from = await f.ledger.blockNumber();
    const heldBefore = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "SlashHeld",
      fromBlock: 0n,
      strict: true,
    });
    const { epoch, receipt } = await epochWhere([down(op0), down(op1), down(op2)]);
    const range = { fromBlock: receipt.fromBlock, toBlock: receipt.blockNumber, strict: true } as const;
    const [failure] = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "CorrelatedFailure",
      ...range,
    });
    // op2 is still jailed from the previous test: it is judged and counted, not punished again.
    expect(failure?.args).toMatchObject({
      networkId: ETHEREUM,
      epoch,
      reason: 3,
      failedStakeBps: 10_000n,
      count: 3n,
    });
    const held = await f.ledger.public.getContractEvents({ ...f.epochs, eventName: "SlashHeld", ...range });
    expect(held.map((h) => h.args.operator).sort()).toEqual([op0, op1].sort());
    expect(await slashesOf(op0, from)).toHaveLength(0);
    expect(await f.jailed(op0)).toBe(false);
    const [first, second] = held.map((h) => h.args.heldId) as [bigint, bigint];
    expect(first).toBe(BigInt(heldBefore.length));
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.epochs, functionName: "releaseHeldSlash", args: [first] }),
      "AccessControlUnauthorizedAccount",
    );
    await f.ledger.write(f.deployer, { ...f.epochs, functionName: "releaseHeldSlash", args: [first] });
    await f.ledger.write(f.deployer, { ...f.epochs, functionName: "dropHeldSlash", args: [second] });
    await expectRevert(
      f.ledger.write(f.deployer, { ...f.epochs, functionName: "dropHeldSlash", args: [first] }),
      "NotHeld",
    );
    const released = held[0]?.args.operator as Address;
    expect(await slashesOf(released, from)).toHaveLength(1);
    expect(await f.jailed(released)).toBe(true);
    const dropped = held[1]?.args.operator as Address;
    expect(await slashesOf(dropped, from)).toHaveLength(0);
  });

  it("keeps the correlated-failure share within its bounds in code", async () => {
    for (const bad of [1999n, 5001n]) {
      await expectRevert(
        f.ledger.write(f.deployer, { ...f.epochs, functionName: "setCorrelatedShare", args: [bad] }),
        "InvalidParameter",
      );
    }
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.epochs, functionName: "setCorrelatedShare", args: [3000n] }),
      "AccessControlUnauthorizedAccount",
    );
  });

  it("a core that refuses the payout cannot stop finalization: slashes are queued, the payout stays accrued until the core takes it", async () => {
    await serveJails();
    const from = await f.ledger.blockNumber();
    const target = op0;
    const others = [op1, op2];
    const accrued = () => read<bigint>("accruedTotal", [ETHEREUM]);
    const before = await accrued();
    await f.ledger.write(f.deployer, {
      address: f.addresses.strategyManager,
      abi: strategyManagerAbi,
      functionName: "removeStrategiesFromDepositWhitelist",
      args: [[f.strategy]],
    });
    await epochWhere(
      [...others.map(healthy), { ...healthy(target), availabilityBps: 9950 }],
      others.map((o) => [o, 10n]),
      5n * WAD,
    );
    expect(await slashesOf(target, from)).toHaveLength(1);
    // Paying only accrued: the epoch finalized whatever the core thinks of the strategy.
    const owed = await accrued();
    expect(owed).toBeGreaterThan(before);
    // The core refuses the flush; nothing moves and nothing is lost.
    await expectRevert(f.flushRewards(), "StrategyNotWhitelisted");
    expect(await accrued()).toBe(owed);
    await f.ledger.write(f.deployer, {
      address: f.addresses.strategyManager,
      abi: strategyManagerAbi,
      functionName: "addStrategiesToDepositWhitelist",
      args: [[f.strategy]],
    });
    const escrowed = await f.balanceOf(f.addresses.rewardsCoordinator);
    await f.flushRewards();
    expect(await accrued()).toBe(0n);
    expect(await f.balanceOf(f.addresses.rewardsCoordinator)).toBe(escrowed + owed);
  });

  it("a failing slash still lets the fees be paid; the slash is held for governance", async () => {
    await serveJails();
    const slasherCode = (await f.ledger.public.getCode({ address: f.addresses.slasher })) as Hex;
    const target = op0;
    const carriedBefore = await carried(f.gateway);
    const e = await f.currentEpoch();
    await f.payFees(ETHEREUM, 3n * WAD);
    await f.reportUsage(ETHEREUM, e, [
      [op0, 1n],
      [op1, 1n],
      [op2, 1n],
    ]);
    await f.endEpoch(e);
    const metrics = [{ ...healthy(op0), availabilityBps: 9950 }, healthy(op1), healthy(op2)];
    for (const w of watchers) await f.submitReport(w, ETHEREUM, e, metrics);
    // The slasher reverts on every call (PUSH1 0 PUSH1 0 REVERT) for the finalization.
    await f.ledger.test.setCode({ address: f.addresses.slasher, bytecode: "0x60006000fd" });
    const receipt = await f.finalize(ETHEREUM, e);
    await f.ledger.test.setCode({ address: f.addresses.slasher, bytecode: slasherCode });
    const range = { fromBlock: receipt.fromBlock, toBlock: receipt.blockNumber, strict: true } as const;
    const [finalized] = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "EpochFinalized",
      ...range,
    });
    // op1 and op2 split the gateway's fees and what it carried from the refused payout: op0 failed.
    expect(finalized?.args.paid).toBe(3n * WAD + carriedBefore);
    expect(await carried(f.gateway)).toBe(0n);
    const failed = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "SlashQueueFailed",
      ...range,
    });
    const held = await f.ledger.public.getContractEvents({ ...f.epochs, eventName: "SlashHeld", ...range });
    expect(failed.map((x) => x.args.operator)).toEqual([target]);
    expect(held.map((x) => x.args.operator)).toEqual([target]);
  });

  it("a guardian pause across the report window does not void the epoch: the window resumes after it", async () => {
    const e = await f.currentEpoch();
    await f.endEpoch(e);
    const [, end] = await f.epochBounds(e);
    const window = f.deployment.params.epochs.reportWindow;
    await f.ledger.write(f.guardian, { ...f.epochs, functionName: "pause", args: [] });
    await f.ledger.mine(window * 3);
    await f.ledger.write(f.guardian, { ...f.epochs, functionName: "unpause", args: [] });
    const deadline = await read<bigint>("reportDeadline", [e]);
    expect(deadline).toBeGreaterThan(end + BigInt(window) + BigInt(window * 3) - 1n);
    for (const w of watchers)
      await f.submitReport(w, ETHEREUM, e, [healthy(op0), healthy(op1), healthy(op2)]);
    const receipt = await f.finalize(ETHEREUM, e);
    const [finalized] = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "EpochFinalized",
      fromBlock: receipt.fromBlock,
      toBlock: receipt.blockNumber,
      strict: true,
    });
    expect(finalized?.args.reports).toBe(5n);
  });

  it("a guardian pause expires by itself after MAX_PAUSE_BLOCKS", async () => {
    const max = await read<bigint>("MAX_PAUSE_BLOCKS");
    // The pause of the test before cools down first (a new pause waits as long as the last one lasted).
    const ready = await read<bigint>("pauseReadyAt");
    const head = await f.ledger.blockNumber();
    if (head + 1n < ready) await f.ledger.mine(Number(ready - head - 1n));
    await f.ledger.write(f.guardian, { ...f.epochs, functionName: "pause", args: [] });
    expect(await read<boolean>("paused")).toBe(true);
    await expectRevert(f.payFees(ETHEREUM, 1n), "EnforcedPause");
    await f.ledger.mine(Number(max));
    expect(await read<boolean>("paused")).toBe(false);
    await f.payFees(ETHEREUM, 1n);
  });

  it("anyone finalizes after the deadline with what a majority reported", async () => {
    await serveJails();
    const from = await f.ledger.blockNumber();
    const target = op1;
    const e = await f.currentEpoch();
    await f.endEpoch(e);
    const metrics = f.operators.map((o) =>
      o === target ? { ...healthy(o), availabilityBps: 9950 } : healthy(o),
    );
    for (const w of watchers.slice(0, 3)) await f.submitReport(w, ETHEREUM, e, metrics);
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    const deadline = await read<bigint>("reportDeadline", [e]);
    const now = await f.ledger.blockNumber();
    await f.ledger.mine(Number(deadline - now));
    await f.finalize(ETHEREUM, e, f.outsider);
    expect(await slashesOf(target, from)).toHaveLength(1);
  });
});
