// A staker's position as the core holds it: per strategy the tokens in the wallet, the shares deposited
// and what they are worth now (after slashes), the operator delegated to, the withdrawals queued with the
// block they complete at and what they would pay now, every slash that took part of the position (when,
// which operator, on which network, how much), and the fee-token rewards waiting to be claimed.
import { type Address, getAddress, type PublicClient } from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
  strategyBaseAbi,
} from "../artifacts/index.js";
import { buildRewardsTree } from "../rewards.js";
import type { DinDeployment } from "./deploy.js";
import { earningsOf, readRewardsFile } from "./rewardsPublisher.js";

/** One strategy's part of a position. */
export type StrategyPosition = {
  strategy: Address;
  token: Address;
  symbol: string;
  /** Tokens in the staker's wallet, not deposited. */
  wallet: bigint;
  /** Shares as deposited: what the staker put in. */
  depositShares: bigint;
  /** Shares it could withdraw now: the deposit after every slash of its operator since. */
  withdrawableShares: bigint;
  /** What the withdrawable shares are worth in tokens now. */
  withdrawableTokens: bigint;
  /** Deposit shares lost to slashes (deposit − withdrawable). */
  slashedShares: bigint;
};

export type QueuedWithdrawalStatus = {
  root: `0x${string}`;
  startBlock: bigint;
  /** The first block its completion can be mined in. */
  completableAt: bigint;
  ready: boolean;
  /** The operator it was delegated to when queued: still slashable by its networks until completion. */
  delegatedTo: Address;
  strategies: Array<{
    strategy: Address;
    symbol: string;
    /** Shares queued. */
    queuedShares: bigint;
    /** Shares it pays now (queued shares after the slashes since). */
    sharesNow: bigint;
    /** Tokens it would pay if completed now. */
    tokensNow: bigint;
  }>;
};

/** A slash of an operator that took part of this position. */
export type PositionSlash = {
  block: bigint;
  operator: Address;
  /** The DIN network (operator set id) that slashed. */
  networkId: number;
  network: string;
  /** Per strategy, the shares this position lost in that block. */
  lost: Array<{ strategy: Address; symbol: string; shares: bigint; tokens: bigint }>;
  transaction: `0x${string}`;
};

export type RewardsStatus = {
  token: Address;
  symbol: string;
  /** Earned up to the last published root, claimed or not. */
  earned: bigint;
  claimed: bigint;
  claimable: bigint;
  /** Why nothing is claimable, in words (absent when something is). */
  why?: string;
};

export type StakerStatus = {
  address: Address;
  block: bigint;
  /** The operator its shares are delegated to; null when not delegated. */
  delegatedTo: Address | null;
  positions: StrategyPosition[];
  queuedWithdrawals: QueuedWithdrawalStatus[];
  slashes: PositionSlash[];
  rewards: RewardsStatus;
};

/** Reads `address`'s whole position; `rewardsFile` (the published rewards) for what it can claim. */
export async function stakerStatus(
  client: PublicClient,
  deployment: DinDeployment,
  address: Address,
  options: { rewardsFile?: string } = {},
): Promise<StakerStatus> {
  const d = deployment.addresses;
  const staker = getAddress(address);
  const dm = { address: d.delegationManager, abi: delegationManagerAbi } as const;
  const strategies = d.strategies.map((s) => getAddress(s));
  const block = await client.getBlockNumber({ cacheTime: 0 });
  const at = { blockNumber: block } as const;
  const info = await strategyInfo(client, strategies);
  const symbolOf = new Map(info.map((i) => [i.strategy, i.symbol]));
  const toTokens = tokensAt(client, block);

  const [delegated, [withdrawable, deposited], roots, delay] = await Promise.all([
    client.readContract({ ...dm, functionName: "delegatedTo", args: [staker], ...at }),
    client.readContract({ ...dm, functionName: "getWithdrawableShares", args: [staker, strategies], ...at }),
    client.readContract({ ...dm, functionName: "getQueuedWithdrawalRoots", args: [staker], ...at }),
    client.readContract({ ...dm, functionName: "minWithdrawalDelayBlocks", ...at }),
  ]);
  const positions = await Promise.all(
    info.map(async ({ strategy, token, symbol }, i): Promise<StrategyPosition> => {
      const shares = withdrawable[i] ?? 0n;
      const wallet = await client.readContract({
        address: token,
        abi: mockERC20Abi,
        functionName: "balanceOf",
        args: [staker],
        ...at,
      });
      return {
        strategy,
        token,
        symbol,
        wallet,
        depositShares: deposited[i] ?? 0n,
        withdrawableShares: shares,
        withdrawableTokens: await toTokens(strategy, shares),
        slashedShares: (deposited[i] ?? 0n) > shares ? (deposited[i] ?? 0n) - shares : 0n,
      };
    }),
  );

  const queuedWithdrawals = await readQueuedWithdrawals(
    client,
    deployment,
    roots,
    delay,
    block,
    symbolOf,
    toTokens,
  );

  return {
    address: staker,
    block,
    delegatedTo: /^0x0{40}$/i.test(delegated) ? null : getAddress(delegated),
    positions,
    queuedWithdrawals,
    slashes: await positionSlashes(client, deployment, staker, strategies, symbolOf, block, toTokens),
    rewards: await rewardsStatus(client, deployment, staker, options.rewardsFile),
  };
}

type ToTokens = (strategy: Address, shares: bigint, blockNumber?: bigint) => Promise<bigint>;

/** The strategies' underlying tokens and their symbols (the token's address when it has none). */
async function strategyInfo(
  client: PublicClient,
  strategies: readonly Address[],
): Promise<Array<{ strategy: Address; token: Address; symbol: string }>> {
  return Promise.all(
    strategies.map(async (strategy) => {
      const token = getAddress(
        await client.readContract({
          address: strategy,
          abi: strategyBaseAbi,
          functionName: "underlyingToken",
        }),
      );
      const symbol = await client
        .readContract({ address: token, abi: mockERC20Abi, functionName: "symbol" })
        .catch(() => token);
      return { strategy, token, symbol };
    }),
  );
}

/** What shares of a strategy are worth in tokens, at `block` unless told. */
function tokensAt(client: PublicClient, block: bigint): ToTokens {
  return (strategy, shares, blockNumber = block) =>
    shares === 0n
      ? Promise.resolve(0n)
      : client.readContract({
          address: strategy,
          abi: strategyBaseAbi,
          functionName: "sharesToUnderlyingView",
          args: [shares],
          blockNumber,
        });
}

/** The withdrawals `roots` at `block`: what each asked for, from its event; what it pays now, from the core. */
async function readQueuedWithdrawals(
  client: PublicClient,
  deployment: DinDeployment,
  roots: readonly `0x${string}`[],
  delay: number,
  block: bigint,
  symbolOf: ReadonlyMap<Address, string>,
  toTokens: ToTokens,
): Promise<QueuedWithdrawalStatus[]> {
  const dm = { address: deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const at = { blockNumber: block } as const;
  const queuedEvents = roots.length
    ? await client.getContractEvents({
        ...dm,
        eventName: "SlashingWithdrawalQueued",
        fromBlock: 0n,
        toBlock: block,
        strict: true,
      })
    : [];
  return Promise.all(
    roots.map(async (root): Promise<QueuedWithdrawalStatus> => {
      const [withdrawal, sharesNow] = await client.readContract({
        ...dm,
        functionName: "getQueuedWithdrawal",
        args: [root],
        ...at,
      });
      const queued = queuedEvents.find((e) => e.args.withdrawalRoot === root)?.args.sharesToWithdraw ?? [];
      const completableAt = BigInt(withdrawal.startBlock) + BigInt(delay) + 1n;
      return {
        root,
        startBlock: BigInt(withdrawal.startBlock),
        completableAt,
        ready: block + 1n >= completableAt,
        delegatedTo: getAddress(withdrawal.delegatedTo),
        strategies: await Promise.all(
          withdrawal.strategies.map(async (s, i) => {
            const strategy = getAddress(s);
            const now = sharesNow[i] ?? 0n;
            return {
              strategy,
              symbol: symbolOf.get(strategy) ?? strategy,
              queuedShares: queued[i] ?? now,
              sharesNow: now,
              tokensNow: await toTokens(strategy, now),
            };
          }),
        ),
      };
    }),
  );
}

/**
 * A staker's queued withdrawals at the latest block (as {@link stakerStatus} lists them), read without the
 * rest of its position.
 */
export async function queuedWithdrawalsOf(
  client: PublicClient,
  deployment: DinDeployment,
  address: Address,
): Promise<QueuedWithdrawalStatus[]> {
  const staker = getAddress(address);
  const dm = { address: deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const block = await client.getBlockNumber({ cacheTime: 0 });
  const at = { blockNumber: block } as const;
  const [info, roots, delay] = await Promise.all([
    strategyInfo(
      client,
      deployment.addresses.strategies.map((s) => getAddress(s)),
    ),
    client.readContract({ ...dm, functionName: "getQueuedWithdrawalRoots", args: [staker], ...at }),
    client.readContract({ ...dm, functionName: "minWithdrawalDelayBlocks", ...at }),
  ]);
  const symbolOf = new Map(info.map((i) => [i.strategy, i.symbol]));
  return readQueuedWithdrawals(client, deployment, roots, delay, block, symbolOf, tokensAt(client, block));
}

/** Shares of the position (withdrawable and queued) per strategy at a block. */
async function positionAt(
  client: PublicClient,
  deployment: DinDeployment,
  staker: Address,
  strategies: readonly Address[],
  blockNumber: bigint,
): Promise<bigint[]> {
  const dm = { address: deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const [[withdrawable], roots] = await Promise.all([
    client.readContract({
      ...dm,
      functionName: "getWithdrawableShares",
      args: [staker, strategies],
      blockNumber,
    }),
    client.readContract({ ...dm, functionName: "getQueuedWithdrawalRoots", args: [staker], blockNumber }),
  ]);
  const total = strategies.map((_, i) => withdrawable[i] ?? 0n);
  for (const root of roots) {
    const [withdrawal, shares] = await client.readContract({
      ...dm,
      functionName: "getQueuedWithdrawal",
      args: [root],
      blockNumber,
    });
    withdrawal.strategies.forEach((s, i) => {
      const index = strategies.indexOf(getAddress(s));
      if (index >= 0) total[index] = (total[index] ?? 0n) + (shares[i] ?? 0n);
    });
  }
  return total;
}

/**
 * The slashes that took part of the position: every slash of an operator the staker was ever delegated to,
 * measured as the drop of its shares (withdrawable and queued) across the slash's block. A deposit or a
 * withdrawal in that same block would blur the measure; a slash that took nothing is left out.
 */
async function positionSlashes(
  client: PublicClient,
  deployment: DinDeployment,
  staker: Address,
  strategies: readonly Address[],
  symbolOf: ReadonlyMap<Address, string>,
  block: bigint,
  toTokens: ToTokens,
): Promise<PositionSlash[]> {
  const d = deployment.addresses;
  const delegations = await client.getContractEvents({
    address: d.delegationManager,
    abi: delegationManagerAbi,
    eventName: "StakerDelegated",
    args: { staker },
    fromBlock: 0n,
    toBlock: block,
    strict: true,
  });
  const operators = [...new Set(delegations.map((e) => getAddress(e.args.operator)))];
  if (operators.length === 0) return [];
  // Logs come in block order: the first delegation is where the position could first be slashed.
  const since = delegations[0]!.blockNumber;
  const slashed = await client.getContractEvents({
    address: d.allocationManager,
    abi: allocationManagerAbi,
    eventName: "OperatorSlashed",
    args: { operator: operators },
    fromBlock: since,
    toBlock: block,
    strict: true,
  });
  const names = new Map(deployment.networks.map((n) => [n.id, n.name]));
  const blocks = [...new Set(slashed.map((e) => e.blockNumber))];
  const result: PositionSlash[] = [];
  for (const at of blocks) {
    const [before, after] = await Promise.all([
      positionAt(client, deployment, staker, strategies, at - 1n),
      positionAt(client, deployment, staker, strategies, at),
    ]);
    const lost = await Promise.all(
      strategies.map(async (strategy, i) => {
        const shares = (before[i] ?? 0n) > (after[i] ?? 0n) ? (before[i] ?? 0n) - (after[i] ?? 0n) : 0n;
        return {
          strategy,
          symbol: symbolOf.get(strategy) ?? strategy,
          shares,
          tokens: await toTokens(strategy, shares, at),
        };
      }),
    );
    if (lost.every((l) => l.shares === 0n)) continue;
    // One block may hold several slashes: the position's loss is named after the first of its operators.
    const event = slashed.find((e) => e.blockNumber === at)!;
    const networkId = Number(event.args.operatorSet.id);
    result.push({
      block: at,
      operator: getAddress(event.args.operator),
      networkId,
      network: names.get(networkId) ?? `network ${networkId}`,
      lost: lost.filter((l) => l.shares > 0n),
      transaction: event.transactionHash,
    });
  }
  // Newest first, as every listing of events here.
  return result.sort((a, b) => (a.block > b.block ? -1 : a.block < b.block ? 1 : 0));
}

/** What the staker can claim from the published rewards, and why not when it cannot. */
async function rewardsStatus(
  client: PublicClient,
  deployment: DinDeployment,
  staker: Address,
  rewardsFile: string | undefined,
): Promise<RewardsStatus> {
  const token = getAddress(deployment.addresses.feeToken);
  const symbol = await client
    .readContract({ address: token, abi: mockERC20Abi, functionName: "symbol" })
    .catch(() => "fee token");
  const claimed = await client.readContract({
    address: deployment.addresses.rewardsCoordinator,
    abi: rewardsCoordinatorAbi,
    functionName: "cumulativeClaimed",
    args: [staker, token],
  });
  const none = (why: string, earned = 0n): RewardsStatus => ({
    token,
    symbol,
    earned,
    claimed,
    claimable: 0n,
    why,
  });
  let published: ReturnType<typeof readRewardsFile>;
  try {
    published = rewardsFile === undefined ? undefined : readRewardsFile(rewardsFile);
  } catch (error) {
    return none((error as Error).message);
  }
  if (!published) return none("no rewards root has been published yet");
  const earned = buildRewardsTree(earningsOf(published)).earned(staker, token);
  if (earned === 0n)
    return none(
      `nothing earned up to rewards root ${published.rootIndex}: rewards go to stakers delegated to an operator the service paid in a finalized epoch`,
    );
  if (earned <= claimed)
    return none(`everything earned up to rewards root ${published.rootIndex} is already claimed`, earned);
  return { token, symbol, earned, claimed, claimable: earned - claimed };
}
