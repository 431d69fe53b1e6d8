// What anyone may send to keep the service moving: executing a queued slash once its veto window is over.
// (Finalizing epochs and flushing their rewards are in epochs.ts, publishing rewards roots in
// rewardsPublisher.ts.)
import { dinSlasherAbi } from "../artifacts/index.js";
import { queuedSlash, type SlashListing } from "./guardianActions.js";
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

/** Anyone executes a queued slash once its veto window is over. */
export async function executeSlash(
  actor: LedgerActor,
  options: ActionOptions & { slashId: bigint },
): Promise<ActionResult<{ slash: SlashListing }>> {
  const d = actor.deployment.addresses;
  const { slash, block } = await queuedSlash(actor, options.slashId);
  if (block + 1n <= slash.vetoWindowEndsAt) {
    throw new LedgerActionError(
      `the veto window of slash ${slash.id} is still open until block ${slash.vetoWindowEndsAt} (now ${block}); execute it after`,
    );
  }
  const done = await perform(
    actor,
    [step(d.slasher, dinSlasherAbi, "execute", [options.slashId])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    slash,
    summary: `${done.dryRun ? "would execute" : "executed"} slash ${slash.id} of ${slash.operator}: ${formatAmount(slash.wad)} of its allocation on network ${slash.networkId}`,
  };
}
