// Property: with five admitted watchers of which three are honest and two say anything (or nothing), in any
// order, and two gateways paying any fees and reporting any relay counts: an operator that is up is never
// slashed, every verdict lies between the honest watchers' values, an epoch is never finalized early on a
// minority's word, and the fees paid out never exceed the fees paid in (what is not paid stays carried).
import fc from "fast-check";
import type { Address } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
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

const lie = fc.record({
  availabilityBps: fc.oneof(fc.constantFrom(0, 1, 9989, 10_000), fc.integer({ min: 0, max: 10_000 })),
  p50LatencyMs: fc.oneof(fc.constantFrom(0, 201, 100_000), fc.integer({ min: 0, max: 1000 })),
  lagBlocks: fc.integer({ min: 0, max: 1000 }),
});
const upMetrics = fc.record({
  availabilityBps: fc.integer({ min: 9990, max: 10_000 }),
  p50LatencyMs: fc.integer({ min: 1, max: 200 }),
  lagBlocks: fc.integer({ min: 0, max: 3 }),
});
const relays = fc.oneof(fc.constant(2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 1000n }));

const scenario = fc.record({
  /** Each operator's truth: up (any value within the SLA per honest watcher) or down. */
  up: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
  honest: fc.tuple(
    fc.tuple(upMetrics, upMetrics, upMetrics),
    fc.tuple(upMetrics, upMetrics, upMetrics),
    fc.tuple(upMetrics, upMetrics, upMetrics),
  ),
  /** Each liar's report: per operator a lie or an omission; or no report at all. */
  liars: fc.tuple(
    fc.option(fc.tuple(...[0, 1, 2].map(() => fc.option(lie, { nil: undefined }))), { nil: undefined }),
    fc.option(fc.tuple(...[0, 1, 2].map(() => fc.option(lie, { nil: undefined }))), { nil: undefined }),
  ),
  /** Submission order of the five watchers (liars first is the race that used to win). */
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
  fees: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 21n }), fc.bigInt({ min: 0n, max: 10n ** 21n })),
  usage: fc.tuple(fc.tuple(relays, relays, relays), fc.tuple(relays, relays, relays)),
});

describe("epochs with an honest majority of watchers and arbitrary gateways", () => {
  let f: DinFixture;
  let watchers: Address[];
  let gateways: [Address, Address];

  beforeAll(async () => {
    f = await deployDinFixture();
    await f.registerWatchersAndGateway();
    const extra = [f.ledger.accounts[14], f.ledger.accounts[15]] as Address[];
    for (const w of extra) {
      await f.ledger.write(f.deployer, { ...f.registry, functionName: "setWatcher", args: [w, true] });
      await f.stake(w, 2n * WAD, WATCHER_SET);
      await f.registerForSet(w, WATCHER_SET);
    }
    watchers = [...f.watchers, ...extra];
    const gateway2 = f.ledger.accounts[16] as Address;
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setGateway", args: [gateway2, true] });
    await f.stake(gateway2, 2n * WAD, GATEWAY_SET);
    await f.registerForSet(gateway2, GATEWAY_SET);
    gateways = [f.gateway, gateway2];
    for (const op of f.operators) await f.registerOperator(op);
  });

  it("never slash an operator that is up, keep verdicts within the honest values and never pay out more than was paid in", async () => {
    const ops = f.operators;
    let paidIn = 0n;
    let paidOut = 0n;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Each run starts with a fresh epoch, so every fee below is paid into the epoch it reports usage for
        // (finalization takes several transactions, which could otherwise leave the epoch mid-payment).
        await f.endEpoch(await f.currentEpoch());
        await f.ledger.mine(1);
        const e = await f.currentEpoch();
        for (const [g, gateway] of gateways.entries()) {
          const fee = s.fees[g] ?? 0n;
          if (fee > 0n) await f.payFees(ETHEREUM, fee, f.addresses.feeToken, gateway);
          paidIn += fee;
          const counts = s.usage[g] ?? [0n, 0n, 0n];
          await f.reportUsage(
            ETHEREUM,
            e,
            ops.map((o, i) => [o, counts[i] ?? 0n]),
            gateway,
          );
        }
        await f.endEpoch(e);
        const honestReports = s.honest.map((values) =>
          ops.map((operator, i): OperatorMetrics => {
            const v = values[i] ?? { availabilityBps: 10_000, p50LatencyMs: 50, lagBlocks: 0 };
            return s.up[i] ? { operator, ...v } : { ...healthy(operator), ...v, availabilityBps: 0 };
          }),
        );
        const liarReports = s.liars.map((r) =>
          r === undefined
            ? undefined
            : r.flatMap((m, i) => (m === undefined ? [] : [{ operator: ops[i] as Address, ...m }])),
        );
        let submitted = 0;
        for (const w of s.order) {
          const report = w < 3 ? honestReports[w] : liarReports[w - 3];
          if (report === undefined) continue;
          await f.submitReport(watchers[w] as Address, ETHEREUM, e, report);
          submitted++;
          // Before the deadline nobody finalizes on fewer than all five reports.
          if (submitted < 5) await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
        }
        if (submitted < 5) {
          const deadline = (await f.ledger.public.readContract({
            ...f.epochs,
            functionName: "reportDeadline",
            args: [e],
          })) as bigint;
          await f.ledger.mine(Number(deadline - (await f.ledger.blockNumber())));
        }
        const receipt = await f.finalize(ETHEREUM, e);
        const range = { fromBlock: receipt.fromBlock, toBlock: receipt.blockNumber, strict: true } as const;
        const judged = await f.ledger.public.getContractEvents({
          ...f.epochs,
          eventName: "OperatorJudged",
          ...range,
        });
        const queued = await f.ledger.public.getContractEvents({
          ...f.slasher,
          eventName: "SlashQueued",
          ...range,
        });
        const held = await f.ledger.public.getContractEvents({
          ...f.epochs,
          eventName: "SlashHeld",
          ...range,
        });
        // Every operator is judged (the honest three cover it), within the honest values.
        expect(judged).toHaveLength(3);
        for (const j of judged) {
          const i = ops.indexOf(j.args.operator);
          const honest = honestReports.map((r) => r[i] as OperatorMetrics);
          for (const key of ["availabilityBps", "p50LatencyMs", "lagBlocks"] as const) {
            const values = honest.map((m) => m[key]);
            expect(j.args[key]).toBeGreaterThanOrEqual(Math.min(...values));
            expect(j.args[key]).toBeLessThanOrEqual(Math.max(...values));
          }
        }
        for (const event of [...queued, ...held]) {
          expect(s.up[ops.indexOf(event.args.operator)]).toBe(false);
        }
        const [finalized] = await f.ledger.public.getContractEvents({
          ...f.epochs,
          eventName: "EpochFinalized",
          ...range,
        });
        paidOut += finalized?.args.paid ?? 0n;
        expect(paidOut).toBeLessThanOrEqual(paidIn);
        // Whatever was not paid out is carried for the gateway that paid it: nothing created, nothing lost.
        let carried = 0n;
        for (const g of gateways) {
          carried += (await f.ledger.public.readContract({
            ...f.epochs,
            functionName: "carriedFees",
            args: [ETHEREUM, g],
          })) as bigint;
        }
        expect(carried + paidOut).toBe(paidIn);
        // What was paid out is accrued for its operators until a flush escrows it in the core: the epochs
        // contract holds exactly the carried fees and the accrued payouts, and the core the flushed rest.
        const accrued = (await f.ledger.public.readContract({
          ...f.epochs,
          functionName: "accruedTotal",
          args: [ETHEREUM],
        })) as bigint;
        expect(accrued).toBeLessThanOrEqual(paidOut);
        expect(await f.balanceOf(f.addresses.epochs)).toBe(carried + accrued);
      }),
      { numRuns: 15 },
    );
  });
});
