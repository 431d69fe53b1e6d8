// Sending a contract call (or a contract creation) and waiting for it to be mined: the one place the ledger
// code does it, so every caller refuses a reverted transaction the same way.
import { type Abi, type Address, getAddress, type Hash, type Hex, type PublicClient } from "viem";
import type { LedgerClients } from "./deploy.js";

/** A contract call to send: what viem's writeContract takes, or the request a simulateContract returned. */
export type ContractWrite = {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
};

/** A mined transaction whose status is not success. */
export class TransactionRevertedError extends Error {
  override name = "TransactionRevertedError";
  constructor(
    readonly functionName: string,
    readonly hash: Hash,
  ) {
    super(`${functionName} reverted in transaction ${hash}`);
  }
}

/**
 * Sends `call` from the wallet's account and waits for its receipt; rejects with a
 * {@link TransactionRevertedError} when the transaction is mined but reverted.
 */
export async function sendAndWait(
  clients: LedgerClients,
  call: ContractWrite,
  options: { pollingInterval?: number } = {},
): Promise<Hash> {
  const hash = await clients.wallet.writeContract({
    ...call,
    account: clients.wallet.account,
    chain: clients.wallet.chain,
  } as Parameters<typeof clients.wallet.writeContract>[0]);
  return waitMined(clients.public, hash, call.functionName, options);
}

/**
 * Waits for `hash` to be mined; rejects with a {@link TransactionRevertedError} naming `what` when it
 * reverted.
 */
export async function waitMined(
  client: Pick<PublicClient, "waitForTransactionReceipt">,
  hash: Hash,
  what: string,
  options: { pollingInterval?: number } = {},
): Promise<Hash> {
  const receipt = await client.waitForTransactionReceipt({
    hash,
    ...(options.pollingInterval !== undefined ? { pollingInterval: options.pollingInterval } : {}),
  });
  if (receipt.status !== "success") throw new TransactionRevertedError(what, hash);
  return hash;
}

/**
 * Runs one sender's transactions one at a time: one key, one nonce sequence, so two never race for a
 * nonce. A failed one rejects its caller only; the next still runs.
 */
export class TransactionQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Deploys a contract from the wallet's account and waits for it; returns its address. */
export async function deployAndWait(
  clients: LedgerClients,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<Address> {
  const hash = await clients.wallet.deployContract({
    abi,
    bytecode,
    args,
    account: clients.wallet.account,
    chain: clients.wallet.chain,
  });
  const receipt = await clients.public.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deployment failed: ${hash}`);
  return getAddress(receipt.contractAddress);
}
