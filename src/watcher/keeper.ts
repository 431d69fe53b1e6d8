// The keeper's chores anyone may do: finalize ended epochs (once every active watcher and gateway reported
// and the quorum is met, or once the report window closed) and execute queued slashes whose veto window has
// passed. Duties are spread across the active watchers (duties.ts); the others step in when the designated
// one did not act. Cursors in the watcher's state remember how far everything below is settled.
import type { Logger } from "pino";
import type { Address, Hash } from "viem";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { SlashRecord } from "../ledger/din/directory.js";
import { finalizationThresholds } from "../ledger/din/epochs.js";
import { designated } from "./duties.js";
import { revertName, shortError } from "./errors.js";
import type { WatcherState } from "./state.js";

/** The ledger calls the keeper makes (DinEpochs, DinSlasher, and who is active in the registry). */
export interface KeeperLedger {
  /** (network, epoch)'s complete watcher reports so far, and whether it is finalized. */
  getEpoch(networkId: number, epoch: bigint): Promise<{ reportCount: bigint; finalized: boolean }>;
  /** The first and last block of an epoch. */
  epochBounds(epoch: bigint): Promise<readonly [start: bigint, end: bigint]>;
  /** The last block of (epoch)'s report window (it moves on after a guardian pause). */
  reportDeadline(epoch: bigint): Promise<bigint>;
  /** How many gateways reported (network, epoch)'s usage. */
  usageReportCount(networkId: number, epoch: bigint): Promise<bigint>;
  /**
   * Runs (network, epoch)'s finalization to its end, from wherever it stands, with the reports and usage
   * posted from block `fromBlock` on; resolves once every step is mined.
   */
  finalize(networkId: number, epoch: bigint, fromBlock: bigint): Promise<void>;
  /** Every slash queued, from id `fromId` on. */
  readSlashes(fromId: bigint): Promise<SlashRecord[]>;
  /** Executes a queued slash; resolves once it is mined. */
  execute(slashId: bigint): Promise<Hash>;
  /** Active watchers, sorted by address. */
  activeWatchers(): Promise<Address[]>;
  /** Active gateways, sorted by address. */
  activeGateways(): Promise<Address[]>;
}

/** What a {@link Keeper} works with. */
export type KeeperDeps = {
  ledger: KeeperLedger;
  /** This watcher's address (which duties are its own). */
  address: Address;
  networks: readonly Pick<DinNetwork, "id" | "name">[];
  state: () => WatcherState;
  save: () => void;
  /** True once the watcher is closing: a pass in flight stops. */
  closed: () => boolean;
  log: Logger;
};

// Epochs looked at per network and keeper pass, so a watcher coming back after long does not flood.
export const finalizeBatch = 8;
// A watcher not designated for a slash executes it this many blocks after the designated one could.
const executeGrace = 3n;
/** Reverts of a finalization step that only mean "not now" (or another keeper is at it): not worth a log. */
const notYet = new Set(["NotFinalizable", "ReportsMismatch", "InvalidPage"]);

/** Finalizes epochs and executes slashes. */
export class Keeper {
  constructor(private readonly deps: KeeperDeps) {}

  /**
   * Finalizes ended epochs (before `clock.epoch`) once every active watcher reported (and the quorum is
   * met) or the window closed at ledger block `block`.
   */
  async finalizeEpochs(clock: { epoch: bigint; reportQuorum: number }, block: bigint): Promise<void> {
    if (clock.epoch === 0n) return;
    const { ledger, log } = this.deps;
    const state = this.deps.state();
    let activeWatchers: Address[] | undefined;
    let activeGateways: Address[] | undefined;
    for (const network of this.deps.networks) {
      const key = String(network.id);
      let from = state.finalizeFrom[key] === undefined ? clock.epoch - 1n : BigInt(state.finalizeFrom[key]);
      if (clock.epoch - from > BigInt(finalizeBatch * 4)) from = clock.epoch - BigInt(finalizeBatch);
      let advanced = from;
      let contiguous = true;
      for (let epoch = from; epoch < clock.epoch && epoch < from + BigInt(finalizeBatch); epoch++) {
        if (this.deps.closed()) return;
        const { reportCount, finalized } = await ledger.getEpoch(network.id, epoch);
        let done = finalized;
        if (!done) {
          const [, end] = await ledger.epochBounds(epoch);
          const deadline = await ledger.reportDeadline(epoch);
          const windowOver = block > deadline;
          activeWatchers ??= await ledger.activeWatchers();
          activeGateways ??= await ledger.activeGateways();
          // Early finalization waits for every gateway's usage too: a usage report after finalize is refused,
          // and the epoch's fees would be split without the relays it counts.
          const usageCount = await ledger.usageReportCount(network.id, epoch);
          // Before the deadline the ledger finalizes only once the tolerated minority of watchers cannot
          // decide (every admitted watcher when their number is odd).
          const { early } = finalizationThresholds(
            Number(reportCount),
            activeWatchers.length,
            clock.reportQuorum,
          );
          const everyoneReported =
            reportCount >= BigInt(early) &&
            reportCount >= BigInt(activeWatchers.length) &&
            usageCount >= BigInt(activeGateways.length);
          const mine = designated(activeWatchers, this.deps.address, epoch + BigInt(network.id));
          if (windowOver || (everyoneReported && mine)) {
            try {
              // In steps (judging, settling, paying), resuming where this or another keeper stopped.
              await ledger.finalize(network.id, epoch, end);
              log.info(
                { network: network.name, epoch: epoch.toString(), reports: Number(reportCount) },
                "epoch finalized",
              );
              done = true;
            } catch (error) {
              const name = revertName(error);
              if (name === "AlreadyFinalized" || (await ledger.getEpoch(network.id, epoch)).finalized)
                done = true;
              else if (name === undefined || !notYet.has(name)) {
                log.warn(
                  { network: network.name, epoch: epoch.toString(), error: shortError(error) },
                  "finalize failed; retrying",
                );
              }
            }
          }
        }
        if (done && contiguous) advanced = epoch + 1n;
        else contiguous = false;
      }
      if (advanced !== from || state.finalizeFrom[key] === undefined) {
        state.finalizeFrom[key] = advanced.toString();
        this.deps.save();
      }
    }
  }

  /** Executes queued slashes whose veto window has passed at ledger block `block` (anyone may; the first wins). */
  async executeSlashes(block: bigint): Promise<void> {
    const { ledger, log } = this.deps;
    const state = this.deps.state();
    const cursor = BigInt(state.slashCursor);
    const slashes = await ledger.readSlashes(cursor);
    if (slashes.length === 0) return;
    let next = cursor;
    let contiguous = true;
    const watchers = await ledger.activeWatchers();
    for (const slash of slashes) {
      if (this.deps.closed()) return;
      let settled = slash.status !== "queued";
      // The designated watcher executes in the first block after the window; the others a few blocks later.
      const due =
        BigInt(slash.queuedAt) +
        BigInt(slash.vetoWindow) +
        (designated(watchers, this.deps.address, slash.id) ? 0n : executeGrace);
      if (!settled && block > due) {
        try {
          await ledger.execute(slash.id);
          log.info({ slashId: slash.id.toString(), operator: slash.operator }, "slash executed");
          settled = true;
        } catch (error) {
          const name = revertName(error);
          const [now] = await ledger.readSlashes(slash.id);
          if (name === "NotQueued" || (now && now.id === slash.id && now.status !== "queued")) settled = true;
          else if (name !== "VetoWindowOpen") {
            log.warn(
              { slashId: slash.id.toString(), error: shortError(error) },
              "executing a slash failed; retrying",
            );
          }
        }
      }
      if (settled && contiguous) next = slash.id + 1n;
      else contiguous = false;
    }
    if (next !== cursor) {
      state.slashCursor = next.toString();
      this.deps.save();
    }
  }
}
