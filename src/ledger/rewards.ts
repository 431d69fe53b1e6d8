// The off-chain half of rewards: split each operator-directed reward into the operator's commission and
// its stakers' pro-rata shares, accumulate cumulative earnings per (earner, token), and commit them as the
// two-level Merkle root (earners, then each earner's tokens) that RewardsCoordinator.processClaim verifies.
// Pure functions except readStakeSnapshot.
import {
  type Address,
  concat,
  encodePacked,
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
  /** The operator's commission for the operator set, in bips. @default 1000 */
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

const ZERO_HASH: Hex = `0x${"0".repeat(64)}`;

/** RewardsCoordinator.calculateEarnerLeafHash: keccak256(abi.encodePacked(uint8(0), earner, earnerTokenRoot)). */
export function earnerLeafHash(earner: Address, earnerTokenRoot: Hex): Hex {
  return keccak256(encodePacked(["uint8", "address", "bytes32"], [0, earner, earnerTokenRoot]));
}

/** RewardsCoordinator.calculateTokenLeafHash: keccak256(abi.encodePacked(uint8(1), token, cumulativeEarnings)). */
export function tokenLeafHash(token: Address, cumulativeEarnings: bigint): Hex {
  return keccak256(encodePacked(["uint8", "address", "uint256"], [1, token, cumulativeEarnings]));
}

/**
 * The layers of an index-addressed keccak Merkle tree, leaves first: padded with zero words to a power of
 * two, each parent keccak256(left ‖ right) in tree order (what the coordinator's Merkle library verifies).
 */
function merkleLayers(leaves: readonly Hex[]): Hex[][] {
  let width = 1;
  while (width < leaves.length) width *= 2;
  const layers: Hex[][] = [[...leaves, ...Array<Hex>(width - leaves.length).fill(ZERO_HASH)]];
  while ((layers.at(-1) ?? []).length > 1) {
    const prev = layers.at(-1) ?? [];
    const next: Hex[] = [];
    for (let i = 0; i < prev.length; i += 2)
      next.push(keccak256(concat([prev[i] as Hex, prev[i + 1] as Hex])));
    layers.push(next);
  }
  return layers;
}

/** The siblings of leaf `index` from the bottom up, concatenated (empty for a one-leaf tree). */
function merkleProof(layers: readonly Hex[][], index: number): Hex {
  const siblings: Hex[] = [];
  for (const layer of layers.slice(0, -1)) {
    siblings.push(layer[index ^ 1] as Hex);
    index >>= 1;
  }
  return siblings.length === 0 ? "0x" : concat(siblings);
}

/** The root reached from `leaf` at `index` through `proof`, as the coordinator computes it. */
export function processProof(proof: Hex, leaf: Hex, index: number): Hex {
  let node = leaf;
  let i = BigInt(index);
  for (let offset = 2; offset < proof.length; offset += 64) {
    const sibling = `0x${proof.slice(offset, offset + 64)}` as Hex;
    node = keccak256(i % 2n === 0n ? concat([node, sibling]) : concat([sibling, node]));
    i >>= 1n;
  }
  return node;
}

/**
 * An earner's claim against a root, as RewardsCoordinator.processClaim takes it (add the root's index):
 * the earner leaf and its proof in the earner tree, then each token leaf and its proof in the earner's token
 * tree.
 */
export type RewardsClaimProof = {
  earnerIndex: number;
  earnerTreeProof: Hex;
  earnerLeaf: { earner: Address; earnerTokenRoot: Hex };
  tokenIndices: number[];
  tokenTreeProofs: Hex[];
  tokenLeaves: { token: Address; cumulativeEarnings: bigint }[];
};

/**
 * The two-level tree of cumulative earnings RewardsCoordinator verifies: an earner tree over leaves
 * (earner, earnerTokenRoot), earners ascending; under each earner a token tree over leaves (token,
 * cumulativeEarnings), tokens ascending.
 */
export type RewardsTree = {
  root: Hex;
  /** Earners with earnings, ascending. */
  earners(): Address[];
  /** What an earner earned in total of a token (0 if nothing). */
  earned(earner: Address, token: Address): bigint;
  /**
   * The claim of `earner` for `tokens` (every token it earned when omitted), or undefined if it earned none
   * of them.
   */
  claim(earner: Address, tokens?: readonly Address[]): RewardsClaimProof | undefined;
};

const ascending = (a: Address, b: Address) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** Builds the tree of `earnings` (zero entries are left out). */
export function buildRewardsTree(earnings: Earnings): RewardsTree {
  const byEarner = new Map<Address, Map<Address, bigint>>();
  for (const [key, value] of earnings) {
    if (value === 0n) continue;
    const [earner, token] = key.split(":").map((a) => getAddress(a)) as [Address, Address];
    const tokens = byEarner.get(earner) ?? new Map<Address, bigint>();
    tokens.set(token, value);
    byEarner.set(earner, tokens);
  }
  const earners = [...byEarner.keys()].sort(ascending);
  const tokenTrees = earners.map((earner) => {
    const tokens = [...(byEarner.get(earner) ?? new Map<Address, bigint>())].sort(([a], [b]) =>
      ascending(a, b),
    );
    const layers = merkleLayers(tokens.map(([token, value]) => tokenLeafHash(token, value)));
    return { tokens, layers, root: layers.at(-1)?.[0] as Hex };
  });
  const earnerLayers = merkleLayers(
    earners.map((earner, i) => earnerLeafHash(earner, tokenTrees[i]?.root as Hex)),
  );
  const root = earners.length === 0 ? ZERO_HASH : (earnerLayers.at(-1)?.[0] as Hex);
  const indexOf = new Map(earners.map((e, i) => [e, i]));
  return {
    root,
    earners: () => [...earners],
    earned: (earner, token) => byEarner.get(getAddress(earner))?.get(getAddress(token)) ?? 0n,
    claim(earner, tokens) {
      const earnerIndex = indexOf.get(getAddress(earner));
      if (earnerIndex === undefined) return undefined;
      const tree = tokenTrees[earnerIndex];
      if (!tree) return undefined;
      const wanted = tokens ? new Set(tokens.map((t) => getAddress(t))) : undefined;
      const picked = tree.tokens.flatMap(([token, cumulativeEarnings], index) =>
        !wanted || wanted.has(token) ? [{ token, cumulativeEarnings, index }] : [],
      );
      if (picked.length === 0) return undefined;
      return {
        earnerIndex,
        earnerTreeProof: merkleProof(earnerLayers, earnerIndex),
        earnerLeaf: { earner: getAddress(earner), earnerTokenRoot: tree.root },
        tokenIndices: picked.map((p) => p.index),
        tokenTreeProofs: picked.map((p) => merkleProof(tree.layers, p.index)),
        tokenLeaves: picked.map(({ token, cumulativeEarnings }) => ({ token, cumulativeEarnings })),
      };
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
