// Token holders govern the DIN service through its Governor and timelock: every setter of the registry,
// the epochs contract and the slasher answers only to the timelock. This module reads what governance
// decides over (the parameters in force and the ceilings the contracts put on them), the proposals and
// their state, a holder's voting power; it encodes the common proposals by name; and it sends the
// holder's transactions: delegate votes, propose, vote, queue, execute.
import {
  type Abi,
  type Address,
  decodeFunctionData,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  type PublicClient,
  toHex,
} from "viem";
import {
  dinEpochsAbi,
  dinGovernorAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  dinTimelockAbi,
  dinTokenAbi,
} from "../artifacts/index.js";
import { type DinDeployment, type SlaTable, VETO_ROLE } from "./deploy.js";
import { findNetwork } from "./directory.js";
import {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  step,
} from "./perform.js";
import { formatAmount } from "./revert.js";

/** The Governor's proposal states, by their index in OpenZeppelin's `ProposalState`. */
export const PROPOSAL_STATES = [
  "pending",
  "active",
  "canceled",
  "defeated",
  "succeeded",
  "queued",
  "expired",
  "executed",
] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

export type ProposalCall = {
  target: Address;
  value: bigint;
  calldata: Hex /** Decoded, when known. */;
  call?: string;
};

export type Proposal = {
  id: bigint;
  proposer: Address;
  description: string;
  state: ProposalState;
  /** Block voting starts after, and the last block of voting. */
  voteStart: bigint;
  voteEnd: bigint;
  votes: { for: bigint; against: bigint; abstain: bigint };
  /** Votes needed at its snapshot. */
  quorum: bigint;
  /** When it can be executed, for a queued proposal (unix seconds). */
  eta?: bigint;
  calls: ProposalCall[];
  block: bigint;
  transaction: Hex;
};

export type GovernanceStatus = {
  block: bigint;
  governor: Address;
  timelock: Address;
  token: { address: Address; symbol: string; totalSupply: bigint };
  rules: {
    votingDelayBlocks: bigint;
    votingPeriodBlocks: bigint;
    proposalThreshold: bigint;
    /** Votes a proposal needs, at the last block. */
    quorum: bigint;
    timelockDelaySeconds: bigint;
  };
  parameters: {
    sla: SlaTable;
    epochs: { epochLength: number; reportWindow: number; reportQuorum: number };
    slash: Record<string, bigint | number>;
    correlatedShareBps: bigint;
    finalityDelay: bigint;
    networks: Array<{ id: number; name: string; chainId: bigint; minStake: bigint }>;
    watcherMinStake: bigint;
    gatewayMinStake: bigint;
    /** Whether the deployment's guardian still holds the veto. */
    guardianVeto: boolean;
  };
  /** The limits the contracts hold whatever governance votes. */
  ceilings: {
    maxOffenceWad: bigint;
    maxWindowWad: bigint;
    maxSlashesPerWindow: bigint;
    maxVetoWindow: number;
    maxJailCooldown: number;
    correlatedShareBps: [bigint, bigint];
    maxPauseBlocks: bigint;
  };
  voter?: { address: Address; balance: bigint; votes: bigint; delegate: Address | null };
  /** Newest first. */
  proposals: Proposal[];
};

const ABIS: ReadonlyArray<readonly [string, Abi]> = [
  ["registry", dinRegistryAbi],
  ["epochs", dinEpochsAbi],
  ["slasher", dinSlasherAbi],
  ["token", dinTokenAbi],
];

/** A call in words when its target is a DIN contract: `slasher.revokeRole(0x…, 0x…)`. */
function describeCall(deployment: DinDeployment, target: Address, calldata: Hex): string | undefined {
  const a = deployment.addresses;
  const byAddress: Record<string, Address> = {
    registry: a.registry,
    epochs: a.epochs,
    slasher: a.slasher,
    token: a.governanceToken,
  };
  for (const [name, abi] of ABIS) {
    if (getAddress(byAddress[name]!) !== getAddress(target)) continue;
    try {
      const decoded = decodeFunctionData({ abi, data: calldata });
      const args = (decoded.args ?? []).map((arg) =>
        JSON.stringify(arg, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
      );
      return `${name}.${decoded.functionName}(${args.join(", ")})`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Everything governance decides over, the proposals, and `voter`'s power when given. */
export async function governanceStatus(
  client: PublicClient,
  deployment: DinDeployment,
  voter?: Address,
): Promise<GovernanceStatus> {
  const a = deployment.addresses;
  const governor = { address: a.governor, abi: dinGovernorAbi } as const;
  const token = { address: a.governanceToken, abi: dinTokenAbi } as const;
  const registry = { address: a.registry, abi: dinRegistryAbi } as const;
  const epochs = { address: a.epochs, abi: dinEpochsAbi } as const;
  const slasher = { address: a.slasher, abi: dinSlasherAbi } as const;
  const read = client.readContract;
  const block = await client.getBlockNumber({ cacheTime: 0 });
  const at = { blockNumber: block } as const;
  const [symbol, totalSupply, votingDelay, votingPeriod, threshold, quorum] = await Promise.all([
    read({ ...token, functionName: "symbol", ...at }),
    read({ ...token, functionName: "totalSupply", ...at }),
    read({ ...governor, functionName: "votingDelay", ...at }),
    read({ ...governor, functionName: "votingPeriod", ...at }),
    read({ ...governor, functionName: "proposalThreshold", ...at }),
    read({ ...governor, functionName: "quorum", args: [block > 0n ? block - 1n : 0n], ...at }),
  ]);
  const [timelockDelay, sla, epochParams, slashParams, correlated, finality, ids, watcherMin, gatewayMin] =
    await Promise.all([
      client.readContract({
        address: a.timelock,
        abi: dinTimelockAbi,
        functionName: "getMinDelay",
        ...at,
      }),
      read({ ...epochs, functionName: "getSlaTable", ...at }),
      read({ ...epochs, functionName: "getEpochParams", ...at }),
      read({ ...slasher, functionName: "getSlashParams", ...at }),
      read({ ...epochs, functionName: "correlatedShareBps", ...at }),
      read({ ...slasher, functionName: "finalityDelay", ...at }),
      read({ ...registry, functionName: "getNetworkIds", ...at }),
      read({ ...registry, functionName: "watcherMinStake", ...at }),
      read({ ...registry, functionName: "gatewayMinStake", ...at }),
    ]);
  const [maxOffence, maxWindow, maxSlashes, maxVeto, maxJail, minShare, maxShare, maxPause, guardianVeto] =
    await Promise.all([
      read({ ...slasher, functionName: "MAX_OFFENCE_WAD", ...at }),
      read({ ...slasher, functionName: "MAX_WINDOW_WAD", ...at }),
      read({ ...slasher, functionName: "MAX_SLASHES_PER_WINDOW", ...at }),
      read({ ...slasher, functionName: "MAX_VETO_WINDOW", ...at }),
      read({ ...slasher, functionName: "MAX_JAIL_COOLDOWN", ...at }),
      read({ ...epochs, functionName: "MIN_CORRELATED_SHARE_BPS", ...at }),
      read({ ...epochs, functionName: "MAX_CORRELATED_SHARE_BPS", ...at }),
      read({ ...epochs, functionName: "MAX_PAUSE_BLOCKS", ...at }),
      read({ ...slasher, functionName: "hasRole", args: [VETO_ROLE, deployment.addresses.guardian], ...at }),
    ]);
  const networks = await Promise.all(
    ids.map(async (id) => {
      const n = await read({ ...registry, functionName: "getNetwork", args: [id], ...at });
      return { id: Number(id), name: n.name, chainId: BigInt(n.chainId), minStake: n.minStake };
    }),
  );
  let voterStatus: GovernanceStatus["voter"];
  if (voter !== undefined) {
    const address = getAddress(voter);
    const [balance, votes, delegate] = await Promise.all([
      read({ ...token, functionName: "balanceOf", args: [address], ...at }),
      read({ ...token, functionName: "getVotes", args: [address], ...at }),
      read({ ...token, functionName: "delegates", args: [address], ...at }),
    ]);
    voterStatus = {
      address,
      balance,
      votes,
      delegate: /^0x0{40}$/i.test(delegate) ? null : getAddress(delegate),
    };
  }
  return {
    block,
    governor: getAddress(a.governor),
    timelock: getAddress(a.timelock),
    token: { address: getAddress(a.governanceToken), symbol, totalSupply },
    rules: {
      votingDelayBlocks: votingDelay,
      votingPeriodBlocks: votingPeriod,
      proposalThreshold: threshold,
      quorum,
      timelockDelaySeconds: timelockDelay,
    },
    parameters: {
      sla: { ...sla },
      epochs: {
        epochLength: Number(epochParams.epochLength),
        reportWindow: Number(epochParams.reportWindow),
        reportQuorum: Number(epochParams.reportQuorum),
      },
      slash: { ...slashParams },
      correlatedShareBps: correlated,
      finalityDelay: BigInt(finality),
      networks,
      watcherMinStake: watcherMin,
      gatewayMinStake: gatewayMin,
      guardianVeto,
    },
    ceilings: {
      maxOffenceWad: BigInt(maxOffence),
      maxWindowWad: BigInt(maxWindow),
      maxSlashesPerWindow: maxSlashes,
      maxVetoWindow: Number(maxVeto),
      maxJailCooldown: Number(maxJail),
      correlatedShareBps: [minShare, maxShare],
      maxPauseBlocks: maxPause,
    },
    ...(voterStatus ? { voter: voterStatus } : {}),
    proposals: await readProposals(client, deployment, block),
  };
}

/** Every proposal with its state and votes, newest first. */
export async function readProposals(
  client: PublicClient,
  deployment: DinDeployment,
  block?: bigint,
): Promise<Proposal[]> {
  const governor = { address: deployment.addresses.governor, abi: dinGovernorAbi } as const;
  const to = block ?? (await client.getBlockNumber({ cacheTime: 0 }));
  const created = await client.getContractEvents({
    ...governor,
    eventName: "ProposalCreated",
    fromBlock: 0n,
    toBlock: to,
    strict: true,
  });
  const proposals = await Promise.all(
    created.map(async (event): Promise<Proposal> => {
      const { proposalId: id, proposer, targets, calldatas, description, voteStart, voteEnd } = event.args;
      const values = event.args.values;
      const [state, [against, forVotes, abstain], quorum, eta] = await Promise.all([
        client.readContract({ ...governor, functionName: "state", args: [id], blockNumber: to }),
        client.readContract({ ...governor, functionName: "proposalVotes", args: [id], blockNumber: to }),
        // The quorum of a proposal is counted at its snapshot, once that block is in the past.
        voteStart < to
          ? client.readContract({ ...governor, functionName: "quorum", args: [voteStart], blockNumber: to })
          : client.readContract({ ...governor, functionName: "quorum", args: [to - 1n], blockNumber: to }),
        client.readContract({ ...governor, functionName: "proposalEta", args: [id], blockNumber: to }),
      ]);
      const calls = targets.map((target, i): ProposalCall => {
        const calldata = calldatas[i] ?? "0x";
        const call = describeCall(deployment, target, calldata);
        return { target: getAddress(target), value: values[i] ?? 0n, calldata, ...(call ? { call } : {}) };
      });
      return {
        id,
        proposer: getAddress(proposer),
        description,
        state: PROPOSAL_STATES[state] ?? "pending",
        voteStart,
        voteEnd,
        votes: { for: forVotes, against, abstain },
        quorum,
        ...(eta > 0n ? { eta } : {}),
        calls,
        block: event.blockNumber,
        transaction: event.transactionHash,
      };
    }),
  );
  return proposals.reverse();
}

/** A proposal's calls: what `propose` takes. */
export type ProposalCalls = { targets: Address[]; values: bigint[]; calldatas: Hex[] };

/** The common changes, by name, encoded as the calls a proposal makes. */
export type NamedProposal =
  | { kind: "set-sla"; changes: Partial<SlaTable> }
  | { kind: "admit-watcher"; address: Address; admitted: boolean }
  | { kind: "admit-gateway"; address: Address; admitted: boolean }
  | { kind: "retire-guardian" }
  | { kind: "add-network"; id: number; name: string; chainId: bigint; minStake: bigint }
  | { kind: "set-min-stake"; network: string; minStake: bigint }
  | { kind: "raw"; calls: Array<{ target: Address; value: bigint; calldata: Hex }> };

/** Encodes `proposal` against the current state (a partial SLA change keeps the other fields in force). */
export async function encodeProposal(
  client: PublicClient,
  deployment: DinDeployment,
  proposal: NamedProposal,
): Promise<ProposalCalls> {
  const a = deployment.addresses;
  const one = (target: Address, abi: Abi, functionName: string, args: readonly unknown[]): ProposalCalls => ({
    targets: [getAddress(target)],
    values: [0n],
    calldatas: [encodeFunctionData({ abi, functionName, args })],
  });
  switch (proposal.kind) {
    case "set-sla": {
      if (Object.keys(proposal.changes).length === 0)
        throw new LedgerActionError("set-sla changes nothing: name at least one threshold or slash size");
      const current = await client.readContract({
        address: a.epochs,
        abi: dinEpochsAbi,
        functionName: "getSlaTable",
      });
      return one(a.epochs, dinEpochsAbi, "setSlaTable", [{ ...current, ...proposal.changes }]);
    }
    case "admit-watcher":
      return one(a.registry, dinRegistryAbi, "setWatcher", [proposal.address, proposal.admitted]);
    case "admit-gateway":
      return one(a.registry, dinRegistryAbi, "setGateway", [proposal.address, proposal.admitted]);
    case "retire-guardian":
      return one(a.slasher, dinSlasherAbi, "revokeRole", [VETO_ROLE, deployment.addresses.guardian]);
    case "add-network":
      return one(a.registry, dinRegistryAbi, "addNetwork", [
        proposal.id,
        proposal.name,
        proposal.chainId,
        proposal.minStake,
      ]);
    case "set-min-stake":
      return one(a.registry, dinRegistryAbi, "setMinStake", [
        networkIdOf(deployment, proposal.network),
        proposal.minStake,
      ]);
    case "raw":
      if (proposal.calls.length === 0)
        throw new LedgerActionError("a raw proposal needs at least one --call");
      return {
        targets: proposal.calls.map((c) => getAddress(c.target)),
        values: proposal.calls.map((c) => c.value),
        calldatas: proposal.calls.map((c) => c.calldata),
      };
  }
}

function networkIdOf(deployment: DinDeployment, network: string): number {
  try {
    return findNetwork(deployment, network).id;
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
}

const governorOf = (actor: LedgerActor) =>
  ({ address: actor.deployment.addresses.governor, abi: dinGovernorAbi }) as const;

/** Delegates the holder's votes (to itself by default: tokens vote only once delegated). */
export async function delegateVotes(
  actor: LedgerActor,
  options: ActionOptions & { to?: Address } = {},
): Promise<ActionResult<{ delegate: Address }>> {
  const me = actor.clients.wallet.account.address;
  const to = getAddress(options.to ?? me);
  const token = { address: actor.deployment.addresses.governanceToken, abi: dinTokenAbi } as const;
  const balance = await actor.clients.public.readContract({
    ...token,
    functionName: "balanceOf",
    args: [me],
  });
  const done = await perform(
    actor,
    [step(token.address, dinTokenAbi, "delegate", [to])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    delegate: to,
    summary: `${done.dryRun ? "would delegate" : "delegated"} the votes of ${formatAmount(balance)} tokens to ${to === getAddress(me) ? "yourself" : to}`,
  };
}

/** Submits a proposal; its id is what `vote`, `queue` and `execute` take. */
export async function propose(
  actor: LedgerActor,
  options: ActionOptions & { calls: ProposalCalls; description: string },
): Promise<ActionResult<{ proposalId: bigint }>> {
  const description = options.description.trim();
  if (!description)
    throw new LedgerActionError("a proposal needs a --description saying what it does and why");
  const governor = governorOf(actor);
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const { targets, values, calldatas } = options.calls;
  const proposalId = await client.readContract({
    ...governor,
    functionName: "hashProposal",
    args: [targets, values, calldatas, keccak256(toHex(description))],
  });
  const [threshold, block] = await Promise.all([
    client.readContract({ ...governor, functionName: "proposalThreshold" }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const votes = await client.readContract({
    ...governor,
    functionName: "getVotes",
    args: [me, block > 0n ? block - 1n : 0n],
  });
  if (votes < threshold) {
    throw new LedgerActionError(
      `proposing takes ${formatAmount(threshold)} votes; ${me} has ${formatAmount(votes)} (delegate your tokens first: din gov delegate)`,
    );
  }
  const done = await perform(
    actor,
    [step(governor.address, dinGovernorAbi, "propose", [targets, values, calldatas, description])],
    options,
    context(actor.deployment),
  );
  const delay = await client.readContract({ ...governor, functionName: "votingDelay" });
  return {
    ...done,
    proposalId,
    summary: `${done.dryRun ? "would propose" : "proposed"} ${proposalId}; voting opens after ${delay} blocks: din gov vote --proposal ${proposalId} --support for`,
  };
}

/** The proposal's calls and description hash, from its creation event. */
async function proposalCalls(actor: LedgerActor, id: bigint) {
  const proposal = (await readProposals(actor.clients.public, actor.deployment)).find((p) => p.id === id);
  if (!proposal) throw new LedgerActionError(`no proposal ${id}`);
  return {
    proposal,
    args: [
      proposal.calls.map((c) => c.target),
      proposal.calls.map((c) => c.value),
      proposal.calls.map((c) => c.calldata),
      keccak256(toHex(proposal.description)),
    ] as const,
  };
}

const SUPPORT = { against: 0, for: 1, abstain: 2 } as const;
export type Support = keyof typeof SUPPORT;

/** Casts the holder's vote on an active proposal. */
export async function vote(
  actor: LedgerActor,
  options: ActionOptions & { proposalId: bigint; support: Support; reason?: string },
): Promise<ActionResult<{ weight: bigint }>> {
  const { proposal } = await proposalCalls(actor, options.proposalId);
  if (proposal.state !== "active") {
    throw new LedgerActionError(
      proposal.state === "pending"
        ? `proposal ${proposal.id} is not open for votes yet: voting starts after block ${proposal.voteStart}`
        : `proposal ${proposal.id} is ${proposal.state}: voting is over`,
    );
  }
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const governor = governorOf(actor);
  const weight = await client.readContract({
    ...governor,
    functionName: "getVotes",
    args: [me, proposal.voteStart],
  });
  if (weight === 0n) {
    throw new LedgerActionError(
      `${me} had no votes at the proposal's snapshot (block ${proposal.voteStart}): tokens vote only once delegated, before a proposal is made (din gov delegate)`,
    );
  }
  const support = SUPPORT[options.support];
  const done = await perform(
    actor,
    [
      options.reason
        ? step(governor.address, dinGovernorAbi, "castVoteWithReason", [proposal.id, support, options.reason])
        : step(governor.address, dinGovernorAbi, "castVote", [proposal.id, support]),
    ],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    weight,
    summary: `${done.dryRun ? "would vote" : "voted"} ${options.support} proposal ${proposal.id} with ${formatAmount(weight)} votes; voting ends at block ${proposal.voteEnd}`,
  };
}

/** Queues a succeeded proposal in the timelock. */
export async function queueProposal(
  actor: LedgerActor,
  options: ActionOptions & { proposalId: bigint },
): Promise<ActionResult> {
  const { proposal, args } = await proposalCalls(actor, options.proposalId);
  if (proposal.state !== "succeeded") {
    throw new LedgerActionError(
      proposal.state === "active" || proposal.state === "pending"
        ? `proposal ${proposal.id} is still ${proposal.state}: it can be queued once voting ends (block ${proposal.voteEnd}) with enough votes`
        : `proposal ${proposal.id} is ${proposal.state}: only a succeeded proposal can be queued`,
    );
  }
  const governor = governorOf(actor);
  const done = await perform(
    actor,
    [step(governor.address, dinGovernorAbi, "queue", args)],
    options,
    context(actor.deployment),
  );
  const delay = await actor.clients.public.readContract({
    address: actor.deployment.addresses.timelock,
    abi: dinTimelockAbi,
    functionName: "getMinDelay",
  });
  return {
    ...done,
    summary: `${done.dryRun ? "would queue" : "queued"} proposal ${proposal.id} in the timelock; it can be executed ${delay} s from now: din gov execute --proposal ${proposal.id}`,
  };
}

/** Executes a queued proposal whose timelock delay has passed. */
export async function executeProposal(
  actor: LedgerActor,
  options: ActionOptions & { proposalId: bigint },
): Promise<ActionResult> {
  const { proposal, args } = await proposalCalls(actor, options.proposalId);
  if (proposal.state !== "queued") {
    throw new LedgerActionError(
      `proposal ${proposal.id} is ${proposal.state}: only a queued proposal can be executed`,
    );
  }
  const now = (await actor.clients.public.getBlock({ blockTag: "latest" })).timestamp;
  if (proposal.eta !== undefined && now < proposal.eta) {
    throw new LedgerActionError(
      `proposal ${proposal.id} waits in the timelock until ${new Date(Number(proposal.eta) * 1000).toISOString()} (${proposal.eta - now} s more)`,
    );
  }
  const governor = governorOf(actor);
  const done = await perform(
    actor,
    [step(governor.address, dinGovernorAbi, "execute", args)],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    summary: `${done.dryRun ? "would execute" : "executed"} proposal ${proposal.id}: ${proposal.calls.map((c) => c.call ?? `${c.target} ${c.calldata.slice(0, 10)}`).join("; ")}`,
  };
}
