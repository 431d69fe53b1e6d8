// A watcher's memory across restarts, in one JSON file written atomically (tmp + rename): the epochs it
// is measuring or has measured but not yet posted, the last epoch it posted per network, the relays it
// already used as evidence, and the fraud proofs it submitted. A crash loses at most the probes since the
// last save; it never makes the watcher forget a posted epoch or reuse a relay.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Address, getAddress, type Hex } from "viem";
import type { RelayJson } from "../ledger/din/relay.js";
import type { EpochMeasurements } from "./measurements.js";

/** One fraud proof this watcher submitted. */
export type FraudRecord = {
  operator: Address;
  networkId: number;
  /** Decimal string. */
  blockNumber: string;
  digest: Hex;
  /**
   * A wrong block hash "proven" on-chain at once, or "attested" (queued behind the veto window); a wrong
   * state answer proven on-chain at once: "state".
   */
  kind: "proven" | "attested" | "state";
  transaction: Hex;
};

/**
 * A signed answer to a deterministic call that contradicted what most operators answered: evidence anyone
 * can re-check against an archive node (the request is `method(params)`, the relay recovers to the
 * operator's registered signer).
 */
export type ContradictionRecord = {
  operator: Address;
  networkId: number;
  /** The epoch of the probe (decimal string): one record per operator, network and epoch. */
  epoch: string;
  method: string;
  params: unknown[];
  /** What the operator answered (and signed). */
  result: unknown;
  relay: RelayJson;
  signature: Hex;
  /** responseHash of the answer most operators gave. */
  majorityResponseHash: Hex;
  /** Operators that gave the majority answer, of those that answered. */
  agreeing: number;
  answered: number;
  /** ISO time of the probe. */
  at: string;
};

/** The persisted state. */
export type WatcherState = {
  version: 1;
  watcher: Address;
  /** The DinRegistry of the deployment this state belongs to. */
  registry: Address;
  ledgerChainId: number;
  /** Measured epochs not yet posted, one entry per (network, epoch). */
  measurements: EpochMeasurements[];
  /** networkId → last posted epoch (decimal string). */
  lastPosted: Record<string, string>;
  /** networkId → lowest epoch not yet known to be finalized (decimal string). */
  finalizeFrom: Record<string, string>;
  /** Lowest slash id not yet known to be vetoed or executed (decimal string). */
  slashCursor: string;
  /** Relay digests already used as evidence (most recent last; bounded). */
  usedRelays: Hex[];
  /** Fraud proofs submitted (most recent last; bounded). */
  fraudProofs: FraudRecord[];
  /** Contradicted answers to deterministic calls (most recent last; bounded). */
  contradictions: ContradictionRecord[];
};

/** How many used relays and fraud records are kept: old relays cannot be proven anyway (256 blocks). */
export const MAX_REMEMBERED = 1000;

/** A fresh state. */
export function emptyState(watcher: Address, registry: Address, ledgerChainId: number): WatcherState {
  return {
    version: 1,
    watcher: getAddress(watcher),
    registry: getAddress(registry),
    ledgerChainId,
    measurements: [],
    lastPosted: {},
    finalizeFrom: {},
    slashCursor: "0",
    usedRelays: [],
    fraudProofs: [],
    contradictions: [],
  };
}

/** The state file is unreadable, or belongs to another watcher or deployment. */
export class WatcherStateError extends Error {
  override name = "WatcherStateError";
}

/**
 * Loads `file`, or a fresh state when it does not exist. A file of another watcher, registry or ledger is
 * refused rather than silently reused: its epochs and relays mean nothing here.
 */
export function loadState(
  file: string,
  watcher: Address,
  registry: Address,
  ledgerChainId: number,
): WatcherState {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return emptyState(watcher, registry, ledgerChainId);
    throw new WatcherStateError(`cannot read watcher state ${file}: ${(error as Error).message}`);
  }
  let raw: Partial<WatcherState>;
  try {
    raw = JSON.parse(text) as Partial<WatcherState>;
  } catch {
    throw new WatcherStateError(`watcher state ${file} is not JSON; move it away to start afresh`);
  }
  if (raw.version !== 1 || typeof raw.watcher !== "string" || typeof raw.registry !== "string") {
    throw new WatcherStateError(`watcher state ${file} is not a watcher state file (version 1)`);
  }
  if (getAddress(raw.watcher) !== getAddress(watcher)) {
    throw new WatcherStateError(`watcher state ${file} belongs to watcher ${raw.watcher}, not ${watcher}`);
  }
  if (getAddress(raw.registry) !== getAddress(registry) || raw.ledgerChainId !== ledgerChainId) {
    throw new WatcherStateError(
      `watcher state ${file} belongs to another deployment (registry ${raw.registry} on chain ${raw.ledgerChainId})`,
    );
  }
  const fresh = emptyState(watcher, registry, ledgerChainId);
  return {
    ...fresh,
    measurements: Array.isArray(raw.measurements) ? raw.measurements : [],
    lastPosted: raw.lastPosted ?? {},
    finalizeFrom: raw.finalizeFrom ?? {},
    slashCursor: typeof raw.slashCursor === "string" ? raw.slashCursor : "0",
    usedRelays: Array.isArray(raw.usedRelays) ? raw.usedRelays : [],
    fraudProofs: Array.isArray(raw.fraudProofs) ? raw.fraudProofs : [],
    // Absent from state files written before watchers cross-checked calls.
    contradictions: Array.isArray(raw.contradictions) ? raw.contradictions : [],
  };
}

/** Writes `state` to `file` atomically: a reader (or a crash) sees the old file or the new one, never half. */
export function saveState(file: string, state: WatcherState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Remembers a relay used as evidence (bounded). */
export function rememberRelay(state: WatcherState, digest: Hex): void {
  const key = digest.toLowerCase() as Hex;
  if (!state.usedRelays.includes(key)) pushBounded(state.usedRelays, key);
}

/** Whether a relay was already used as evidence. */
export function relayUsed(state: WatcherState, digest: Hex): boolean {
  return state.usedRelays.includes(digest.toLowerCase() as Hex);
}

/** Records a submitted fraud proof (bounded). */
export function recordFraud(state: WatcherState, record: FraudRecord): void {
  pushBounded(state.fraudProofs, record);
}

/** Records a contradicted answer (bounded). */
export function recordContradiction(state: WatcherState, record: ContradictionRecord): void {
  pushBounded(state.contradictions, record);
}

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_REMEMBERED) list.splice(0, list.length - MAX_REMEMBERED);
}

/** The measurements of (network, epoch), created when missing. */
export function epochEntry(state: WatcherState, networkId: number, epoch: bigint): EpochMeasurements {
  const key = epoch.toString();
  let entry = state.measurements.find((m) => m.networkId === networkId && m.epoch === key);
  if (!entry) {
    entry = { networkId, epoch: key, operators: {} };
    state.measurements.push(entry);
  }
  return entry;
}

/** The last posted epoch of a network, or undefined. */
export function lastPosted(state: WatcherState, networkId: number): bigint | undefined {
  const value = state.lastPosted[String(networkId)];
  return value === undefined ? undefined : BigInt(value);
}

/** Marks (network, epoch) posted (or found already posted on-chain) and drops its measurements. */
export function markPosted(state: WatcherState, networkId: number, epoch: bigint): void {
  const previous = lastPosted(state, networkId);
  if (previous === undefined || epoch > previous) state.lastPosted[String(networkId)] = epoch.toString();
  dropEpoch(state, networkId, epoch);
}

/** Forgets the measurements of (network, epoch). */
export function dropEpoch(state: WatcherState, networkId: number, epoch: bigint): void {
  const key = epoch.toString();
  state.measurements = state.measurements.filter((m) => !(m.networkId === networkId && m.epoch === key));
}
