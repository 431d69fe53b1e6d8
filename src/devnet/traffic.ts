// Background transactions for a devnet chain, so that its blocks carry transactions, receipts and logs
// (an empty chain would leave eth_getLogs, receipts and the cache with nothing real to serve).
import type { Logger } from "pino";
import { pino } from "pino";
import {
  type Address,
  bytesToHex,
  concat,
  createWalletClient,
  custom,
  defineChain,
  type Hex,
  keccak256,
  parseAbi,
  stringToBytes,
  type WalletClient,
} from "viem";
import { type DevnetChain, requestDevnet } from "./chain.js";
import { repeatRounds } from "./rounds.js";

/** The event every Ping call emits: `sender` is the caller, `value` the call's argument. */
export const PING_EVENT_SIGNATURE = "Ping(address,uint256)";
export const PING_TOPIC: Hex = keccak256(stringToBytes(PING_EVENT_SIGNATURE));
export const PING_ABI = parseAbi([
  "event Ping(address indexed sender, uint256 value)",
  "function ping(uint256 value)",
]);

// Runtime code, assembled by hand so no compiler runs at startup. Any call, whatever its selector,
// emits Ping(caller, calldata[4:36]); that makes `ping(uint256)` calls ABI-compatible.
//   PUSH1 4  CALLDATALOAD  PUSH1 0  MSTORE          memory[0:32] = value
//   CALLER  PUSH32 topic0  PUSH1 32  PUSH1 0  LOG2  log(memory[0:32], topic0, caller)
//   STOP
const PING_RUNTIME_CODE: Hex = concat([
  "0x600435", // PUSH1 4, CALLDATALOAD
  "0x600052", // PUSH1 0, MSTORE
  "0x33", // CALLER
  "0x7f", // PUSH32
  PING_TOPIC,
  "0x6020", // PUSH1 32
  "0x6000", // PUSH1 0
  "0xa2", // LOG2
  "0x00", // STOP
]);

/** Creation code: copies the runtime (which follows this 11-byte prefix) to memory and returns it. */
function pingCreationCode(): Hex {
  const runtimeLength = (PING_RUNTIME_CODE.length - 2) / 2;
  const prefixLength = 11;
  const byte = (n: number): Hex => bytesToHex(Uint8Array.of(n));
  return concat([
    "0x60",
    byte(runtimeLength), // PUSH1 runtime length
    "0x80", // DUP1
    "0x60",
    byte(prefixLength), // PUSH1 runtime offset in the creation code
    "0x6000", // PUSH1 0 (memory destination)
    "0x39", // CODECOPY
    "0x6000", // PUSH1 0
    "0xf3", // RETURN memory[0:length]
    PING_RUNTIME_CODE,
  ]);
}

export interface TrafficOptions {
  /** Where generator errors go; they are logged and never thrown. @default a silent logger */
  logger?: Logger;
  /** Time between two rounds of transactions. @default the chain's block time */
  intervalMs?: number;
  /** Plain ETH transfers between devnet accounts per round. @default 2 */
  transfersPerRound?: number;
  /** Calls to the Ping contract per round. @default 2 */
  pingsPerRound?: number;
  /**
   * How many of the chain's genesis accounts, from the first, it sends from and to; the rest are left to
   * people, whose transactions would otherwise race it for nonces. @default TRAFFIC_ACCOUNTS
   */
  accounts?: number;
}

/** Genesis accounts #0–#9 are the traffic generator's; #10 and up are never touched by it. */
export const TRAFFIC_ACCOUNTS = 10;

export interface Traffic {
  /** Address of the Ping contract deployed at start. */
  pingContract: Address;
  /** topic0 of the Ping event, for eth_getLogs filters. */
  pingTopic: Hex;
  /** Stops the generator and waits for the round in flight. Idempotent. */
  stop(): Promise<void>;
}

export type TrafficChain = Pick<DevnetChain, "name" | "chainId" | "blockTimeMs" | "provider" | "accounts">;

// Explicit gas limits skip one eth_estimateGas per transaction; both have ample headroom.
const TRANSFER_GAS = 21_000n;
const PING_GAS = 60_000n;
const DEPLOY_GAS = 200_000n;
const TRANSFER_VALUE_WEI = 10n ** 15n; // 0.001 ETH: the 10000-ETH accounts never run dry

/**
 * Deploys the Ping contract, then sends a few transactions every interval until stopped. Resolves once
 * the contract is mined, so callers can filter for its logs right away.
 */
export async function startTraffic(chain: TrafficChain, options: TrafficOptions = {}): Promise<Traffic> {
  const logger = (options.logger ?? pino({ level: "silent" })).child({ chain: chain.name });
  const intervalMs = options.intervalMs ?? chain.blockTimeMs;
  const transfersPerRound = options.transfersPerRound ?? 2;
  const pingsPerRound = options.pingsPerRound ?? 2;
  const accounts = chain.accounts.slice(0, options.accounts ?? TRAFFIC_ACCOUNTS);
  const deployer = accounts[0];
  if (deployer === undefined || accounts.length < 2) {
    throw new Error(`traffic on ${chain.name}: needs at least two unlocked accounts, got ${accounts.length}`);
  }

  const wallet: WalletClient = createWalletClient({
    chain: defineChain({
      id: chain.chainId,
      name: chain.name,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [] } },
    }),
    transport: custom(chain.provider),
  });

  const pingContract = await deployPing(chain, wallet, deployer);
  logger.info({ pingContract }, "ping contract deployed");

  let round = 0;

  const sendRound = async (): Promise<void> => {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < transfersPerRound; i++) {
      const k = round * (transfersPerRound + pingsPerRound) + i;
      const from = accounts[k % accounts.length]!;
      const to = accounts[(k + 1) % accounts.length]!;
      sends.push(
        wallet.sendTransaction({
          account: from,
          chain: wallet.chain,
          to,
          value: TRANSFER_VALUE_WEI,
          gas: TRANSFER_GAS,
        }),
      );
    }
    for (let i = 0; i < pingsPerRound; i++) {
      const k = round * (transfersPerRound + pingsPerRound) + transfersPerRound + i;
      const from = accounts[k % accounts.length]!;
      sends.push(
        wallet.writeContract({
          account: from,
          chain: wallet.chain,
          address: pingContract,
          abi: PING_ABI,
          functionName: "ping",
          args: [BigInt(round)],
          gas: PING_GAS,
        }),
      );
    }
    round++;
    const results = await Promise.allSettled(sends);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) {
      logger.warn(
        { err: failed[0]?.reason, failed: failed.length, sent: sends.length },
        "traffic round had failures",
      );
    }
  };

  const rounds = repeatRounds(sendRound, intervalMs, (error) =>
    logger.error({ err: error }, "traffic round failed"),
  );
  return { pingContract, pingTopic: PING_TOPIC, stop: () => rounds.stop() };
}

async function deployPing(chain: TrafficChain, wallet: WalletClient, deployer: Address): Promise<Address> {
  const hash = await wallet.sendTransaction({
    account: deployer,
    chain: wallet.chain,
    data: pingCreationCode(),
    gas: DEPLOY_GAS,
  });
  // Mine now rather than waiting up to one block interval, so startup does not scale with the block time.
  await requestDevnet(chain.provider, "evm_mine");
  const receipt = await chain.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
  if (receipt?.status !== "0x1" || !receipt.contractAddress) {
    throw new Error(`traffic on ${chain.name}: Ping contract deployment ${hash} did not succeed`);
  }
  return receipt.contractAddress;
}
