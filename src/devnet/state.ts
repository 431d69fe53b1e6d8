// The state file of a running local network (`<data-dir>/network.json`): what `din chaos` and
// `din status` read to find the gateway and the operators' chaos controls (whose token is beside it).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface NetworkStateOperator {
  id: string;
  network: string;
  cloud: string;
  region: string;
  url: string;
  controlUrl: string | undefined;
  /** The node's AVS node API (`/eigen/node/…`) and Prometheus metrics (`/metrics`). */
  nodeApiUrl?: string | undefined;
  /** Ledger address (the restaking operator). */
  address: string;
  /** Key that signs its relays. */
  signer: string;
}

export interface NetworkState {
  pid: number;
  startedAt: string;
  gateway: string;
  networks: Array<{ name: string; chainId: number; rpc: string; ws: string; chain: string }>;
  operators: NetworkStateOperator[];
  /** The ledger chain and the files the CLI reads (deployment addresses, published rewards). */
  ledger: { rpc: string; chainId: number; deployment: string; rewards: string };
  contracts: Record<string, string>;
  /** Each watcher: its ledger address, state file and, when served, its Prometheus metrics URL. */
  watchers: Array<{ address: string; stateFile: string; metricsUrl?: string }>;
  /** Devnet stakers and whom they delegated to. */
  stakers: Array<{ staker: string; operator: string; amount: bigint | string }>;
  /** The devnets' block time, ms: what an epoch lasts in time is its length in blocks times this. */
  blockTimeMs?: number;
  /** Funded genesis accounts the devnet's traffic never sends from, with their key files: for people. */
  accounts?: Array<{ address: string; keyFile: string }>;
}

export const defaultDataDir = ".din";

export function stateFile(dataDir: string): string {
  return join(resolve(dataDir), "network.json");
}

/** The operators' chaos control token (mode 0600): `din up` writes it, `din chaos` reads it. */
export function controlTokenFile(dataDir: string): string {
  return join(resolve(dataDir), "control.token");
}

export function writeNetworkState(dataDir: string, state: NetworkState): void {
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = stateFile(dataDir);
  const json = JSON.stringify(
    state,
    (_key, value) => (typeof value === "bigint" ? value.toString() : value),
    2,
  );
  writeFileSync(`${file}.tmp`, `${json}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeNetworkState(dataDir: string): void {
  rmSync(stateFile(dataDir), { force: true });
}

export class NoNetworkError extends Error {
  override name = "NoNetworkError";
}

/** The running network of a data dir; throws `NoNetworkError` with a hint when there is none. */
export function readNetworkState(dataDir: string): NetworkState {
  let state: NetworkState;
  try {
    state = JSON.parse(readFileSync(stateFile(dataDir), "utf8")) as NetworkState;
  } catch {
    throw new NoNetworkError(`no local network is running in ${resolve(dataDir)} (start one with: din up)`);
  }
  if (!isAlive(state.pid)) {
    throw new NoNetworkError(
      `the local network in ${resolve(dataDir)} is not running (pid ${state.pid} is gone); start it with: din up`,
    );
  }
  return state;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
