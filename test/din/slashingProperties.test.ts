// Property: over random sequences of epochs (reports from three honest and two arbitrary watchers, fees and
// usage from an honest and a greedy gateway, operators going down), signed lies, attempts to frame the honest
// operator (a head block reorged out, a stranger's key, a tampered relay, its own true answers), guardian
// pauses (lifted or left to expire) and vetoes, governance changing slashing and SLA parameters, and slash
// executions, across the epochs contract and the slasher:
// - the operator that always answers correctly and stays up is never jailed, slashed or held;
// - no operator loses more than MAX_OFFENCE_WAD of its allocation in one slash or MAX_WINDOW_WAD within any
//   SLASH_WINDOW blocks;
// - every epoch is judged (a pause never voids one) and the fees paid out never exceed the fees paid in.
import fc from "fast-check";
import { type Address, type Hex, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, describe, expect, it } from "vitest";
import type { OperatorMetrics } from "../../src/ledger/din/epochs.js";
import { blockHeader } from "../../src/ledger/din/header.js";
import { hashRequest, hashResponse, type Relay, signRelay } from "../../src/ledger/din/relay.js";
import {
  type DinFixture,
  deployDinFixture,
  ETHEREUM,
  expectRevert,
  GATEWAY_SET,
  WAD,
  WATCHER_SET,
} from "./fixture.js";

const FINALITY_DELAY = 12;
const MAX_OFFENCE_WAD = (5n * WAD) / 100n;
const MAX_WINDOW_WAD = WAD / 10n;
const SLASH_WINDOW = 50_400n;
const MAX_PAUSE_BLOCKS = 21_600;

const metricsUp = fc.record({
  availabilityBps: fc.integer({ min: 9990, max: 10_000 }),
  p50LatencyMs: fc.integer({ min: 1, max: 200 }),
  lagBlocks: fc.integer({ min: 0, max: 3 }),
});
const lie = fc.record({
  availabilityBps: fc.oneof(fc.constantFrom(0, 9989), fc.integer({ min: 0, max: 10_000 })),
  p50LatencyMs: fc.oneof(fc.constantFrom(201, 100_000), fc.integer({ min: 0, max: 1000 })),
  lagBlocks: fc.integer({ min: 0, max: 1000 }),
});
const liarReport = fc.option(fc.array(fc.option(lie, { nil: undefined }), { minLength: 3, maxLength: 3 }), {
  nil: undefined,
});
const relays = fc.oneof(fc.constant(2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 1000n }));

const epochCommand = fc.record({
  kind: fc.constant("epoch" as const),
  /** Whether each of the two other operators is down this epoch (the honest one never is). */
  down: fc.tuple(fc.boolean(), fc.boolean()),
  honest: fc.array(fc.array(metricsUp, { minLength: 3, maxLength: 3 }), { minLength: 3, maxLength: 3 }),
  liars: fc.tuple(liarReport, liarReport),
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5, maxLength: 5 }),
  fees: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 21n }), fc.bigInt({ min: 0n, max: 10n ** 21n })),
  usage: fc.tuple(fc.tuple(relays, relays, relays), fc.tuple(relays, relays, relays)),
  /** A guardian pause after this many reports, then lifted or left to expire. */
  pause: fc.option(
    fc.record({
      after: fc.integer({ min: 0, max: 4 }),
      blocks: fc.integer({ min: 1, max: 40 }),
      end: fc.constantFrom("lift" as const, "expire" as const),
    }),
    { nil: undefined },
  ),
});
const command = fc.oneof(
  { arbitrary: epochCommand, weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant("lie" as const),
      who: fc.constantFrom(1, 2),
      age: fc.integer({ min: 20, max: 240 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("frame" as const),
      how: fc.constantFrom("reorg" as const, "stranger" as const, "tampered" as const, "truth" as const),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("veto" as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("execute" as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("slashParams" as const),
      wrongDataWad: fc.bigInt({ min: 0n, max: WAD / 5n }),
      repeatWrongDataWad: fc.bigInt({ min: 0n, max: WAD / 5n }),
      vetoWindow: fc.integer({ min: 0, max: 400 }),
      jailCooldown: fc.integer({ min: 0, max: 200 }),
      ejectAfter: fc.integer({ min: 0, max: 4 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("slaTable" as const),
      // Within what an operator that is up meets: governance may tighten, not redefine "up".
      minAvailabilityBps: fc.integer({ min: 5000, max: 9990 }),
      maxP50LatencyMs: fc.integer({ min: 200, max: 2000 }),
      wad: fc.bigInt({ min: 0n, max: WAD / 5n }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("mine" as const), blocks: fc.integer({ min: 1, max: 300 }) }),
    weight: 1,
  },
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

/** The custom error a rejected call reverted with ("ok" when it succeeded); fails on any other error. */
async function outcome(promise: Promise<unknown>, allowed: readonly string[]): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    for (const name of allowed) {
      try {
        await expectRevert(Promise.reject(error), name);
        return name;
      } catch {
        // not this one
      }
    }
    throw error;
  }
}

describe("slashing over random sequences of reports, evidence, reorgs, pauses, vetoes and parameter changes", () => {
  let f: DinFixture;
  let watchers: Address[];
  let gateways: [Address, Address];
  let honest: Address;
  let others: [Address, Address];
  let base: Hex;
  let chainId: number;

  beforeAll(async () => {
    f = await deployDinFixture({ params: { finalityDelay: FINALITY_DELAY } });
    chainId = f.ledger.chain.id;
    await f.registerWatchersAndGateway();
    const extra = [f.ledger.accounts[14], f.ledger.accounts[15]] as Address[];
    for (const w of extra) {
      await f.ledger.write(f.deployer, { ...f.registry, functionName: "setWatcher", args: [w, true] });
      await f.stake(w, 2n * WAD, WATCHER_SET);
      await f.registerForSet(w, WATCHER_SET);
    }
    watchers = [...f.watchers, ...extra];
    const greedy = f.ledger.accounts[16] as Address;
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setGateway", args: [greedy, true] });
    await f.stake(greedy, 2n * WAD, GATEWAY_SET);
    await f.registerForSet(greedy, GATEWAY_SET);
    gateways = [f.gateway, greedy];
    for (const op of f.operators) await f.registerOperator(op);
    [honest, ...others] = f.operators;
    await f.ledger.mine(260);
    base = await f.ledger.snapshot();
  });

  it("never slashes the operator that is always up and right, keeps every loss within the ceilings and pays out no more than was paid in", async () => {
    const seen = { queued: 0, held: 0, proven: 0, executed: 0, capped: 0, vetoed: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 14 }), async (commands) => {
        await f.ledger.revert(base);
        base = await f.ledger.snapshot();
        const from = (await f.ledger.blockNumber()) + 1n;
        const history = new Map<Address, { block: bigint; magnitude: bigint; allocated: bigint }[]>();
        const observe = async () => {
          const block = await f.ledger.blockNumber();
          for (const op of f.operators) {
            const allocation = await f.ledger.public.readContract({
              ...f.am,
              functionName: "getAllocation",
              args: [op, { avs: f.addresses.registry, id: ETHEREUM }, f.strategy],
            });
            const list = history.get(op) ?? [];
            list.push({ block, magnitude: await f.maxMagnitude(op), allocated: allocation.currentMagnitude });
            history.set(op, list);
          }
        };
        let paidIn = 0n;
        await observe();
        for (const c of commands) {
          await run(c, (fee) => {
            paidIn += fee;
          });
          await observe();
          expect(await f.jailed(honest)).toBe(false);
        }

        // The honest operator: never queued, held, proven or slashed, its magnitude untouched.
        const range = { fromBlock: from, strict: true } as const;
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
        const proven = await f.ledger.public.getContractEvents({
          ...f.slasher,
          eventName: "FraudProven",
          ...range,
        });
        for (const e of [...queued, ...held, ...proven]) expect(e.args.operator).not.toBe(honest);
        seen.queued += queued.length;
        seen.vetoed += (
          await f.ledger.public.getContractEvents({ ...f.slasher, eventName: "SlashVetoed", ...range })
        ).length;
        seen.held += held.length;
        seen.proven += proven.length;
        expect(await f.maxMagnitude(honest)).toBe(WAD);

        // Ceilings: per slash, and over every pair of observations within one rolling window. Magnitudes are
        // rounded up by at most one unit per slash.
        const executed = await f.ledger.public.getContractEvents({
          ...f.slasher,
          eventName: "SlashExecuted",
          ...range,
        });
        for (const e of executed) expect(e.args.wad ?? 0n).toBeLessThanOrEqual(MAX_OFFENCE_WAD);
        seen.executed += executed.length;
        seen.capped += (
          await f.ledger.public.getContractEvents({ ...f.slasher, eventName: "SlashCapped", ...range })
        ).length;
        const slashes = executed.length + proven.length;
        for (const list of history.values()) {
          for (const [i, earlier] of list.entries()) {
            for (const later of list.slice(i + 1)) {
              if (later.block - earlier.block >= SLASH_WINDOW) continue;
              const lost = earlier.magnitude - later.magnitude;
              expect(lost).toBeLessThanOrEqual((earlier.allocated * MAX_WINDOW_WAD) / WAD + BigInt(slashes));
            }
          }
        }

        // Fees: whatever was not paid out is carried for the gateway that paid it.
        const finalized = await f.ledger.public.getContractEvents({
          ...f.epochs,
          eventName: "EpochFinalized",
          ...range,
        });
        const paidOut = finalized.reduce((sum, e) => sum + (e.args.paid ?? 0n), 0n);
        let carried = 0n;
        for (const g of gateways) {
          carried += (await f.ledger.public.readContract({
            ...f.epochs,
            functionName: "carriedFees",
            args: [ETHEREUM, g],
          })) as bigint;
        }
        expect(paidOut).toBeLessThanOrEqual(paidIn);
        expect(carried + paidOut).toBe(paidIn);
      }),
      { numRuns: 20 },
    );
    // The sequences reached every path the properties are about.
    for (const path of ["queued", "held", "proven", "executed"] as const)
      expect(seen[path]).toBeGreaterThan(0);
  });

  async function run(c: Command, paid: (fee: bigint) => void): Promise<void> {
    switch (c.kind) {
      case "epoch":
        return epoch(c, paid);
      case "lie": {
        const liar = others[c.who - 1] as Address;
        const head = await f.ledger.blockNumber();
        if (head <= BigInt(c.age)) return;
        const relay = await relayAbout(head - BigInt(c.age), keccak256(toHex(`lie-${head}-${c.age}`)));
        const result = await outcome(prove(relay, await sign(relay, liar)), [
          "IncidentAlreadyPunished",
          "OperatorWasEjected",
          "UnknownSigner",
        ]);
        if (result === "UnknownSigner") expect(await f.isMember(liar)).toBe(false);
        return;
      }
      case "frame":
        return frame(c.how);
      case "veto": {
        const length = await f.queueLength();
        const head = await f.ledger.blockNumber();
        const open = [];
        for (let id = 0n; id < length; id++) {
          const s = await f.queuedSlash(id);
          if (s.status === 1 && head + 1n <= BigInt(s.queuedAt) + BigInt(s.vetoWindow)) open.push(id);
        }
        if (open.length === 0) return;
        const id = open[c.pick % open.length] as bigint;
        await f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [id] });
        expect((await f.queuedSlash(id)).status).toBe(2);
        return;
      }
      case "execute":
        return executeDue();
      case "slashParams": {
        const current = await f.ledger.public.readContract({ ...f.slasher, functionName: "getSlashParams" });
        await outcome(
          f.ledger.write(f.deployer, {
            ...f.slasher,
            functionName: "setSlashParams",
            args: [
              {
                ...current,
                wrongDataWad: c.wrongDataWad,
                repeatWrongDataWad: c.repeatWrongDataWad,
                vetoWindow: c.vetoWindow,
                jailCooldown: c.jailCooldown,
                ejectAfter: c.ejectAfter,
              },
            ],
          }),
          ["InvalidParameter", "TimingRuleViolated"],
        );
        return;
      }
      case "slaTable": {
        const current = await f.ledger.public.readContract({ ...f.epochs, functionName: "getSlaTable" });
        await outcome(
          f.ledger.write(f.deployer, {
            ...f.epochs,
            functionName: "setSlaTable",
            args: [
              {
                ...current,
                minAvailabilityBps: c.minAvailabilityBps,
                floorAvailabilityBps: Math.min(current.floorAvailabilityBps, c.minAvailabilityBps),
                maxP50LatencyMs: c.maxP50LatencyMs,
                downWad: c.wad,
              },
            ],
          }),
          ["InvalidParameter", "InvalidSlaTable"],
        );
        return;
      }
      case "mine":
        await f.ledger.mine(c.blocks);
        return;
    }
  }

  /** Executes every queued slash whose veto window is over (anyone may; the watchers do). */
  async function executeDue(): Promise<void> {
    const length = await f.queueLength();
    for (let id = 0n; id < length; id++) {
      const s = await f.queuedSlash(id);
      const head = await f.ledger.blockNumber();
      if (s.status !== 1 || head + 1n <= BigInt(s.queuedAt) + BigInt(s.vetoWindow)) continue;
      await f.ledger.write(f.outsider, { ...f.slasher, functionName: "execute", args: [id] });
    }
  }

  async function epoch(c: Extract<Command, { kind: "epoch" }>, paid: (fee: bigint) => void): Promise<void> {
    await f.endEpoch(await f.currentEpoch());
    await f.ledger.mine(1);
    const e = await f.currentEpoch();
    const members: Address[] = [];
    for (const op of f.operators) if (await f.isMember(op)) members.push(op);
    for (const [g, gateway] of gateways.entries()) {
      const fee = c.fees[g] ?? 0n;
      if (fee > 0n) {
        await f.payFees(ETHEREUM, fee, f.addresses.feeToken, gateway);
        paid(fee);
      }
      const counts = c.usage[g] ?? [0n, 0n, 0n];
      await f.reportUsage(
        ETHEREUM,
        e,
        members.map((o) => [o, counts[f.operators.indexOf(o)] ?? 0n]),
        gateway,
      );
    }
    await f.endEpoch(e);
    const truth = c.honest.map((values) =>
      members.map((operator): OperatorMetrics => {
        const i = f.operators.indexOf(operator);
        const v = values[i] ?? { availabilityBps: 10_000, p50LatencyMs: 50, lagBlocks: 0 };
        const down = i > 0 && c.down[i - 1] === true;
        return { operator, ...v, ...(down ? { availabilityBps: 0 } : {}) };
      }),
    );
    const lies = c.liars.map((r) =>
      r?.flatMap((m, i) => {
        const operator = f.operators[i] as Address;
        return m === undefined || !members.includes(operator) ? [] : [{ operator, ...m }];
      }),
    );
    const deadline = async () =>
      (await f.ledger.public.readContract({
        ...f.epochs,
        functionName: "reportDeadline",
        args: [e],
      })) as bigint;
    let submitted = 0;
    for (const w of c.order) {
      if (c.pause !== undefined && submitted === c.pause.after) await pauseEpochs(c.pause);
      const report = w < 3 ? truth[w] : lies[w - 3];
      if (report === undefined) continue;
      await f.submitReport(watchers[w] as Address, ETHEREUM, e, report);
      submitted++;
      // Before the deadline nobody finalizes on fewer than all five reports.
      if (submitted < 5 && (await f.ledger.blockNumber()) + 1n <= (await deadline())) {
        await expectRevert(f.finalize(ETHEREUM, e), "NotFinalizable");
      }
    }
    if (submitted < 5) {
      const head = await f.ledger.blockNumber();
      const last = await deadline();
      if (head < last) await f.ledger.mine(Number(last - head));
    }
    const receipt = await f.finalize(ETHEREUM, e);
    const judged = await f.ledger.public.getContractEvents({
      ...f.epochs,
      eventName: "OperatorJudged",
      fromBlock: receipt.fromBlock,
      toBlock: receipt.blockNumber,
      strict: true,
    });
    // Every member is judged: no pause and no minority voids an epoch.
    expect(judged.map((j) => j.args.operator).sort()).toEqual([...members].sort());
    await executeDue();
  }

  async function pauseEpochs(p: { blocks: number; end: "lift" | "expire" }): Promise<void> {
    // A pause chained on a recent one is refused (it waits as long as the last one lasted).
    const paused = await outcome(
      f.ledger.write(f.guardian, { ...f.epochs, functionName: "pause", args: [] }),
      ["PauseCoolingDown"],
    );
    if (paused !== "ok") return;
    await f.ledger.mine(p.blocks);
    if (p.end === "lift") {
      await f.ledger.write(f.guardian, { ...f.epochs, functionName: "unpause", args: [] });
    } else {
      // Expires MAX_PAUSE_BLOCKS after it began: the report window resumes with every block it lost.
      await f.ledger.mine(MAX_PAUSE_BLOCKS - p.blocks);
      expect(await f.ledger.public.readContract({ ...f.epochs, functionName: "paused" })).toBe(false);
    }
  }

  /**
   * A relay about `blockNumber` claiming `blockHash`, served now or once the block was final, whichever is later
   * (blocks mined in a burst share a timestamp).
   */
  async function relayAbout(blockNumber: bigint, blockHash: Hex): Promise<Relay> {
    const [latest, block] = await Promise.all([
      f.ledger.public.getBlock(),
      f.ledger.public.getBlock({ blockNumber }),
    ]);
    const finalAt = block.timestamp + BigInt(FINALITY_DELAY);
    return {
      chainId: BigInt(chainId),
      requestHash: hashRequest("eth_getBlockByNumber", [toHex(blockNumber), false]),
      responseHash: hashResponse({ result: { number: toHex(blockNumber), hash: blockHash } }),
      blockNumber,
      blockHash,
      servedAt: latest.timestamp + 1n > finalAt ? latest.timestamp + 1n : finalAt,
    };
  }
  function sign(relay: Relay, operator: Address): Promise<Hex> {
    const signer = f.signers.get(operator);
    if (!signer) throw new Error("no signer");
    return signRelay(signer, relay, chainId, f.addresses.slasher);
  }
  async function prove(relay: Relay, signature: Hex) {
    return f.ledger.write(f.outsider, {
      ...f.slasher,
      functionName: "proveWrongBlockHash",
      args: [relay, signature, await blockHeader(f.ledger.public, relay.blockNumber)],
    });
  }

  async function frame(how: "reorg" | "stranger" | "tampered" | "truth"): Promise<void> {
    const head = await f.ledger.blockNumber();
    const final = await f.ledger.public.getBlock({ blockNumber: head - 20n });
    if (how === "reorg") {
      // The honest operator answers about the head it sees; a reorg then replaces that block.
      const fork = await f.ledger.snapshot();
      await f.ledger.mine(1);
      const tip = await f.ledger.public.getBlock();
      const answer: Relay = { ...(await relayAbout(tip.number, tip.hash)), servedAt: tip.timestamp + 1n };
      const signature = await sign(answer, honest);
      await f.ledger.revert(fork);
      await f.ledger.test.increaseTime({ seconds: 3 });
      await f.ledger.mine(FINALITY_DELAY + 3);
      const replaced = await f.ledger.public.getBlock({ blockNumber: tip.number });
      expect(replaced.hash).not.toBe(tip.hash);
      await expectRevert(prove(answer, signature), "NotFinalWhenServed");
      return;
    }
    if (how === "stranger") {
      const relay = await relayAbout(final.number, keccak256(toHex(`stranger-${head}`)));
      const stranger = privateKeyToAccount(generatePrivateKey());
      await expectRevert(
        prove(relay, await signRelay(stranger, relay, chainId, f.addresses.slasher)),
        "UnknownSigner",
      );
      return;
    }
    const truth = await relayAbout(final.number, final.hash);
    const signature = await sign(truth, honest);
    if (how === "truth") {
      await expectRevert(prove(truth, signature), "NotFraudulent");
      return;
    }
    // Its signature over the true answer, put on a wrong one: the signature recovers no operator's key.
    await expectRevert(
      prove({ ...truth, blockHash: keccak256(toHex(`tampered-${head}`)) }, signature),
      "UnknownSigner",
    );
  }
});
