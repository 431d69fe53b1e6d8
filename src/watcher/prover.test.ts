import { type Address, type Hash, type Hex, zeroHash } from "viem";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  freshState,
  LEDGER_CHAIN_ID,
  OTHER_WATCHER,
  recordingLog,
  reverted,
  WATCHER,
} from "../../test/watcher/fakes.js";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { Relay } from "../ledger/din/relay.js";
import { type EvidenceLedger, Prover } from "./prover.js";

// WATCHER (…a1) sorts before OTHER_WATCHER (…b2): with both active, an operator whose address is even is
// this watcher's duty, an odd one the other's.
const MINE: Address = "0x0000000000000000000000000000000000000010";
const THEIRS: Address = "0x0000000000000000000000000000000000000011";
const DEVNET: DinNetwork = { id: 1, name: "devnet", chainId: BigInt(LEDGER_CHAIN_ID), minStake: 0n };
const ETHEREUM: DinNetwork = { id: 2, name: "ethereum", chainId: 1n, minStake: 0n };
const QUIET_MS = 10_000;

const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const TX: Hash = hash(0xfeed);

/** A signed block hash claim: block `blockNumber` has hash `claimed`, served at `servedAt`. */
function lie(n: number, blockNumber: bigint, claimed: Hex, servedAt = 1_000n) {
  const relay: Relay = {
    chainId: 0n,
    requestHash: hash(n),
    responseHash: hash(n + 1),
    blockNumber,
    blockHash: claimed,
    servedAt,
  };
  return { relay, signature: `0x${"11".repeat(65)}` as Hex, digest: hash(0xd000 + n) };
}

/** DinSlasher, the registry and the ledger's own blocks, as the prover sees them. */
class FakeSlasher implements EvidenceLedger {
  readonly used = new Set<Hex>();
  readonly jailed = new Set<string>();
  watchers: Address[] = [WATCHER];
  /** The ledger's own blocks: hash(1000 + n), timestamp 10 n. */
  readonly canonical = new Map<string, Hex>();
  readonly fixedAt = new Map<string, bigint>();
  readonly proofs: { kind: string; relay: Relay }[] = [];
  readonly attestations: [bigint, bigint, Hex][] = [];
  /** Thrown by the next proof sent, in order. */
  readonly failures: Error[] = [];
  readonly attestFailures: Error[] = [];

  async relayUsed(digest: Hex) {
    return this.used.has(digest);
  }
  async isJailed(operator: Address, networkId: number) {
    return this.jailed.has(`${networkId}:${operator}`);
  }
  async activeWatchers() {
    return [...this.watchers];
  }
  async block(blockNumber: bigint) {
    return { hash: hash(1000 + Number(blockNumber)), timestamp: 10n * blockNumber };
  }
  async blockHeader(blockNumber: bigint): Promise<Hex> {
    return `0x${blockNumber.toString(16).padStart(4, "0")}`;
  }
  private prove(kind: string, relay: Relay): Hash {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.proofs.push({ kind, relay });
    return TX;
  }
  async proveWrongBlockHash(relay: Relay) {
    return this.prove("proven", relay);
  }
  async attestBlockHash(chainId: bigint, blockNumber: bigint, canonical: Hex) {
    const failure = this.attestFailures.shift();
    if (failure) throw failure;
    this.attestations.push([chainId, blockNumber, canonical]);
    return TX;
  }
  async canonicalHash(chainId: bigint, blockNumber: bigint) {
    return this.canonical.get(`${chainId}:${blockNumber}`) ?? zeroHash;
  }
  async canonicalFixedAt(chainId: bigint, blockNumber: bigint) {
    return this.fixedAt.get(`${chainId}:${blockNumber}`) ?? 0n;
  }
  async proveWrongBlockHashAttested(relay: Relay) {
    return this.prove("attested", relay);
  }
}

/** A prover of WATCHER; the slasher's finality delay is `finalityDelay` ("unknown": it cannot be read). */
function setup(finalityDelay: bigint | "unknown" = 0n) {
  const ledger = new FakeSlasher();
  const state = freshState();
  const { log, problems } = recordingLog();
  let kicks = 0;
  const prover = new Prover({
    ledger,
    address: WATCHER,
    ledgerChainId: LEDGER_CHAIN_ID,
    finalityDelay: async () => (finalityDelay === "unknown" ? undefined : finalityDelay),
    state: () => state,
    save: () => {},
    closed: () => false,
    kick: () => {
      kicks++;
    },
    now: () => Date.now(),
    quietMs: QUIET_MS,
    log,
  });
  return { ledger, state, prover, problems, kicks: () => kicks };
}

const operator = (address: Address, jailed = false) => ({ address, jailed });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("the prover", () => {
  it("submits one proof per offence: the next lies of the same operator wait until the registry can show the jail", async () => {
    const { ledger, state, prover, kicks } = setup();
    prover.accuse(operator(MINE), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    prover.accuse(operator(MINE), DEVNET, lie(2, 101n, hash(2)), hash(1101)); // same operator, still queued
    expect(prover.queued).toBe(1);
    expect(kicks()).toBe(1);
    await prover.submit(120n);
    expect(ledger.proofs.map((p) => p.relay.blockNumber)).toEqual([100n]);
    expect(state.fraudProofs).toMatchObject([
      { operator: MINE, networkId: 1, blockNumber: "100", kind: "proven" },
    ]);

    vi.advanceTimersByTime(QUIET_MS - 1);
    prover.accuse(operator(MINE), DEVNET, lie(3, 102n, hash(3)), hash(1102));
    expect(prover.queued).toBe(0);
    vi.advanceTimersByTime(1);
    prover.accuse(operator(MINE), DEVNET, lie(3, 102n, hash(3)), hash(1102));
    expect(prover.queued).toBe(1);
  });

  it("never accuses a jailed operator, nor with a relay already used", async () => {
    const { ledger, prover } = setup();
    const used = lie(1, 100n, hash(1));
    prover.accuse(operator(MINE, true), DEVNET, used, hash(1100));
    expect(prover.queued).toBe(0);

    ledger.used.add(used.digest);
    prover.accuse(operator(MINE), DEVNET, used, hash(1100));
    await prover.submit(120n);
    expect(ledger.proofs).toEqual([]);
    // The chain's answer is remembered: the same relay is not even queued again.
    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), DEVNET, used, hash(1100));
    expect(prover.queued).toBe(0);
  });

  it("drops evidence the chain refuses with a known error and does not try it again", async () => {
    const { ledger, prover, problems } = setup();
    prover.accuse(operator(MINE), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    ledger.failures.push(reverted("NotFraudulent"));
    await prover.submit(120n);
    await prover.submit(121n);
    expect(prover.queued).toBe(0);
    expect(ledger.proofs).toEqual([]);
    expect(problems()).toEqual([
      "operator signed a block hash that contradicts the other operators",
      "evidence refused; dropped",
    ]);
  });

  it("remembers a relay the slasher says it already used, so it is never accused again", async () => {
    const { ledger, state, prover } = setup();
    const evidence = lie(1, 100n, hash(1));
    prover.accuse(operator(MINE), DEVNET, evidence, hash(1100));
    ledger.failures.push(reverted("RelayAlreadyUsed"));
    await prover.submit(120n);
    expect(state.usedRelays).toEqual([evidence.digest]);
    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), DEVNET, evidence, hash(1100));
    expect(prover.queued).toBe(0);
  });

  it("keeps evidence whose submission failed for a passing reason (a pause, the network) and submits it next pass", async () => {
    const { ledger, prover } = setup();
    prover.accuse(operator(MINE), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    ledger.failures.push(reverted("EnforcedPause"), new Error("socket hang up"));
    await prover.submit(120n);
    await prover.submit(121n);
    expect(prover.queued).toBe(1);
    await prover.submit(122n);
    expect(ledger.proofs).toHaveLength(1);
    expect(prover.queued).toBe(0);
  });

  it("leaves an operator to its designated watcher for a few passes, then drops the evidence once it is jailed", async () => {
    const { ledger, prover } = setup();
    ledger.watchers = [WATCHER, OTHER_WATCHER];
    prover.accuse(operator(THEIRS), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    for (let pass = 0; pass < 3; pass++) await prover.submit(120n);
    expect(prover.queued).toBe(1);
    ledger.jailed.add(`1:${THEIRS}`);
    await prover.submit(121n);
    expect(prover.queued).toBe(0);
    expect(ledger.proofs).toEqual([]);
  });

  it("steps in for a designated watcher that did not act", async () => {
    const { ledger, prover } = setup();
    ledger.watchers = [WATCHER, OTHER_WATCHER];
    prover.accuse(operator(THEIRS), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    for (let pass = 0; pass < 4; pass++) await prover.submit(120n);
    expect(ledger.proofs).toHaveLength(1);
  });

  it("on the ledger's own chain drops what the ledger cannot prove: a true hash, a block not final when served, a block beyond blockhash()", async () => {
    const { ledger, prover } = setup(100n);
    prover.accuse(operator(MINE), DEVNET, lie(1, 100n, hash(1100), 5_000n), hash(1100)); // the true hash
    await prover.submit(120n);
    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), DEVNET, lie(2, 100n, hash(2), 1_099n), hash(1100)); // 1000 + 100 > 1099
    await prover.submit(120n);
    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), DEVNET, lie(3, 100n, hash(3), 5_000n), hash(1100));
    await prover.submit(351n); // 251 blocks later
    expect(prover.queued).toBe(0);
    expect(ledger.proofs).toEqual([]);

    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), DEVNET, lie(4, 100n, hash(4), 1_100n), hash(1100));
    await prover.submit(350n);
    expect(ledger.proofs.map((p) => p.relay.blockHash)).toEqual([hash(4)]);
  });

  it("waits while the slasher's finality delay is unknown", async () => {
    const { ledger, prover } = setup("unknown");
    prover.accuse(operator(MINE), DEVNET, lie(1, 100n, hash(1)), hash(1100));
    await prover.submit(120n);
    await prover.submit(121n);
    expect(prover.queued).toBe(1);
    expect(ledger.proofs).toEqual([]);
  });

  it("on another chain attests the canonical hash once, waits for the quorum and the dispute period, then proves", async () => {
    const { ledger, state, prover } = setup();
    prover.accuse(operator(MINE), ETHEREUM, lie(1, 500n, hash(1)), hash(0xca));
    ledger.attestFailures.push(reverted("AlreadyAttested")); // another watcher attested first: fine
    await prover.submit(10n);
    await prover.submit(11n);
    expect(ledger.attestations).toEqual([]);
    expect(ledger.proofs).toEqual([]);

    ledger.canonical.set("1:500", hash(0xca));
    ledger.fixedAt.set("1:500", 20n);
    await prover.submit(19n);
    expect(ledger.proofs).toEqual([]);
    await prover.submit(20n);
    expect(ledger.proofs.map((p) => p.kind)).toEqual(["attested"]);
    expect(state.fraudProofs).toMatchObject([
      { operator: MINE, networkId: 2, kind: "attested", transaction: TX },
    ]);
  });

  it("drops evidence on another chain when the attested hash agrees with the operator, or no quorum ever forms", async () => {
    const { ledger, prover } = setup();
    prover.accuse(operator(MINE), ETHEREUM, lie(1, 500n, hash(1)), hash(0xca));
    ledger.canonical.set("1:500", hash(1));
    await prover.submit(10n);
    expect(ledger.attestations).toEqual([[1n, 500n, hash(0xca)]]);
    expect(prover.queued).toBe(0);

    vi.advanceTimersByTime(QUIET_MS);
    prover.accuse(operator(MINE), ETHEREUM, lie(2, 600n, hash(2)), hash(0xcb));
    for (let pass = 0; pass < 120; pass++) await prover.submit(10n);
    expect(prover.queued).toBe(1);
    await prover.submit(10n);
    expect(prover.queued).toBe(0);
    expect(ledger.attestations).toHaveLength(2);
    expect(ledger.proofs).toEqual([]);
  });
});
