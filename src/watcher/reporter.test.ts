import type { Address, Hash } from "viem";
import { describe, expect, it } from "vitest";
import { freshState, recordingLog, reverted } from "../../test/watcher/fakes.js";
import type { OperatorMetrics } from "../ledger/din/epochs.js";
import { recordProbe } from "./measurements.js";
import { Reporter, type ReportLedger } from "./reporter.js";
import { epochEntry, type WatcherState } from "./state.js";

const A: Address = "0x0000000000000000000000000000000000000001";
const B: Address = "0x0000000000000000000000000000000000000002";
const GONE: Address = "0x0000000000000000000000000000000000000003";
const ETH = 1;
const BASE = 2;

type Page = { networkId: number; epoch: bigint; page: bigint; last: boolean; metrics: OperatorMetrics[] };

/** DinEpochs as one watcher sees it: deadlines, its complete reports, its pages, and what it sent. */
class FakeEpochs implements ReportLedger {
  readonly deadlines = new Map<bigint, bigint>();
  readonly complete = new Set<string>();
  readonly pages = new Map<string, number>();
  readonly sent: Page[] = [];
  /** Thrown by the next submitReportPage calls, in order. */
  readonly failures: Error[] = [];

  async reportDeadline(epoch: bigint) {
    return this.deadlines.get(epoch) ?? 1_000n;
  }
  async hasReported(networkId: number, epoch: bigint) {
    return this.complete.has(`${networkId}:${epoch}`);
  }
  async reportPages(networkId: number, epoch: bigint) {
    return BigInt(this.pages.get(`${networkId}:${epoch}`) ?? 0);
  }
  async submitReportPage(
    networkId: number,
    epoch: bigint,
    page: bigint,
    last: boolean,
    metrics: readonly OperatorMetrics[],
  ): Promise<Hash> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const key = `${networkId}:${epoch}`;
    this.sent.push({ networkId, epoch, page, last, metrics: [...metrics] });
    this.pages.set(key, Number(page) + 1);
    if (last) this.complete.add(key);
    return `0x${"ab".repeat(32)}`;
  }
}

function setup(registered: Record<number, Address[]> = { [ETH]: [A, B], [BASE]: [A] }) {
  const ledger = new FakeEpochs();
  const state = freshState();
  const { log, problems } = recordingLog();
  let saves = 0;
  let closed = false;
  const reporter = new Reporter({
    ledger,
    state: () => state,
    save: () => {
      saves++;
    },
    registered: (networkId) => registered[networkId] ?? [],
    closed: () => closed,
    log,
  });
  return {
    ledger,
    state,
    reporter,
    problems,
    saves: () => saves,
    close: () => {
      closed = true;
    },
  };
}

/** Measures `operator` in (network, epoch): `ok` good probes of 10 ms and `failed` failed ones. */
function measure(
  state: WatcherState,
  networkId: number,
  epoch: bigint,
  operator: Address,
  ok: number,
  failed = 0,
) {
  const entry = epochEntry(state, networkId, epoch);
  for (let i = 0; i < ok; i++) recordProbe(entry, operator, { ok: true, latencyMs: 10, lagBlocks: 0 });
  for (let i = 0; i < failed; i++) recordProbe(entry, operator, { ok: false });
}

describe("the reporter", () => {
  it("posts each ended epoch once, oldest first, and never the epoch still running", async () => {
    const { ledger, state, reporter } = setup();
    measure(state, ETH, 4n, A, 3);
    measure(state, ETH, 5n, A, 2, 2);
    measure(state, BASE, 5n, A, 1);
    measure(state, ETH, 6n, A, 5); // the current epoch

    await reporter.post(6n, 100n);
    expect(ledger.sent.map((p) => [p.networkId, p.epoch])).toEqual([
      [ETH, 4n],
      [ETH, 5n],
      [BASE, 5n],
    ]);
    expect(state.lastPosted).toEqual({ [ETH]: "5", [BASE]: "5" });
    // Only the running epoch's measurements are left.
    expect(state.measurements.map((m) => [m.networkId, m.epoch])).toEqual([[ETH, "6"]]);

    await reporter.post(6n, 101n);
    expect(ledger.sent).toHaveLength(3);
  });

  it("reports every registered operator it probed, sorted, and leaves out one that left the registry", async () => {
    const { ledger, state, reporter } = setup({ [ETH]: [B, A] });
    measure(state, ETH, 1n, B, 0, 4);
    measure(state, ETH, 1n, A, 4);
    measure(state, ETH, 1n, GONE, 4);
    await reporter.post(2n, 50n);
    expect(ledger.sent).toHaveLength(1);
    expect(ledger.sent[0]?.last).toBe(true);
    expect(ledger.sent[0]?.metrics).toEqual([
      { operator: A, availabilityBps: 10_000, p50LatencyMs: 10, lagBlocks: 0 },
      { operator: B, availabilityBps: 0, p50LatencyMs: 0, lagBlocks: 0 },
    ]);
  });

  it("does not post an epoch the ledger already has (a crash between sending and saving), but marks it posted", async () => {
    const { ledger, state, reporter } = setup();
    measure(state, ETH, 3n, A, 1);
    ledger.complete.add(`${ETH}:3`);
    await reporter.post(4n, 10n);
    expect(ledger.sent).toEqual([]);
    expect(state.lastPosted[ETH]).toBe("3");
    expect(state.measurements).toEqual([]);
  });

  it("resumes a report after the pages already on the ledger, the last one completing it", async () => {
    const registered = Array.from(
      { length: 70 },
      (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address,
    );
    const { ledger, state, reporter } = setup({ [ETH]: registered });
    for (const operator of registered) measure(state, ETH, 2n, operator, 1);
    ledger.pages.set(`${ETH}:2`, 1);
    await reporter.post(3n, 10n);
    expect(ledger.sent.map((p) => [p.page, p.last, p.metrics.length])).toEqual([[1n, true, 6]]);
  });

  it("takes an 'already reported' revert as posted: it is not sent again on the next passes", async () => {
    const { ledger, state, reporter, problems } = setup();
    measure(state, ETH, 7n, A, 1);
    ledger.failures.push(reverted("AlreadyReported"));
    await reporter.post(8n, 10n);
    expect(state.lastPosted[ETH]).toBe("7");
    expect(state.measurements).toEqual([]);
    await reporter.post(8n, 11n);
    await reporter.post(9n, 30n);
    expect(ledger.sent).toEqual([]);
    expect(problems()).toEqual([]);
  });

  it.each(["ReportWindowOver", "AlreadyFinalized", "FinalizationStarted"])(
    "drops a report the ledger refuses for good (%s) and never retries it",
    async (error) => {
      const { ledger, state, reporter, problems } = setup();
      measure(state, ETH, 7n, A, 1);
      ledger.failures.push(reverted(error));
      await reporter.post(8n, 10n);
      expect(state.measurements).toEqual([]);
      expect(state.lastPosted[ETH]).toBeUndefined();
      await reporter.post(8n, 11n);
      expect(ledger.sent).toEqual([]);
      expect(problems()).toEqual(["report not accepted; dropped"]);
    },
  );

  it("retries a report whose sending failed for another reason, on the next pass", async () => {
    const { ledger, state, reporter, problems } = setup();
    measure(state, ETH, 7n, A, 1);
    ledger.failures.push(new Error("socket hang up"), reverted("EnforcedPause"));
    await reporter.post(8n, 10n);
    await reporter.post(8n, 11n);
    expect(ledger.sent).toEqual([]);
    expect(state.measurements).toHaveLength(1);
    expect(problems()).toEqual([
      "posting the report failed; retrying",
      "posting the report failed; retrying",
    ]);
    await reporter.post(8n, 12n);
    expect(ledger.sent.map((p) => p.epoch)).toEqual([7n]);
    expect(state.lastPosted[ETH]).toBe("7");
  });

  it("drops an epoch whose report window closed, without sending, and keeps posting later ones", async () => {
    const { ledger, state, reporter, problems } = setup();
    measure(state, ETH, 3n, A, 1);
    measure(state, ETH, 4n, A, 1);
    ledger.deadlines.set(3n, 20n);
    ledger.deadlines.set(4n, 40n);
    await reporter.post(5n, 21n);
    expect(ledger.sent.map((p) => p.epoch)).toEqual([4n]);
    expect(state.measurements).toEqual([]);
    expect(problems()).toEqual(["report window closed before the report was posted"]);
  });

  it("forgets measurements of an epoch at or below the last one posted (a restart with an old state)", async () => {
    const { ledger, state, reporter } = setup();
    state.lastPosted[ETH] = "5";
    measure(state, ETH, 4n, A, 1);
    measure(state, ETH, 5n, A, 1);
    await reporter.post(6n, 10n);
    expect(ledger.sent).toEqual([]);
    expect(state.measurements).toEqual([]);
  });

  it("stops between epochs once the watcher is closing", async () => {
    const { ledger, state, reporter, close } = setup();
    measure(state, ETH, 1n, A, 1);
    measure(state, ETH, 2n, A, 1);
    const original = ledger.submitReportPage.bind(ledger);
    ledger.submitReportPage = async (...args) => {
      close();
      return original(...args);
    };
    await reporter.post(3n, 10n);
    expect(ledger.sent.map((p) => p.epoch)).toEqual([1n]);
    expect(state.measurements.map((m) => m.epoch)).toEqual(["2"]);
  });
});
