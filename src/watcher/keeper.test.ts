import type { Address, Hash } from "viem";
import { describe, expect, it } from "vitest";
import { freshState, OTHER_WATCHER, recordingLog, reverted, WATCHER } from "../../test/watcher/fakes.js";
import type { SlashRecord } from "../ledger/din/directory.js";
import { Keeper, type KeeperLedger } from "./keeper.js";

const ETH = 1;
const GATEWAY: Address = "0x00000000000000000000000000000000000000e1";
const OPERATOR: Address = "0x00000000000000000000000000000000000000f1";

type EpochRow = { reportCount: bigint; finalized: boolean; usage: bigint; deadline: bigint };

/** DinEpochs and DinSlasher as the keeper sees them. Epochs are 10 blocks long: epoch e ends at block 10e + 9. */
class FakeLedger implements KeeperLedger {
  readonly epochs = new Map<string, EpochRow>();
  readonly finalized: [number, bigint, bigint][] = [];
  readonly executed: bigint[] = [];
  slashes: SlashRecord[] = [];
  watchers: Address[] = [WATCHER];
  gateways: Address[] = [GATEWAY];
  /** Thrown by the next finalize / execute calls, in order. */
  readonly finalizeFailures: Error[] = [];
  readonly executeFailures: Error[] = [];
  /** Applied to the ledger when a finalize fails (another keeper finalized meanwhile, say). */
  onFinalizeFailure: (() => void) | undefined;

  row(networkId: number, epoch: bigint): EpochRow {
    const key = `${networkId}:${epoch}`;
    let row = this.epochs.get(key);
    if (!row) {
      row = { reportCount: 0n, finalized: false, usage: 0n, deadline: epoch * 10n + 9n + 5n };
      this.epochs.set(key, row);
    }
    return row;
  }

  async getEpoch(networkId: number, epoch: bigint) {
    const { reportCount, finalized } = this.row(networkId, epoch);
    return { reportCount, finalized };
  }
  async epochBounds(epoch: bigint) {
    return [epoch * 10n, epoch * 10n + 9n] as const;
  }
  async reportDeadline(epoch: bigint) {
    return this.row(ETH, epoch).deadline;
  }
  async usageReportCount(networkId: number, epoch: bigint) {
    return this.row(networkId, epoch).usage;
  }
  async finalize(networkId: number, epoch: bigint, fromBlock: bigint) {
    const failure = this.finalizeFailures.shift();
    if (failure) {
      this.onFinalizeFailure?.();
      throw failure;
    }
    this.finalized.push([networkId, epoch, fromBlock]);
    this.row(networkId, epoch).finalized = true;
  }
  async readSlashes(fromId: bigint) {
    return this.slashes.filter((s) => s.id >= fromId).map((s) => ({ ...s }));
  }
  async execute(slashId: bigint): Promise<Hash> {
    const failure = this.executeFailures.shift();
    if (failure) throw failure;
    this.executed.push(slashId);
    const slash = this.slashes.find((s) => s.id === slashId);
    if (slash) slash.status = "executed";
    return `0x${"cd".repeat(32)}`;
  }
  async activeWatchers() {
    return [...this.watchers];
  }
  async activeGateways() {
    return [...this.gateways];
  }
}

function setup(networks = [{ id: ETH, name: "ethereum" }]) {
  const ledger = new FakeLedger();
  const state = freshState();
  const { log, problems } = recordingLog();
  const keeper = new Keeper({
    ledger,
    address: WATCHER,
    networks,
    state: () => state,
    save: () => {},
    closed: () => false,
    log,
  });
  return { ledger, state, keeper, problems };
}

const clock = (epoch: bigint) => ({ epoch, reportQuorum: 1 });

function slash(id: bigint, queuedAt: number, status: SlashRecord["status"] = "queued"): SlashRecord {
  return {
    id,
    operator: OPERATOR,
    networkId: ETH,
    queuedAt,
    status,
    reason: "availability",
    wad: 1n,
    vetoWindow: 10,
  };
}

describe("the keeper finalizing epochs", () => {
  it("finalizes only ended epochs not yet finalized, and only once their window closed or everyone reported", async () => {
    const { ledger, state, keeper } = setup();
    state.finalizeFrom[ETH] = "2";
    ledger.row(ETH, 2n).finalized = true; // done already
    ledger.row(ETH, 3n).reportCount = 0n; // window over at block 60 (deadline 44): finalized whatever came in
    ledger.row(ETH, 4n).reportCount = 0n; // window open (deadline 54), nobody reported: waits
    Object.assign(ledger.row(ETH, 5n), { reportCount: 1n, usage: 1n, deadline: 100n }); // everyone reported
    await keeper.finalizeEpochs(clock(6n), 50n);
    expect(ledger.finalized).toEqual([
      [ETH, 3n, 39n],
      [ETH, 5n, 59n],
    ]);
    // Epoch 6 is running: never looked at. The cursor stops below the first epoch not yet finalized.
    expect(ledger.epochs.has(`${ETH}:6`)).toBe(false);
    expect(state.finalizeFrom[ETH]).toBe("4");

    await keeper.finalizeEpochs(clock(6n), 55n);
    expect(ledger.finalized.map(([, epoch]) => epoch)).toEqual([3n, 5n, 4n]);
    expect(state.finalizeFrom[ETH]).toBe("6");
  });

  it("before the deadline waits for every gateway's usage too, and leaves the early finalization to the designated watcher", async () => {
    const { ledger, state, keeper } = setup();
    state.finalizeFrom[ETH] = "1";
    ledger.watchers = [WATCHER, OTHER_WATCHER]; // epoch 1 + network 1 = 2: duty of watchers[0], this one
    Object.assign(ledger.row(ETH, 1n), { reportCount: 2n, usage: 0n, deadline: 100n });
    await keeper.finalizeEpochs(clock(3n), 20n);
    expect(ledger.finalized).toEqual([]);

    ledger.row(ETH, 1n).usage = 1n;
    Object.assign(ledger.row(ETH, 2n), { reportCount: 2n, usage: 1n, deadline: 100n }); // duty of the other
    await keeper.finalizeEpochs(clock(3n), 21n);
    expect(ledger.finalized.map(([, epoch]) => epoch)).toEqual([1n]);
    expect(state.finalizeFrom[ETH]).toBe("2");
  });

  it("counts an epoch another keeper finalized meanwhile as done, and retries quietly one not finalizable yet", async () => {
    const { ledger, state, keeper, problems } = setup();
    state.finalizeFrom[ETH] = "1";
    ledger.row(ETH, 1n).deadline = 0n;
    ledger.row(ETH, 2n).deadline = 0n;
    ledger.finalizeFailures.push(reverted("AlreadyFinalized"), reverted("NotFinalizable"));
    await keeper.finalizeEpochs(clock(3n), 30n);
    expect(state.finalizeFrom[ETH]).toBe("2");
    expect(problems()).toEqual([]);

    ledger.finalizeFailures.push(new Error("nonce too low"));
    ledger.onFinalizeFailure = () => {
      ledger.row(ETH, 2n).finalized = true;
    };
    await keeper.finalizeEpochs(clock(3n), 31n);
    expect(state.finalizeFrom[ETH]).toBe("3");
    expect(problems()).toEqual([]);
  });

  it("logs and retries a finalization that failed for an unknown reason", async () => {
    const { ledger, state, keeper, problems } = setup();
    state.finalizeFrom[ETH] = "1";
    ledger.row(ETH, 1n).deadline = 0n;
    ledger.finalizeFailures.push(new Error("socket hang up"));
    await keeper.finalizeEpochs(clock(2n), 30n);
    expect(state.finalizeFrom[ETH]).toBe("1");
    expect(problems()).toEqual(["finalize failed; retrying"]);
    await keeper.finalizeEpochs(clock(2n), 31n);
    expect(state.finalizeFrom[ETH]).toBe("2");
  });

  it("does nothing in epoch 0, and a watcher back after long looks at the last epochs only, a batch at a time", async () => {
    const { ledger, state, keeper } = setup();
    await keeper.finalizeEpochs(clock(0n), 5n);
    expect(ledger.epochs.size).toBe(0);
    expect(state.finalizeFrom).toEqual({});

    state.finalizeFrom[ETH] = "0";
    for (let e = 0n; e < 100n; e++) ledger.row(ETH, e).deadline = 0n;
    await keeper.finalizeEpochs(clock(100n), 1_000n);
    expect(ledger.finalized.map(([, epoch]) => epoch)).toEqual([92n, 93n, 94n, 95n, 96n, 97n, 98n, 99n]);
    expect(state.finalizeFrom[ETH]).toBe("100");
  });

  it("starts a fresh state at the epoch that just ended", async () => {
    const { ledger, state, keeper } = setup();
    ledger.row(ETH, 4n).deadline = 0n;
    await keeper.finalizeEpochs(clock(5n), 60n);
    expect(ledger.finalized.map(([, epoch]) => epoch)).toEqual([4n]);
    expect(state.finalizeFrom[ETH]).toBe("5");
  });
});

describe("the keeper executing slashes", () => {
  it("executes only queued slashes whose veto window passed, never vetoed or executed ones", async () => {
    const { ledger, state, keeper } = setup();
    ledger.slashes = [slash(0n, 1, "executed"), slash(1n, 2, "vetoed"), slash(2n, 5), slash(3n, 20)];
    await keeper.executeSlashes(16n); // slash 2 was due after block 15, slash 3 after block 30
    expect(ledger.executed).toEqual([2n]);
    expect(state.slashCursor).toBe("3");

    await keeper.executeSlashes(30n);
    expect(ledger.executed).toEqual([2n]);
    await keeper.executeSlashes(31n);
    expect(ledger.executed).toEqual([2n, 3n]);
    expect(state.slashCursor).toBe("4");
  });

  it("leaves a slash to its designated watcher for three blocks", async () => {
    const { ledger, keeper } = setup();
    ledger.watchers = [OTHER_WATCHER, WATCHER]; // slash 0 is watchers[0]'s duty
    ledger.slashes = [slash(0n, 5)];
    await keeper.executeSlashes(16n);
    await keeper.executeSlashes(18n);
    expect(ledger.executed).toEqual([]);
    await keeper.executeSlashes(19n);
    expect(ledger.executed).toEqual([0n]);
  });

  it("takes a slash another watcher executed or vetoed meanwhile as settled, and retries one whose window is still open", async () => {
    const { ledger, state, keeper, problems } = setup();
    ledger.slashes = [slash(0n, 5), slash(1n, 5), slash(2n, 5)];
    ledger.executeFailures.push(reverted("NotQueued"), reverted("VetoWindowOpen"), new Error("timeout"));
    await keeper.executeSlashes(16n);
    expect(state.slashCursor).toBe("1");
    expect(problems()).toEqual(["executing a slash failed; retrying"]);

    const vetoed = ledger.slashes[1];
    if (vetoed) vetoed.status = "vetoed";
    await keeper.executeSlashes(17n);
    expect(ledger.executed).toEqual([2n]);
    expect(state.slashCursor).toBe("3");
  });
});
