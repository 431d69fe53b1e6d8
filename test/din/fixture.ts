// A DIN deployment on an in-process Hardhat chain: the restaking core with devnet DIN delays, the service
// and its governance, three admitted watchers and a gateway, and helpers that stake, register, report,
// finalize and claim in the words of the design.
import {
  type Abi,
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  decodeAbiParameters,
  decodeErrorResult,
  encodeAbiParameters,
  getAddress,
  type Hex,
  type LocalAccount,
  parseAbiParameters,
  zeroAddress,
  zeroHash,
} from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinEpochsAbi,
  dinGovernorAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  dinTimelockAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../../src/ledger/artifacts/index.js";
import { type DeployDinOptions, type DinDeployment, deployDin } from "../../src/ledger/din/deploy.js";
import {
  LAST_OPERATOR,
  type OperatorMetrics,
  readEpochReportPages,
  readEpochUsagePages,
  readFinalization,
  runFinalization,
  sortMetrics,
  sortUsage,
  toPages,
} from "../../src/ledger/din/epochs.js";
import {
  encodeOperatorMetadata,
  type OperatorMetadata,
  type SignerProof,
  signSignerProof,
} from "../../src/ledger/din/registry.js";
import { createHardhatLedger, type HardhatLedger } from "../../src/ledger/hardhat.js";
import { buildRewardsTree, type Earnings } from "../../src/ledger/rewards.js";
import { calculateEarnings, readRewardsSubmissions } from "../../src/ledger/rewards-calculator.js";

export const WAD = 10n ** 18n;
export const ETHEREUM = 1;
export const POLYGON = 2;
export const WATCHER_SET = 1_000_000;
export const GATEWAY_SET = 1_000_001;

/** Healthy metrics for `operator`. */
export const healthy = (operator: Address): OperatorMetrics => ({
  operator,
  availabilityBps: 10_000,
  p50LatencyMs: 50,
  lagBlocks: 0,
});

export type DinFixture = Awaited<ReturnType<typeof dinFixture>>;

const METADATA = parseAbiParameters(
  "(string endpoint, string cloud, string region, string client, address signer)",
);
/** Proof deadline of the fixture: far in the future. */
const FAR_DEADLINE = 2n ** 63n;

/** The fixture's roles by Hardhat account index. */
export const FIXTURE_ROLES = { deployer: 0, guardian: 1, watchers: [2, 3, 4], gateway: 5 } as const;

export async function deployDinFixture(
  options: Omit<DeployDinOptions, "watchers" | "gateways"> & { ledgerGas?: bigint } = {},
) {
  const { ledgerGas, ...deployOptions } = options;
  const ledger = await createHardhatLedger({ gas: ledgerGas });
  const at = (i: number) => ledger.accounts[i] as Address;
  const deployer = at(FIXTURE_ROLES.deployer);
  const clients = { wallet: ledger.wallet(deployer), public: ledger.public };
  const deployment = await deployDin(clients, {
    keepDeployerRoles: true,
    guardian: at(FIXTURE_ROLES.guardian),
    watchers: FIXTURE_ROLES.watchers.map(at),
    gateways: [at(FIXTURE_ROLES.gateway)],
    // Votes for the deployer, so governance tests can propose; the rest is the timelock's treasury.
    tokenAllocations: [{ holder: deployer, amount: 100_000_000n * 10n ** 18n }],
    ...deployOptions,
  });
  return dinFixture(ledger, deployment);
}

/**
 * The fixture's helpers over any DIN deployment on a Hardhat chain whose accounts hold the roles of
 * {@link FIXTURE_ROLES} (the guardian, the admitted watchers and gateway; the deployer publishes rewards).
 */
export async function dinFixture(ledger: HardhatLedger, deployment: DinDeployment) {
  const a = ledger.accounts;
  const at = (i: number) => a[i] as Address;
  const deployer = at(FIXTURE_ROLES.deployer);
  const guardian = at(FIXTURE_ROLES.guardian);
  const watchers = FIXTURE_ROLES.watchers.map(at);
  const gateway = at(FIXTURE_ROLES.gateway);
  const operators = [at(6), at(7), at(8)] as [Address, Address, Address];
  const [alice, bob, carol, payer, outsider] = [at(9), at(10), at(11), at(12), at(13)];
  const d = deployment.addresses;
  const strategy = d.strategies[0] as Address;
  const token = await ledger.public.readContract({
    address: strategy,
    abi: strategyBaseAbi,
    functionName: "underlyingToken",
  });
  const registry = { address: d.registry, abi: dinRegistryAbi } as const;
  const slasher = { address: d.slasher, abi: dinSlasherAbi } as const;
  const epochs = { address: d.epochs, abi: dinEpochsAbi } as const;
  const am = { address: d.allocationManager, abi: allocationManagerAbi } as const;
  const dm = { address: d.delegationManager, abi: delegationManagerAbi } as const;
  const rc = { address: d.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const read = ledger.public.readContract.bind(ledger.public);

  /** Operators' signing keys (not funded: they only sign). */
  const signers = new Map<Address, PrivateKeyAccount>();
  /** Every signing key the fixture knows, by its address: registrations carry its proof. */
  const signerKeys = new Map<Address, LocalAccount>();
  let endpointCounter = 0;

  const f = {
    ledger,
    deployment,
    addresses: d,
    deployer,
    guardian,
    watchers,
    gateway,
    operators,
    alice,
    bob,
    carol,
    payer,
    outsider,
    strategy,
    token,
    registry,
    slasher,
    epochs,
    am,
    dm,
    rc,
    signers,
    signerKeys,

    async mint(to: Address, amount: bigint, t: Address = token) {
      await ledger.write(to, { address: t, abi: mockERC20Abi, functionName: "mint", args: [to, amount] });
    },
    async deposit(staker: Address, amount: bigint) {
      await f.mint(staker, amount);
      await ledger.write(staker, {
        address: token,
        abi: mockERC20Abi,
        functionName: "approve",
        args: [d.strategyManager, amount],
      });
      await ledger.write(staker, {
        address: d.strategyManager,
        abi: strategyManagerAbi,
        functionName: "depositIntoStrategy",
        args: [strategy, token, amount],
      });
    },
    delegate: (staker: Address, operator: Address) =>
      ledger.write(staker, {
        ...dm,
        functionName: "delegateTo",
        args: [operator, { signature: "0x", expiry: 0n }, zeroHash],
      }),
    /** Registers `who` as a restaking operator with `selfStake` and allocates `magnitude` of it to `setId`. */
    async stake(who: Address, selfStake: bigint, setId: number, magnitude = WAD / 2n) {
      if (!(await read({ ...dm, functionName: "isOperator", args: [who] }))) {
        await ledger.write(who, {
          ...dm,
          functionName: "registerAsOperator",
          args: [zeroAddress, 0, "https://op.example"],
        });
      }
      if (selfStake > 0n) await f.deposit(who, selfStake);
      await ledger.write(who, {
        ...am,
        functionName: "modifyAllocations",
        args: [
          who,
          [
            {
              operatorSet: { avs: d.registry, id: setId },
              strategies: [strategy],
              newMagnitudes: [magnitude],
            },
          ],
        ],
      });
    },
    metadata(operator: Address, overrides: Partial<{ endpoint: string; signer: Address }> = {}) {
      let signer = signers.get(operator);
      if (!signer) {
        signer = privateKeyToAccount(generatePrivateKey());
        signers.set(operator, signer);
        signerKeys.set(signer.address, signer);
      }
      return {
        endpoint: overrides.endpoint ?? `https://node-${++endpointCounter}.example:8545`,
        cloud: "aws",
        region: "eu-west-1",
        client: "geth/1.14",
        signer: overrides.signer ?? signer.address,
      };
    },
    /** Metadata alone; registerForSet adds its signer's proof when the fixture knows the key. */
    encodeMetadata: (metadata: OperatorMetadata): Hex => encodeAbiParameters(METADATA, [metadata]),
    /** Makes `key` known to the fixture, so registrations naming it carry its proof. */
    addSignerKey(key: LocalAccount) {
      signerKeys.set(key.address, key);
    },
    /** `key`'s proof that it signs for `operator` on `networkId` at `endpoint`. */
    signerProof: (
      key: LocalAccount,
      operator: Address,
      networkId: number,
      endpoint: string,
      deadline = FAR_DEADLINE,
    ): Promise<SignerProof> =>
      signSignerProof(key, {
        registry: d.registry,
        chainId: ledger.chain.id,
        operator,
        networkId,
        endpoint,
        deadline,
      }),
    /** Registers with exactly this metadata and proof (no proof added). */
    registerWithProof: (who: Address, networkId: number, metadata: OperatorMetadata, proof: SignerProof) =>
      ledger.write(who, {
        ...am,
        functionName: "registerForOperatorSets",
        args: [
          who,
          { avs: d.registry, operatorSetIds: [networkId], data: encodeOperatorMetadata(metadata, proof) },
        ],
      }),
    async registerForSet(who: Address, setId: number, data: Hex = "0x") {
      if (setId < WATCHER_SET && data !== "0x") {
        const [metadata] = decodeAbiParameters(METADATA, data);
        const key = signerKeys.get(getAddress(metadata.signer));
        const proof = key
          ? await f.signerProof(key, who, setId, metadata.endpoint)
          : { deadline: FAR_DEADLINE, signature: "0x" as Hex };
        return f.registerWithProof(who, setId, metadata, proof);
      }
      return ledger.write(who, {
        ...am,
        functionName: "registerForOperatorSets",
        args: [who, { avs: d.registry, operatorSetIds: [setId], data }],
      });
    },
    /** Updates `who`'s metadata on a network, with its signer's proof (the fixture must know the key). */
    async updateMetadata(who: Address, networkId: number, metadata: OperatorMetadata) {
      const key = signerKeys.get(getAddress(metadata.signer));
      if (!key) throw new Error(`unknown signing key ${metadata.signer}`);
      const proof = await f.signerProof(key, who, networkId, metadata.endpoint);
      return ledger.write(who, {
        ...registry,
        functionName: "updateMetadata",
        args: [networkId, metadata, proof],
      });
    },
    /** Stakes, allocates and registers an operator on a network with fresh metadata. */
    async registerOperator(operator: Address, networkId = ETHEREUM, selfStake = 10n * WAD) {
      await f.stake(operator, selfStake, networkId);
      await f.registerForSet(operator, networkId, f.encodeMetadata(f.metadata(operator)));
    },
    async registerWatchersAndGateway() {
      for (const w of watchers) {
        await f.stake(w, 2n * WAD, WATCHER_SET);
        await f.registerForSet(w, WATCHER_SET);
      }
      await f.stake(gateway, 2n * WAD, GATEWAY_SET);
      await f.registerForSet(gateway, GATEWAY_SET);
    },
    isMember: (operator: Address, networkId = ETHEREUM) =>
      read({
        ...am,
        functionName: "isMemberOfOperatorSet",
        args: [operator, { avs: d.registry, id: networkId }],
      }),
    allocatedStake: async (operator: Address, networkId = ETHEREUM) =>
      read({ ...registry, functionName: "allocatedStake", args: [operator, networkId] }),
    withdrawable: async (staker: Address) =>
      (await read({ ...dm, functionName: "getWithdrawableShares", args: [staker, [strategy]] }))[0][0] ?? 0n,
    operatorShares: (operator: Address) =>
      read({ ...dm, functionName: "operatorShares", args: [operator, strategy] }),
    maxMagnitude: async (operator: Address) =>
      (await read({ ...am, functionName: "getMaxMagnitudes", args: [operator, [strategy]] }))[0] ?? 0n,
    currentEpoch: () => read({ ...epochs, functionName: "currentEpoch" }),
    epochBounds: (epoch: bigint) => read({ ...epochs, functionName: "epochBounds", args: [epoch] }),
    /** Mines until `epoch` has ended (the first block after it). */
    async endEpoch(epoch: bigint) {
      const [, end] = await f.epochBounds(epoch);
      const now = await ledger.blockNumber();
      // The next transaction is mined in block now + 1.
      if (now + 1n < end) await ledger.mine(Number(end - now - 1n));
    },
    /** Pays fees as `from` (the admitted gateway by default: only gateways pay, and split only their own). */
    async payFees(networkId: number, amount: bigint, t: Address = d.feeToken, from: Address = gateway) {
      await f.mint(from, amount, t);
      await ledger.write(from, {
        address: t,
        abi: mockERC20Abi,
        functionName: "approve",
        args: [d.epochs, amount],
      });
      return ledger.write(from, { ...epochs, functionName: "payFees", args: [networkId, amount] });
    },
    reportUsage: (networkId: number, epoch: bigint, usage: [Address, bigint][], from: Address = gateway) =>
      ledger.write(from, {
        ...epochs,
        functionName: "reportUsage",
        args: [networkId, epoch, sortUsage(usage.map(([operator, relays]) => ({ operator, relays })))],
      }),
    /** Reports usage in pages of `pageLength`; returns every page's receipt. */
    async reportUsagePages(
      networkId: number,
      epoch: bigint,
      usage: [Address, bigint][],
      pageLength: number,
      from: Address = gateway,
    ) {
      const pages = toPages(sortUsage(usage.map(([operator, relays]) => ({ operator, relays }))), pageLength);
      const receipts = [];
      for (const [i, page] of pages.entries()) {
        receipts.push(
          await ledger.write(from, {
            ...epochs,
            functionName: "reportUsagePage",
            args: [networkId, epoch, BigInt(i), i === pages.length - 1, page],
          }),
        );
      }
      return receipts;
    },

    submitReport: (watcher: Address, networkId: number, epoch: bigint, metrics: OperatorMetrics[]) =>
      ledger.write(watcher, {
        ...epochs,
        functionName: "submitReport",
        args: [networkId, epoch, sortMetrics(metrics)],
      }),
    /** Submits a report in pages of `pageLength`; returns every page's receipt. */
    async submitReportPages(
      watcher: Address,
      networkId: number,
      epoch: bigint,
      metrics: OperatorMetrics[],
      pageLength: number,
    ) {
      const pages = toPages(sortMetrics(metrics), pageLength);
      const receipts = [];
      for (const [i, page] of pages.entries()) {
        receipts.push(
          await ledger.write(watcher, {
            ...epochs,
            functionName: "submitReportPage",
            args: [networkId, epoch, BigInt(i), i === pages.length - 1, page],
          }),
        );
      }
      return receipts;
    },
    /**
     * Finalizes an epoch in every step it needs (judging, settling, paying) with the reports read back from
     * the chain. Returns the last step's receipt with every step's logs and the summed gas, and each step's
     * receipt and calldata size.
     */
    async finalize(networkId: number, epoch: bigint, from: Address = outsider, settlePage?: number) {
      const reports = await readEpochReportPages(ledger.public, d.epochs, networkId, epoch);
      const usage = await readEpochUsagePages(ledger.public, d.epochs, networkId, epoch);
      const steps: { receipt: Awaited<ReturnType<typeof ledger.write>>; calldata: number; step: string }[] =
        [];
      await runFinalization(
        networkId,
        epoch,
        reports,
        usage,
        () => readFinalization(ledger.public, d.epochs, networkId, epoch),
        async (step) => {
          const receipt = await ledger.write(from, { ...epochs, ...step } as never);
          const tx = await ledger.public.getTransaction({ hash: receipt.transactionHash });
          steps.push({ receipt, calldata: (tx.input.length - 2) / 2, step: step.functionName });
        },
        settlePage,
      );
      const last = steps.at(-1);
      if (!last) {
        // Nothing left to do: a judging step shows why (AlreadyFinalized).
        await ledger.write(from, {
          ...epochs,
          functionName: "finalizePage",
          args: [networkId, epoch, LAST_OPERATOR, [], [], [], []],
        });
        throw new Error("nothing to finalize");
      }
      return {
        ...last.receipt,
        /** The first step's block (blockNumber is the last step's). */
        fromBlock: steps[0]?.receipt.blockNumber ?? last.receipt.blockNumber,
        logs: steps.flatMap((s) => s.receipt.logs),
        gasUsed: steps.reduce((sum, s) => sum + s.receipt.gasUsed, 0n),
        steps,
      };
    },
    queuedSlash: (id: bigint) => read({ ...slasher, functionName: "getQueuedSlash", args: [id] }),
    queueLength: () => read({ ...slasher, functionName: "queueLength" }),
    jailed: (operator: Address, networkId = ETHEREUM) =>
      read({ ...registry, functionName: "isJailed", args: [operator, networkId] }),
    /**
     * The rewards updater's round: the accrued payouts flushed, every submission escrowed since `fromBlock`, split with the core's
     * calculator, published as a root. Returns the tree.
     */
    async publishRewards(fromBlock: bigint, previous: Earnings = new Map()) {
      // Like the real publisher: escrow what the epochs accrued first.
      if ((await read({ ...epochs, functionName: "accruedTotal", args: [ETHEREUM] })) > 0n) {
        await f.flushRewards(ETHEREUM);
      }
      const latest = await ledger.blockNumber();
      const submissions = await readRewardsSubmissions(
        ledger.public,
        d.rewardsCoordinator,
        fromBlock,
        latest,
      );
      const earnings = await calculateEarnings(ledger.public, d, submissions, previous, { samples: 1 });
      const tree = buildRewardsTree(earnings);
      await ledger.test.increaseTime({ seconds: 2 });
      await ledger.mine(1);
      const end = (await ledger.public.getBlock()).timestamp - 1n;
      await ledger.write(deployer, { ...rc, functionName: "submitRoot", args: [tree.root, Number(end)] });
      const rootIndex = Number(await read({ ...rc, functionName: "getDistributionRootsLength" })) - 1;
      return { tree, earnings, rootIndex, submissions };
    },
    async claim(earner: Address, tree: ReturnType<typeof buildRewardsTree>, rootIndex: number) {
      const c = tree.claim(earner, [d.feeToken]);
      if (!c) throw new Error(`no earnings for ${earner}`);
      await ledger.fund(earner);
      return ledger.write(earner, {
        ...rc,
        functionName: "processClaim",
        args: [{ rootIndex, ...c }, earner],
      });
    },
    /**
     * Escrows the network's accrued epoch payouts (DinEpochs.flushRewards, by an outsider) after moving time
     * past the next rewards interval boundary. Returns the receipt.
     */
    async flushRewards(networkId = ETHEREUM) {
      const interval = await read({ ...rc, functionName: "CALCULATION_INTERVAL_SECONDS" });
      await ledger.test.increaseTime({ seconds: interval + 1 });
      await ledger.mine(1);
      return ledger.write(outsider, { ...epochs, functionName: "flushRewards", args: [networkId] });
    },
    balanceOf: (who: Address, t: Address = d.feeToken) =>
      read({ address: t, abi: mockERC20Abi, functionName: "balanceOf", args: [who] }),
  };
  return f;
}

export const sortAddresses = (xs: Address[]) =>
  [...xs].map((x) => getAddress(x)).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));

const ERRORS = [
  ...dinRegistryAbi,
  ...dinSlasherAbi,
  ...dinEpochsAbi,
  ...dinGovernorAbi,
  ...dinTimelockAbi,
  ...allocationManagerAbi,
  ...delegationManagerAbi,
  ...rewardsCoordinatorAbi,
].filter((item) => item.type === "error") as Abi;

/** Resolves when `promise` rejects with the custom error `errorName` of any DIN or core contract. */
export async function expectRevert(promise: Promise<unknown>, errorName: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BaseError) {
      const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
      if (reverted instanceof ContractFunctionRevertedError) {
        if (reverted.data?.errorName === errorName) return;
        if (reverted.raw) {
          try {
            if (decodeErrorResult({ abi: ERRORS, data: reverted.raw }).errorName === errorName) return;
          } catch {
            // not one of ours: reported below
          }
        }
      }
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`expected revert ${errorName}, got: ${message.slice(0, 500)}`);
  }
  throw new Error(`expected revert ${errorName}, but the call succeeded`);
}
