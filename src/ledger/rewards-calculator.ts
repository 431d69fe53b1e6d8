// The rewards updater's calculation: read the operator-directed operator-set submissions escrowed on chain, measure each
// operator's delegated stake across the reward period, and turn them into cumulative earnings per (earner,
// token) ready for buildRewardsTree. Reads only; submitting the root is the caller's transaction.
import type { Address, PublicClient } from "viem";
import { rewardsCoordinatorAbi } from "./artifacts/index.js";
import {
  accumulate,
  averageOperatorStake,
  type Earnings,
  type OperatorStake,
  readStakeSnapshot,
  splitOperatorReward,
} from "./rewards.js";

/** One operator-directed operator-set submission, as logged by RewardsCoordinator. */
export type RewardsSubmission = {
  avs: Address;
  /** The operator set the rewards are for (its AVS is `avs`). */
  operatorSetId: number;
  token: Address;
  startTimestamp: number;
  duration: number;
  strategiesAndMultipliers: { strategy: Address; multiplier: bigint }[];
  operatorRewards: { operator: Address; amount: bigint }[];
  blockNumber: bigint;
};

/** Options of {@link calculateEarnings}. */
export type CalculateEarningsOptions = {
  /** Snapshots of stake per reward period, evenly spread over it. @default 4 */
  samples?: number;
};

/** Submissions logged in `[fromBlock, toBlock]`. */
export async function readRewardsSubmissions(
  client: PublicClient,
  rewardsCoordinator: Address,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<RewardsSubmission[]> {
  const logs = await client.getContractEvents({
    address: rewardsCoordinator,
    abi: rewardsCoordinatorAbi,
    eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
    fromBlock,
    toBlock,
    strict: true,
  });
  return logs.map((log) => {
    const s = log.args.operatorDirectedRewardsSubmission;
    return {
      avs: log.args.operatorSet.avs,
      operatorSetId: log.args.operatorSet.id,
      token: s.token,
      startTimestamp: s.startTimestamp,
      duration: s.duration,
      strategiesAndMultipliers: s.strategiesAndMultipliers.map((x) => ({
        strategy: x.strategy,
        multiplier: x.multiplier,
      })),
      operatorRewards: s.operatorRewards.map((x) => ({ operator: x.operator, amount: x.amount })),
      blockNumber: log.blockNumber,
    };
  });
}

/** The last block whose timestamp is ≤ `timestamp` (binary search; block 0 if none). */
export async function blockAtTimestamp(
  client: PublicClient,
  timestamp: bigint,
  latest?: bigint,
): Promise<bigint> {
  let lo = 0n;
  let hi = latest ?? (await client.getBlockNumber());
  if ((await client.getBlock({ blockNumber: hi })).timestamp <= timestamp) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1n) / 2n;
    if ((await client.getBlock({ blockNumber: mid })).timestamp <= timestamp) lo = mid;
    else hi = mid - 1n;
  }
  return lo;
}

/**
 * Cumulative earnings from `submissions`, added to `previous` (the earnings the last root committed).
 * Each operator's reward is split with its current commission for the operator set (getOperatorSetSplit);
 * its stakers share the rest pro rata to their withdrawable shares averaged over `samples` snapshots
 * across the period.
 */
export async function calculateEarnings(
  client: PublicClient,
  addresses: { delegationManager: Address; rewardsCoordinator: Address },
  submissions: readonly RewardsSubmission[],
  previous: Earnings = new Map(),
  options: CalculateEarningsOptions = {},
): Promise<Earnings> {
  const samples = Math.max(1, options.samples ?? 4);
  const cumulative: Earnings = new Map(previous);
  const latest = await client.getBlockNumber();
  for (const submission of submissions) {
    const blocks: bigint[] = [];
    for (let i = 1; i <= samples; i++) {
      const t = submission.startTimestamp + Math.floor((submission.duration * i) / samples);
      blocks.push(await blockAtTimestamp(client, BigInt(t), latest));
    }
    const strategies = submission.strategiesAndMultipliers.map((s) => s.strategy);
    for (const { operator, amount } of submission.operatorRewards) {
      const snapshots: OperatorStake[] = [];
      for (const block of blocks) {
        snapshots.push(
          await readStakeSnapshot(client, addresses.delegationManager, operator, strategies, block),
        );
      }
      const splitBips = await client.readContract({
        address: addresses.rewardsCoordinator,
        abi: rewardsCoordinatorAbi,
        functionName: "getOperatorSetSplit",
        args: [operator, { avs: submission.avs, id: submission.operatorSetId }],
      });
      accumulate(
        cumulative,
        splitOperatorReward(
          {
            operator,
            token: submission.token,
            amount,
            strategiesAndMultipliers: submission.strategiesAndMultipliers,
            splitBips: BigInt(splitBips),
          },
          averageOperatorStake(snapshots),
        ),
      );
    }
  }
  return cumulative;
}
