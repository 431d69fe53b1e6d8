import type { Account, Chain, Hash, PublicClient, Transport, WalletClient } from "viem";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WATCHER } from "../../test/watcher/fakes.js";
import type { DinAddresses } from "../ledger/din/deploy.js";
import { TransactionRevertedError } from "../ledger/send.js";
import { WatcherLedger } from "./ledger.js";

const hash = (n: number): Hash => `0x${n.toString(16).padStart(64, "0")}`;

/** A ledger whose receipts come `mineMs` after a transaction is sent; `reverts` holds hashes that revert. */
function ledgerWith(mineMs: number, reverts = new Set<Hash>()) {
  const client = {
    waitForTransactionReceipt: ({ hash }: { hash: Hash }) =>
      new Promise((resolve) =>
        setTimeout(() => resolve({ status: reverts.has(hash) ? "reverted" : "success" }), mineMs),
      ),
  } as unknown as PublicClient<Transport, Chain>;
  return new WatcherLedger(
    client,
    {} as WalletClient<Transport, Chain, Account>,
    {} as DinAddresses,
    WATCHER,
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the watcher's ledger", () => {
  it("sends one transaction at a time: the next is written only once the previous one is mined", async () => {
    const ledger = ledgerWith(1000);
    const written: [number, number][] = [];
    const start = Date.now();
    const sends = [1, 2, 3].map((n) =>
      ledger.send(`tx ${n}`, async () => {
        written.push([n, Date.now() - start]);
        return hash(n);
      }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([[1, 0]]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(await Promise.all(sends)).toEqual([hash(1), hash(2), hash(3)]);
    expect(written).toEqual([
      [1, 0],
      [2, 1000],
      [3, 2000],
    ]);
  });

  it("fails a transaction whose receipt says it reverted, or that could not be written, and goes on with the next", async () => {
    const ledger = ledgerWith(10, new Set([hash(1)]));
    const reverted = ledger.send("submitReportPage", async () => hash(1));
    const unwritten = ledger.send("execute", async () => {
      throw new Error("nonce too low");
    });
    const next = ledger.send("attestBlockHash", async () => hash(3));
    const outcomes = Promise.allSettled([reverted, unwritten, next]);
    await vi.advanceTimersByTimeAsync(100);
    expect(await outcomes).toEqual([
      { status: "rejected", reason: new TransactionRevertedError("submitReportPage", hash(1)) },
      { status: "rejected", reason: new Error("nonce too low") },
      { status: "fulfilled", value: hash(3) },
    ]);
  });
});
