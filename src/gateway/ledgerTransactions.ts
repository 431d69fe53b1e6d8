/**
 * The gateway's ledger transactions (fees, usage reports, fraud proofs), one at a time: one key, one
 * nonce sequence, so two never race for a nonce. A failed transaction is the caller's to retry; serving
 * never waits on this queue.
 */
import type {
  Abi,
  Account,
  Chain,
  ContractFunctionArgs,
  ContractFunctionName,
  Hash,
  PublicClient,
  Transport,
  WalletClient,
} from "viem";
import { sendAndWait, TransactionQueue } from "../ledger/send.js";

export class LedgerTransactions {
  private readonly queue = new TransactionQueue();

  constructor(
    private readonly publicClient: PublicClient<Transport, Chain>,
    private readonly wallet: WalletClient<Transport, Chain, Account>,
  ) {}

  get account(): Account {
    return this.wallet.account;
  }

  /**
   * Simulates (so a revert is a decoded error, not a spent transaction), sends, and waits for the
   * receipt; rejects when the call reverts or the transaction fails.
   */
  send<
    const abi extends Abi,
    functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
    args extends ContractFunctionArgs<abi, "nonpayable" | "payable", functionName>,
  >(call: { address: `0x${string}`; abi: abi; functionName: functionName; args: args }): Promise<Hash> {
    const run = async (): Promise<Hash> => {
      // biome-ignore lint/suspicious/noExplicitAny: viem's contract generics do not narrow through this wrapper
      const loose = call as any;
      const { request } = await this.publicClient.simulateContract({
        ...loose,
        account: this.wallet.account,
      });
      return sendAndWait({ public: this.publicClient, wallet: this.wallet }, request);
    };
    return this.queue.run(run);
  }
}
