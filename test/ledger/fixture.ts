// A deployed restaking core on an in-process Hardhat chain, with two tokens and strategies, an AVS with a
// registrar and two operator sets, and helpers that read like the reference's vocabulary.
import {
  type Abi,
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  getAddress,
  getContract,
  type Hex,
  toFunctionSelector,
  zeroAddress,
  zeroHash,
} from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  mockAVSRegistrarAbi,
  mockAVSRegistrarBytecode,
  mockERC20Abi,
  mockERC20Bytecode,
  rewardsCoordinatorAbi,
  strategyManagerAbi,
} from "../../src/ledger/artifacts/index.js";
import { deployRestakingCore, deployStrategy, type RestakingParams } from "../../src/ledger/deploy.js";
import { createHardhatLedger, type HardhatLedger } from "../../src/ledger/hardhat.js";

export const WAD = 10n ** 18n;
/** `x` tokens/shares in 1e18 units (accepts decimals like "127.5"). */
export function e18(x: number | string): bigint {
  const [int, frac = ""] = String(x).split(".");
  return BigInt(int ?? "0") * WAD + BigInt((frac + "0".repeat(18)).slice(0, 18));
}

export const SET_A = 1;
export const SET_B = 2;

export async function deployContract(
  ledger: HardhatLedger,
  from: Address,
  abi: Abi,
  bytecode: Hex,
  args: unknown[],
) {
  const hash = await ledger.wallet(from).deployContract({ abi, bytecode, args });
  const receipt = await ledger.public.getTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("deployment failed");
  return getAddress(receipt.contractAddress);
}

/** Resolves when `promise` rejects with the custom error `errorName`; fails otherwise. */
export async function expectRevert(promise: Promise<unknown>, errorName: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BaseError) {
      const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
      if (reverted instanceof ContractFunctionRevertedError) {
        if (reverted.data?.errorName === errorName) return;
        // Raised by another contract of the core, whose errors are not in the called contract's ABI.
        if (reverted.signature === toFunctionSelector(`${errorName}()`)) return;
      }
    }
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes(`${errorName}(`) || message.includes(`'${errorName}'`)) return;
    throw new Error(`expected revert ${errorName}, got: ${message.slice(0, 500)}`);
  }
  throw new Error(`expected revert ${errorName}, but the call succeeded`);
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

export async function deployFixture(params: Partial<RestakingParams> = {}) {
  const ledger = await createHardhatLedger();
  const [deployer, avs, slasher, alice, bob, carol, operator, operator2, dave] = ledger.accounts as [
    Address,
    Address,
    Address,
    Address,
    Address,
    Address,
    Address,
    Address,
    Address,
  ];
  const { addresses, params: resolved } = await deployRestakingCore(
    { wallet: ledger.wallet(deployer), public: ledger.public },
    { params },
  );
  const token = await deployContract(ledger, deployer, mockERC20Abi, mockERC20Bytecode, [
    "Staked ETH",
    "stETH",
  ]);
  const token2 = await deployContract(ledger, deployer, mockERC20Abi, mockERC20Bytecode, [
    "Restaked ETH",
    "rETH",
  ]);
  const deployerClients = { wallet: ledger.wallet(deployer), public: ledger.public };
  const strategy = await deployStrategy(deployerClients, addresses.strategyManager, token);
  const strategy2 = await deployStrategy(deployerClients, addresses.strategyManager, token2);
  const registrar = await deployContract(ledger, deployer, mockAVSRegistrarAbi, mockAVSRegistrarBytecode, [
    avs,
  ]);

  const client = { public: ledger.public };
  const sm = getContract({ address: addresses.strategyManager, abi: strategyManagerAbi, client });
  const dm = getContract({ address: addresses.delegationManager, abi: delegationManagerAbi, client });
  const am = getContract({ address: addresses.allocationManager, abi: allocationManagerAbi, client });
  const rc = getContract({ address: addresses.rewardsCoordinator, abi: rewardsCoordinatorAbi, client });
  const smc = { address: addresses.strategyManager, abi: strategyManagerAbi } as const;
  const dmc = { address: addresses.delegationManager, abi: delegationManagerAbi } as const;
  const amc = { address: addresses.allocationManager, abi: allocationManagerAbi } as const;
  const rcc = { address: addresses.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const regc = { address: registrar, abi: mockAVSRegistrarAbi } as const;
  const tokenOf = (s: Address) => (s === strategy2 ? token2 : token);
  const sortedStrategies = [strategy, strategy2].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)) as [
    Address,
    Address,
  ];

  await ledger.write(avs, { ...amc, functionName: "setAVSRegistrar", args: [avs, registrar] });
  await ledger.write(avs, {
    ...amc,
    functionName: "updateAVSMetadataURI",
    args: [avs, "https://avs.example/metadata.json"],
  });
  await ledger.write(avs, {
    ...amc,
    functionName: "createOperatorSets",
    args: [
      avs,
      [
        { operatorSetId: SET_A, strategies: [strategy, strategy2], slasher },
        { operatorSetId: SET_B, strategies: [strategy, strategy2], slasher },
      ],
    ],
  });

  const f = {
    ledger,
    params: resolved,
    addresses,
    deployer,
    avs,
    slasher,
    alice,
    bob,
    carol,
    dave,
    operator,
    operator2,
    token,
    token2,
    strategy,
    strategy2,
    sortedStrategies,
    registrar,
    sm,
    dm,
    am,
    rc,
    smc,
    dmc,
    amc,
    rcc,
    regc,
    set: (id: number) => ({ avs, id }),

    async deposit(staker: Address, amount: bigint, s: Address = strategy) {
      const t = tokenOf(s);
      await ledger.write(staker, {
        address: t,
        abi: mockERC20Abi,
        functionName: "mint",
        args: [staker, amount],
      });
      await ledger.write(staker, {
        address: t,
        abi: mockERC20Abi,
        functionName: "approve",
        args: [addresses.strategyManager, amount],
      });
      return ledger.write(staker, { ...smc, functionName: "depositIntoStrategy", args: [s, t, amount] });
    },
    /** Delegates `staker` to `op`; `approval` is the operator's approver signature, when it has one. */
    delegate: (
      staker: Address,
      op: Address,
      approval: { signature: Hex; expiry: bigint; salt: Hex } = {
        signature: "0x",
        expiry: 0n,
        salt: zeroHash,
      },
    ) =>
      ledger.write(staker, {
        ...dmc,
        functionName: "delegateTo",
        args: [op, { signature: approval.signature, expiry: approval.expiry }, approval.salt],
      }),
    registerOperator: (op: Address, allocationDelay = 0, delegationApprover: Address = zeroAddress) =>
      ledger.write(op, {
        ...dmc,
        functionName: "registerAsOperator",
        args: [delegationApprover, allocationDelay, "https://op.example"],
      }),
    allocate: (op: Address, setId: number, strategies: Address[], magnitudes: bigint[]) =>
      ledger.write(op, {
        ...amc,
        functionName: "modifyAllocations",
        args: [op, [{ operatorSet: { avs, id: setId }, strategies, newMagnitudes: magnitudes }]],
      }),
    registerForSets: (op: Address, ids: number[]) =>
      ledger.write(op, {
        ...amc,
        functionName: "registerForOperatorSets",
        args: [op, { avs, operatorSetIds: ids, data: "0x" }],
      }),
    slash: (op: Address, setId: number, strategies: Address[], wads: bigint[]) =>
      ledger.write(slasher, {
        ...amc,
        functionName: "slashOperator",
        args: [
          avs,
          { operator: op, operatorSetId: setId, strategies, wadsToSlash: wads, description: "test" },
        ],
      }),
    async queue(staker: Address, s: Address, depositShares: bigint) {
      const receipt = await ledger.write(staker, {
        ...dmc,
        functionName: "queueWithdrawals",
        args: [[{ strategies: [s], depositShares: [depositShares], __deprecated_withdrawer: staker }]],
      });
      return { receipt, withdrawal: await f.lastWithdrawal(staker) };
    },
    async lastWithdrawal(staker: Address) {
      const roots = await dm.read.getQueuedWithdrawalRoots([staker]);
      const root = roots.at(-1);
      if (!root) throw new Error("no queued withdrawal");
      const [withdrawal, shares] = await dm.read.getQueuedWithdrawal([root]);
      return { root, withdrawal, shares };
    },
    complete: (
      staker: Address,
      withdrawal: Awaited<ReturnType<typeof dm.read.getQueuedWithdrawal>>[0],
      asTokens: boolean,
    ) =>
      ledger.write(staker, {
        ...dmc,
        functionName: "completeQueuedWithdrawal",
        args: [withdrawal, withdrawal.strategies.map((s) => tokenOf(s)), asTokens],
      }),
    async withdrawable(staker: Address, s: Address = strategy) {
      const [w] = await dm.read.getWithdrawableShares([staker, [s]]);
      return w[0] ?? 0n;
    },
    opShares: (op: Address, s: Address = strategy) => dm.read.operatorShares([op, s]),
    maxMagnitude: async (op: Address, s: Address = strategy) =>
      (await am.read.getMaxMagnitudes([op, [s]]))[0] ?? 0n,
    async allocatedStake(op: Address, setId: number, s: Address = strategy) {
      const stake = await am.read.getAllocatedStake([{ avs, id: setId }, [op], [s]]);
      return stake[0]?.[0] ?? 0n;
    },
    balanceOf: (who: Address, t: Address = token) =>
      ledger.public.readContract({ address: t, abi: mockERC20Abi, functionName: "balanceOf", args: [who] }),
  };
  return f;
}

export const ZERO = "0x0000000000000000000000000000000000000000" as const;
