// Deposits, delegation, undelegation and queued withdrawals, including slashes during the delay,
// fully slashed operators, a fresh devnet and re-entrancy through token hooks.
import { type Address, encodeFunctionData, type Hash, toFunctionSelector } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  delegationManagerAbi,
  mockERC20Abi,
  mockERC20Bytecode,
  reentrantTokenAbi,
  reentrantTokenBytecode,
  strategyManagerAbi,
} from "../../src/ledger/artifacts/index.js";
import { deployStrategy } from "../../src/ledger/deploy.js";
import { deployContract, deployFixture, e18, expectRevert, type Fixture, SET_A } from "./fixture.js";

describe("deposits, delegation and withdrawals", () => {
  let f: Fixture;
  let snap: Hash;

  beforeAll(async () => {
    f = await deployFixture();
    await f.registerOperator(f.operator);
    await f.registerForSets(f.operator, [SET_A]);
    snap = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snap);
    snap = await f.ledger.snapshot();
  });

  it("a deposit by a delegated staker raises the operator's shares at once", async () => {
    await f.delegate(f.alice, f.operator);
    await f.deposit(f.alice, e18(10));
    expect(await f.opShares(f.operator)).toBe(e18(10));
    expect(await f.sm.read.stakerDepositShares([f.alice, f.strategy])).toBe(e18(10));
    expect(await f.withdrawable(f.alice)).toBe(e18(10));
  });

  it("delegating moves all of a staker's shares, in every strategy, at once", async () => {
    await f.deposit(f.alice, e18(10));
    await f.deposit(f.alice, e18(7), f.strategy2);
    await f.delegate(f.alice, f.operator);
    expect(await f.opShares(f.operator)).toBe(e18(10));
    expect(await f.opShares(f.operator, f.strategy2)).toBe(e18(7));
    expect(await f.dm.read.delegatedTo([f.alice])).toBe(f.operator);
    await expectRevert(f.delegate(f.alice, f.operator), "AlreadyDelegated");
    await expectRevert(f.delegate(f.bob, f.carol), "NotOperator");
  });

  it("virtual shares make a first-depositor donation attack cost the attacker, not the victim", async () => {
    const attacker = f.dave;
    await f.deposit(attacker, 1n);
    // Donate straight to the strategy to inflate the share price.
    await f.ledger.write(attacker, {
      address: f.token,
      abi: [
        {
          type: "function",
          name: "mint",
          stateMutability: "nonpayable",
          inputs: [
            { name: "to", type: "address" },
            { name: "amount", type: "uint256" },
          ],
          outputs: [],
        },
      ] as const,
      functionName: "mint",
      args: [f.strategy, e18(1)],
    });
    await f.deposit(f.alice, e18(1));
    const sharesOf = async (who: Address) => f.sm.read.stakerDepositShares([who, f.strategy]);
    const tokensOf = async (who: Address) =>
      f.ledger.public.readContract({
        address: f.strategy,
        abi: [
          {
            type: "function",
            name: "sharesToUnderlyingView",
            stateMutability: "view",
            inputs: [{ name: "s", type: "uint256" }],
            outputs: [{ name: "", type: "uint256" }],
          },
        ] as const,
        functionName: "sharesToUnderlyingView",
        args: [await sharesOf(who)],
      });
    expect(await tokensOf(f.alice)).toBeGreaterThan((e18(1) * 999n) / 1000n); // victim keeps > 99.9%
    expect(await tokensOf(attacker)).toBeLessThan(e18(1) / 100n); // attacker recovers < 1% of the donation
  });

  it("a staker may hold at most 32 strategies", async () => {
    const clients = { wallet: f.ledger.wallet(f.deployer), public: f.ledger.public };
    const extra: Address[] = [];
    for (let i = 0; i < 31; i++) {
      const t = await deployContract(f.ledger, f.deployer, mockERC20Abi, mockERC20Bytecode, [
        `T${i}`,
        `T${i}`,
      ]);
      extra.push(await deployStrategy(clients, f.addresses.strategyManager, t));
      extra.push(t);
    }
    await f.deposit(f.alice, 1000n);
    const depositInto = async (strategy: Address, token: Address) => {
      const t = { address: token, abi: mockERC20Abi } as const;
      await f.ledger.write(f.alice, { ...t, functionName: "mint", args: [f.alice, 1000n] });
      await f.ledger.write(f.alice, {
        ...t,
        functionName: "approve",
        args: [f.addresses.strategyManager, 1000n],
      });
      return f.ledger.write(f.alice, {
        ...f.smc,
        functionName: "depositIntoStrategy",
        args: [strategy, token, 1000n],
      });
    };
    for (let i = 0; i < 30; i++) await depositInto(extra[2 * i] as Address, extra[2 * i + 1] as Address);
    await depositInto(f.strategy2, f.token2);
    expect(await f.sm.read.stakerStrategyListLength([f.alice])).toBe(32n);
    await expectRevert(depositInto(extra[60] as Address, extra[61] as Address), "MaxStrategiesExceeded");
    await depositInto(f.strategy, f.token); // adding to a strategy already held is fine
  });

  it("zero amounts revert", async () => {
    await expectRevert(
      f.ledger.write(f.alice, {
        ...f.smc,
        functionName: "depositIntoStrategy",
        args: [f.strategy, f.token, 0n],
      }),
      "InputZero",
    );
    await f.deposit(f.alice, e18(1));
    await expectRevert(f.queue(f.alice, f.strategy, 0n), "InputZero");
  });

  it("a staker cannot queue more deposit shares than it holds", async () => {
    await f.deposit(f.alice, e18(1));
    await expectRevert(f.queue(f.alice, f.strategy, e18(2)), "WithdrawalExceedsMax");
  });

  it("a queued withdrawal completes only after the delay, once, as tokens", async () => {
    await f.deposit(f.alice, e18(10));
    await f.delegate(f.alice, f.operator);
    const { withdrawal } = await f.queue(f.alice, f.strategy, e18(4));
    expect(await f.opShares(f.operator)).toBe(e18(6));
    await expectRevert(f.complete(f.alice, withdrawal.withdrawal, true), "WithdrawalDelayNotElapsed");
    await expectRevert(f.complete(f.bob, withdrawal.withdrawal, true), "WithdrawerNotCaller");
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    const before = await f.balanceOf(f.alice);
    await f.complete(f.alice, withdrawal.withdrawal, true);
    expect((await f.balanceOf(f.alice)) - before).toBe(e18(4));
    await expectRevert(f.complete(f.alice, withdrawal.withdrawal, true), "WithdrawalNotQueued");
    expect(await f.dm.read.getQueuedWithdrawalRoots([f.alice])).toEqual([]);
  });

  it("completing as shares delegates them again to the staker's operator", async () => {
    await f.deposit(f.alice, e18(10));
    await f.delegate(f.alice, f.operator);
    const { withdrawal } = await f.queue(f.alice, f.strategy, e18(4));
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await f.complete(f.alice, withdrawal.withdrawal, false);
    expect(await f.opShares(f.operator)).toBe(e18(10));
    expect(await f.withdrawable(f.alice)).toBe(e18(10));
  });

  it("undelegating queues everything, clears the delegation and may be done by the operator", async () => {
    await f.deposit(f.alice, e18(10));
    await f.deposit(f.alice, e18(3), f.strategy2);
    await f.delegate(f.alice, f.operator);
    await expectRevert(
      f.ledger.write(f.bob, { ...f.dmc, functionName: "undelegate", args: [f.alice] }),
      "CallerCannotUndelegate",
    );
    await f.ledger.write(f.operator, { ...f.dmc, functionName: "undelegate", args: [f.alice] });
    expect(await f.dm.read.isDelegated([f.alice])).toBe(false);
    expect(await f.opShares(f.operator)).toBe(0n);
    expect(await f.opShares(f.operator, f.strategy2)).toBe(0n);
    const { withdrawal, shares } = await f.lastWithdrawal(f.alice);
    expect(shares).toEqual([e18(10), e18(3)]);
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await f.complete(f.alice, withdrawal, true);
    expect(await f.balanceOf(f.alice)).toBe(e18(10));
    expect(await f.balanceOf(f.alice, f.token2)).toBe(e18(3));
  });

  it("operators are delegated to themselves for good", async () => {
    expect(await f.dm.read.delegatedTo([f.operator])).toBe(f.operator);
    await expectRevert(
      f.ledger.write(f.operator, { ...f.dmc, functionName: "undelegate", args: [f.operator] }),
      "OperatorsCannotUndelegate",
    );
    await expectRevert(f.registerOperator(f.operator), "AlreadyOperator");
  });

  it("a slash during the withdrawal delay reduces what the withdrawal pays", async () => {
    await f.deposit(f.alice, e18(100));
    await f.delegate(f.alice, f.operator);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18(1)]);
    const { withdrawal } = await f.queue(f.alice, f.strategy, e18(50));
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    expect((await f.lastWithdrawal(f.alice)).shares[0]).toBe(e18(25));
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await f.complete(f.alice, withdrawal.withdrawal, true);
    expect(await f.balanceOf(f.alice)).toBe(e18(25));
    expect(await f.withdrawable(f.alice)).toBe(e18(25));
  });

  it("a withdrawal queued earlier than the delay window is not slashed", async () => {
    await f.deposit(f.alice, e18(100));
    await f.delegate(f.alice, f.operator);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18(1)]);
    const { withdrawal } = await f.queue(f.alice, f.strategy, e18(50));
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks + 1);
    expect(await f.dm.read.getSlashableSharesInQueue([f.operator, f.strategy])).toBe(0n);
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    const burn = await f.sm.read.getBurnOrRedistributableShares([
      await f.sm.read.DEFAULT_BURN_ADDRESS(),
      f.strategy,
    ]);
    expect(burn).toBe(e18(25)); // only from the 50 still delegated
    await f.complete(f.alice, withdrawal.withdrawal, true);
    expect(await f.balanceOf(f.alice)).toBe(e18(50));
  });

  it("a fully slashed operator takes no new stake, but its stakers can still undelegate", async () => {
    await f.deposit(f.alice, e18(10));
    await f.delegate(f.alice, f.operator);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18(1)]);
    await f.slash(f.operator, SET_A, [f.strategy], [e18(1)]);
    expect(await f.maxMagnitude(f.operator)).toBe(0n);
    expect(await f.withdrawable(f.alice)).toBe(0n);
    await expectRevert(f.deposit(f.alice, e18(1)), "FullySlashed");
    await f.deposit(f.bob, e18(1));
    await expectRevert(f.delegate(f.bob, f.operator), "FullySlashed");
    await f.ledger.write(f.alice, { ...f.dmc, functionName: "undelegate", args: [f.alice] });
    expect(await f.dm.read.isDelegated([f.alice])).toBe(false);
    const { withdrawal, shares } = await f.lastWithdrawal(f.alice);
    expect(shares).toEqual([0n]);
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await f.complete(f.alice, withdrawal, true);
    // Free again: Alice can deposit and delegate elsewhere.
    await f.registerOperator(f.operator2);
    await f.deposit(f.alice, e18(2));
    await f.delegate(f.alice, f.operator2);
    expect(await f.withdrawable(f.alice)).toBe(e18(2));
  });

  it("re-entering through a token hook is refused, on deposit and on withdrawal", async () => {
    const hook = await deployContract(f.ledger, f.deployer, reentrantTokenAbi, reentrantTokenBytecode, []);
    const hookStrategy = await deployStrategy(
      { wallet: f.ledger.wallet(f.deployer), public: f.ledger.public },
      f.addresses.strategyManager,
      hook,
    );
    const token = { address: hook, abi: reentrantTokenAbi } as const;
    const reentrancy = toFunctionSelector("ReentrancyGuardReentrantCall()");
    await f.ledger.write(f.alice, { ...token, functionName: "mint", args: [f.alice, e18(10)] });
    await f.ledger.write(f.alice, {
      ...token,
      functionName: "approve",
      args: [f.addresses.strategyManager, e18(10)],
    });
    const again = encodeFunctionData({
      abi: strategyManagerAbi,
      functionName: "depositIntoStrategy",
      args: [hookStrategy, hook, 1n],
    });
    await f.ledger.write(f.alice, {
      ...token,
      functionName: "arm",
      args: [f.addresses.strategyManager, again],
    });
    await f.ledger.write(f.alice, {
      ...f.smc,
      functionName: "depositIntoStrategy",
      args: [hookStrategy, hook, e18(10)],
    });
    const succeeded = () => f.ledger.public.readContract({ ...token, functionName: "lastCallSucceeded" });
    const revertData = () => f.ledger.public.readContract({ ...token, functionName: "lastRevertData" });
    expect(await succeeded()).toBe(false);
    expect((await revertData()).slice(0, 10)).toBe(reentrancy);
    expect(await f.sm.read.stakerDepositShares([f.alice, hookStrategy])).toBe(e18(10));

    await f.ledger.write(f.alice, {
      ...f.dmc,
      functionName: "queueWithdrawals",
      args: [[{ strategies: [hookStrategy], depositShares: [e18(10)], __deprecated_withdrawer: f.alice }]],
    });
    const { withdrawal } = await f.lastWithdrawal(f.alice);
    const completeAgain = encodeFunctionData({
      abi: delegationManagerAbi,
      functionName: "completeQueuedWithdrawal",
      args: [withdrawal, [hook], true],
    });
    await f.ledger.write(f.alice, {
      ...token,
      functionName: "arm",
      args: [f.addresses.delegationManager, completeAgain],
    });
    await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
    await f.ledger.write(f.alice, {
      ...f.dmc,
      functionName: "completeQueuedWithdrawal",
      args: [withdrawal, [hook], true],
    });
    expect(await succeeded()).toBe(false);
    expect((await revertData()).slice(0, 10)).toBe(reentrancy);
    expect(await f.ledger.public.readContract({ ...token, functionName: "balanceOf", args: [f.alice] })).toBe(
      e18(10),
    );
  });
});

describe("a fresh devnet where block.number < the withdrawal delay", () => {
  it("slashes queued withdrawals with the history lookup clamped at block 0", async () => {
    const f = await deployFixture({ minWithdrawalDelayBlocks: 100_000 });
    expect(await f.ledger.blockNumber()).toBeLessThan(100_000n);
    await f.registerOperator(f.operator);
    await f.registerForSets(f.operator, [SET_A]);
    await f.deposit(f.alice, e18(100));
    await f.delegate(f.alice, f.operator);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18(1)]);
    await f.queue(f.alice, f.strategy, e18(40));
    expect(await f.dm.read.getSlashableSharesInQueue([f.operator, f.strategy])).toBe(e18(40));
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.25")]);
    expect((await f.lastWithdrawal(f.alice)).shares[0]).toBe(e18(30));
    const burn = await f.sm.read.getBurnOrRedistributableShares([
      await f.sm.read.DEFAULT_BURN_ADDRESS(),
      f.strategy,
    ]);
    expect(burn).toBe(e18(25));
  });
});
