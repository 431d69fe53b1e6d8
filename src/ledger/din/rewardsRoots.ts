// Rewards roots as the guardian sees them: every root the RewardsCoordinator holds, whether it is pending
// (inside its activation delay), active or disabled, and the guardian's one action on them: disabling a
// pending root before anyone can claim against it (a root published from a wrong calculation or a stolen
// updater key). Active roots cannot be disabled: what was claimable stays claimable.
import type { Address, Hex, PublicClient } from "viem";
import { getAddress, isAddressEqual } from "viem";
import { rewardsCoordinatorAbi } from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";
import {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  step,
} from "./perform.js";

/** One root of the RewardsCoordinator. */
export type RewardsRootListing = {
  index: number;
  root: Hex;
  /** End of the period the root pays for (unix seconds). */
  calculationEnd: number;
  /** When claims against it open (unix seconds). */
  activatedAt: number;
  status: "pending" | "active" | "disabled";
};

/** Every root, oldest first, with its state at the latest block. */
export async function listRewardsRoots(
  client: PublicClient,
  deployment: DinDeployment,
): Promise<{ now: number; roots: RewardsRootListing[] }> {
  const rc = { address: deployment.addresses.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const [length, block] = await Promise.all([
    client.readContract({ ...rc, functionName: "getDistributionRootsLength" }),
    client.getBlock({ blockTag: "latest" }),
  ]);
  const now = Number(block.timestamp);
  const roots = await Promise.all(
    Array.from({ length: Number(length) }, async (_, index): Promise<RewardsRootListing> => {
      const r = await client.readContract({
        ...rc,
        functionName: "getDistributionRootAtIndex",
        args: [BigInt(index)],
      });
      return {
        index,
        root: r.root,
        calculationEnd: r.rewardsCalculationEndTimestamp,
        activatedAt: r.activatedAt,
        status: r.disabled ? "disabled" : r.activatedAt > now ? "pending" : "active",
      };
    }),
  );
  return { now, roots };
}

/** Disables a pending root (the guardian, the rewards updater or the coordinator's owner). */
export async function disableRewardsRoot(
  actor: LedgerActor,
  options: ActionOptions & { rootIndex: number },
): Promise<ActionResult<{ root: RewardsRootListing }>> {
  const me = actor.clients.wallet.account.address;
  const rc = { address: actor.deployment.addresses.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const client = actor.clients.public;
  const { now, roots } = await listRewardsRoots(client, actor.deployment);
  const root = roots[options.rootIndex];
  if (!root) throw new LedgerActionError(`no rewards root ${options.rootIndex} (there are ${roots.length})`);
  if (root.status === "disabled")
    throw new LedgerActionError(`rewards root ${root.index} is already disabled`);
  // The next block's timestamp is at least one second later: a root activating then is already claimable.
  if (root.activatedAt <= now + 1) {
    throw new LedgerActionError(
      `rewards root ${root.index} activated at ${new Date(root.activatedAt * 1000).toISOString()}; an active root cannot be disabled`,
    );
  }
  const [updater, owner, guardian] = await Promise.all(
    (["rewardsUpdater", "owner", "rootGuardian"] as const).map((functionName) =>
      client.readContract({ ...rc, functionName }),
    ),
  );
  if (![updater, owner, guardian].some((who) => isAddressEqual(getAddress(who as Address), me))) {
    throw new LedgerActionError(
      `${me} may not disable rewards roots (the root guardian ${guardian}, the rewards updater or the owner may)`,
    );
  }
  const done = await perform(
    actor,
    [step(rc.address, rewardsCoordinatorAbi, "disableRoot", [root.index])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    root: { ...root, status: done.dryRun ? root.status : "disabled" },
    summary: `${done.dryRun ? "would disable" : "disabled"} rewards root ${root.index} (${root.root}): nobody can claim against it`,
  };
}
