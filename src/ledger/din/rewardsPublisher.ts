// The rewards updater's round: first the service's accrued epoch payouts are flushed (escrowed for the last
// whole calculation intervals), then every operator-set submission the service escrowed since the last round
// is split into cumulative earnings per (earner, token), committed as a Merkle root on the
// RewardsCoordinator, and published as a file that operators and stakers claim from. The file is also the
// updater's memory: the block it read up to and the cumulative earnings the next round adds to.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { type Address, getAddress, type Hex } from "viem";
import { rewardsCoordinatorAbi } from "../artifacts/index.js";
import type { LedgerClients } from "../deploy.js";
import { buildRewardsTree, type Earnings, earningsKey } from "../rewards.js";
import { calculateEarnings, readRewardsSubmissions } from "../rewards-calculator.js";
import { sendAndWait } from "../send.js";
import type { DinDeployment } from "./deploy.js";
import { flushRewardsIfDue } from "./epochs.js";

/** The published rewards file (bigints as decimal strings on disk). */
export type PublishedRewards = {
  /** Index of the root on the RewardsCoordinator. */
  rootIndex: number;
  root: Hex;
  /** Last block whose submissions this round counted. */
  toBlock: bigint;
  earnings: { earner: Address; token: Address; cumulativeEarnings: bigint }[];
};

/** Options of {@link publishRewards}. */
export type PublishRewardsOptions = {
  /** The rewards file: read for the previous round, replaced atomically with this one. */
  file: string;
  /** First block to read submissions from. @default the block after the file's `toBlock`, or 0 */
  fromBlock?: bigint;
  /** Stake snapshots per reward period (see calculateEarnings). @default 1 */
  samples?: number;
};

/** What a round published. */
export type PublishedRound = { rootIndex: number; root: Hex; earners: Address[] };

/** Reads a rewards file, or undefined when there is none yet. */
export function readRewardsFile(file: string): PublishedRewards | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the rewards file ${file}: ${(error as Error).message}`);
  }
  const doc = raw as {
    rootIndex?: unknown;
    root?: unknown;
    toBlock?: unknown;
    earnings?: { earner?: unknown; token?: unknown; cumulativeEarnings?: unknown }[];
  };
  if (
    typeof doc?.rootIndex !== "number" ||
    typeof doc.root !== "string" ||
    doc.toBlock === undefined ||
    !Array.isArray(doc.earnings)
  ) {
    throw new Error(`${file} is not a rewards file (expected rootIndex, root, toBlock and earnings)`);
  }
  try {
    return {
      rootIndex: doc.rootIndex,
      root: doc.root as Hex,
      toBlock: BigInt(String(doc.toBlock)),
      earnings: doc.earnings.map((e) => ({
        earner: getAddress(String(e.earner)),
        token: getAddress(String(e.token)),
        cumulativeEarnings: BigInt(String(e.cumulativeEarnings)),
      })),
    };
  } catch (error) {
    throw new Error(`${file} has a malformed earnings entry: ${(error as Error).message}`);
  }
}

/** The earnings of a published file, keyed as buildRewardsTree expects. */
export function earningsOf(published: PublishedRewards): Earnings {
  const earnings: Earnings = new Map();
  for (const e of published.earnings) earnings.set(earningsKey(e.earner, e.token), e.cumulativeEarnings);
  return earnings;
}

/** Writes `published` to `file` atomically (a reader sees the old round or the new one, never half). */
export function writeRewardsFile(file: string, published: PublishedRewards): void {
  const doc = {
    rootIndex: published.rootIndex,
    root: published.root,
    toBlock: published.toBlock.toString(),
    earnings: published.earnings.map((e) => ({
      earner: e.earner,
      token: e.token,
      cumulativeEarnings: e.cumulativeEarnings.toString(),
    })),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * One round of the rewards updater (the wallet must be the RewardsCoordinator's rewardsUpdater). Returns
 * undefined, touching nothing, when no submission was escrowed since the last round.
 */
export async function publishRewards(
  clients: LedgerClients,
  deployment: DinDeployment,
  options: PublishRewardsOptions,
): Promise<PublishedRound | undefined> {
  const d = deployment.addresses;
  // Epochs accrue their payouts; escrow what a whole elapsed rewards interval holds before reading
  // submissions (a refused flush stays accrued and is retried next round).
  for (const network of deployment.networks) {
    await flushRewardsIfDue(clients, d.epochs, network.id).catch(() => undefined);
  }
  const previous = readRewardsFile(options.file);
  const fromBlock = options.fromBlock ?? (previous ? previous.toBlock + 1n : 0n);
  const latest = await clients.public.getBlock({ blockTag: "latest" });
  const toBlock = latest.number;
  if (fromBlock > toBlock) return undefined;
  const submissions = await readRewardsSubmissions(clients.public, d.rewardsCoordinator, fromBlock, toBlock);
  const ours = submissions.filter((s) => getAddress(s.avs) === getAddress(d.registry));
  if (ours.length === 0) return undefined;

  const earnings = await calculateEarnings(
    clients.public,
    d,
    ours,
    previous ? earningsOf(previous) : new Map(),
    { samples: options.samples ?? 1 },
  );
  const tree = buildRewardsTree(earnings);
  const rc = { address: d.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  // submitRoot wants an end strictly before the block it lands in; a node may simulate (and even mine) at
  // the latest block's timestamp, so the round ends one second before it.
  const end = Number(latest.timestamp) - 1;
  const lastEnd = await clients.public.readContract({
    ...rc,
    functionName: "currRewardsCalculationEndTimestamp",
  });
  if (end <= Number(lastEnd)) {
    throw new Error(
      `the last rewards root already covers up to timestamp ${lastEnd}; publish again after the ledger moves on`,
    );
  }
  const { request } = await clients.public.simulateContract({
    ...rc,
    functionName: "submitRoot",
    args: [tree.root, end],
    account: clients.wallet.account,
  });
  await sendAndWait(clients, request);
  const rootIndex =
    Number(await clients.public.readContract({ ...rc, functionName: "getDistributionRootsLength" })) - 1;

  const entries = [...earnings].map(([key, cumulativeEarnings]) => {
    const [earner, token] = key.split(":") as [Address, Address];
    return { earner, token, cumulativeEarnings };
  });
  writeRewardsFile(options.file, { rootIndex, root: tree.root, toBlock, earnings: entries });
  return { rootIndex, root: tree.root, earners: [...new Set(entries.map((e) => e.earner))] };
}
