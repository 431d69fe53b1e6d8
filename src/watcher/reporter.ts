// The watcher's SLA reports: at each epoch's end, the measurements of every network become the report
// (one OperatorMetrics per registered operator it probed) and are posted page by page, once, within the
// report window. The ledger is the judge of what is already posted: a crash between sending and saving
// never posts twice, and a report the ledger refuses for good is dropped rather than retried forever.
import type { Logger } from "pino";
import type { Address, Hash } from "viem";
import { type OperatorMetrics, sortMetrics, toPages } from "../ledger/din/epochs.js";
import { revertName, shortError } from "./errors.js";
import { epochMetrics } from "./measurements.js";
import { dropEpoch, lastPosted, markPosted, type WatcherState } from "./state.js";

/** The ledger calls the reporter makes (DinEpochs, as this watcher). */
export interface ReportLedger {
  /** The last block of (epoch)'s report window (it moves on after a guardian pause). */
  reportDeadline(epoch: bigint): Promise<bigint>;
  /** Whether this watcher's report of (network, epoch) is complete on the ledger. */
  hasReported(networkId: number, epoch: bigint): Promise<boolean>;
  /** How many pages of its report of (network, epoch) this watcher already posted. */
  reportPages(networkId: number, epoch: bigint): Promise<bigint>;
  /** Sends one page of the report and resolves once it is mined successfully. */
  submitReportPage(
    networkId: number,
    epoch: bigint,
    page: bigint,
    last: boolean,
    metrics: readonly OperatorMetrics[],
  ): Promise<Hash>;
}

/** What a {@link Reporter} works with. */
export type ReporterDeps = {
  ledger: ReportLedger;
  /** The watcher's state: its measurements, and what it posted. */
  state: () => WatcherState;
  save: () => void;
  /** The operators registered on a network now (the report lists those it probed). */
  registered: (networkId: number) => readonly Address[];
  /** True once the watcher is closing: a pass in flight stops between epochs. */
  closed: () => boolean;
  log: Logger;
};

/** Reverts after which a report can never be accepted: it is dropped. */
const refusedForGood = new Set(["ReportWindowOver", "AlreadyFinalized", "FinalizationStarted"]);

/** Posts the reports of ended epochs. */
export class Reporter {
  constructor(private readonly deps: ReporterDeps) {}

  /**
   * Posts every measured epoch that ended before `currentEpoch`, is not yet posted and is still within its
   * report window at ledger block `block`, oldest first.
   */
  async post(currentEpoch: bigint, block: bigint): Promise<void> {
    const { ledger, log } = this.deps;
    const state = this.deps.state();
    const due = state.measurements
      .filter((m) => BigInt(m.epoch) < currentEpoch)
      .sort((x, y) => (BigInt(x.epoch) < BigInt(y.epoch) ? -1 : 1));
    for (const entry of due) {
      if (this.deps.closed()) return;
      const epoch = BigInt(entry.epoch);
      const networkId = entry.networkId;
      const posted = lastPosted(state, networkId);
      if (posted !== undefined && epoch <= posted) {
        dropEpoch(state, networkId, epoch);
        continue;
      }
      // The window resumes after a guardian pause: the ledger knows the deadline.
      const deadline = await ledger.reportDeadline(epoch);
      if (block > deadline) {
        log.warn({ networkId, epoch: entry.epoch }, "report window closed before the report was posted");
        dropEpoch(state, networkId, epoch);
        this.deps.save();
        continue;
      }
      // A crash between sending and saving must not post twice: the ledger is the judge.
      const already = await ledger.hasReported(networkId, epoch);
      if (!already) {
        const metrics = sortMetrics(epochMetrics(entry, this.deps.registered(networkId)));
        try {
          // Page by page, resuming after the pages already on the ledger; the last page completes it.
          const pages = toPages(metrics);
          const onLedger = await ledger.reportPages(networkId, epoch);
          for (let page = Number(onLedger); page < pages.length; page++) {
            await ledger.submitReportPage(
              networkId,
              epoch,
              BigInt(page),
              page === pages.length - 1,
              pages[page] ?? [],
            );
          }
          log.info({ networkId, epoch: entry.epoch, operators: metrics.length }, "report posted");
        } catch (error) {
          const name = revertName(error);
          if (name !== undefined && refusedForGood.has(name)) {
            log.warn({ networkId, epoch: entry.epoch, reason: name }, "report not accepted; dropped");
            dropEpoch(state, networkId, epoch);
            this.deps.save();
            continue;
          }
          if (name !== "AlreadyReported") {
            log.error(
              { networkId, epoch: entry.epoch, error: shortError(error) },
              "posting the report failed; retrying",
            );
            continue;
          }
        }
      }
      markPosted(state, networkId, epoch);
      this.deps.save();
    }
  }
}
