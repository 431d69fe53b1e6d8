// The ledger transactions of the people around the DIN service: operators join a network (restaking
// operator, self-stake, allocation, registration with metadata), change their allocation and commission,
// leave, and claim; stakers deposit, delegate, undelegate, withdraw and claim; the guardian vetoes queued
// slashes and anyone executes them after the window. Each action checks what it cheaply can first (with a
// clear sentence), then either sends its calls in order or, in a dry run, simulates them and returns them.
import {
  type Abi,
  type Address,
  encodeFunctionData,
  getAddress,
  type Hash,
  type Hex,
  isAddress,
  isAddressEqual,
  type LocalAccount,
  type PublicClient,
  toHex,
  zeroAddress,
  zeroHash,
} from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../artifacts/index.js";
import type { LedgerClients } from "../deploy.js";
import { buildRewardsTree } from "../rewards.js";
import { type DinDeployment, type DinNetwork, VETO_ROLE } from "./deploy.js";
import { findNetwork, readSlashes, type SlashRecord } from "./directory.js";
import {
  encodeOperatorMetadata,
  type OperatorMetadata,
  SIGNER_PROOF_TTL,
  type SignerProof,
  signSignerProof,
} from "./registry.js";
import { explainLedgerError, formatAmount, type RevertContext } from "./revert.js";
import { earningsOf, readRewardsFile } from "./rewardsPublisher.js";
import { stakerStatus } from "./stakerStatus.js";

/** 1.0 in the core's fixed-point (magnitudes, slash fractions). */
export const WAD = 10n ** 18n;
/** Smallest non-zero allocation the AllocationManager accepts. */
export const MIN_MAGNITUDE = 1_000_000_000n;
/** 100% commission in bips. */
export const MAX_COMMISSION_BIPS = 10_000;

/** Who acts and on which deployment: a wallet with its account, and the DIN deployment. */
export type LedgerActor = { clients: LedgerClients; deployment: DinDeployment };

/** Options every action takes. */
export type ActionOptions = {
  /** Simulate and return the calls without sending anything. @default false */
  dryRun?: boolean;
};

/** A contract call an action sends (or, in a dry run, would send). */
export type LedgerCall = {
  to: Address;
  function: string;
  args: readonly unknown[];
  /** The calldata. */
  data: Hex;
  /**
   * Whether a dry run simulated this call against the current state. A call that builds on an earlier one
   * of the same action (a deposit after its approval) can only be simulated once that one is mined.
   */
  simulated: boolean;
};

/** What an action did (or would do). */
export type ActionResult<T extends object = object> = {
  dryRun: boolean;
  calls: LedgerCall[];
  /** Hashes of the mined transactions, in order (empty in a dry run). */
  transactions: Hash[];
  /** One human sentence on the outcome. */
  summary: string;
} & T;

/** A refused action: a precondition failed, or the ledger reverted; the message says which, in words. */
export class LedgerActionError extends Error {
  override name = "LedgerActionError";
}

export type Step = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] };

export const step = (address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Step => ({
  address,
  abi,
  functionName,
  args,
});

function toCall(s: Step): LedgerCall {
  return {
    to: s.address,
    function: s.functionName,
    args: s.args,
    data: encodeFunctionData({ abi: s.abi, functionName: s.functionName, args: s.args }),
    simulated: false,
  };
}

/** Sends `steps` one after the other (each simulated first, so a revert is decoded), or dry-runs them. */
export async function perform(
  actor: LedgerActor,
  steps: readonly Step[],
  options: ActionOptions,
  context: RevertContext,
): Promise<{ dryRun: boolean; calls: LedgerCall[]; transactions: Hash[] }> {
  const { public: client, wallet } = actor.clients;
  const account = wallet.account;
  const calls = steps.map(toCall);
  const transactions: Hash[] = [];
  const dryRun = options.dryRun ?? false;
  for (const [i, s] of steps.entries()) {
    const call = calls[i] as LedgerCall;
    try {
      // Simulated in the pending block: the one the transaction lands in (block.number checks agree).
      const { request } = await client.simulateContract({ ...s, account, blockTag: "pending" });
      call.simulated = true;
      if (dryRun) continue;
      const hash = await wallet.writeContract(request);
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") {
        throw new LedgerActionError(`${s.functionName} reverted in transaction ${hash}`);
      }
      transactions.push(hash);
    } catch (error) {
      // In a dry run only the first call sees the state it will meet; a later one may depend on it.
      if (dryRun && i > 0) continue;
      if (error instanceof LedgerActionError) throw error;
      throw new LedgerActionError(explainLedgerError(error, context), { cause: error });
    }
  }
  return { dryRun, calls, transactions };
}

function network(deployment: DinDeployment, nameOrId: string | number): DinNetwork {
  try {
    return findNetwork(deployment, nameOrId);
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
}

export const context = (deployment: DinDeployment, n?: DinNetwork): RevertContext => ({
  ...(n ? { network: n.name } : {}),
  networks: deployment.networks,
});

// ───────────────────────────── strategies and tokens ─────────────────────────────

/** A strategy of the service with its underlying token. */
export type StrategyInfo = { strategy: Address; token: Address; symbol: string };

/** The service's strategies (in the deployment's order) with their tokens' symbols. */
export async function readStrategies(
  client: PublicClient,
  deployment: DinDeployment,
): Promise<StrategyInfo[]> {
  return Promise.all(
    deployment.addresses.strategies.map(async (strategy) => {
      const token = await client.readContract({
        address: strategy,
        abi: strategyBaseAbi,
        functionName: "underlyingToken",
      });
      const symbol = await client
        .readContract({ address: token, abi: mockERC20Abi, functionName: "symbol" })
        .catch(() => token);
      return { strategy: getAddress(strategy), token: getAddress(token), symbol };
    }),
  );
}

/** A strategy by token symbol (case-insensitive) or address; the first strategy when none is named. */
export async function resolveStrategy(
  client: PublicClient,
  deployment: DinDeployment,
  nameOrAddress?: string,
): Promise<StrategyInfo> {
  const strategies = await readStrategies(client, deployment);
  const first = strategies[0];
  if (!first) throw new LedgerActionError("this deployment has no strategies");
  if (nameOrAddress === undefined) return first;
  const found = strategies.find((s) =>
    isAddress(nameOrAddress)
      ? isAddressEqual(s.strategy, nameOrAddress) || isAddressEqual(s.token, nameOrAddress)
      : s.symbol.toLowerCase() === nameOrAddress.toLowerCase(),
  );
  if (!found) {
    throw new LedgerActionError(
      `unknown strategy "${nameOrAddress}"; this deployment's strategies: ${strategies
        .map((s) => `${s.symbol} (${s.strategy})`)
        .join(", ")}`,
    );
  }
  return found;
}

/** Approval (when short) and deposit of `amount` tokens into `strategy`, after checking the balance. */
async function depositSteps(
  actor: LedgerActor,
  info: StrategyInfo,
  amount: bigint,
): Promise<{ steps: Step[]; shares: bigint }> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  if (amount <= 0n) throw new LedgerActionError("amount must be greater than zero");
  const [balance, allowance, shares] = await Promise.all([
    client.readContract({ address: info.token, abi: mockERC20Abi, functionName: "balanceOf", args: [me] }),
    client.readContract({
      address: info.token,
      abi: mockERC20Abi,
      functionName: "allowance",
      args: [me, d.strategyManager],
    }),
    client.readContract({
      address: info.strategy,
      abi: strategyBaseAbi,
      functionName: "underlyingToSharesView",
      args: [amount],
    }),
  ]);
  if (balance < amount) {
    throw new LedgerActionError(
      `insufficient balance: have ${formatAmount(balance)} ${info.symbol}, need ${formatAmount(amount)}`,
    );
  }
  const steps: Step[] = [];
  if (allowance < amount) {
    steps.push(step(info.token, mockERC20Abi, "approve", [d.strategyManager, amount]));
  }
  steps.push(
    step(d.strategyManager, strategyManagerAbi, "depositIntoStrategy", [info.strategy, info.token, amount]),
  );
  return { steps, shares };
}

// ───────────────────────────── operators ─────────────────────────────

/** One strategy's allocation change in a network's operator set. */
export type AllocationChange = { strategy: Address; from: bigint; to: bigint };

type AllocationPlan = {
  changes: AllocationChange[];
  /** Stake the set would count once the changes take effect (shares, summed over strategies). */
  expectedStake: bigint;
  /** Allocation delay of the operator (0 when it registers now). */
  delay: number;
};

/**
 * The magnitudes to allocate to `n`'s set: `wad` on every strategy of the service, or (without `wad`)
 * everything each strategy has free. `extraShares` are shares a deposit in the same action adds.
 */
async function planAllocation(
  actor: LedgerActor,
  n: DinNetwork,
  wad: bigint | undefined,
  operatorExists: boolean,
  extraShares: ReadonlyMap<Address, bigint>,
): Promise<AllocationPlan> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const am = { address: d.allocationManager, abi: allocationManagerAbi } as const;
  const set = { avs: d.registry, id: n.id };
  if (wad !== undefined && (wad < 0n || wad > WAD)) {
    throw new LedgerActionError("allocation must be between 0 and 1 (the share of each strategy's stake)");
  }
  if (wad !== undefined && wad !== 0n && wad < MIN_MAGNITUDE) {
    throw new LedgerActionError(`allocation too small: at least ${formatAmount(MIN_MAGNITUDE)} or 0`);
  }
  const strategies = (
    await client.readContract({ address: d.registry, abi: dinRegistryAbi, functionName: "getStrategies" })
  ).map((s) => getAddress(s));
  const [delayInfo, maxMagnitudes, shares, block] = await Promise.all([
    client.readContract({ ...am, functionName: "getAllocationDelay", args: [me] }),
    client.readContract({ ...am, functionName: "getMaxMagnitudes", args: [me, strategies] }),
    operatorExists
      ? client.readContract({
          address: d.delegationManager,
          abi: delegationManagerAbi,
          functionName: "getOperatorShares",
          args: [me, strategies],
        })
      : client
          .readContract({
            address: d.delegationManager,
            abi: delegationManagerAbi,
            functionName: "getWithdrawableShares",
            args: [me, strategies],
          })
          .then(([withdrawable]) => withdrawable),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const [delaySet, delay] = delayInfo;
  if (operatorExists && !delaySet) {
    throw new LedgerActionError(
      "this operator's allocation delay has not taken effect yet; allocate after it does (see AllocationManager.getAllocationDelay)",
    );
  }
  const changes: AllocationChange[] = [];
  let expectedStake = 0n;
  for (const [i, strategy] of strategies.entries()) {
    const [allocation, allocatable] = await Promise.all([
      client.readContract({ ...am, functionName: "getAllocation", args: [me, set, strategy] }),
      client.readContract({ ...am, functionName: "getAllocatableMagnitude", args: [me, strategy] }),
    ]);
    const current = allocation.currentMagnitude;
    const available = current + allocatable;
    const target = wad ?? available;
    if (target > available) {
      throw new LedgerActionError(
        `not enough allocatable magnitude on strategy ${strategy}: ${formatAmount(available)} available for ${n.name}, ${formatAmount(target)} asked`,
      );
    }
    if (target !== current) {
      if (allocation.pendingDiff !== 0n) {
        throw new LedgerActionError(
          `an allocation change on ${n.name} is pending until block ${allocation.effectBlock}; try again after it (now ${block})`,
        );
      }
      if (target !== 0n && target < MIN_MAGNITUDE) continue; // too little free to allocate: leave as is
      changes.push({ strategy, from: current, to: target });
    }
    const max = maxMagnitudes[i] ?? WAD;
    const owned = (shares[i] ?? 0n) + (extraShares.get(strategy) ?? 0n);
    if (max > 0n) expectedStake += (owned * target) / max;
  }
  return { changes, expectedStake, delay: operatorExists ? delay : 0 };
}

function allocationStep(actor: LedgerActor, n: DinNetwork, changes: readonly AllocationChange[]): Step {
  const d = actor.deployment.addresses;
  return step(d.allocationManager, allocationManagerAbi, "modifyAllocations", [
    actor.clients.wallet.account.address,
    [
      {
        operatorSet: { avs: d.registry, id: n.id },
        strategies: changes.map((c) => c.strategy),
        newMagnitudes: changes.map((c) => c.to),
      },
    ],
  ]);
}

/** Options of {@link registerOperator}. */
export type RegisterOperatorOptions = ActionOptions & {
  /** Network name or id. */
  network: string | number;
  /** Public endpoint URL of the operator node. */
  endpoint: string;
  cloud: string;
  region: string;
  /** Execution client and version. @default "unknown" */
  client?: string;
  /** The key that signs relays: it signs its consent to sign for this operator (bound to it for good). */
  signer: LocalAccount;
  /** Share of each strategy's stake to allocate to the network (wad, 1e18 = all). @default everything free */
  allocationWad?: bigint;
  /** Tokens to deposit as self-stake first (18 decimals). @default none */
  selfDeposit?: bigint;
  /** Strategy of the self-deposit, by token symbol or address. @default the first strategy */
  strategy?: string;
  /**
   * Who must sign each staker's delegation to this operator (used only when it first registers as a
   * restaking operator). @default zero: anyone may delegate
   */
  delegationApprover?: Address;
  /**
   * The operator's metadata URI on the core (its EigenLayer metadata.json: name, website, description,
   * logo, twitter), set when it first registers as a restaking operator. @default none
   */
  metadataURI?: string;
};

/**
 * Joins a network: registers as a restaking operator if needed (allocation delay 0, so allocations take
 * effect at once), deposits self-stake, allocates to the network's operator set, and registers there with
 * the metadata.
 */
export async function registerOperator(
  actor: LedgerActor,
  options: RegisterOperatorOptions,
): Promise<ActionResult<{ network: string; metadata: OperatorMetadata; expectedStake: bigint }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const n = network(actor.deployment, options.network);
  const metadata: OperatorMetadata = {
    endpoint: options.endpoint,
    cloud: options.cloud,
    region: options.region,
    client: options.client ?? "unknown",
    signer: options.signer.address,
  };
  checkMetadata(metadata);
  const approver = options.delegationApprover ?? zeroAddress;
  if (!isAddress(approver)) throw new LedgerActionError(`"${approver}" is not an address`);
  const dm = { address: d.delegationManager, abi: delegationManagerAbi } as const;
  const registry = { address: d.registry, abi: dinRegistryAbi } as const;
  const [isOperator, delegatedTo, isMember, jailedUntil, signerKey, onChain, block] = await Promise.all([
    client.readContract({ ...dm, functionName: "isOperator", args: [me] }),
    client.readContract({ ...dm, functionName: "delegatedTo", args: [me] }),
    client.readContract({
      address: d.allocationManager,
      abi: allocationManagerAbi,
      functionName: "isMemberOfOperatorSet",
      args: [me, { avs: d.registry, id: n.id }],
    }),
    client.readContract({ ...registry, functionName: "jailedUntil", args: [me, n.id] }),
    client.readContract({ ...registry, functionName: "signerKey", args: [n.id, metadata.signer] }),
    client.readContract({ ...registry, functionName: "getNetwork", args: [n.id] }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  if (isMember) throw new LedgerActionError(`already registered on ${n.name}`);
  const { slashableUntil } = await client.readContract({
    address: d.allocationManager,
    abi: allocationManagerAbi,
    functionName: "getRegistrationStatus",
    args: [me, { avs: d.registry, id: n.id }],
  });
  if (block + 1n <= BigInt(slashableUntil)) {
    throw new LedgerActionError(
      `you left ${n.name} recently and stay slashable there until block ${slashableUntil} (the deallocation delay); register again after it`,
    );
  }
  if (!isOperator && delegatedTo !== zeroAddress) {
    throw new LedgerActionError(
      `${me} is delegated to ${delegatedTo} as a staker; undelegate before registering as an operator`,
    );
  }
  // The registration is mined in the next block; the registry refuses it while block.number < until.
  if (jailedUntil > block + 1n) throw new LedgerActionError(`jailed on ${n.name} until block ${jailedUntil}`);
  checkSignerFree(signerKey, me, metadata.signer, n.name);

  const steps: Step[] = [];
  if (!isOperator) {
    steps.push(
      step(d.delegationManager, delegationManagerAbi, "registerAsOperator", [
        getAddress(approver),
        0,
        options.metadataURI ?? "",
      ]),
    );
  }
  const extraShares = new Map<Address, bigint>();
  if (options.selfDeposit !== undefined && options.selfDeposit > 0n) {
    const info = await resolveStrategy(client, actor.deployment, options.strategy);
    const deposit = await depositSteps(actor, info, options.selfDeposit);
    steps.push(...deposit.steps);
    extraShares.set(info.strategy, deposit.shares);
  }
  const plan = await planAllocation(actor, n, options.allocationWad, isOperator, extraShares);
  const minStake = onChain.minStake;
  if (plan.expectedStake < minStake) {
    throw new LedgerActionError(
      `insufficient stake: ${formatAmount(plan.expectedStake)} allocated, ${formatAmount(minStake)} required on ${n.name} (deposit more with --deposit, or have stakers delegate to ${me})`,
    );
  }
  if (plan.changes.length > 0) {
    if (plan.delay > 0 && plan.changes.some((c) => c.to > c.from)) {
      throw new LedgerActionError(
        `this operator's allocations take effect ${plan.delay} blocks after they are made: run "din operator allocate --network ${n.name}" first and register once it has taken effect`,
      );
    }
    steps.push(allocationStep(actor, n, plan.changes));
  }
  steps.push(
    step(d.allocationManager, allocationManagerAbi, "registerForOperatorSets", [
      me,
      {
        avs: d.registry,
        operatorSetIds: [n.id],
        data: encodeOperatorMetadata(
          metadata,
          await signerProof(actor, options.signer, n, metadata.endpoint),
        ),
      },
    ]),
  );
  const done = await perform(actor, steps, options, context(actor.deployment, n));
  return {
    ...done,
    network: n.name,
    metadata,
    expectedStake: plan.expectedStake,
    summary: `${done.dryRun ? "would register" : "registered"} ${me} on ${n.name} at ${metadata.endpoint} with ${formatAmount(plan.expectedStake)} allocated stake`,
  };
}

/** Refuses a signing key bound to another operator, or retired by this one. */
function checkSignerFree(
  key: { operator: Address; retiredAt: bigint },
  me: Address,
  signer: Address,
  networkName: string,
): void {
  if (key.operator !== zeroAddress && !isAddressEqual(key.operator, me)) {
    throw new LedgerActionError(
      `signer taken: ${signer} is bound to operator ${key.operator} on ${networkName}`,
    );
  }
  if (key.retiredAt !== 0n) {
    throw new LedgerActionError(
      `signer retired: ${signer} was rotated away from on ${networkName} and can never sign again; use a new key`,
    );
  }
}

/** The signing key's consent to sign for the actor at `endpoint`, usable for SIGNER_PROOF_TTL seconds. */
async function signerProof(
  actor: LedgerActor,
  signer: LocalAccount,
  n: DinNetwork,
  endpoint: string,
): Promise<SignerProof> {
  const client = actor.clients.public;
  const [chainId, block] = await Promise.all([client.getChainId(), client.getBlock({ blockTag: "latest" })]);
  return signSignerProof(signer, {
    registry: actor.deployment.addresses.registry,
    chainId,
    operator: actor.clients.wallet.account.address,
    networkId: n.id,
    endpoint,
    deadline: block.timestamp + SIGNER_PROOF_TTL,
  });
}

/** Options of {@link rotateSigner}. */
export type RotateSignerOptions = ActionOptions & {
  /** Network name or id. */
  network: string | number;
  /** The new relay signing key; it signs its consent to sign for this operator. */
  signer: LocalAccount;
};

/**
 * Rotates the relay signing key on a network: the new key signs from now on, and the current one is retired
 * now. Relays the old key signed while it was current remain evidence; those it signs later slash no one,
 * and the old key can never be registered again (by anyone).
 */
export async function rotateSigner(
  actor: LedgerActor,
  options: RotateSignerOptions,
): Promise<ActionResult<{ network: string; previous: Address; signer: Address }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const n = network(actor.deployment, options.network);
  const registry = { address: d.registry, abi: dinRegistryAbi } as const;
  const [isMember, metadata, signerKey] = await Promise.all([
    client.readContract({
      address: d.allocationManager,
      abi: allocationManagerAbi,
      functionName: "isMemberOfOperatorSet",
      args: [me, { avs: d.registry, id: n.id }],
    }),
    client.readContract({ ...registry, functionName: "getMetadata", args: [me, n.id] }),
    client.readContract({ ...registry, functionName: "signerKey", args: [n.id, options.signer.address] }),
  ]);
  if (!isMember) throw new LedgerActionError(`not registered on ${n.name}`);
  if (isAddressEqual(metadata.signer, options.signer.address)) {
    throw new LedgerActionError(`${options.signer.address} is already the signing key on ${n.name}`);
  }
  checkSignerFree(signerKey, me, options.signer.address, n.name);
  const updated: OperatorMetadata = { ...metadata, signer: options.signer.address };
  const proof = await signerProof(actor, options.signer, n, updated.endpoint);
  const done = await perform(
    actor,
    [step(d.registry, dinRegistryAbi, "updateMetadata", [n.id, updated, proof])],
    options,
    context(actor.deployment, n),
  );
  return {
    ...done,
    network: n.name,
    previous: metadata.signer,
    signer: updated.signer,
    summary: `${done.dryRun ? "would rotate" : "rotated"} ${me}'s signing key on ${n.name} from ${metadata.signer} to ${updated.signer}`,
  };
}

function checkMetadata(metadata: OperatorMetadata): void {
  for (const field of ["endpoint", "cloud", "region", "client"] as const) {
    const value = metadata[field];
    if (value.trim() === "" || new TextEncoder().encode(value).length > 256) {
      throw new LedgerActionError(`invalid metadata: ${field} must be 1 to 256 bytes`);
    }
  }
  let url: URL;
  try {
    url = new URL(metadata.endpoint);
  } catch {
    throw new LedgerActionError(
      `invalid endpoint "${metadata.endpoint}": expected a URL like https://node.example:8545`,
    );
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
    throw new LedgerActionError(`invalid endpoint "${metadata.endpoint}": expected an http(s) or ws(s) URL`);
  }
  if (!isAddress(metadata.signer) || isAddressEqual(metadata.signer, zeroAddress)) {
    throw new LedgerActionError("invalid signer: expected the address of the relay signing key");
  }
}

/** Options of {@link allocate}. */
export type AllocateOptions = ActionOptions & {
  network: string | number;
  /** Share of each strategy's stake the network's set holds afterwards (wad; 0 deallocates). */
  wad: bigint;
};

/** Sets the operator's allocation to a network on every strategy of the service. */
export async function allocate(
  actor: LedgerActor,
  options: AllocateOptions,
): Promise<ActionResult<{ network: string; changes: AllocationChange[] }>> {
  const me = actor.clients.wallet.account.address;
  const n = network(actor.deployment, options.network);
  const isOperator = await actor.clients.public.readContract({
    address: actor.deployment.addresses.delegationManager,
    abi: delegationManagerAbi,
    functionName: "isOperator",
    args: [me],
  });
  if (!isOperator) {
    throw new LedgerActionError(`${me} is not a restaking operator yet; run "din operator register" first`);
  }
  const plan = await planAllocation(actor, n, options.wad, true, new Map());
  if (plan.changes.length === 0) {
    throw new LedgerActionError(`the allocation to ${n.name} is already ${formatAmount(options.wad)}`);
  }
  const done = await perform(
    actor,
    [allocationStep(actor, n, plan.changes)],
    options,
    context(actor.deployment, n),
  );
  return {
    ...done,
    network: n.name,
    changes: plan.changes,
    summary: `${done.dryRun ? "would allocate" : "allocated"} ${formatAmount(options.wad)} of each strategy to ${n.name}${plan.delay > 0 ? ` (takes effect in ${plan.delay} blocks)` : ""}`,
  };
}

/** Leaves a network. Allocated stake stays allocated (and slashable for the deallocation delay). */
export async function deregister(
  actor: LedgerActor,
  options: ActionOptions & { network: string | number },
): Promise<ActionResult<{ network: string }>> {
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const n = network(actor.deployment, options.network);
  const isMember = await actor.clients.public.readContract({
    address: d.allocationManager,
    abi: allocationManagerAbi,
    functionName: "isMemberOfOperatorSet",
    args: [me, { avs: d.registry, id: n.id }],
  });
  if (!isMember) throw new LedgerActionError(`not registered on ${n.name}`);
  const done = await perform(
    actor,
    [
      step(d.allocationManager, allocationManagerAbi, "deregisterFromOperatorSets", [
        { operator: me, avs: d.registry, operatorSetIds: [n.id] },
      ]),
    ],
    options,
    context(actor.deployment, n),
  );
  return {
    ...done,
    network: n.name,
    summary: `${done.dryRun ? "would deregister" : "deregistered"} ${me} from ${n.name}; its stake stays allocated until "din operator allocate --network ${n.name} --wad 0"`,
  };
}

/** An operator's standing on one network. */
export type OperatorNetworkStatus = {
  network: string;
  networkId: number;
  registered: boolean;
  /** Declared metadata (when registered). */
  metadata?: OperatorMetadata;
  /** Allocated stake (shares, summed over the service's strategies). */
  allocatedStake: bigint;
  minStake: bigint;
  /** Block until which it is jailed (0 when never). */
  jailedUntil: bigint;
  jailed: boolean;
  /** Queued slashes (awaiting the veto window). */
  queuedSlashes: SlashRecord[];
  /** Executed slashes. */
  executedSlashes: SlashRecord[];
};

/** An operator's standing on the ledger. */
export type OperatorStatus = {
  address: Address;
  /** Registered as a restaking operator. */
  isOperator: boolean;
  /** Commission on the service's rewards, in bips (its split for the first network's operator set). */
  commissionBips: number;
  /** Shares delegated to it, per strategy. */
  delegatedShares: { strategy: Address; shares: bigint }[];
  networks: OperatorNetworkStatus[];
};

/** Reads an operator's registration, stake, jail, slashes and commission on every network. */
export async function operatorStatus(
  client: PublicClient,
  deployment: DinDeployment,
  address: Address,
): Promise<OperatorStatus> {
  const d = deployment.addresses;
  const operator = getAddress(address);
  const registry = { address: d.registry, abi: dinRegistryAbi } as const;
  const [isOperator, commission, shares, slashes, block] = await Promise.all([
    client.readContract({
      address: d.delegationManager,
      abi: delegationManagerAbi,
      functionName: "isOperator",
      args: [operator],
    }),
    client.readContract({
      address: d.rewardsCoordinator,
      abi: rewardsCoordinatorAbi,
      functionName: "getOperatorSetSplit",
      args: [operator, { avs: d.registry, id: deployment.networks[0]?.id ?? 0 }],
    }),
    client.readContract({
      address: d.delegationManager,
      abi: delegationManagerAbi,
      functionName: "getOperatorShares",
      args: [operator, d.strategies],
    }),
    readSlashes(client, d),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const networks = await Promise.all(
    deployment.networks.map(async (n): Promise<OperatorNetworkStatus> => {
      const [registered, stake, jailedUntil, onChain] = await Promise.all([
        client.readContract({
          address: d.allocationManager,
          abi: allocationManagerAbi,
          functionName: "isMemberOfOperatorSet",
          args: [operator, { avs: d.registry, id: n.id }],
        }),
        client.readContract({ ...registry, functionName: "allocatedStake", args: [operator, n.id] }),
        client.readContract({ ...registry, functionName: "jailedUntil", args: [operator, n.id] }),
        client.readContract({ ...registry, functionName: "getNetwork", args: [n.id] }),
      ]);
      const metadata = registered
        ? await client.readContract({ ...registry, functionName: "getMetadata", args: [operator, n.id] })
        : undefined;
      const mine = slashes.filter((s) => s.operator === operator && s.networkId === n.id);
      return {
        network: n.name,
        networkId: n.id,
        registered,
        ...(metadata
          ? {
              metadata: {
                endpoint: metadata.endpoint,
                cloud: metadata.cloud,
                region: metadata.region,
                client: metadata.client,
                signer: getAddress(metadata.signer),
              },
            }
          : {}),
        allocatedStake: stake,
        minStake: onChain.minStake,
        jailedUntil,
        jailed: jailedUntil > block,
        queuedSlashes: mine.filter((s) => s.status === "queued"),
        executedSlashes: mine.filter((s) => s.status === "executed"),
      };
    }),
  );
  return {
    address: operator,
    isOperator,
    commissionBips: Number(commission),
    delegatedShares: d.strategies.map((strategy, i) => ({ strategy, shares: shares[i] ?? 0n })),
    networks,
  };
}

/**
 * Sets the operator's commission on the service's rewards on every network (its split for each network's
 * operator set; takes effect after the activation delay, and a change waits for the previous one).
 */
export async function setCommission(
  actor: LedgerActor,
  options: ActionOptions & { bips: number },
): Promise<ActionResult<{ bips: number }>> {
  const { bips } = options;
  if (!Number.isInteger(bips) || bips < 0 || bips > MAX_COMMISSION_BIPS) {
    throw new LedgerActionError("commission must be a whole number of bips from 0 to 10000 (100%)");
  }
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const done = await perform(
    actor,
    // One split per network: each network is an operator set of the service and paid as one.
    actor.deployment.networks.map((n) =>
      step(d.rewardsCoordinator, rewardsCoordinatorAbi, "setOperatorSetSplit", [
        me,
        { avs: d.registry, id: n.id },
        bips,
      ]),
    ),
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    bips,
    summary: `${done.dryRun ? "would set" : "set"} the commission of ${me} to ${bips} bips (${bips / 100}%)`,
  };
}

// ───────────────────────────── stakers ─────────────────────────────

/** Deposits `amount` tokens into a strategy (approving the StrategyManager first when needed). */
export async function deposit(
  actor: LedgerActor,
  options: ActionOptions & { amount: bigint; strategy?: string },
): Promise<ActionResult<{ strategy: Address; shares: bigint }>> {
  const info = await resolveStrategy(actor.clients.public, actor.deployment, options.strategy);
  const plan = await depositSteps(actor, info, options.amount);
  const done = await perform(actor, plan.steps, options, context(actor.deployment));
  return {
    ...done,
    strategy: info.strategy,
    shares: plan.shares,
    summary: `${done.dryRun ? "would deposit" : "deposited"} ${formatAmount(options.amount)} ${info.symbol} into strategy ${info.strategy}`,
  };
}

/** An operator's delegation approver's consent to one delegation (see {@link signDelegationApproval}). */
export type DelegationApproval = {
  /** The approver's signature (65-byte ECDSA, or whatever its EIP-1271 contract accepts). */
  signature: Hex;
  /** Unix time (seconds) the signature is valid through. */
  expiry: bigint;
  /** A 32-byte salt the approver has not used before. */
  salt: Hex;
};

/** Options of {@link delegate}. */
export type DelegateOptions = ActionOptions & {
  operator: Address;
  /** Required when the operator has a delegation approver (and the staker is not that approver). */
  approval?: DelegationApproval;
};

/**
 * Signs, as an operator's delegation approver, its consent that `staker` delegates to `operator`: the
 * DelegationManager's EIP-712 digest over (staker, operator, approver, salt, expiry).
 */
export async function signDelegationApproval(
  client: PublicClient,
  delegationManager: Address,
  approver: LocalAccount,
  params: { staker: Address; operator: Address; expiry: bigint; salt?: Hex },
): Promise<DelegationApproval> {
  if (!approver.sign) throw new LedgerActionError("the approver account cannot sign digests");
  const salt = params.salt ?? toHex(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await client.readContract({
    address: delegationManager,
    abi: delegationManagerAbi,
    functionName: "calculateDelegationApprovalDigestHash",
    args: [getAddress(params.staker), getAddress(params.operator), approver.address, salt, params.expiry],
  });
  return { signature: await approver.sign({ hash: digest }), expiry: params.expiry, salt };
}

/** Delegates all of the staker's shares to an operator (with its approver's signature if it has one). */
export async function delegate(
  actor: LedgerActor,
  options: DelegateOptions,
): Promise<ActionResult<{ operator: Address }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  if (!isAddress(options.operator)) throw new LedgerActionError(`"${options.operator}" is not an address`);
  const operator = getAddress(options.operator);
  const [isOperator, current, approver] = await Promise.all([
    client.readContract({ ...dm, functionName: "isOperator", args: [operator] }),
    client.readContract({ ...dm, functionName: "delegatedTo", args: [me] }),
    client.readContract({ ...dm, functionName: "delegationApprover", args: [operator] }),
  ]);
  if (!isOperator) throw new LedgerActionError(`${operator} is not a registered restaking operator`);
  if (current !== zeroAddress) {
    throw new LedgerActionError(
      isAddressEqual(current, operator)
        ? `already delegated to ${operator}`
        : `already delegated to ${current}; undelegate first ("din stake undelegate")`,
    );
  }
  const approval = options.approval ?? { signature: "0x" as Hex, expiry: 0n, salt: zeroHash };
  if (approver !== zeroAddress && !isAddressEqual(approver, me)) {
    if (options.approval === undefined) {
      throw new LedgerActionError(
        `${operator} accepts delegations approved by ${approver} only: ask it for a signature and pass --approver-signature, --approver-expiry and --approver-salt`,
      );
    }
    const [spent, latest] = await Promise.all([
      client.readContract({
        ...dm,
        functionName: "delegationApproverSaltIsSpent",
        args: [approver, approval.salt],
      }),
      client.getBlock({ blockTag: "latest" }),
    ]);
    if (spent) throw new LedgerActionError(`salt ${approval.salt} was already used by ${approver}`);
    if (approval.expiry < latest.timestamp) {
      throw new LedgerActionError(
        `the approver's signature expired at ${approval.expiry} (chain time ${latest.timestamp})`,
      );
    }
  }
  const done = await perform(
    actor,
    [
      step(dm.address, delegationManagerAbi, "delegateTo", [
        operator,
        { signature: approval.signature, expiry: approval.expiry },
        approval.salt,
      ]),
    ],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    operator,
    summary: `${done.dryRun ? "would delegate" : "delegated"} ${me} to ${operator}`,
  };
}

/** Undelegates: every share is queued for withdrawal (complete it after the delay with completeWithdrawals). */
export async function undelegate(actor: LedgerActor, options: ActionOptions = {}): Promise<ActionResult> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const [isOperator, current] = await Promise.all([
    client.readContract({ ...dm, functionName: "isOperator", args: [me] }),
    client.readContract({ ...dm, functionName: "delegatedTo", args: [me] }),
  ]);
  if (isOperator) throw new LedgerActionError("operators cannot undelegate from themselves");
  if (current === zeroAddress) throw new LedgerActionError("not delegated to any operator");
  const done = await perform(
    actor,
    [step(dm.address, delegationManagerAbi, "undelegate", [me])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    summary: `${done.dryRun ? "would undelegate" : "undelegated"} ${me} from ${current}; its shares are queued for withdrawal ("din stake withdraw --complete" after the delay)`,
  };
}

/** Options of {@link queueWithdrawal}. */
export type QueueWithdrawalOptions = ActionOptions & {
  /** Deposit shares to withdraw from `strategy`. @default every share of every strategy */
  shares?: bigint;
  /** Strategy by token symbol or address (with `shares`). @default the first strategy */
  strategy?: string;
};

/** Queues a withdrawal: the shares leave the operator at once and stay slashable until completion. */
export async function queueWithdrawal(
  actor: LedgerActor,
  options: QueueWithdrawalOptions = {},
): Promise<ActionResult<{ strategies: Address[]; shares: bigint[] }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const [deposited, depositShares] = await client.readContract({
    address: d.strategyManager,
    abi: strategyManagerAbi,
    functionName: "getDeposits",
    args: [me],
  });
  let strategies = deposited.map((s) => getAddress(s));
  let shares = [...depositShares];
  if (options.shares !== undefined) {
    const info = await resolveStrategy(client, actor.deployment, options.strategy);
    const i = strategies.indexOf(info.strategy);
    const have = i < 0 ? 0n : (shares[i] ?? 0n);
    if (options.shares <= 0n) throw new LedgerActionError("shares must be greater than zero");
    if (options.shares > have) {
      throw new LedgerActionError(
        `insufficient shares: ${formatAmount(have)} deposited in ${info.symbol}, ${formatAmount(options.shares)} asked`,
      );
    }
    strategies = [info.strategy];
    shares = [options.shares];
  }
  if (strategies.length === 0) throw new LedgerActionError(`${me} has no deposited shares to withdraw`);
  const done = await perform(
    actor,
    [
      step(d.delegationManager, delegationManagerAbi, "queueWithdrawals", [
        [{ strategies, depositShares: shares, __deprecated_withdrawer: me }],
      ]),
    ],
    options,
    context(actor.deployment),
  );
  const delay = await client.readContract({
    address: d.delegationManager,
    abi: delegationManagerAbi,
    functionName: "minWithdrawalDelayBlocks",
  });
  return {
    ...done,
    strategies,
    shares,
    summary: `${done.dryRun ? "would queue" : "queued"} a withdrawal of ${shares.map(formatAmount).join(" + ")} shares; complete it after ${delay} blocks with "din stake withdraw --complete"`,
  };
}

/** Completes every queued withdrawal whose delay has passed, receiving the tokens. */
export async function completeWithdrawals(
  actor: LedgerActor,
  options: ActionOptions = {},
): Promise<
  ActionResult<{
    completed: number;
    pending: number;
    nextBlock?: bigint;
    /** Per token: what the withdrawals were worth when queued, what they paid, what slashes took. */
    paid?: Array<{ token: Address; symbol: string; queued: bigint; paid: bigint; slashed: bigint }>;
  }>
> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const [roots, delay, block] = await Promise.all([
    client.readContract({ ...dm, functionName: "getQueuedWithdrawalRoots", args: [me] }),
    client.readContract({ ...dm, functionName: "minWithdrawalDelayBlocks" }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const withdrawals = await Promise.all(
    roots.map(
      async (root) =>
        (await client.readContract({ ...dm, functionName: "getQueuedWithdrawal", args: [root] }))[0],
    ),
  );
  // Completion is mined in the next block, which must be past startBlock + delay.
  const ready = withdrawals.filter((w) => block + 1n > BigInt(w.startBlock) + BigInt(delay));
  const waiting = withdrawals.filter((w) => !ready.includes(w));
  const nextBlock = waiting.length
    ? waiting.reduce((min, w) => {
        const at = BigInt(w.startBlock) + BigInt(delay) + 1n;
        return at < min ? at : min;
      }, BigInt(Number.MAX_SAFE_INTEGER))
    : undefined;
  if (ready.length === 0) {
    return {
      dryRun: options.dryRun ?? false,
      calls: [],
      transactions: [],
      completed: 0,
      pending: waiting.length,
      ...(nextBlock !== undefined ? { nextBlock } : {}),
      summary:
        withdrawals.length === 0
          ? "no queued withdrawals"
          : `no withdrawal is ready yet; the next completes at block ${nextBlock} (now ${block})`,
    };
  }
  const tokens = await Promise.all(
    ready.map((w) =>
      Promise.all(
        w.strategies.map((strategy) =>
          client.readContract({ address: strategy, abi: strategyBaseAbi, functionName: "underlyingToken" }),
        ),
      ),
    ),
  );
  // What the withdrawals asked for and what they pay: the difference is what slashes took meanwhile.
  const before = await stakerStatus(client, actor.deployment, me);
  const readyRoots = new Set(
    before.queuedWithdrawals.filter((q) => q.ready && roots.includes(q.root)).map((q) => q.root),
  );
  const byToken = new Map<Address, { symbol: string; queued: bigint; expected: bigint; slashed: bigint }>();
  for (const q of before.queuedWithdrawals.filter((q) => readyRoots.has(q.root))) {
    for (const part of q.strategies) {
      const position = before.positions.find((p) => p.strategy === part.strategy);
      if (!position) continue;
      const entry = byToken.get(position.token) ?? {
        symbol: part.symbol,
        queued: 0n,
        expected: 0n,
        slashed: 0n,
      };
      const queuedTokens = await client.readContract({
        address: part.strategy,
        abi: strategyBaseAbi,
        functionName: "sharesToUnderlyingView",
        args: [part.queuedShares],
      });
      entry.queued += queuedTokens;
      entry.expected += part.tokensNow;
      entry.slashed += queuedTokens > part.tokensNow ? queuedTokens - part.tokensNow : 0n;
      byToken.set(position.token, entry);
    }
  }
  const done = await perform(
    actor,
    [
      step(dm.address, delegationManagerAbi, "completeQueuedWithdrawals", [
        ready,
        tokens,
        ready.map(() => true),
      ]),
    ],
    options,
    context(actor.deployment),
  );
  // Paid: what the wallet received (read back), or in a dry run what the withdrawals are worth now.
  const paid = await Promise.all(
    [...byToken].map(async ([token, entry]) => {
      const position = before.positions.find((p) => p.token === token);
      const balance = done.dryRun
        ? undefined
        : await client.readContract({
            address: token,
            abi: mockERC20Abi,
            functionName: "balanceOf",
            args: [me],
          });
      const received = balance === undefined ? entry.expected : balance - (position?.wallet ?? 0n);
      return { token, symbol: entry.symbol, queued: entry.queued, paid: received, slashed: entry.slashed };
    }),
  );
  const amounts = paid.map((p) => `${formatAmount(p.paid)} ${p.symbol}`).join(" and ");
  const took = paid.filter((p) => p.slashed > 0n);
  return {
    ...done,
    completed: ready.length,
    pending: waiting.length,
    paid,
    ...(nextBlock !== undefined ? { nextBlock } : {}),
    summary: `${done.dryRun ? "would complete" : "completed"} ${ready.length} withdrawal(s), ${done.dryRun ? "paying" : "paid"} ${amounts || "nothing"}; ${
      took.length
        ? `slashes while they waited took ${took.map((p) => `${formatAmount(p.slashed)} ${p.symbol} of ${formatAmount(p.queued)} ${p.symbol}`).join(" and ")}`
        : "no slash touched them while they waited"
    }${waiting.length ? `; ${waiting.length} still waiting (next at block ${nextBlock})` : ""}`,
  };
}

// ───────────────────────────── rewards ─────────────────────────────

/** Claims the account's fee-token earnings from a published rewards file. */
export async function claim(
  actor: LedgerActor,
  options: ActionOptions & { rewardsFile: string },
): Promise<ActionResult<{ amount: bigint; token: Address }>> {
  const client = actor.clients.public;
  const me = getAddress(actor.clients.wallet.account.address);
  const d = actor.deployment.addresses;
  const token = getAddress(d.feeToken);
  let published: ReturnType<typeof readRewardsFile>;
  try {
    published = readRewardsFile(options.rewardsFile);
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
  if (!published) {
    throw new LedgerActionError(`no rewards published yet (no file at ${options.rewardsFile})`);
  }
  const tree = buildRewardsTree(earningsOf(published));
  const rc = { address: d.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const length = await client.readContract({ ...rc, functionName: "getDistributionRootsLength" });
  const stale = () =>
    new LedgerActionError(`rewards file is stale or not from this ledger (${options.rewardsFile})`);
  if (BigInt(published.rootIndex) >= length || tree.root !== published.root) throw stale();
  const onChain = await client.readContract({
    ...rc,
    functionName: "getDistributionRootAtIndex",
    args: [BigInt(published.rootIndex)],
  });
  if (onChain.root !== tree.root) throw stale();
  if (onChain.disabled) throw new LedgerActionError(`rewards root ${published.rootIndex} was disabled`);
  const earned = tree.earned(me, token);
  const claimed = await client.readContract({ ...rc, functionName: "cumulativeClaimed", args: [me, token] });
  const amount = earned - claimed;
  if (amount <= 0n) {
    const why =
      earned === 0n
        ? `${me} earned nothing in rewards root ${published.rootIndex} (neither as an operator paid by the service nor as a staker delegated to one)`
        : `all ${formatAmount(earned)} ${me} earned up to rewards root ${published.rootIndex} is already claimed`;
    return {
      dryRun: options.dryRun ?? false,
      calls: [],
      transactions: [],
      amount: 0n,
      token,
      summary: `nothing to claim: ${why}`,
    };
  }
  const claimer = await client.readContract({ ...rc, functionName: "claimerFor", args: [me] });
  if (!isAddressEqual(claimer, zeroAddress) && !isAddressEqual(claimer, me)) {
    throw new LedgerActionError(
      `${me} named ${getAddress(claimer)} as its claimer: only that account can claim its rewards`,
    );
  }
  const now = (await client.getBlock({ blockTag: "latest" })).timestamp;
  if (BigInt(onChain.activatedAt) > now + 1n) {
    throw new LedgerActionError(
      `rewards root ${published.rootIndex} activates at ${new Date(onChain.activatedAt * 1000).toISOString()}; claim after that`,
    );
  }
  const proof = tree.claim(me, [token]);
  if (!proof) throw stale();
  const done = await perform(
    actor,
    [
      step(rc.address, rewardsCoordinatorAbi, "processClaim", [
        { rootIndex: published.rootIndex, ...proof },
        me,
      ]),
    ],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    amount,
    token,
    summary: `${done.dryRun ? "would claim" : "claimed"} ${formatAmount(amount)} of fee token ${token} for ${me}`,
  };
}

// ───────────────────────────── slashes ─────────────────────────────

/** A slash with the block its veto window ends at. */
export type SlashListing = SlashRecord & { vetoWindowEndsAt: bigint };

/** Every queued, vetoed and executed slash, optionally of one status. */
export async function listSlashes(
  client: PublicClient,
  deployment: DinDeployment,
  filter: { status?: SlashRecord["status"] } = {},
): Promise<SlashListing[]> {
  const d = deployment.addresses;
  const slashes = await readSlashes(client, d);
  return slashes
    .filter((s) => filter.status === undefined || s.status === filter.status)
    .map((s) => ({ ...s, vetoWindowEndsAt: BigInt(s.queuedAt) + BigInt(s.vetoWindow) }));
}

async function queuedSlash(
  actor: LedgerActor,
  slashId: bigint,
): Promise<{ slash: SlashListing; block: bigint }> {
  const client = actor.clients.public;
  const d = actor.deployment.addresses;
  const [length, block] = await Promise.all([
    client.readContract({ address: d.slasher, abi: dinSlasherAbi, functionName: "queueLength" }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  if (slashId < 0n || slashId >= length) {
    throw new LedgerActionError(`no slash ${slashId}: ${length} slash(es) queued so far`);
  }
  const slashes = await listSlashes(client, actor.deployment);
  const slash = slashes.find((s) => s.id === slashId) as SlashListing;
  if (slash.status !== "queued") throw new LedgerActionError(`slash ${slashId} is already ${slash.status}`);
  return { slash, block };
}

/** The guardian cancels a queued slash within its veto window. */
export async function vetoSlash(
  actor: LedgerActor,
  options: ActionOptions & { slashId: bigint },
): Promise<ActionResult<{ slash: SlashListing }>> {
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const { slash, block } = await queuedSlash(actor, options.slashId);
  const mayVeto = await actor.clients.public.readContract({
    address: d.slasher,
    abi: dinSlasherAbi,
    functionName: "hasRole",
    args: [VETO_ROLE, me],
  });
  if (!mayVeto) throw new LedgerActionError(`${me} does not hold the veto role (the guardian does)`);
  if (block + 1n > slash.vetoWindowEndsAt) {
    throw new LedgerActionError(
      `the veto window of slash ${slash.id} is over (it ended at block ${slash.vetoWindowEndsAt}); it can only be executed now`,
    );
  }
  const done = await perform(
    actor,
    [step(d.slasher, dinSlasherAbi, "veto", [options.slashId])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    slash,
    summary: `${done.dryRun ? "would veto" : "vetoed"} slash ${slash.id} of ${slash.operator} (${slash.reason})`,
  };
}

/** Anyone executes a queued slash once its veto window is over. */
export async function executeSlash(
  actor: LedgerActor,
  options: ActionOptions & { slashId: bigint },
): Promise<ActionResult<{ slash: SlashListing }>> {
  const d = actor.deployment.addresses;
  const { slash, block } = await queuedSlash(actor, options.slashId);
  if (block + 1n <= slash.vetoWindowEndsAt) {
    throw new LedgerActionError(
      `the veto window of slash ${slash.id} is still open until block ${slash.vetoWindowEndsAt} (now ${block}); execute it after`,
    );
  }
  const done = await perform(
    actor,
    [step(d.slasher, dinSlasherAbi, "execute", [options.slashId])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    slash,
    summary: `${done.dryRun ? "would execute" : "executed"} slash ${slash.id} of ${slash.operator}: ${formatAmount(slash.wad)} of its allocation on network ${slash.networkId}`,
  };
}
