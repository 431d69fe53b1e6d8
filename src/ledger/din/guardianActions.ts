// The guardian's action on slashes: it lists the queued, vetoed and executed slashes and vetoes a queued
// one within its veto window. (Its pauses are in pauses.ts, its disabling of rewards roots in
// rewardsRoots.ts; executing a slash after the window is anyone's, in keeperActions.ts.)
import type { PublicClient } from "viem";
import { dinSlasherAbi } from "../artifacts/index.js";
import { type DinDeployment, VETO_ROLE } from "./deploy.js";
import { readSlashes, type SlashRecord } from "./directory.js";
import {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  step,
} from "./perform.js";

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
  return slashes.filter((s) => filter.status === undefined || s.status === filter.status).map(listing);
}

function listing(slash: SlashRecord): SlashListing {
  return { ...slash, vetoWindowEndsAt: BigInt(slash.queuedAt) + BigInt(slash.vetoWindow) };
}

/** A queued slash by id (refused when there is none, or it is no longer queued), with the latest block. */
export async function queuedSlash(
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
  // The queue only grows: read from this slash on, not every slash before it.
  const [record] = await readSlashes(client, d, slashId);
  const slash = listing(record!);
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
