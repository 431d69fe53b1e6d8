// Operator-directed operator-set rewards: an AVS escrows tokens for a past, interval-aligned period, the
// rewards calculator splits them (operator commission + stakers pro rata) into a two-level root of
// cumulative earnings, and earners claim. Every way in that must be refused is tried first.
import { type Address, type Hash, zeroAddress } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockERC20Abi, mockERC20Bytecode } from "../../src/ledger/artifacts/index.js";
import {
  accumulate,
  buildRewardsTree,
  type Earnings,
  readStakeSnapshot,
  splitOperatorReward,
} from "../../src/ledger/rewards.js";
import { calculateEarnings, readRewardsSubmissions } from "../../src/ledger/rewards-calculator.js";
import { deployContract, deployFixture, e18, expectRevert, type Fixture, SET_A } from "./fixture.js";

describe("rewards: operator-directed submissions and cumulative Merkle claims", () => {
  let f: Fixture;
  let usdc: Address;
  let snap: Hash;

  beforeAll(async () => {
    f = await deployFixture();
    usdc = await deployContract(f.ledger, f.deployer, mockERC20Abi, mockERC20Bytecode, ["USD Coin", "USDC"]);
    await f.registerOperator(f.operator);
    await f.deposit(f.operator, e18(100));
    await f.deposit(f.alice, e18(100));
    await f.deposit(f.bob, e18(300));
    await f.delegate(f.alice, f.operator);
    await f.delegate(f.bob, f.operator);
    await f.ledger.write(f.avs, {
      address: usdc,
      abi: mockERC20Abi,
      functionName: "mint",
      args: [f.avs, e18(10_000)],
    });
    await f.ledger.write(f.avs, {
      address: usdc,
      abi: mockERC20Abi,
      functionName: "approve",
      args: [f.addresses.rewardsCoordinator, e18(10_000)],
    });
    snap = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snap);
    snap = await f.ledger.snapshot();
  });

  const now = async () => (await f.ledger.public.getBlock({ blockTag: "latest" })).timestamp;

  const set = () => ({ avs: f.avs, id: SET_A });
  /** The end of the last whole calculation interval (10 s on the devnet preset) strictly before now. */
  const lastBoundary = async () => (((await now()) - 1n) / 10n) * 10n;
  const submission = async (amount: bigint, over: Record<string, unknown> = {}) => {
    const end = await lastBoundary();
    return {
      strategiesAndMultipliers: [{ strategy: f.strategy, multiplier: e18(1) }],
      token: usdc,
      operatorRewards: [{ operator: f.operator, amount }],
      startTimestamp: Number(end - 3600n),
      duration: 3600,
      description: "epoch",
      ...over,
    };
  };
  const submit = (from: Address, s: unknown, operatorSet = set()) =>
    f.ledger.write(from, {
      ...f.rcc,
      functionName: "createOperatorDirectedOperatorSetRewardsSubmission",
      args: [operatorSet, [s]],
    } as never);

  async function fund(amount: bigint) {
    await submit(f.avs, await submission(amount));
    const stake = await readStakeSnapshot(
      f.ledger.public,
      f.addresses.delegationManager,
      f.operator,
      [f.strategy],
      await f.ledger.blockNumber(),
    );
    const split = BigInt(await f.rc.read.getOperatorSetSplit([f.operator, set()]));
    return splitOperatorReward(
      {
        operator: f.operator,
        token: usdc,
        amount,
        strategiesAndMultipliers: [{ strategy: f.strategy, multiplier: e18(1) }],
        splitBips: split,
      },
      stake,
    );
  }

  async function publish(cumulative: Earnings) {
    const tree = buildRewardsTree(cumulative);
    await f.ledger.test.increaseTime({ seconds: 60 });
    await f.ledger.mine(1);
    await f.ledger.write(f.deployer, {
      ...f.rcc,
      functionName: "submitRoot",
      args: [tree.root, Number((await now()) - 1n)],
    });
    const rootIndex = Number(await f.rc.read.getDistributionRootsLength()) - 1;
    return { tree, rootIndex };
  }

  function claimOf(tree: ReturnType<typeof buildRewardsTree>, rootIndex: number, earner: Address) {
    const c = tree.claim(earner, [usdc]);
    if (!c) throw new Error(`${earner} earned nothing`);
    return { rootIndex, ...c };
  }
  const processClaim = (from: Address, claim: unknown, recipient: Address = from) =>
    f.ledger.write(from, { ...f.rcc, functionName: "processClaim", args: [claim, recipient] } as never);

  const usdcOf = (who: Address) => f.balanceOf(who, usdc);

  it("refuses a submission not aligned to the interval, not yet over, unsorted, from a non-AVS or for a set that does not exist", async () => {
    const ok = await submission(e18(1));
    const other = f.operator2;
    const unsorted = [
      { operator: f.operator, amount: e18(1) },
      { operator: other, amount: e18(1) },
    ].sort((a, b) => (BigInt(a.operator) > BigInt(b.operator) ? -1 : 1));
    for (const [bad, error] of [
      [{ startTimestamp: ok.startTimestamp + 1 }, "InvalidStartTimestampRemainder"],
      [{ duration: 3605 }, "InvalidDurationRemainder"],
      [{ duration: 0 }, "DurationIsZero"],
      [{ startTimestamp: ok.startTimestamp + 3600, duration: 3600 }, "SubmissionNotRetroactive"],
      [{ operatorRewards: unsorted }, "OperatorsNotInAscendingOrder"],
      [{ operatorRewards: [{ operator: f.operator, amount: 0n }] }, "AmountIsZero"],
      [{ operatorRewards: [] }, "InputArrayLengthZero"],
      [{ strategiesAndMultipliers: [{ strategy: f.token, multiplier: 1n }] }, "StrategyNotWhitelisted"],
      [{ startTimestamp: 0, duration: 3600 }, "StartTimestampTooFarInPast"],
    ] as const) {
      await expectRevert(submit(f.avs, { ...ok, ...bad }), error);
    }
    await expectRevert(submit(f.bob, ok), "UnauthorizedCaller");
    await expectRevert(submit(f.avs, ok, { avs: f.avs, id: 999 }), "InvalidOperatorSet");
    await expectRevert(submit(f.bob, ok, { avs: f.bob, id: SET_A }), "InvalidOperatorSet");
    expect(await usdcOf(f.addresses.rewardsCoordinator)).toBe(0n);
    await fund(e18(1000));
    expect(await usdcOf(f.addresses.rewardsCoordinator)).toBe(e18(1000));
    expect(await f.rc.read.submissionNonce([f.avs])).toBe(1n);
  });

  it("the operator keeps its 10% commission and its stakers share the rest pro rata; claims never pay twice", async () => {
    const earnings = await fund(e18(1000));
    // operator: 100 commission + 900 × 100/500 for its own stake; Alice 900 × 100/500; Bob 900 × 300/500
    expect(earnings.get(`${f.operator}:${usdc}`)).toBe(e18(280));
    const { tree, rootIndex } = await publish(accumulate(new Map(), earnings));
    expect(await f.rc.read.checkClaim([claimOf(tree, rootIndex, f.alice)])).toBe(true);
    for (const [who, expected] of [
      [f.operator, 280],
      [f.alice, 180],
      [f.bob, 540],
    ] as const) {
      await processClaim(who, claimOf(tree, rootIndex, who));
      expect(await usdcOf(who)).toBe(e18(expected));
      expect(await f.rc.read.cumulativeClaimed([who, usdc])).toBe(e18(expected));
    }
    await expectRevert(
      processClaim(f.alice, claimOf(tree, rootIndex, f.alice)),
      "EarningsNotGreaterThanClaimed",
    );
    expect(await usdcOf(f.addresses.rewardsCoordinator)).toBe(0n);
  });

  it("refuses another earner's proof, a token leaf not under the earner's root, a forged amount, a wrong index and a stranger", async () => {
    const { tree, rootIndex } = await publish(accumulate(new Map(), await fund(e18(1000))));
    const alice = claimOf(tree, rootIndex, f.alice);
    const bob = claimOf(tree, rootIndex, f.bob);
    // Bob presents Alice's proof as his own.
    await expectRevert(
      processClaim(f.bob, { ...alice, earnerLeaf: { ...alice.earnerLeaf, earner: f.bob } }),
      "InvalidClaimProof",
    );
    // Alice's (valid) earner leaf with Bob's larger token leaf and proof under it.
    await expectRevert(
      processClaim(f.alice, { ...alice, tokenLeaves: bob.tokenLeaves, tokenTreeProofs: bob.tokenTreeProofs }),
      "InvalidClaimProof",
    );
    await expectRevert(
      processClaim(f.alice, { ...alice, tokenLeaves: [{ token: usdc, cumulativeEarnings: e18(5000) }] }),
      "InvalidClaimProof",
    );
    // The same proof at an index it does not fit.
    await expectRevert(
      processClaim(f.alice, { ...alice, earnerIndex: alice.earnerIndex + 4 }),
      "InvalidEarnerLeafIndex",
    );
    await expectRevert(processClaim(f.alice, { ...alice, tokenIndices: [1] }), "InvalidTokenLeafIndex");
    await expectRevert(processClaim(f.alice, { ...alice, tokenIndices: [] }), "InputArrayLengthMismatch");
    await expectRevert(processClaim(f.carol, bob, f.carol), "UnauthorizedCaller");
    await expectRevert(processClaim(f.alice, { ...alice, rootIndex: 7 }), "InvalidRootIndex");
    // Bob names Carol: then Carol, and only Carol, claims for him.
    await f.ledger.write(f.bob, { ...f.rcc, functionName: "setClaimerFor", args: [f.carol] });
    await expectRevert(processClaim(f.bob, bob), "UnauthorizedCaller");
    await processClaim(f.carol, bob, f.carol);
    expect(await usdcOf(f.carol)).toBe(e18(540));
    expect(await usdcOf(f.bob)).toBe(0n);
  });

  it("a later root pays only the difference", async () => {
    const cumulative = accumulate(new Map(), await fund(e18(1000)));
    const first = await publish(cumulative);
    await processClaim(f.alice, claimOf(first.tree, first.rootIndex, f.alice));
    await f.ledger.test.increaseTime({ seconds: 20 });
    await f.ledger.mine(1);
    accumulate(cumulative, await fund(e18(500)));
    const second = await publish(cumulative);
    await processClaim(f.alice, claimOf(second.tree, second.rootIndex, f.alice));
    expect(await usdcOf(f.alice)).toBe(e18(270));
    // An older root's smaller cumulative amount pays nothing more.
    await expectRevert(
      processClaim(f.alice, claimOf(first.tree, first.rootIndex, f.alice)),
      "EarningsNotGreaterThanClaimed",
    );
  });

  it("the rewards calculator reads submissions from the chain and pays by stake averaged over the period", async () => {
    await f.ledger.test.increaseTime({ seconds: 7200 });
    await f.ledger.mine(1);
    const from = await f.ledger.blockNumber();
    // Carol joins after the period has ended: she must earn nothing from it.
    await f.deposit(f.carol, e18(1000));
    await f.delegate(f.carol, f.operator);
    await fund(e18(1000));
    const submissions = await readRewardsSubmissions(
      f.ledger.public,
      f.addresses.rewardsCoordinator,
      from,
      await f.ledger.blockNumber(),
    );
    expect(submissions).toHaveLength(1);
    expect(submissions[0]?.operatorSetId).toBe(SET_A);
    const earnings = await calculateEarnings(f.ledger.public, f.addresses, submissions);
    expect(earnings.get(`${f.operator}:${usdc}`)).toBe(e18(280));
    expect(earnings.get(`${f.alice}:${usdc}`)).toBe(e18(180));
    expect(earnings.get(`${f.bob}:${usdc}`)).toBe(e18(540));
    expect(earnings.has(`${f.carol}:${usdc}`)).toBe(false);
    // Cumulative: a second calculation adds to what the previous root committed.
    const again = await calculateEarnings(f.ledger.public, f.addresses, submissions, earnings);
    expect(again.get(`${f.alice}:${usdc}`)).toBe(e18(360));
  });

  it("roots need a later calculation end, come only from the rewards updater, and can be disabled before activation", async () => {
    const t = Number(await now());
    await expectRevert(
      f.ledger.write(f.bob, { ...f.rcc, functionName: "submitRoot", args: [`0x${"11".repeat(32)}`, t - 5] }),
      "UnauthorizedCaller",
    );
    await expectRevert(
      f.ledger.write(f.deployer, {
        ...f.rcc,
        functionName: "submitRoot",
        args: [`0x${"11".repeat(32)}`, t + 100],
      }),
      "RewardsEndTimestampNotElapsed",
    );
    await f.ledger.write(f.deployer, {
      ...f.rcc,
      functionName: "submitRoot",
      args: [`0x${"11".repeat(32)}`, t - 5],
    });
    await expectRevert(
      f.ledger.write(f.deployer, {
        ...f.rcc,
        functionName: "submitRoot",
        args: [`0x${"22".repeat(32)}`, t - 5],
      }),
      "NewRootMustBeForNewCalculatedPeriod",
    );
    // With a zero activation delay the root is active at once and can no longer be disabled.
    await expectRevert(
      f.ledger.write(f.deployer, { ...f.rcc, functionName: "disableRoot", args: [0] }),
      "RootAlreadyActivated",
    );
    expect((await f.rc.read.getCurrentClaimableDistributionRoot()).root).toBe(`0x${"11".repeat(32)}`);
  });

  it("an operator can change its commission for an operator set; it applies to later splits", async () => {
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.rcc,
        functionName: "setOperatorSetSplit",
        args: [f.operator, set(), 5000],
      }),
      "UnauthorizedCaller",
    );
    await expectRevert(
      f.ledger.write(f.operator, {
        ...f.rcc,
        functionName: "setOperatorSetSplit",
        args: [f.operator, { avs: f.avs, id: 999 }, 5000],
      }),
      "InvalidOperatorSet",
    );
    await expectRevert(
      f.ledger.write(f.operator, {
        ...f.rcc,
        functionName: "setOperatorSetSplit",
        args: [f.operator, set(), 10_001],
      }),
      "SplitExceedsMax",
    );
    await f.ledger.write(f.operator, {
      ...f.rcc,
      functionName: "setOperatorSetSplit",
      args: [f.operator, set(), 5000],
    });
    await f.ledger.mine(1);
    expect(await f.rc.read.getOperatorSetSplit([f.operator, set()])).toBe(5000);
    expect(await f.rc.read.getOperatorSetSplit([f.operator, { avs: f.avs, id: SET_A + 1 }])).toBe(1000);
    const earnings = await fund(e18(1000));
    expect(earnings.get(`${f.operator}:${usdc}`)).toBe(e18(600)); // 500 + 500 × 100/500
    expect(earnings.has(`${zeroAddress}:${usdc}`)).toBe(false);
  });
});

describe("rewards with an activation delay", () => {
  it("a root is claimable only after the delay and can be disabled before; a split change waits too", async () => {
    const f = await deployFixture({ rewardsActivationDelay: 3600 });
    await f.registerOperator(f.operator);
    const now = async () => (await f.ledger.public.getBlock({ blockTag: "latest" })).timestamp;
    const tree = buildRewardsTree(new Map([[`${f.operator}:${f.token}`, 1n]]));
    const proof = tree.claim(f.operator, [f.token]);
    if (!proof) throw new Error("no claim");
    const args = [{ rootIndex: 0, ...proof }, f.operator] as const;
    await f.ledger.write(f.deployer, {
      ...f.rcc,
      functionName: "submitRoot",
      args: [tree.root, Number((await now()) - 1n)],
    });
    await expectRevert(
      f.ledger.write(f.operator, { ...f.rcc, functionName: "processClaim", args }),
      "RootNotActivated",
    );
    expect((await f.rc.read.getCurrentClaimableDistributionRoot()).root).toBe(`0x${"00".repeat(32)}`);
    await f.ledger.write(f.deployer, { ...f.rcc, functionName: "disableRoot", args: [0] });
    await f.ledger.test.increaseTime({ seconds: 3601 });
    await f.ledger.mine(1);
    await expectRevert(
      f.ledger.write(f.operator, { ...f.rcc, functionName: "processClaim", args }),
      "RootDisabled",
    );
    await expectRevert(f.rc.read.checkClaim([args[0]]), "RootDisabled");
    expect((await f.rc.read.getCurrentClaimableDistributionRoot()).root).toBe(`0x${"00".repeat(32)}`);

    const set = { avs: f.avs, id: SET_A };
    await f.ledger.write(f.operator, {
      ...f.rcc,
      functionName: "setOperatorSetSplit",
      args: [f.operator, set, 2500],
    });
    expect(await f.rc.read.getOperatorSetSplit([f.operator, set])).toBe(1000);
    await expectRevert(
      f.ledger.write(f.operator, {
        ...f.rcc,
        functionName: "setOperatorSetSplit",
        args: [f.operator, set, 2000],
      }),
      "PreviousSplitPending",
    );
    await f.ledger.test.increaseTime({ seconds: 3601 });
    await f.ledger.mine(1);
    expect(await f.rc.read.getOperatorSetSplit([f.operator, set])).toBe(2500);
  });
});
