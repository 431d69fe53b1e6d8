// The ledger transactions of an operator: join a network (restaking operator, self-stake, allocation,
// registration with metadata and its relay signing key's consent), rotate that key, change the allocation
// and the commission, and leave; and, as an operator's delegation approver, sign a staker's delegation.
// Each checks what it cheaply can first (with a clear sentence), then sends its calls in order or, in a dry
// run, simulates them and returns them.
import {
  type Address,
  getAddress,
  type Hex,
  isAddress,
  isAddressEqual,
  type LocalAccount,
  type PublicClient,
  toHex,
  zeroAddress,
} from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinRegistryAbi,
  rewardsCoordinatorAbi,
} from "../artifacts/index.js";
import type { DinNetwork } from "./deploy.js";
import {
  type ActionOptions,
  type ActionResult,
  actionNetwork,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  type Step,
  step,
} from "./perform.js";
import {
  encodeOperatorMetadata,
  type OperatorMetadata,
  SIGNER_PROOF_TTL,
  type SignerProof,
  signSignerProof,
} from "./registry.js";
import { formatAmount } from "./revert.js";
import { type DelegationApproval, depositSteps } from "./stakerActions.js";
import { resolveStrategy } from "./strategies.js";

/** 1.0 in the core's fixed-point (magnitudes, slash fractions). */
export const WAD = 10n ** 18n;
/** Smallest non-zero allocation the AllocationManager accepts. */
export const MIN_MAGNITUDE = 1_000_000_000n;
/** 100% commission in bips. */
export const MAX_COMMISSION_BIPS = 10_000;

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
  const n = actionNetwork(actor.deployment, options.network);
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
  const n = actionNetwork(actor.deployment, options.network);
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
  const n = actionNetwork(actor.deployment, options.network);
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
  const n = actionNetwork(actor.deployment, options.network);
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
