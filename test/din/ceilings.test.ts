// What one incident may cost an operator: each block of a network is held against it once, wrong data at most
// once per epoch, every slash within the immutable ceilings (5% per offence, 10% per rolling window), nothing
// after the slasher ejected it; a vetoed slash leaves no trace; governance cannot raise a wad above the
// ceiling, raises one only after stakers could have left, and never changes a slash already queued.
import { type Address, type Hex, keccak256, toHex } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEVNET_DIN_PARAMS } from "../../src/ledger/din/deploy.js";
import { blockHeader } from "../../src/ledger/din/header.js";
import { hashRequest, hashResponse, type Relay, signRelay } from "../../src/ledger/din/relay.js";
import { type DinFixture, deployDinFixture, ETHEREUM, expectRevert, POLYGON, WAD } from "./fixture.js";

function suite(name: string, ejectAfter: number, body: (ctx: Context) => void) {
  const ctx = {} as Context;
  describe(name, () => {
    let snapshot: Hex;
    beforeAll(async () => {
      ctx.f = await deployDinFixture({
        params: { slash: { ...DEVNET_DIN_PARAMS.slash, ejectAfter } },
      });
      ctx.chainId = ctx.f.ledger.chain.id;
      [ctx.op, ctx.polygonOp] = ctx.f.operators;
      await ctx.f.registerWatchersAndGateway();
      await ctx.f.registerOperator(ctx.op);
      await ctx.f.registerOperator(ctx.polygonOp, POLYGON);
      await ctx.f.ledger.mine(5);
      snapshot = await ctx.f.ledger.snapshot();
    });
    beforeEach(async () => {
      await ctx.f.ledger.revert(snapshot);
      snapshot = await ctx.f.ledger.snapshot();
    });
    body(ctx);
  });
}

type Context = { f: DinFixture; chainId: number; op: Address; polygonOp: Address };

const relayAbout = (chainId: bigint, blockNumber: bigint, blockHash: Hex, n = 1n): Relay => ({
  chainId,
  requestHash: hashRequest("eth_getBlockByNumber", [toHex(blockNumber), false, Number(n)]),
  responseHash: hashResponse({ result: { number: toHex(blockNumber), hash: blockHash } }),
  blockNumber,
  blockHash,
  // Served long after the block was final.
  servedAt: 4_000_000_000n + n,
});

const helpers = (ctx: Context) => {
  const sign = (relay: Relay, operator: Address = ctx.op) => {
    const signer = ctx.f.signers.get(operator);
    if (!signer) throw new Error("no signer");
    return signRelay(signer, relay, ctx.chainId, ctx.f.addresses.slasher);
  };
  const prove = async (relay: Relay, operator: Address = ctx.op) =>
    ctx.f.ledger.write(ctx.f.outsider, {
      ...ctx.f.slasher,
      functionName: "proveWrongBlockHash",
      args: [relay, await sign(relay, operator), await blockHeader(ctx.f.ledger.public, relay.blockNumber)],
    });
  /** A wrong block hash about a recent block of the ledger's own chain. */
  const lie = async (n = 1n, back = 2n) => {
    const head = await ctx.f.ledger.blockNumber();
    return relayAbout(BigInt(ctx.chainId), head - back, keccak256(toHex(`lie-${head}-${n}`)), n);
  };
  /** Mines into the next epoch (a new wrong-data penalty may be proven there). */
  const nextEpoch = async () => {
    await ctx.f.endEpoch(await ctx.f.currentEpoch());
    await ctx.f.ledger.mine(1);
  };
  const read = <T>(functionName: string, args: unknown[]) =>
    ctx.f.ledger.public.readContract({
      ...ctx.f.slasher,
      functionName,
      args,
      // biome-ignore lint/suspicious/noExplicitAny: generic reader over the slasher's views
    } as any) as Promise<T>;
  /** Fraction of the operator's allocation (WAD / 2) that was slashed, in WAD. */
  const lostFraction = async (operator: Address = ctx.op) =>
    ((WAD - (await ctx.f.maxMagnitude(operator))) * WAD) / (WAD / 2n);
  const attestAndProve = async (blockNumber: bigint, n = 1n) => {
    const canonical = keccak256(toHex(`canonical-${blockNumber}`));
    for (const w of ctx.f.watchers.slice(0, 2)) {
      await ctx.f.ledger.write(w, {
        ...ctx.f.slasher,
        functionName: "attestBlockHash",
        args: [137n, blockNumber, canonical],
      });
    }
    // The attested hash is fixed after its dispute period (one veto window).
    await ctx.f.ledger.mine(DEVNET_DIN_PARAMS.slash.vetoWindow);
    const relay = relayAbout(137n, blockNumber, keccak256(toHex(`wrong-${blockNumber}-${n}`)), n);
    await ctx.f.ledger.write(ctx.f.outsider, {
      ...ctx.f.slasher,
      functionName: "proveWrongBlockHashAttested",
      args: [relay, await sign(relay, ctx.polygonOp)],
    });
    return (await ctx.f.queueLength()) - 1n;
  };
  return { sign, prove, lie, nextEpoch, read, lostFraction, attestAndProve };
};

suite("one incident, one penalty", 2, (ctx) => {
  it("takes one penalty (1%) for twenty signed relays about one wrong block", async () => {
    const { prove, lie, lostFraction } = helpers(ctx);
    const head = await ctx.f.ledger.blockNumber();
    const wrong = keccak256(toHex("one wrong block"));
    const relays = Array.from({ length: 20 }, (_, i) =>
      relayAbout(BigInt(ctx.chainId), head - 2n, wrong, BigInt(i + 1)),
    );
    await prove(relays[0] as Relay);
    // Another wrong block in the same epoch is no second penalty either.
    await expectRevert(prove(await lie(21n, 1n)), "IncidentAlreadyPunished");
    for (const relay of relays.slice(1)) await expectRevert(prove(relay), "IncidentAlreadyPunished");
    expect(await lostFraction()).toBe(WAD / 100n);
    expect(
      await ctx.f.ledger.public.readContract({
        ...ctx.f.slasher,
        functionName: "offences",
        args: [ctx.op, ETHEREUM],
      }),
    ).toBe(1n);
  });

  it("stops slashing once the slasher ejected the operator", async () => {
    const { prove, lie, nextEpoch, lostFraction } = helpers(ctx);
    await prove(await lie(1n));
    await nextEpoch();
    await prove(await lie(2n));
    expect(await ctx.f.isMember(ctx.op)).toBe(false);
    const lost = await lostFraction();
    await nextEpoch();
    await expectRevert(prove(await lie(3n)), "OperatorWasEjected");
    expect(await lostFraction()).toBe(lost);
  });

  it("executes a slash queued before the ejection without taking anything", async () => {
    const { prove, lie, nextEpoch, lostFraction } = helpers(ctx);
    // An SLA slash queued for the operator (availability below 99.9%).
    const e = await ctx.f.currentEpoch();
    await ctx.f.endEpoch(e);
    const m = [{ operator: ctx.op, availabilityBps: 9950, p50LatencyMs: 50, lagBlocks: 0 }];
    for (const w of ctx.f.watchers) await ctx.f.submitReport(w, ETHEREUM, e, m);
    await ctx.f.finalize(ETHEREUM, e);
    const id = (await ctx.f.queueLength()) - 1n;
    await prove(await lie(1n));
    await nextEpoch();
    await prove(await lie(2n));
    expect(await ctx.f.isMember(ctx.op)).toBe(false);
    const lost = await lostFraction();
    await ctx.f.ledger.mine(DEVNET_DIN_PARAMS.slash.vetoWindow + 1);
    await ctx.f.ledger.write(ctx.f.outsider, { ...ctx.f.slasher, functionName: "execute", args: [id] });
    expect(await lostFraction()).toBe(lost);
    expect((await ctx.f.queuedSlash(id)).status).toBe(3);
  });
});

suite("the rolling-window ceiling", 100, (ctx) => {
  it("takes at most 10% of an operator's allocation per window however many offences are proven", async () => {
    const { prove, lie, nextEpoch, lostFraction, read } = helpers(ctx);
    // 1%, then the repeat rate 5%, then 5% cut to the 4% left, then nothing.
    for (let i = 1n; i <= 5n; i++) {
      await prove(await lie(i));
      await nextEpoch();
    }
    const [total, count] = await read<[bigint, bigint]>("slashedInWindow", [ctx.op, ETHEREUM]);
    expect(total).toBe(WAD / 10n);
    expect(count).toBe(3n);
    expect(await lostFraction()).toBeLessThanOrEqual(WAD / 10n);
    expect(await read<bigint>("offences", [ctx.op, ETHEREUM])).toBe(3n);
    const capped = await lostFraction();

    // Once the window has rolled past those slashes, a new offence is charged again.
    const window = await read<bigint>("SLASH_WINDOW", []);
    await ctx.f.ledger.mine(Number(window));
    await prove(await lie(6n));
    expect(await lostFraction()).toBeGreaterThan(capped);
  });

  it("cuts an SLA slash to 5% of the allocation whatever the epochs contract queues", async () => {
    const { read } = helpers(ctx);
    expect(await read<bigint>("MAX_OFFENCE_WAD", [])).toBe((5n * WAD) / 100n);
    expect(await read<bigint>("MAX_WINDOW_WAD", [])).toBe(WAD / 10n);
  });
});

suite("a veto makes the operator whole", 2, (ctx) => {
  it("counts no offence for a vetoed slash: the next wrong data is charged 1%, and the jail is lifted at once", async () => {
    const { attestAndProve, nextEpoch, lostFraction, read } = helpers(ctx);
    const first = await attestAndProve(1000n);
    expect(await ctx.f.jailed(ctx.polygonOp, POLYGON)).toBe(true);
    await ctx.f.ledger.write(ctx.f.guardian, { ...ctx.f.slasher, functionName: "veto", args: [first] });
    expect(await ctx.f.jailed(ctx.polygonOp, POLYGON)).toBe(false);
    expect(await read<bigint>("offences", [ctx.polygonOp, POLYGON])).toBe(0n);
    expect(await read<bigint>("wrongDataOffences", [ctx.polygonOp, POLYGON])).toBe(0n);

    await nextEpoch();
    const second = await attestAndProve(1001n);
    await ctx.f.ledger.mine(DEVNET_DIN_PARAMS.slash.vetoWindow + 1);
    await ctx.f.ledger.write(ctx.f.outsider, { ...ctx.f.slasher, functionName: "execute", args: [second] });
    expect(await lostFraction(ctx.polygonOp)).toBe(WAD / 100n);
    expect(await read<bigint>("offences", [ctx.polygonOp, POLYGON])).toBe(1n);
  });
});

suite("governance of the slashing parameters", 2, (ctx) => {
  const set = (params: typeof DEVNET_DIN_PARAMS.slash) =>
    ctx.f.ledger.write(ctx.f.deployer, { ...ctx.f.slasher, functionName: "setSlashParams", args: [params] });
  const current = () =>
    ctx.f.ledger.public.readContract({ ...ctx.f.slasher, functionName: "getSlashParams" });

  it("refuses to raise a wad above the 5% ceiling (100% included)", async () => {
    const base = DEVNET_DIN_PARAMS.slash;
    await expectRevert(set({ ...base, repeatWrongDataWad: WAD }), "InvalidParameter");
    await expectRevert(set({ ...base, wrongDataWad: WAD, repeatWrongDataWad: WAD }), "InvalidParameter");
    await expectRevert(set({ ...base, repeatWrongDataWad: (5n * WAD) / 100n + 1n }), "InvalidParameter");
  });

  it("applies an allowed increase only after the core's withdrawal delay, and a decrease at once", async () => {
    const { prove, lie, lostFraction } = helpers(ctx);
    const base = DEVNET_DIN_PARAMS.slash;
    await set({ ...base, wrongDataWad: (2n * WAD) / 100n });
    const [, activation] = await ctx.f.ledger.public.readContract({
      ...ctx.f.slasher,
      functionName: "getPendingSlashParams",
    });
    const delay = BigInt(DEVNET_DIN_PARAMS.restaking.minWithdrawalDelayBlocks);
    expect(activation).toBe((await ctx.f.ledger.blockNumber()) + delay);
    expect((await current()).wrongDataWad).toBe(WAD / 100n);
    // A proof before the activation block is charged the old rate.
    await prove(await lie(1n));
    expect(await lostFraction()).toBe(WAD / 100n);

    await ctx.f.ledger.mine(Number(delay));
    expect((await current()).wrongDataWad).toBe((2n * WAD) / 100n);

    await set({ ...base, wrongDataWad: WAD / 200n });
    expect((await current()).wrongDataWad).toBe(WAD / 200n);
  });

  it("keeps the veto window a slash was queued with when governance changes it", async () => {
    const { attestAndProve } = helpers(ctx);
    const base = DEVNET_DIN_PARAMS.slash;
    const longer = await attestAndProve(2000n);
    // Shortened to 5 blocks: the queued slash still waits its 20.
    await set({ ...base, vetoWindow: 5 });
    await ctx.f.ledger.mine(6);
    await expectRevert(
      ctx.f.ledger.write(ctx.f.outsider, { ...ctx.f.slasher, functionName: "execute", args: [longer] }),
      "VetoWindowOpen",
    );
    // Lengthened to 60 blocks: it may be executed after its 20, no longer vetoed.
    await set({ ...base, vetoWindow: 60 });
    await ctx.f.ledger.mine(base.vetoWindow);
    await expectRevert(
      ctx.f.ledger.write(ctx.f.guardian, { ...ctx.f.slasher, functionName: "veto", args: [longer] }),
      "VetoWindowOver",
    );
    await ctx.f.ledger.write(ctx.f.outsider, { ...ctx.f.slasher, functionName: "execute", args: [longer] });
    const slash = await ctx.f.queuedSlash(longer);
    expect(slash.vetoWindow).toBe(base.vetoWindow);
    expect(slash.status).toBe(3);
  });
});
