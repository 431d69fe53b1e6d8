// Finalization in pages: a network of 250 operators reported in small pages finalizes step by step with
// every transaction bounded, and the attacks on paging fail: leaving a page out of a step, stopping a run
// short, replaying a range, reporting after judging began, pages out of order or overlapping, an
// incomplete report counting, and steps out of order. Watchers paging differently are judged once each.
import { type Address, getAddress, numberToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { DIN_PRESETS } from "../../src/ledger/din/deploy.js";
import { LAST_OPERATOR, type OperatorMetrics, sortMetrics, toPages } from "../../src/ledger/din/epochs.js";
import { type DinFixture, deployDinFixture, ETHEREUM, expectRevert, healthy, WAD } from "./fixture.js";

const OPERATORS = 250;
const PAGE = 20;
const GAS_LIMIT = 30_000_000n;
const CALLDATA_LIMIT = 131_072;

describe("finalization in pages (250 operators, three watchers, pages of 20)", () => {
  let f: DinFixture;
  let operators: Address[];
  let watchers: Address[];

  beforeAll(async () => {
    // Epochs and report windows long enough for every page (one block each on the automining ledger).
    f = await deployDinFixture({
      params: { epochs: { ...DIN_PRESETS.devnet.epochs, epochLength: 100, reportWindow: 100 } },
    });
    await f.registerWatchersAndGateway();
    watchers = [...f.watchers];
    operators = Array.from({ length: OPERATORS }, (_, i) =>
      getAddress(numberToHex(0xd1_0000_0000n + BigInt(i) * 0x1_0001n, { size: 20 })),
    );
    for (const operator of operators) {
      await f.ledger.fund(operator);
      await f.registerOperator(operator, ETHEREUM);
    }
  }, 300_000);

  /** A fresh epoch with fees and paged usage; returns it once it has ended. */
  async function epochWithUsage(fees = 1000n * WAD) {
    await f.endEpoch(await f.currentEpoch());
    await f.ledger.mine(1);
    const e = await f.currentEpoch();
    await f.payFees(ETHEREUM, fees);
    const usage = await f.reportUsagePages(
      ETHEREUM,
      e,
      operators.map((o, i): [Address, bigint] => [o, BigInt(100 + i)]),
      PAGE,
    );
    await f.endEpoch(e);
    return { e, usage };
  }

  const judgeStep = (
    e: bigint,
    upTo: Address,
    firstPages: bigint[],
    runs: OperatorMetrics[][][],
    usage: unknown,
  ) =>
    f.ledger.write(f.outsider, {
      ...f.epochs,
      functionName: "finalizePage",
      args: [ETHEREUM, e, upTo, firstPages, runs, [0n], usage],
    } as never);

  it("finalizes 250 operators step by step, every transaction under 30M gas and 128 KiB of calldata", async () => {
    const { e, usage } = await epochWithUsage();
    const metrics = operators.map((o, i) => (i < 2 ? { ...healthy(o), availabilityBps: 9950 } : healthy(o)));
    const reports = [];
    for (const w of watchers) reports.push(...(await f.submitReportPages(w, ETHEREUM, e, metrics, PAGE)));
    const finalized = await f.finalize(ETHEREUM, e, f.outsider, 1);
    const judged = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "OperatorJudged",
      fromBlock: finalized.fromBlock,
      toBlock: finalized.blockNumber,
      strict: true,
    });
    expect(judged).toHaveLength(OPERATORS);
    expect(new Set(judged.map((j) => j.args.operator)).size).toBe(OPERATORS);
    // One judging step per page, one settling step per slash (pages of 1 here), one paying step per page.
    const steps = finalized.steps.map((s) => s.step);
    expect(steps.filter((s) => s === "finalizePage")).toHaveLength(Math.ceil(OPERATORS / PAGE));
    expect(steps.filter((s) => s === "settlePage")).toHaveLength(2);
    expect(steps.filter((s) => s === "payPage")).toHaveLength(Math.ceil(OPERATORS / PAGE));
    for (const s of finalized.steps) {
      expect(s.receipt.gasUsed).toBeLessThan(GAS_LIMIT);
      expect(s.calldata).toBeLessThan(CALLDATA_LIMIT);
    }
    for (const r of [...usage, ...reports]) {
      const tx = await f.ledger.public.getTransaction({ hash: r.transactionHash });
      expect((tx.input.length - 2) / 2).toBeLessThan(CALLDATA_LIMIT);
      expect(r.gasUsed).toBeLessThan(GAS_LIMIT);
    }
    // The two operators under the SLA are slashed (queued) and earn nothing; the fees are split among the
    // rest across all pages' escrows, rounded down, the dust carried.
    const queued = await f.ledger.public.getContractEvents({
      ...f.slasher,
      eventName: "SlashQueued",
      fromBlock: finalized.fromBlock,
      toBlock: finalized.blockNumber,
      strict: true,
    });
    expect(queued.map((q) => q.args.operator).sort()).toEqual(operators.slice(0, 2).sort());
    // Every page accrued; one flush escrows them all, operators ascending, in one operator-set submission.
    const flush = await f.flushRewards();
    expect(flush.gasUsed).toBeLessThan(GAS_LIMIT);
    const submissions = await f.ledger.public.getContractEvents({
      ...f.rc,
      eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
      blockHash: flush.blockHash,
      strict: true,
    });
    expect(submissions).toHaveLength(1);
    const rewards = submissions.flatMap((s) => [...s.args.operatorDirectedRewardsSubmission.operatorRewards]);
    expect(rewards).toHaveLength(OPERATORS - 2);
    const paid = rewards.reduce((sum, r) => sum + r.amount, 0n);
    const [done] = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "EpochFinalized",
      fromBlock: finalized.fromBlock,
      toBlock: finalized.blockNumber,
      strict: true,
    });
    expect(done?.args.paid).toBe(paid);
    expect(paid).toBeLessThanOrEqual(1000n * WAD);
    expect(1000n * WAD - paid).toBeLessThan(BigInt(OPERATORS));
    // Each operator's share follows its relays: operator i served 100 + i.
    const weight = operators.slice(2).reduce((sum, _o, i) => sum + BigInt(102 + i), 0n);
    expect(rewards[0]?.amount).toBe((1000n * WAD * 102n) / weight);
  }, 300_000);

  it("refuses a step that leaves out a page, stops a run short, replays a range or comes out of order", async () => {
    const { e } = await epochWithUsage();
    const metrics = sortMetrics(operators.map((o) => healthy(o)));
    for (const w of watchers) await f.submitReportPages(w, ETHEREUM, e, metrics, PAGE);
    const pages = toPages(metrics, PAGE);
    const usagePages = toPages(
      operators.map((o, i) => ({ operator: o, relays: BigInt(100 + i) })),
      PAGE,
    );
    const first = pages[0] as OperatorMetrics[];
    const second = pages[1] as OperatorMetrics[];
    const secondEnd = (second.at(-1) as OperatorMetrics).operator;
    const boundary = (first.at(-1) as OperatorMetrics).operator;
    // Settling or paying before judging.
    await expectRevert(
      f.ledger.write(f.outsider, { ...f.epochs, functionName: "settlePage", args: [ETHEREUM, e, 10n] }),
      "InvalidPage",
    );
    // Page 1 as the start of a run from the cursor (0): the operators of page 0 would never be judged.
    await expectRevert(
      judgeStep(e, secondEnd, [0n, 0n, 1n], [[first], [first], [second]], [[usagePages[0]]]),
      "ReportsMismatch",
    );
    // A run that ends before the range does: page 0 only, for a range reaching into page 1.
    await expectRevert(
      judgeStep(e, secondEnd, [0n, 0n, 0n], [[first], [first], [first]], [[usagePages[0], usagePages[1]]]),
      "ReportsMismatch",
    );
    // The right step goes through; the same range again does not.
    await judgeStep(e, boundary, [0n, 0n, 0n], [[first], [first], [first]], [[usagePages[0]]]);
    await expectRevert(
      judgeStep(e, boundary, [0n, 0n, 0n], [[first], [first], [first]], [[usagePages[0]]]),
      "InvalidPage",
    );
    // Judging has begun: reports and usage are frozen, even from a watcher that has not reported.
    await expectRevert(
      f.ledger.write(f.gateway, {
        ...f.epochs,
        functionName: "reportUsagePage",
        args: [ETHEREUM, e, 0n, true, []],
      }),
      "FinalizationStarted",
    );
    // Paying before settling.
    await expectRevert(
      f.ledger.write(f.outsider, {
        ...f.epochs,
        functionName: "payPage",
        args: [ETHEREUM, e, LAST_OPERATOR, [0n], [usagePages]],
      }),
      "InvalidPage",
    );
    // The keeper resumes from the cursor and finishes the epoch.
    await f.finalize(ETHEREUM, e);
    const [, , finalized] = (await f.ledger.public.readContract({
      ...f.epochs,
      functionName: "getEpoch",
      args: [ETHEREUM, e],
    })) as readonly [bigint, bigint, boolean];
    expect(finalized).toBe(true);
  }, 300_000);

  it("takes pages only in order and ascending across pages; an incomplete report does not count", async () => {
    const { e } = await epochWithUsage();
    const metrics = sortMetrics(operators.slice(0, 40).map((o) => healthy(o)));
    const [w0, w1, w2] = watchers as [Address, Address, Address];
    const page = (who: Address, index: bigint, last: boolean, entries: OperatorMetrics[]) =>
      f.ledger.write(who, {
        ...f.epochs,
        functionName: "submitReportPage",
        args: [ETHEREUM, e, index, last, entries],
      });
    await expectRevert(page(w0, 1n, false, metrics.slice(0, 20)), "InvalidPage");
    await page(w0, 0n, false, metrics.slice(0, 20));
    // Page 1 may not reach back into page 0's operators.
    await expectRevert(page(w0, 1n, true, metrics.slice(19, 40)), "NotSorted");
    await expectRevert(page(w0, 0n, true, metrics.slice(0, 20)), "InvalidPage");
    const tooLong = operators.slice(0, 65).map((o) => healthy(o));
    await expectRevert(page(w1, 0n, true, sortMetrics(tooLong)), "ReportTooLong");
    // w0 never completes; w1 and w2 do. Only complete reports count and are judged.
    await f.submitReportPages(w1, ETHEREUM, e, metrics, PAGE);
    await f.submitReportPages(w2, ETHEREUM, e, metrics, 15);
    const [, reportCount] = (await f.ledger.public.readContract({
      ...f.epochs,
      functionName: "getEpoch",
      args: [ETHEREUM, e],
    })) as readonly [bigint, bigint, boolean];
    expect(reportCount).toBe(2n);
    expect(
      await f.ledger.public.readContract({
        ...f.epochs,
        functionName: "hasReported",
        args: [ETHEREUM, e, w0],
      }),
    ).toBe(false);
    // Two of three admitted watchers: only after the deadline.
    await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
    const deadline = (await f.ledger.public.readContract({
      ...f.epochs,
      functionName: "reportDeadline",
      args: [e],
    })) as bigint;
    await f.ledger.mine(Number(deadline - (await f.ledger.blockNumber())));
    // Pages of 20 and of 15 do not line up: every operator is still judged exactly once.
    const finalized = await f.finalize(ETHEREUM, e);
    const judged = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "OperatorJudged",
      fromBlock: finalized.fromBlock,
      toBlock: finalized.blockNumber,
      strict: true,
    });
    expect(judged.map((j) => j.args.operator)).toEqual(metrics.map((m) => m.operator));
  }, 300_000);
});
