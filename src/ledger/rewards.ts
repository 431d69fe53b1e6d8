// The off-chain half of rewards: split each operator-directed reward into the operator's commission and
// its stakers' pro-rata shares, accumulate cumulative earnings per (earner, token), and commit them as a
// Merkle root that RewardsCoordinator.processClaim verifies. Pure functions except readStakeSnapshot.
import {
  type Address,
  concat,
  encodeAbiParameters,
  getAddress,
  type Hex,
  keccak256,
  type PublicClient,
  parseAbiItem,
} from "viem";
import { delegationManagerAbi } from "./artifacts/index.js";

/** 100% in bips. */
export const MAX_BIPS = 10_000n;

/** A staker's stake with one operator: withdrawable shares per strategy. */
export type StakerStake = { staker: Address; shares: ReadonlyMap<Address, bigint> };

/** Stake delegated to an operator at the snapshot the rewards are computed for. */
export type OperatorStake = { operator: Address; stakers: readonly StakerStake[] };

/** One operator-directed reward, as escrowed on chain. */
export type OperatorReward = {
  operator: Address;
  token: Address;
  amount: bigint;
  /** Strategy weights; a staker's weight is Σ multiplier × withdrawable shares. */
  strategiesAndMultipliers: readonly { strategy: Address; multiplier: bigint }[];
  /** The operator's commission for the AVS, in bips. @default 1000 */
  splitBips?: bigint;
};

/** (earner, token) → amount. Keys are `${earner}:${token}` with checksummed addresses. */
export type Earnings = Map<string, bigint>;

export function earningsKey(earner: Address, token: Address): string {
  return `${getAddress(earner)}:${getAddress(token)}`;
}

/**
 * Splits one reward: the operator keeps `amount × splitBips / 10000` (rounded down); the rest goes to its
 * stakers (the operator's own self-delegated stake included) pro rata to their weight, each share rounded
 * down. Rounding dust stays escrowed: nobody is ever paid more than was funded. With no stake at all the
 * operator receives everything.
 */
export function splitOperatorReward(reward: OperatorReward, stake: OperatorStake | undefined): Earnings {
  const out: Earnings = new Map();
  const add = (earner: Address, value: bigint) => {
    if (value === 0n) return;
    const key = earningsKey(earner, reward.token);
    out.set(key, (out.get(key) ?? 0n) + value);
  };
  const split = reward.splitBips ?? 1000n;
  const weights = (stake?.stakers ?? []).map((s) => ({
    staker: s.staker,
    weight: reward.strategiesAndMultipliers.reduce(
      (sum, sm) => sum + sm.multiplier * (s.shares.get(getAddress(sm.strategy)) ?? 0n),
      0n,
    ),
  }));
  const total = weights.reduce((sum, w) => sum + w.weight, 0n);
  if (total === 0n) {
    add(reward.operator, reward.amount);
    return out;
  }
  const commission = (reward.amount * split) / MAX_BIPS;
  add(reward.operator, commission);
  const forStakers = reward.amount - commission;
  for (const w of weights) add(w.staker, (forStakers * w.weight) / total);
  return out;
}

/** Adds `more` into `into` (cumulative earnings only ever grow). */
export function accumulate(into: Earnings, more: Earnings): Earnings {
  for (const [key, value] of more) into.set(key, (into.get(key) ?? 0n) + value);
  return into;
}

/** The leaf RewardsCoordinator.calculateLeaf computes: keccak256(keccak256(abi.encode(earner, token, cumulative))). */
export function rewardsLeaf(earner: Address, token: Address, cumulativeEarnings: bigint): Hex {
  const inner = keccak256(
    encodeAbiParameters(
      [{ type: "address" }, { type: "address" }, { type: "uint256" }],
      [earner, token, cumulativeEarnings],
    ),
  );
  return keccak256(inner);
}

function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** A Merkle tree of cumulative earnings, compatible with OpenZeppelin's MerkleProof (sorted pairs). */
export type RewardsTree = {
  root: Hex;
  /** Cumulative earnings and proof for an earner and token, or undefined if it earned nothing. */
  claim(earner: Address, token: Address): { cumulativeEarnings: bigint; proof: Hex[] } | undefined;
  /** Every claim, to publish next to the root (amounts as decimal strings, so it serializes as JSON). */
  toJSON(): {
    root: Hex;
    claims: { earner: Address; token: Address; cumulativeEarnings: string; proof: Hex[] }[];
  };
};

/** Builds the tree of `earnings`. An odd node is carried up unhashed, so a proof may skip a level. */
export function buildRewardsTree(earnings: Earnings): RewardsTree {
  const entries = [...earnings].map(([key, value]) => {
    const [earner, token] = key.split(":") as [Address, Address];
    return { key, value, leaf: rewardsLeaf(earner, token, value) };
  });
  entries.sort((x, y) => (BigInt(x.leaf) < BigInt(y.leaf) ? -1 : 1));
  const layers: Hex[][] = [entries.map((e) => e.leaf)];
  while ((layers.at(-1)?.length ?? 0) > 1) {
    const prev = layers.at(-1) ?? [];
    const next: Hex[] = [];
    for (let i = 0; i < prev.length; i += 2) {
      const a = prev[i] as Hex;
      const b = prev[i + 1];
      next.push(b === undefined ? a : hashPair(a, b));
    }
    layers.push(next);
  }
  const root = layers.at(-1)?.[0] ?? (`0x${"0".repeat(64)}` as Hex);
  const indexOf = new Map(entries.map((e, i) => [e.key, i]));
  return {
    root,
    claim(earner, token) {
      const key = earningsKey(earner, token);
      let index = indexOf.get(key);
      if (index === undefined) return undefined;
      const proof: Hex[] = [];
      for (const layer of layers.slice(0, -1)) {
        const sibling = layer[index ^ 1];
        if (sibling !== undefined) proof.push(sibling);
        index >>= 1;
      }
      return { cumulativeEarnings: earnings.get(key) ?? 0n, proof };
    },
    toJSON() {
      const claims = entries.map((e) => {
        const [earner, token] = e.key.split(":") as [Address, Address];
        return {
          earner,
          token,
          cumulativeEarnings: e.value.toString(),
          proof: this.claim(earner, token)?.proof ?? [],
        };
      });
      return { root, claims };
    },
  };
}

/**
 * The average of several snapshots of one operator's stake (e.g. one per day of the reward period), so
 * that stake added just before the period ends earns only for the time it was there. A staker missing from
 * a snapshot counts as zero in it; each average is rounded down.
 */
export function averageOperatorStake(snapshots: readonly OperatorStake[]): OperatorStake {
  const first = snapshots[0];
  if (!first) throw new Error("averageOperatorStake needs at least one snapshot");
  const n = BigInt(snapshots.length);
  const sums = new Map<Address, Map<Address, bigint>>();
  for (const snapshot of snapshots) {
    for (const { staker, shares } of snapshot.stakers) {
      const key = getAddress(staker);
      const sum = sums.get(key) ?? new Map<Address, bigint>();
      for (const [strategy, value] of shares) {
        const s = getAddress(strategy);
        sum.set(s, (sum.get(s) ?? 0n) + value);
      }
      sums.set(key, sum);
    }
  }
  return {
    operator: first.operator,
    stakers: [...sums].map(([staker, sum]) => ({
      staker,
      shares: new Map([...sum].map(([strategy, total]) => [strategy, total / n])),
    })),
  };
}

/**
 * Reads the stake delegated to `operator` at `blockNumber`: stakers found from the DelegationManager's
 * StakerDelegated events, with their withdrawable shares (slashes applied) in `strategies`.
 */
export async function readStakeSnapshot(
  client: PublicClient,
  delegationManager: Address,
  operator: Address,
  strategies: readonly Address[],
  blockNumber: bigint,
): Promise<OperatorStake> {
  const logs = await client.getLogs({
    address: delegationManager,
    event: parseAbiItem("event StakerDelegated(address indexed staker, address indexed operator)"),
    args: { operator },
    fromBlock: 0n,
    toBlock: blockNumber,
  });
  const candidates = [...new Set(logs.map((l) => getAddress(l.args.staker as Address)))];
  const stakers: StakerStake[] = [];
  for (const staker of candidates) {
    const delegatedTo = await client.readContract({
      address: delegationManager,
      abi: delegationManagerAbi,
      functionName: "delegatedTo",
      args: [staker],
      blockNumber,
    });
    if (getAddress(delegatedTo) !== getAddress(operator)) continue;
    const [withdrawable] = await client.readContract({
      address: delegationManager,
      abi: delegationManagerAbi,
      functionName: "getWithdrawableShares",
      args: [staker, strategies],
      blockNumber,
    });
    stakers.push({
      staker,
      shares: new Map(strategies.map((s, i) => [getAddress(s), withdrawable[i] ?? 0n])),
    });
  }
  return { operator: getAddress(operator), stakers };
}
