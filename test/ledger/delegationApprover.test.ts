// Delegation approvers (EigenLayer's rule): an operator may require its approver's EIP-712 signature for every
// staker that delegates to it; StrategyBase's per-user views; and the EigenLayer selectors of the compiled core.
import {
  type Address,
  getAddress,
  type Hex,
  keccak256,
  type LocalAccount,
  toFunctionSelector,
  toHex,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { beforeEach, describe, expect, it } from "vitest";
import {
  delegationManagerAbi,
  mockERC1271ApproverAbi,
  mockERC1271ApproverBytecode,
  strategyBaseAbi,
} from "../../src/ledger/artifacts/index.js";
import { signDelegationApproval } from "../../src/ledger/din/operatorActions.js";
import { deployContract, deployFixture, e18, expectRevert, type Fixture, SET_A } from "./fixture.js";

/** Hardhat's default accounts: the fixture's unlocked addresses, whose keys we need to sign approvals. */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

function keyOf(f: Fixture, address: Address): LocalAccount {
  for (let i = 0; i < 20; i++) {
    const account = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i });
    if (getAddress(account.address) === getAddress(address)) return account;
  }
  throw new Error(`no known key for ${address} among ${f.ledger.accounts.length} accounts`);
}

const salt = (n: number): Hex => keccak256(toHex(`salt-${n}`));

describe("delegation approver", () => {
  let f: Fixture;
  let approver: LocalAccount;
  let now: bigint;

  const approve = (staker: Address, operator: Address, s: Hex, expiry = now + 3600n, by = approver) =>
    signDelegationApproval(f.ledger.public, f.addresses.delegationManager, by, {
      staker,
      operator,
      salt: s,
      expiry,
    });

  beforeEach(async () => {
    f = await deployFixture();
    approver = keyOf(f, f.dave);
    await f.registerOperator(f.operator, 0, f.dave);
    await f.registerOperator(f.operator2);
    await f.deposit(f.alice, e18(10));
    await f.deposit(f.bob, e18(10));
    now = (await f.ledger.public.getBlock({ blockTag: "latest" })).timestamp;
  });

  it("records the approver at registration and exposes EigenLayer's views", async () => {
    expect(await f.dm.read.delegationApprover([f.operator])).toBe(f.dave);
    expect(await f.dm.read.delegationApprover([f.operator2])).toBe(
      "0x0000000000000000000000000000000000000000",
    );
    expect(await f.dm.read.DELEGATION_APPROVAL_TYPEHASH()).toBe(
      keccak256(
        toHex(
          "DelegationApproval(address delegationApprover,address staker,address operator,bytes32 salt,uint256 expiry)",
        ),
      ),
    );
  });

  it("refuses a delegation without a signature", async () => {
    // No approval at all (expiry 0), or an empty signature with a live expiry.
    await expectRevert(f.delegate(f.alice, f.operator), "SignatureExpired");
    await expectRevert(
      f.delegate(f.alice, f.operator, { signature: "0x", expiry: now + 3600n, salt: salt(0) }),
      "InvalidSignature",
    );
    expect(await f.dm.read.delegatedTo([f.alice])).toBe("0x0000000000000000000000000000000000000000");
  });

  it("refuses a signature by anyone but the approver", async () => {
    const forged = await approve(f.alice, f.operator, salt(1), now + 3600n, keyOf(f, f.alice));
    await expectRevert(f.delegate(f.alice, f.operator, forged), "InvalidSignature");
  });

  it("refuses an expired signature", async () => {
    const stale = await approve(f.alice, f.operator, salt(2), now - 1n);
    await expectRevert(f.delegate(f.alice, f.operator, stale), "SignatureExpired");
  });

  it("refuses a signature made for another staker or operator", async () => {
    const forBob = await approve(f.bob, f.operator, salt(3));
    await expectRevert(f.delegate(f.alice, f.operator, forBob), "InvalidSignature");
    // An approval for another operator with the same approver does not transfer either.
    await f.ledger.write(f.operator2, {
      ...f.dmc,
      functionName: "modifyOperatorDetails",
      args: [f.operator2, f.dave],
    });
    const forOperator2 = await approve(f.alice, f.operator2, salt(4));
    await expectRevert(f.delegate(f.alice, f.operator, forOperator2), "InvalidSignature");
    // The expiry is signed too.
    const signed = await approve(f.alice, f.operator, salt(5), now + 3600n);
    await expectRevert(
      f.delegate(f.alice, f.operator, { ...signed, expiry: now + 7200n }),
      "InvalidSignature",
    );
  });

  it("accepts a valid signature once: its salt is then spent", async () => {
    const ok = await approve(f.alice, f.operator, salt(6));
    expect(await f.dm.read.delegationApproverSaltIsSpent([f.dave, ok.salt])).toBe(false);
    await f.delegate(f.alice, f.operator, ok);
    expect(await f.dm.read.delegatedTo([f.alice])).toBe(f.operator);
    expect(await f.dm.read.delegationApproverSaltIsSpent([f.dave, ok.salt])).toBe(true);
    expect(await f.dm.read.getOperatorShares([f.operator, [f.strategy]])).toEqual([e18(10)]);

    // Undelegated and back: the same approval cannot be replayed.
    await f.ledger.write(f.alice, { ...f.dmc, functionName: "undelegate", args: [f.alice] });
    await expectRevert(f.delegate(f.alice, f.operator, ok), "SaltSpent");
    // The salt is spent for the approver, not for one staker: another staker cannot reuse it.
    const sameSalt = await approve(f.bob, f.operator, ok.salt);
    await expectRevert(f.delegate(f.bob, f.operator, sameSalt), "SaltSpent");
  });

  it("lets the approver itself delegate without a signature", async () => {
    await f.deposit(f.dave, e18(5));
    await f.delegate(f.dave, f.operator);
    expect(await f.dm.read.delegatedTo([f.dave])).toBe(f.operator);
  });

  it("lets the approver undelegate the operator's stakers, and nobody else", async () => {
    await f.delegate(f.alice, f.operator, await approve(f.alice, f.operator, salt(7)));
    await expectRevert(
      f.ledger.write(f.bob, { ...f.dmc, functionName: "undelegate", args: [f.alice] }),
      "CallerCannotUndelegate",
    );
    await f.ledger.write(f.dave, { ...f.dmc, functionName: "undelegate", args: [f.alice] });
    expect(await f.dm.read.isDelegated([f.alice])).toBe(false);
  });

  it("lets only the operator change its approver", async () => {
    for (const caller of [f.dave, f.alice, f.operator2]) {
      await expectRevert(
        f.ledger.write(caller, {
          ...f.dmc,
          functionName: "modifyOperatorDetails",
          args: [f.operator, caller],
        }),
        "CallerNotOperator",
      );
    }
    await expectRevert(
      f.ledger.write(f.alice, { ...f.dmc, functionName: "modifyOperatorDetails", args: [f.alice, f.alice] }),
      "NotOperator",
    );
    expect(await f.dm.read.delegationApprover([f.operator])).toBe(f.dave);

    // The operator drops its approver: anyone may delegate again.
    await f.ledger.write(f.operator, {
      ...f.dmc,
      functionName: "modifyOperatorDetails",
      args: [f.operator, "0x0000000000000000000000000000000000000000"],
    });
    await f.delegate(f.alice, f.operator);
    expect(await f.dm.read.delegatedTo([f.alice])).toBe(f.operator);
  });

  it("accepts a contract approver's EIP-1271 approval", async () => {
    const wallet = await deployContract(
      f.ledger,
      f.carol,
      mockERC1271ApproverAbi,
      mockERC1271ApproverBytecode,
      [f.dave],
    );
    expect(
      await f.ledger.public.readContract({
        address: wallet,
        abi: mockERC1271ApproverAbi,
        functionName: "owner",
      }),
    ).toBe(f.dave);
    await f.ledger.write(f.operator2, {
      ...f.dmc,
      functionName: "modifyOperatorDetails",
      args: [f.operator2, wallet],
    });
    // Signed by the contract's owner key over the digest naming the contract as approver.
    const digest = await f.dm.read.calculateDelegationApprovalDigestHash([
      f.alice,
      f.operator2,
      wallet,
      salt(8),
      now + 3600n,
    ]);
    const signature = await approver.sign?.({ hash: digest });
    if (!signature) throw new Error("cannot sign");
    // A signature the contract does not accept is refused.
    const other = await keyOf(f, f.bob).sign?.({ hash: digest });
    await expectRevert(
      f.delegate(f.alice, f.operator2, { signature: other ?? "0x", expiry: now + 3600n, salt: salt(8) }),
      "InvalidSignature",
    );
    await f.delegate(f.alice, f.operator2, { signature, expiry: now + 3600n, salt: salt(8) });
    expect(await f.dm.read.delegatedTo([f.alice])).toBe(f.operator2);
    expect(await f.dm.read.delegationApproverSaltIsSpent([wallet, salt(8)])).toBe(true);
  });
});

describe("StrategyBase per-user views", () => {
  it("shares(user) are the StrategyManager's deposit shares; userUnderlyingView prices them", async () => {
    const f = await deployFixture();
    const strategy = { address: f.strategy, abi: strategyBaseAbi } as const;
    const read = <T>(
      functionName: "shares" | "userUnderlyingView" | "sharesToUnderlyingView",
      arg: unknown,
    ) => f.ledger.public.readContract({ ...strategy, functionName, args: [arg] } as never) as Promise<T>;

    await f.registerOperator(f.operator);
    await f.deposit(f.alice, e18(100));
    await f.deposit(f.bob, e18(40));
    await f.delegate(f.alice, f.operator);
    await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    await f.registerForSets(f.operator, [SET_A]);
    await f.ledger.mine(1);

    const check = async () => {
      for (const user of [f.alice, f.bob, f.carol]) {
        const deposit = await f.sm.read.stakerDepositShares([user, f.strategy]);
        expect(await read<bigint>("shares", user)).toBe(deposit);
        expect(await read<bigint>("userUnderlyingView", user)).toBe(
          await read<bigint>("sharesToUnderlyingView", deposit),
        );
      }
    };
    await check();
    const aliceBefore = await read<bigint>("shares", f.alice);
    expect(aliceBefore).toBeGreaterThan(0n);
    expect(await read<bigint>("shares", f.carol)).toBe(0n);

    // A slash lowers what Alice can withdraw, never her deposit shares.
    const withdrawableBefore = await f.withdrawable(f.alice);
    await f.slash(f.operator, SET_A, [f.strategy], [e18("0.5")]);
    expect(await f.withdrawable(f.alice)).toBeLessThan(withdrawableBefore);
    expect(await read<bigint>("shares", f.alice)).toBe(aliceBefore);
    await check();

    // Burning the slashed shares moves tokens out of the strategy: the per-share price stays as computed.
    const burnAddress = await f.sm.read.DEFAULT_BURN_ADDRESS();
    await f.ledger.write(f.carol, {
      ...f.smc,
      functionName: "burnOrRedistributeShares",
      args: [burnAddress, f.strategy],
    });
    expect(await read<bigint>("shares", f.alice)).toBe(aliceBefore);
    await check();

    // A withdrawal removes deposit shares at once.
    await f.queue(f.bob, f.strategy, e18(10));
    await check();
  });
});

describe("EigenLayer selectors of the compiled core", () => {
  const selectors = (abi: readonly { type: string }[]) =>
    new Set(
      abi
        .filter((x) => x.type === "function")
        .map((x) => toFunctionSelector(x as Parameters<typeof toFunctionSelector>[0]).slice(2)),
    );

  it("DelegationManager has EigenLayer's signatures and not the old ones", () => {
    const dm = selectors(delegationManagerAbi);
    const expected: Record<string, string> = {
      "registerAsOperator(address,uint32,string)": "2aa6d888",
      "delegateTo(address,(bytes,uint256),bytes32)": "eea9064b",
      "queueWithdrawals((address[],uint256[],address)[])": "0dd8dd02",
      "completeQueuedWithdrawal((address,address,address,uint256,uint32,address[],uint256[]),address[],bool)":
        "e4cc3f90",
      "updateOperatorMetadataURI(address,string)": "78296ec5",
      "getOperatorShares(address,address[])": "90041347",
      "getWithdrawableShares(address,address[])": "c978f7ac",
      "minWithdrawalDelayBlocks()": "c448feb8",
    };
    for (const [signature, selector] of Object.entries(expected)) {
      expect(toFunctionSelector(signature).slice(2), signature).toBe(selector);
      expect(dm.has(selector), signature).toBe(true);
    }
    for (const signature of [
      "undelegate(address)",
      "delegatedTo(address)",
      "isOperator(address)",
      "isDelegated(address)",
      "modifyOperatorDetails(address,address)",
      "delegationApprover(address)",
      "delegationApproverSaltIsSpent(address,bytes32)",
      "calculateDelegationApprovalDigestHash(address,address,address,bytes32,uint256)",
      "DELEGATION_APPROVAL_TYPEHASH()",
    ]) {
      expect(dm.has(toFunctionSelector(signature).slice(2)), signature).toBe(true);
    }
    for (const gone of ["delegateTo(address)", "registerAsOperator(uint32,string)"]) {
      expect(dm.has(toFunctionSelector(gone).slice(2)), gone).toBe(false);
    }
    expect(dm.has(toFunctionSelector("queueWithdrawals((address[],uint256[])[])").slice(2))).toBe(false);
  });

  it("StrategyBase has shares(address) and userUnderlyingView(address)", () => {
    const strategy = selectors(strategyBaseAbi);
    expect(toFunctionSelector("shares(address)").slice(2)).toBe("ce7c2ac2");
    expect(toFunctionSelector("userUnderlyingView(address)").slice(2)).toBe("553ca5f8");
    expect(strategy.has("ce7c2ac2")).toBe(true);
    expect(strategy.has("553ca5f8")).toBe(true);
  });
});
