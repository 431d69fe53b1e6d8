// Operator-directed rewards: an AVS escrows tokens for a past period, the rewards calculator splits them
// (operator commission + stakers pro rata) into a root of cumulative earnings, and earners claim.
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
import { deployContract, deployFixture, e18, expectRevert, type Fixture } from "./fixture.js";

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

  async function fund(amount: bigint, endsAgo = 10n) {
    const end = (await now()) - endsAgo;
    const submission = {
      strategiesAndMultipliers: [{ strategy: f.strategy, multiplier: e18(1) }],
      token: usdc,
      operatorRewards: [{ operator: f.operator, amount }],
      startTimestamp: Number(end - 3600n),
      duration: 3600,
      description: "epoch",
    };
    await f.ledger.write(f.avs, {
      ...f.rcc,
      functionName: "createOperatorDirectedRewardsSubmission",
      args: [f.avs, [submission]],
    });
    const stake = await readStakeSnapshot(
      f.ledger.public,
      f.addresses.delegationManager,
      f.operator,
      [f.strategy],
      await f.ledger.blockNumber(),
    );
    const split = BigInt(await f.rc.read.getOperatorAVSSplit([f.operator, f.avs]));
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
    const c = tree.claim(earner, usdc);
    if (!c) throw new Error(`${earner} earned nothing`);
    return { rootIndex, earner, token: usdc, cumulativeEarnings: c.cumulativeEarnings, proof: c.proof };
  }

  const usdcOf = (who: Address) => f.balanceOf(who, usdc);

  it("escrows only rewards for periods that have ended, sent by the AVS itself", async () => {
    const submission = {
      strategiesAndMultipliers: [{ strategy: f.strategy, multiplier: e18(1) }],
      token: usdc,
      operatorRewards: [{ operator: f.operator, amount: e18(1) }],
      startTimestamp: Number(await now()),
      duration: 3600,
      description: "future",
    };
    await expectRevert(
      f.ledger.write(f.avs, {
        ...f.rcc,
        functionName: "createOperatorDirectedRewardsSubmission",
        args: [f.avs, [submission]],
      }),
      "SubmissionNotRetroactive",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.rcc,
        functionName: "createOperatorDirectedRewardsSubmission",
        args: [f.avs, [submission]],
      }),
      "InvalidCaller",
    );
    await fund(e18(1000));
    expect(await usdcOf(f.addresses.rewardsCoordinator)).toBe(e18(1000));
  });

  it("the operator keeps its 10% commission and its stakers share the rest pro rata; claims never pay twice", async () => {
    const earnings = await fund(e18(1000));
    // operator: 100 commission + 900 × 100/500 for its own stake; Alice 900 × 100/500; Bob 900 × 300/500
    expect(earnings.get(`${f.operator}:${usdc}`)).toBe(e18(280));
    const { tree, rootIndex } = await publish(accumulate(new Map(), earnings));

    for (const [who, expected] of [
      [f.operator, 280],
      [f.alice, 180],
      [f.bob, 540],
    ] as const) {
      await f.ledger.write(who, {
        ...f.rcc,
        functionName: "processClaim",
        args: [claimOf(tree, rootIndex, who), who],
      });
      expect(await usdcOf(who)).toBe(e18(expected));
    }
    await expectRevert(
      f.ledger.write(f.alice, {
        ...f.rcc,
        functionName: "processClaim",
        args: [claimOf(tree, rootIndex, f.alice), f.alice],
      }),
      "EarningsNotGreaterThanClaimed",
    );
    expect(await usdcOf(f.addresses.rewardsCoordinator)).toBe(0n);
  });

  it("a later root pays only the difference; a forged amount or a stranger's claim is refused", async () => {
    const cumulative = accumulate(new Map(), await fund(e18(1000)));
    const first = await publish(cumulative);
    await f.ledger.write(f.alice, {
      ...f.rcc,
      functionName: "processClaim",
      args: [claimOf(first.tree, first.rootIndex, f.alice), f.alice],
    });
    accumulate(cumulative, await fund(e18(500)));
    const second = await publish(cumulative);
    await f.ledger.write(f.alice, {
      ...f.rcc,
      functionName: "processClaim",
      args: [claimOf(second.tree, second.rootIndex, f.alice), f.alice],
    });
    expect(await usdcOf(f.alice)).toBe(e18(270));

    const forged = { ...claimOf(second.tree, second.rootIndex, f.bob), cumulativeEarnings: e18(5000) };
    await expectRevert(
      f.ledger.write(f.bob, { ...f.rcc, functionName: "processClaim", args: [forged, f.bob] }),
      "InvalidClaimProof",
    );
    await expectRevert(
      f.ledger.write(f.carol, {
        ...f.rcc,
        functionName: "processClaim",
        args: [claimOf(second.tree, second.rootIndex, f.bob), f.carol],
      }),
      "InvalidCaller",
    );
    // Bob lets Carol claim for him; one claim covers both periods.
    await f.ledger.write(f.bob, { ...f.rcc, functionName: "setClaimerFor", args: [f.carol] });
    await f.ledger.write(f.carol, {
      ...f.rcc,
      functionName: "processClaim",
      args: [claimOf(second.tree, second.rootIndex, f.bob), f.carol],
    });
    expect(await usdcOf(f.carol)).toBe(e18(810));
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
      "InvalidCalculationEndTimestamp",
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
      "InvalidCalculationEndTimestamp",
    );
    // With a zero activation delay the root is active at once and can no longer be disabled.
    await expectRevert(
      f.ledger.write(f.deployer, { ...f.rcc, functionName: "disableRoot", args: [0] }),
      "RootAlreadyActivated",
    );
  });

  it("an operator can change its commission; it applies to later splits", async () => {
    await f.ledger.write(f.operator, {
      ...f.rcc,
      functionName: "setOperatorAVSSplit",
      args: [f.operator, f.avs, 5000],
    });
    expect(await f.rc.read.getOperatorAVSSplit([f.operator, f.avs])).toBe(5000);
    await expectRevert(
      f.ledger.write(f.operator, {
        ...f.rcc,
        functionName: "setOperatorAVSSplit",
        args: [f.operator, f.avs, 10_001],
      }),
      "SplitExceedsMax",
    );
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
    const claim = tree.claim(f.operator, f.token);
    const args = [
      { rootIndex: 0, earner: f.operator, token: f.token, cumulativeEarnings: 1n, proof: claim?.proof ?? [] },
      f.operator,
    ] as const;
    await f.ledger.write(f.deployer, {
      ...f.rcc,
      functionName: "submitRoot",
      args: [tree.root, Number((await now()) - 1n)],
    });
    await expectRevert(
      f.ledger.write(f.operator, { ...f.rcc, functionName: "processClaim", args }),
      "RootNotActivatedYet",
    );
    await f.ledger.write(f.deployer, { ...f.rcc, functionName: "disableRoot", args: [0] });
    await f.ledger.test.increaseTime({ seconds: 3601 });
    await f.ledger.mine(1);
    await expectRevert(
      f.ledger.write(f.operator, { ...f.rcc, functionName: "processClaim", args }),
      "RootDisabled",
    );

    await f.ledger.write(f.operator, {
      ...f.rcc,
      functionName: "setOperatorAVSSplit",
      args: [f.operator, f.avs, 2500],
    });
    expect(await f.rc.read.getOperatorAVSSplit([f.operator, f.avs])).toBe(1000);
    await f.ledger.test.increaseTime({ seconds: 3601 });
    await f.ledger.mine(1);
    expect(await f.rc.read.getOperatorAVSSplit([f.operator, f.avs])).toBe(2500);
  });
});
