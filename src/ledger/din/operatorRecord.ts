// An operator's record on the ledger, as it competes on it: per network the last epochs' verdicts (the
// watchers' median availability, p50 latency and lag, and the reward multiplier they earned), and the
// fee-token rewards escrowed for it and its delegators by the service, in all.
import { type Address, getAddress, type PublicClient } from "viem";
import { dinEpochsAbi, rewardsCoordinatorAbi } from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";

export type EpochVerdict = {
  epoch: bigint;
  availabilityBps: number;
  p50LatencyMs: number;
  lagBlocks: number;
  /** The share of its epoch's fees it earned, bps (10000 = all of what its relays were worth). */
  multiplierBps: number;
};

export type OperatorRecord = {
  /** Per network, the most recent verdicts first. */
  verdicts: Array<{ network: string; networkId: number; epochs: EpochVerdict[] }>;
  /** Fee-token rewards the service escrowed for the operator and its delegators (token units). */
  rewardsEscrowed: bigint;
};

/** The operator's last `epochs` verdicts per network and its escrowed rewards. */
export async function readOperatorRecord(
  client: PublicClient,
  deployment: DinDeployment,
  operator: Address,
  epochs = 5,
): Promise<OperatorRecord> {
  const a = deployment.addresses;
  const address = getAddress(operator);
  const [judged, submissions] = await Promise.all([
    client.getContractEvents({
      address: a.epochs,
      abi: dinEpochsAbi,
      eventName: "OperatorJudged",
      args: { operator: address },
      fromBlock: 0n,
      strict: true,
    }),
    client.getContractEvents({
      address: a.rewardsCoordinator,
      abi: rewardsCoordinatorAbi,
      eventName: "OperatorDirectedOperatorSetRewardsSubmissionCreated",
      fromBlock: 0n,
      strict: true,
    }),
  ]);
  const rewardsEscrowed = escrowedRewards(submissions).get(address) ?? 0n;
  return {
    verdicts: deployment.networks.map((n) => ({
      network: n.name,
      networkId: n.id,
      epochs: judged
        .filter((log) => log.args.networkId === n.id)
        .slice(-epochs)
        .reverse()
        .map((log) => ({
          epoch: log.args.epoch,
          availabilityBps: log.args.availabilityBps,
          p50LatencyMs: log.args.p50LatencyMs,
          lagBlocks: log.args.lagBlocks,
          multiplierBps: Number(log.args.multiplierBps),
        })),
    })),
    rewardsEscrowed,
  };
}

/** A rewards submission as the RewardsCoordinator logs it: the rewards it escrows for each operator. */
type RewardsSubmissionLog = {
  args: {
    operatorDirectedRewardsSubmission: { operatorRewards: readonly { operator: Address; amount: bigint }[] };
  };
};

/** Rewards escrowed per operator (checksummed address) over the RewardsCoordinator's submissions. */
export function escrowedRewards(submissions: readonly RewardsSubmissionLog[]): Map<Address, bigint> {
  const rewards = new Map<Address, bigint>();
  for (const log of submissions) {
    for (const reward of log.args.operatorDirectedRewardsSubmission.operatorRewards) {
      const operator = getAddress(reward.operator);
      rewards.set(operator, (rewards.get(operator) ?? 0n) + reward.amount);
    }
  }
  return rewards;
}
