// One local EVM chain of the devnet: a Hardhat network provider, in process, served over HTTP and
// WebSocket on one port. Several chains can live in one process, each with its own chain id and
// its own interval miner.
//
// Finality: with a post-merge hardfork (this module uses "cancun"), Hardhat answers the `safe` and
// `finalized` block tags with the latest block — a single-node devnet has instant finality. Before the
// merge hardfork those tags are rejected, which would break finality-aware callers (gateway head
// tracking, the cache), so the hardfork is always set explicitly here.

import type { Server as HttpServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Address, EIP1193Provider, Hex } from "viem";

/** Hardhat's well-known development mnemonic: its accounts are public, never use them outside a devnet. */
export const HARDHAT_DEFAULT_MNEMONIC = "test test test test test test test test test test test junk";

/** 10000 ETH, Hardhat's default balance of each development account. */
export const DEFAULT_ACCOUNT_BALANCE_WEI = 10_000n * 10n ** 18n;

/** Accounts derived from a BIP-39 mnemonic (BIP-44 path m/44'/60'/0'/0/i). */
export interface DevnetMnemonicAccounts {
  mnemonic: string;
  /** @default 20 */
  count?: number;
  /** Genesis balance of each account. @default 10000 ETH */
  balanceWei?: bigint;
  /** @default "m/44'/60'/0'/0" */
  path?: string;
}

/** An account given by its private key, with its genesis balance. */
export interface DevnetPrivateKeyAccount {
  privateKey: Hex;
  balanceWei: bigint;
}

export type DevnetAccounts = DevnetMnemonicAccounts | readonly DevnetPrivateKeyAccount[];

export interface DevnetChainOptions {
  /** Network name as the rest of the devnet knows it, e.g. "ethereum". */
  name: string;
  /** EIP-155 chain id; must differ between the chains of one devnet. */
  chainId: number;
  /**
   * Interval between mined blocks. Automine is off, so a transaction lands in the next interval block.
   * @default 1000
   */
  blockTimeMs?: number;
  /** Interface the JSON-RPC server listens on. @default "127.0.0.1" */
  host?: string;
  /** TCP port of the JSON-RPC server (HTTP and WebSocket); 0 picks a free port. @default 0 */
  port?: number;
  /**
   * Genesis accounts, all unlocked for `eth_sendTransaction`.
   * @default Hardhat's default mnemonic accounts: 20, each with 10000 ETH
   */
  accounts?: DevnetAccounts;
}

export interface DevnetChain {
  name: string;
  chainId: number;
  blockTimeMs: number;
  /** HTTP JSON-RPC endpoint. */
  url: string;
  /** WebSocket JSON-RPC endpoint (same port as `url`). */
  wsUrl: string;
  /** The in-process EIP-1193 provider, for callers that want to skip the network hop. */
  provider: EIP1193Provider;
  /** Unlocked genesis accounts, in derivation order. */
  accounts: Address[];
  /** Stops the server (dropping open HTTP and WebSocket connections) and the miner. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_BLOCK_TIME_MS = 1000;
const DEFAULT_HOST = "127.0.0.1";
const DEVNET_HARDFORK = "cancun";

// The shapes below are the parts of Hardhat's (CommonJS, untyped from ESM) internals this module uses.
interface HardhatNetworkConfig {
  chainId: number;
  hardfork: string;
  mining: { auto: boolean; interval: number | [number, number]; mempool: { order: string } };
  accounts: unknown;
  [key: string]: unknown;
}

interface HardhatConfig {
  networks: { hardhat: HardhatNetworkConfig; [name: string]: unknown };
  [key: string]: unknown;
}

interface HardhatRuntime {
  config: HardhatConfig;
}

interface JsonRpcServer {
  listen(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

interface JsonRpcServerInternals {
  // Private fields of Hardhat's JsonRpcServer: reached into so close() can drop keep-alive and
  // WebSocket connections, which the server's own close() would otherwise wait on forever.
  _httpServer?: HttpServer;
  _wsServer?: {
    clients?: Set<{ terminate(): void }>;
    once(event: "error", listener: (error: Error) => void): void;
    off(event: "error", listener: (error: Error) => void): void;
  };
}

type CreateProvider = (config: HardhatConfig, networkName: string) => Promise<EIP1193Provider>;
type JsonRpcServerConstructor = new (config: {
  hostname: string;
  port: number;
  provider: EIP1193Provider;
}) => JsonRpcServer;

const require = createRequire(import.meta.url);

let hardhatRuntime: HardhatRuntime | undefined;

/**
 * Loads the Hardhat runtime once per process. The repository's hardhat.config.cjs is used even when the
 * process runs from another directory, since Hardhat otherwise looks for a config from the cwd upwards.
 */
function loadHardhat(): HardhatRuntime {
  if (hardhatRuntime === undefined) {
    process.env.HARDHAT_CONFIG ??= fileURLToPath(new URL("../../hardhat.config.cjs", import.meta.url));
    hardhatRuntime = require("hardhat") as HardhatRuntime;
  }
  return hardhatRuntime;
}

function toHardhatAccounts(accounts: DevnetAccounts): unknown {
  if (Array.isArray(accounts)) {
    return (accounts as readonly DevnetPrivateKeyAccount[]).map((account) => ({
      privateKey: account.privateKey,
      balance: account.balanceWei.toString(),
    }));
  }
  const hd = accounts as DevnetMnemonicAccounts;
  return {
    mnemonic: hd.mnemonic,
    count: hd.count ?? 20,
    accountsBalance: (hd.balanceWei ?? DEFAULT_ACCOUNT_BALANCE_WEI).toString(),
    path: hd.path ?? "m/44'/60'/0'/0",
    initialIndex: 0,
    passphrase: "",
  };
}

/** A URL host for the address a server listens on: wildcard addresses are reached through loopback. */
function urlHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "[::1]";
  return address.includes(":") ? `[${address}]` : address;
}

/** Starts one devnet chain and resolves once its JSON-RPC server listens. */
let providerQueue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(task: () => Promise<T>): Promise<T> {
  const run = providerQueue.then(task, task);
  providerQueue = run.catch(() => undefined);
  return run;
}

export async function startDevnetChain(options: DevnetChainOptions): Promise<DevnetChain> {
  const blockTimeMs = options.blockTimeMs ?? DEFAULT_BLOCK_TIME_MS;
  if (!Number.isInteger(options.chainId) || options.chainId <= 0) {
    throw new Error(
      `devnet chain ${options.name}: chainId must be a positive integer, got ${options.chainId}`,
    );
  }
  if (!Number.isInteger(blockTimeMs) || blockTimeMs <= 0) {
    throw new Error(
      `devnet chain ${options.name}: blockTimeMs must be a positive integer, got ${blockTimeMs}`,
    );
  }

  const hre = loadHardhat();
  const { createProvider } = require("hardhat/internal/core/providers/construction.js") as {
    createProvider: CreateProvider;
  };
  const { JsonRpcServer } = require("hardhat/internal/hardhat-network/jsonrpc/server.js") as {
    JsonRpcServer: JsonRpcServerConstructor;
  };

  const base = hre.config.networks.hardhat;
  const networkConfig: HardhatNetworkConfig = {
    ...base,
    chainId: options.chainId,
    hardfork: DEVNET_HARDFORK,
    mining: { ...base.mining, auto: false, interval: blockTimeMs },
    // Block timestamps follow the clock even with blocks under a second apart (otherwise each block adds a
    // second and the chain runs ahead of the operators' clocks, which date their signed answers).
    allowBlocksWithSameTimestamp: true,
    accounts:
      options.accounts === undefined
        ? toHardhatAccounts({ mnemonic: HARDHAT_DEFAULT_MNEMONIC })
        : toHardhatAccounts(options.accounts),
  };
  // A shallow copy: the shared runtime config stays untouched, so chains never see each other's settings.
  const config: HardhatConfig = {
    ...hre.config,
    networks: { ...hre.config.networks, hardhat: networkConfig },
  };
  // Hardhat's network provider initializes lazily on its first request, and two initializing at once in
  // one process can fail ("Provider for provided chain type does not exist"): create them one at a time.
  const provider = await oneAtATime(async () => {
    const created = await createProvider(config, "hardhat");
    await (created as unknown as { request(args: { method: string }): Promise<unknown> }).request({
      method: "eth_chainId",
    });
    return created;
  });

  const server = new JsonRpcServer({
    hostname: options.host ?? DEFAULT_HOST,
    port: options.port ?? 0,
    provider,
  });
  const internals = server as unknown as JsonRpcServerInternals;
  let address: { address: string; port: number };
  try {
    // Hardhat's listen() never rejects: a taken port surfaces as an 'error' event of the HTTP server,
    // which its WebSocket server re-emits, and an 'error' event nobody listens to crashes the process.
    address = await new Promise((resolve, reject) => {
      internals._httpServer?.once("error", reject);
      internals._wsServer?.once("error", reject);
      server.listen().then((listening) => {
        internals._httpServer?.off("error", reject);
        internals._wsServer?.off("error", reject);
        resolve(listening);
      }, reject);
    });
  } catch (error) {
    await stopMining(provider);
    throw new Error(
      `devnet chain ${options.name}: cannot listen on port ${options.port ?? 0}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  const host = urlHost(address.address);
  const accounts = (await provider.request({ method: "eth_accounts" })) as Address[];

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = server.close();
      for (const client of internals._wsServer?.clients ?? []) client.terminate();
      internals._httpServer?.closeAllConnections();
      await closed;
      await stopMining(provider);
    })();
    return closing;
  };

  return {
    name: options.name,
    chainId: options.chainId,
    blockTimeMs,
    url: `http://${host}:${address.port}`,
    wsUrl: `ws://${host}:${address.port}`,
    provider,
    accounts,
    close,
  };
}

/** Turns the interval miner off so a closed chain neither mines nor keeps the process busy. */
async function stopMining(provider: EIP1193Provider): Promise<void> {
  await requestDevnet(provider, "evm_setIntervalMining", [0]);
}

/** Calls a Hardhat-specific method (evm_*, hardhat_*), which viem's typed EIP-1193 schema does not list. */
export function requestDevnet(
  provider: EIP1193Provider,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  const untyped = provider as unknown as {
    request(args: { method: string; params: unknown[] }): Promise<unknown>;
  };
  return untyped.request({ method, params });
}

/** A fresh in-process Hardhat network forking another chain: nothing sent to it reaches the forked chain. */
export interface ForkedChain {
  provider: EIP1193Provider;
  /** The forked chain's block the fork starts from. */
  forkBlock: bigint;
}

/**
 * Forks the chain at `jsonRpcUrl` at `blockNumber` (default: its latest block) into a fresh in-process Hardhat
 * network with `chainId` (automine, the devnet hardfork): the network is created empty, then
 * `hardhat_reset` points it at the fork. The fork reads the forked chain's state lazily over JSON-RPC
 * (eth_getStorageAt, eth_getCode, …) as of that block and never sends it a transaction.
 */
export async function forkChain(options: {
  jsonRpcUrl: string;
  chainId: number;
  blockNumber?: bigint;
}): Promise<ForkedChain> {
  const hre = loadHardhat();
  const { createProvider } = require("hardhat/internal/core/providers/construction.js") as {
    createProvider: CreateProvider;
  };
  const base = hre.config.networks.hardhat;
  const config: HardhatConfig = {
    ...hre.config,
    networks: {
      ...hre.config.networks,
      hardhat: {
        ...base,
        chainId: options.chainId,
        hardfork: DEVNET_HARDFORK,
        mining: { ...base.mining, auto: true, interval: 0 },
        allowBlocksWithSameTimestamp: true,
        accounts: toHardhatAccounts({ mnemonic: HARDHAT_DEFAULT_MNEMONIC }),
      },
    },
  };
  let forkBlock = options.blockNumber;
  if (forkBlock === undefined) {
    const response = await fetch(options.jsonRpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    });
    const body = (await response.json()) as { result?: string; error?: { message?: string } };
    if (typeof body.result !== "string")
      throw new Error(
        `cannot read the block number of ${options.jsonRpcUrl}: ${body.error?.message ?? "no answer"}`,
      );
    forkBlock = BigInt(body.result);
  }
  const block = forkBlock;
  const provider = await oneAtATime(async () => {
    const created = await createProvider(config, "hardhat");
    await requestDevnet(created, "hardhat_reset", [
      { forking: { jsonRpcUrl: options.jsonRpcUrl, blockNumber: Number(block) } },
    ]);
    // Calls at the fork block itself need the forked chain's hardfork history, which Hardhat knows for
    // public chains only: one empty block past it, and every call runs on the fork's own hardfork.
    await requestDevnet(created, "hardhat_mine", ["0x1"]);
    return created;
  });
  return { provider, forkBlock: block };
}
