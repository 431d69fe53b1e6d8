// Property: for any reports, the contract judges exactly the operators, medians, multipliers and slashes that
// the pure SLA math (src/ledger/din/sla.ts) predicts — including reports that disagree, omit operators or
// lie wildly.
import fc from "fast-check";
import { type Address, getAddress, numberToHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { judgeReports } from "../../src/ledger/din/sla.js";
import { type DinFixture, deployDinFixture, ETHEREUM } from "./fixture.js";

// Three registered operators (set in beforeAll) and one nobody registered.
const OPERATORS: Address[] = [getAddress(numberToHex(0xab_0004n, { size: 20 }))];

const metrics = fc.record({
  availabilityBps: fc.oneof(
    fc.constantFrom(0, 9000, 9500, 9989, 9990, 10_000),
    fc.integer({ min: 0, max: 10_000 }),
  ),
  p50LatencyMs: fc.oneof(fc.constantFrom(1, 200, 201, 5000), fc.integer({ min: 0, max: 400 })),
  lagBlocks: fc.integer({ min: 0, max: 6 }),
});
const report = fc
  .tuple(...[0, 1, 2, 3].map(() => fc.option(metrics, { nil: undefined })))
  .map((entries) => entries.flatMap((m, i) => (m ? [{ operator: OPERATORS[i] as Address, ...m }] : [])));

describe("epoch judgments", () => {
  let f: DinFixture;

  beforeAll(async () => {
    f = await deployDinFixture();
    await f.registerWatchersAndGateway();
    for (const op of f.operators) await f.registerOperator(op);
    OPERATORS.unshift(...f.operators);
  });

  it("match the pure SLA math for random reports from two or three watchers; only registered, unjailed operators are slashed", async () => {
    const table = f.deployment.params.sla;
    const window = f.deployment.params.epochs.reportWindow;
    await fc.assert(
      fc.asyncProperty(fc.array(report, { minLength: 2, maxLength: 3 }), async (reports) => {
        const epoch = await f.currentEpoch();
        await f.endEpoch(epoch);
        for (const [i, r] of reports.entries())
          await f.submitReport(f.watchers[i] as Address, ETHEREUM, epoch, r);
        // Fewer reports than the three admitted watchers: finalized after the report deadline.
        if (reports.length < 3) await f.ledger.mine(window + 1);
        const jailedUntil = new Map<Address, bigint>();
        for (const op of OPERATORS) {
          const until = await f.ledger.public.readContract({
            ...f.registry,
            functionName: "jailedUntil",
            args: [op, ETHEREUM],
          });
          jailedUntil.set(op, until);
        }
        const receipt = await f.finalize(ETHEREUM, epoch);
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
        const expected = judgeReports(
          reports.map((r) => [...r]),
          table,
          2, // a majority of the three admitted watchers
        );
        expect(
          judged.map((e) => ({
            operator: e.args.operator,
            availabilityBps: e.args.availabilityBps,
            p50LatencyMs: e.args.p50LatencyMs,
            lagBlocks: e.args.lagBlocks,
            multiplierBps: e.args.multiplierBps,
          })),
        ).toEqual(
          expected.map((j) => ({
            operator: j.operator,
            availabilityBps: j.availabilityBps,
            p50LatencyMs: j.p50LatencyMs,
            lagBlocks: j.lagBlocks,
            multiplierBps: j.multiplierBps,
          })),
        );
        const held = await f.ledger.public.getContractEvents({
          ...f.epochs,
          eventName: "SlashHeld",
          ...range,
        });
        const punishable = (op: Address) =>
          f.operators.includes(op) && receipt.fromBlock >= (jailedUntil.get(op) ?? 0n);
        const expectedSlashes = expected
          .filter((j) => punishable(j.operator))
          .flatMap((j) =>
            [j.downWad, j.availabilityWad, j.latencyWad]
              .filter((w) => w > 0n)
              .map((wad) => ({ operator: j.operator, wad })),
          );
        // Queued, or held for governance when a rule failed for a third of the stake or more.
        const settled = [...queued, ...held].map((e) => ({ operator: e.args.operator, wad: e.args.wad }));
        const order = (x: { operator: Address; wad: bigint }, y: { operator: Address; wad: bigint }) =>
          x.operator === y.operator
            ? Number(x.wad - y.wad)
            : BigInt(x.operator) < BigInt(y.operator)
              ? -1
              : 1;
        expect(settled.sort(order)).toEqual(expectedSlashes.sort(order));
      }),
      { numRuns: 25 },
    );
  });
});
