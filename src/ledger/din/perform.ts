// What every ledger action shares: who acts (a wallet on a DIN deployment), the calls it sends, what it
// returns, how it refuses, and perform, which sends the calls in order or, in a dry run, simulates them.
import { type Abi, type Address, encodeFunctionData, type Hash, type Hex } from "viem";
import type { LedgerClients } from "../deploy.js";
import { type ContractWrite, sendAndWait, TransactionRevertedError } from "../send.js";
import type { DinDeployment, DinNetwork } from "./deploy.js";
import { findNetwork } from "./directory.js";
import { explainLedgerError, type RevertContext } from "./revert.js";

/** Who acts and on which deployment: a wallet with its account, and the DIN deployment. */
export type LedgerActor = { clients: LedgerClients; deployment: DinDeployment };

/** Options every action takes. */
export type ActionOptions = {
  /** Simulate and return the calls without sending anything. @default false */
  dryRun?: boolean;
};

/** A contract call an action sends (or, in a dry run, would send). */
export type LedgerCall = {
  to: Address;
  function: string;
  args: readonly unknown[];
  /** The calldata. */
  data: Hex;
  /**
   * Whether a dry run simulated this call against the current state. A call that builds on an earlier one
   * of the same action (a deposit after its approval) can only be simulated once that one is mined.
   */
  simulated: boolean;
};

/** What an action did (or would do). */
export type ActionResult<T extends object = object> = {
  dryRun: boolean;
  calls: LedgerCall[];
  /** Hashes of the mined transactions, in order (empty in a dry run). */
  transactions: Hash[];
  /** One human sentence on the outcome. */
  summary: string;
} & T;

/** A refused action: a precondition failed, or the ledger reverted; the message says which, in words. */
export class LedgerActionError extends Error {
  override name = "LedgerActionError";
}

export type Step = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] };

export const step = (address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Step => ({
  address,
  abi,
  functionName,
  args,
});

function toCall(s: Step): LedgerCall {
  return {
    to: s.address,
    function: s.functionName,
    args: s.args,
    data: encodeFunctionData({ abi: s.abi, functionName: s.functionName, args: s.args }),
    simulated: false,
  };
}

/** Sends `steps` one after the other (each simulated first, so a revert is decoded), or dry-runs them. */
export async function perform(
  actor: LedgerActor,
  steps: readonly Step[],
  options: ActionOptions,
  context: RevertContext,
): Promise<{ dryRun: boolean; calls: LedgerCall[]; transactions: Hash[] }> {
  const client = actor.clients.public;
  const account = actor.clients.wallet.account;
  const calls = steps.map(toCall);
  const transactions: Hash[] = [];
  const dryRun = options.dryRun ?? false;
  for (const [i, s] of steps.entries()) {
    const call = calls[i] as LedgerCall;
    try {
      // Simulated in the pending block: the one the transaction lands in (block.number checks agree).
      const { request } = await client.simulateContract({ ...s, account, blockTag: "pending" });
      call.simulated = true;
      if (dryRun) continue;
      transactions.push(await sendAndWait(actor.clients, request as ContractWrite));
    } catch (error) {
      // In a dry run only the first call sees the state it will meet; a later one may depend on it.
      if (dryRun && i > 0) continue;
      if (error instanceof LedgerActionError) throw error;
      if (error instanceof TransactionRevertedError) throw new LedgerActionError(error.message);
      throw new LedgerActionError(explainLedgerError(error, context), { cause: error });
    }
  }
  return { dryRun, calls, transactions };
}

/** The network of `deployment` by name or id; an unknown one is a refused action. */
export function actionNetwork(deployment: DinDeployment, nameOrId: string | number): DinNetwork {
  try {
    return findNetwork(deployment, nameOrId);
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
}

export const context = (deployment: DinDeployment, n?: DinNetwork): RevertContext => ({
  ...(n ? { network: n.name } : {}),
  networks: deployment.networks,
});
