// Who may call what, and the validation of AVS and owner actions.
import type { Hash } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  mockAVSRegistrarAbi,
  mockAVSRegistrarBytecode,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../../src/ledger/artifacts/index.js";
import { deployContract, deployFixture, e18, expectRevert, type Fixture, SET_A, ZERO } from "./fixture.js";

describe("permissions and validation", () => {
  let f: Fixture;
  let snap: Hash;

  beforeAll(async () => {
    f = await deployFixture();
    await f.registerOperator(f.operator);
    snap = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snap);
    snap = await f.ledger.snapshot();
  });

  it("only the owner whitelists strategies, and deposits need a whitelisted strategy", async () => {
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.smc,
        functionName: "addStrategiesToDepositWhitelist",
        args: [[f.strategy]],
      }),
      "OwnableUnauthorizedAccount",
    );
    await f.ledger.write(f.deployer, {
      ...f.smc,
      functionName: "removeStrategiesFromDepositWhitelist",
      args: [[f.strategy]],
    });
    expect(await f.sm.read.strategyIsWhitelistedForDeposit([f.strategy])).toBe(false);
    await expectRevert(f.deposit(f.alice, e18(1)), "StrategyNotWhitelisted");
  });

  it("strategies and share hooks accept calls only from the core", async () => {
    await expectRevert(
      f.ledger.write(f.bob, {
        address: f.strategy,
        abi: strategyBaseAbi,
        functionName: "deposit",
        args: [f.token, 1n],
      }),
      "OnlyStrategyManager",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        address: f.addresses.strategyManager,
        abi: strategyManagerAbi,
        functionName: "addShares",
        args: [f.bob, f.strategy, 1n],
      }),
      "OnlyDelegationManager",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.dmc,
        functionName: "slashOperatorShares",
        args: [f.operator, f.strategy, e18(1), e18("0.5"), f.bob],
      }),
      "OnlyAllocationManager",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.dmc,
        functionName: "increaseDelegatedShares",
        args: [f.bob, f.strategy, 0n, e18(1)],
      }),
      "OnlyStrategyManager",
    );
  });

  it("a withdrawal paid in the wrong token is refused", async () => {
    await f.deposit(f.alice, e18(5));
    const { withdrawal } = await f.queue(f.alice, f.strategy, e18(5));
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await expectRevert(
      f.ledger.write(f.alice, {
        ...f.dmc,
        functionName: "completeQueuedWithdrawal",
        args: [withdrawal.withdrawal, [f.token2], true],
      }),
      "OnlyUnderlyingToken",
    );
    await f.ledger.write(f.alice, {
      ...f.dmc,
      functionName: "completeQueuedWithdrawals",
      args: [[withdrawal.withdrawal], [[f.token]], [true]],
    });
    expect(await f.balanceOf(f.alice)).toBe(e18(5));
    const [after, shares] = await f.dm.read.getQueuedWithdrawal([withdrawal.root]);
    expect(after.staker).toBe(ZERO);
    expect(shares).toEqual([]);
  });

  it("only the AVS manages its operator sets and registrar", async () => {
    const set7 = { operatorSetId: 7, strategies: [f.strategy], slasher: f.slasher };
    const params = [set7];
    await expectRevert(
      f.ledger.write(f.bob, { ...f.amc, functionName: "createOperatorSets", args: [f.avs, params] }),
      "InvalidCaller",
    );
    await expectRevert(
      f.ledger.write(f.avs, {
        ...f.amc,
        functionName: "createOperatorSets",
        args: [f.avs, [{ ...set7, operatorSetId: SET_A }]],
      }),
      "OperatorSetAlreadyExists",
    );
    await expectRevert(
      f.ledger.write(f.avs, {
        ...f.amc,
        functionName: "createOperatorSets",
        args: [f.avs, [{ ...set7, slasher: ZERO }]],
      }),
      "InvalidSlasher",
    );
    await expectRevert(
      f.ledger.write(f.avs, {
        ...f.amc,
        functionName: "addStrategiesToOperatorSet",
        args: [f.avs, SET_A, [f.strategy]],
      }),
      "StrategyAlreadyInOperatorSet",
    );
    const foreign = await deployContract(
      f.ledger,
      f.deployer,
      mockAVSRegistrarAbi,
      mockAVSRegistrarBytecode,
      [f.bob],
    );
    await expectRevert(
      f.ledger.write(f.avs, { ...f.amc, functionName: "setAVSRegistrar", args: [f.avs, foreign] }),
      "InvalidAVSRegistrar",
    );
    await f.ledger.write(f.avs, { ...f.amc, functionName: "createOperatorSets", args: [f.avs, params] });
    expect(await f.am.read.isOperatorSet([f.set(7)])).toBe(true);
    expect(await f.am.read.getSlasher([f.set(7)])).toBe(f.slasher);
    expect(await f.am.read.getRedistributionRecipient([f.set(7)])).toBe(
      await f.sm.read.DEFAULT_BURN_ADDRESS(),
    );
    expect(await f.am.read.getStrategiesInOperatorSet([f.set(7)])).toEqual([f.strategy]);
  });

  it("an AVS publishes its metadata URI before its first operator set; a redistribution recipient is a real address", async () => {
    // bob acts as a new AVS.
    const set = { operatorSetId: 1, strategies: [f.strategy], slasher: f.slasher };
    await expectRevert(
      f.ledger.write(f.bob, { ...f.amc, functionName: "createOperatorSets", args: [f.bob, [set]] }),
      "NonexistentAVSMetadata",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.amc,
        functionName: "createRedistributingOperatorSets",
        args: [f.bob, [set], [f.dave]],
      }),
      "NonexistentAVSMetadata",
    );
    await f.ledger.write(f.bob, {
      ...f.amc,
      functionName: "updateAVSMetadataURI",
      args: [f.bob, "https://bob.example/avs.json"],
    });
    const burn = await f.sm.read.DEFAULT_BURN_ADDRESS();
    for (const [recipients, error] of [
      [[ZERO], "InvalidRedistributionRecipient"],
      [[burn], "InvalidRedistributionRecipient"],
      [[f.dave, f.dave], "InputArrayLengthMismatch"],
    ] as const) {
      await expectRevert(
        f.ledger.write(f.bob, {
          ...f.amc,
          functionName: "createRedistributingOperatorSets",
          args: [f.bob, [set], recipients],
        }),
        error,
      );
    }
    await f.ledger.write(f.bob, { ...f.amc, functionName: "createOperatorSets", args: [f.bob, [set]] });
    const bobSet = { avs: f.bob, id: 1 };
    expect(await f.am.read.getRedistributionRecipient([bobSet])).toBe(burn);
    expect(await f.am.read.getMemberCount([bobSet])).toBe(0n);
    expect(await f.am.read.getMemberCount([f.set(SET_A)])).toBe(
      BigInt((await f.am.read.getMembers([f.set(SET_A)])).length),
    );
  });

  it("only the operator changes its allocations and registrations", async () => {
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.amc,
        functionName: "modifyAllocations",
        args: [
          f.operator,
          [{ operatorSet: f.set(SET_A), strategies: [f.strategy], newMagnitudes: [e18("0.1")] }],
        ],
      }),
      "InvalidCaller",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.amc,
        functionName: "registerForOperatorSets",
        args: [f.operator, { avs: f.avs, operatorSetIds: [SET_A], data: "0x" }],
      }),
      "InvalidCaller",
    );
    await expectRevert(
      f.ledger.write(f.bob, {
        ...f.dmc,
        functionName: "updateOperatorMetadataURI",
        args: [f.operator, "https://evil.example"],
      }),
      "CallerNotOperator",
    );
  });
});
