// An in-process Hardhat chain with viem clients: the fastest ledger for tests and benchmarks (no HTTP,
// no child process). Uses the repository's hardhat.config.cjs (chain id 31337, cancun, automine).
import { createRequire } from "node:module";
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  type EIP1193Provider,
  getAddress,
  type Hash,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { hardhat } from "viem/chains";

const require = createRequire(import.meta.url);

/** A running in-process Hardhat chain. */
export type HardhatLedger = {
  provider: EIP1193Provider;
  chain: Chain;
  public: PublicClient<Transport, Chain>;
  test: TestClient<"hardhat", Transport, Chain>;
  /** The 20 funded, unlocked Hardhat accounts. */
  accounts: Address[];
  /** A wallet client that sends from `account` (unlocked or impersonated) through the node. */
  wallet(account: Address): WalletClient<Transport, Chain, Account>;
  /** Sends a contract call with a fixed gas limit (no estimation round trip) and returns the receipt. */
  write<
    const abi extends Abi,
    functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
    args extends ContractFunctionArgs<abi, "nonpayable" | "payable", functionName>,
  >(
    from: Address,
    call: { address: Address; abi: abi; functionName: functionName; args: args },
  ): Promise<TransactionReceipt>;
  /** Unlocks and funds an arbitrary address so it can send transactions. */
  fund(address: Address): Promise<void>;
  blockNumber(): Promise<bigint>;
  /** Mines `blocks` empty blocks at once. */
  mine(blocks: number): Promise<void>;
  snapshot(): Promise<Hash>;
  revert(id: Hash): Promise<void>;
};

/** Options of {@link createHardhatLedger}. */
export type HardhatLedgerOptions = {
  /** Gas limit of every {@link HardhatLedger.write}. @default 15_000_000n */
  gas?: bigint;
  /**
   * A Hardhat node to use instead of the in-process one (e.g. `din devnet chain` over HTTP), with its chain.
   * @default the in-process network
   */
  provider?: EIP1193Provider;
  chain?: Chain;
};

/** Starts (or reuses, per process) Hardhat's in-process network and wraps it in viem clients. */
export async function createHardhatLedger(options: HardhatLedgerOptions = {}): Promise<HardhatLedger> {
  const provider =
    options.provider ?? (require("hardhat") as { network: { provider: EIP1193Provider } }).network.provider;
  // Hardhat's in-process errors carry the revert data but no JSON-RPC code; give them code 3 (execution
  // reverted) so viem decodes custom errors by name.
  const transport = custom(
    {
      async request(args) {
        try {
          return await provider.request(args);
        } catch (error) {
          if (
            error &&
            typeof error === "object" &&
            "data" in error &&
            !("code" in error && error.code !== undefined)
          ) {
            Object.assign(error, { code: 3 });
          }
          throw error;
        }
      },
    },
    { retryCount: 0 },
  );
  const chain = options.chain ?? hardhat;
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 1 }) as PublicClient<
    Transport,
    Chain
  >;
  const test = createTestClient({ chain, transport, mode: "hardhat" }) as TestClient<
    "hardhat",
    Transport,
    Chain
  >;
  const accounts = ((await provider.request({ method: "eth_accounts" })) as Address[]).map((a) =>
    getAddress(a),
  );
  const gas = options.gas ?? 15_000_000n;
  const wallets = new Map<Address, WalletClient<Transport, Chain, Account>>();
  const wallet = (account: Address) => {
    let w = wallets.get(account);
    if (!w) {
      w = createWalletClient({ account, chain, transport }) as WalletClient<Transport, Chain, Account>;
      wallets.set(account, w);
    }
    return w;
  };
  return {
    provider,
    chain,
    public: publicClient,
    test,
    accounts,
    wallet,
    async write(from, call) {
      // Automine: the transaction is mined (or its revert decoded into a viem error) when this returns.
      // biome-ignore lint/suspicious/noExplicitAny: viem's writeContract generics do not narrow through this wrapper
      const hash = await wallet(from).writeContract({ ...(call as any), gas });
      const receipt = await publicClient.getTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`transaction reverted: ${call.functionName}`);
      return receipt;
    },
    async fund(address) {
      await test.impersonateAccount({ address });
      await test.setBalance({ address, value: 10n ** 21n });
    },
    blockNumber: () => publicClient.getBlockNumber({ cacheTime: 0 }),
    mine: (blocks) => test.mine({ blocks }),
    snapshot: () => test.snapshot(),
    revert: (id) => test.revert({ id }),
  };
}
