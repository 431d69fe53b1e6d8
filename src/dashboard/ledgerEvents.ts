// The ledger's history the dashboard shows beyond what `din status` reads: each watcher's report, relays
// gateways reported, the transactions that queued, vetoed and executed slashes, and which epoch each
// finalization closed. Read from the contracts' events, the same record `din status` reads its judgments
// from; read-only.
import { type Address, decodeFunctionData, getAddress, type Hash, type PublicClient } from "viem";
import { delegationManagerAbi, dinEpochsAbi, dinSlasherAbi } from "../ledger/artifacts/index.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { type EventLogCache, readEvents } from "../ledger/eventLog.js";
import type { WatcherReport } from "./types.js";

/** Key of an (network, epoch, operator) triple in the maps below. */
export const judgedKey = (networkId: number, epoch: bigint | string, operator: string) =>
  `${networkId}/${epoch}/${operator.toLowerCase()}`;

export type LedgerEvents = {
  /** Each watcher's report of an operator, by judgedKey. */
  reports: Map<string, WatcherReport[]>;
  /** Relays gateways reported an operator served, by judgedKey. */
  relays: Map<string, bigint>;
  /** The transactions of each slash, by slash id. */
  slashTransactions: Map<string, { queued: Hash | null; vetoed: Hash | null; executed: Hash | null }>;
  /** The (network, epoch) a finalization transaction closed, by transaction hash. */
  finalizations: Map<Hash, { networkId: number; epoch: bigint; block: bigint }>;
  /** The epoch whose judgment queued each SLA slash, by slash id. */
  slashEpochs: Map<string, bigint>;
  /** Fraud proofs' transactions, by relay digest. */
  fraudProofTransactions: Map<string, Hash>;
};

/**
 * Reads the events. `slashEpochs` carries over what earlier reads learnt (a slash's epoch never changes),
 * so each slash's transaction is fetched once.
 */
export async function readLedgerEvents(
  client: PublicClient,
  deployment: DinDeployment,
  slashEpochs: Map<string, bigint> = new Map(),
  cache?: EventLogCache,
): Promise<LedgerEvents> {
  const a = deployment.addresses;
  const epochs = { address: a.epochs, abi: dinEpochsAbi, fromBlock: 0n } as const;
  const slasher = { address: a.slasher, abi: dinSlasherAbi, fromBlock: 0n } as const;
  const [reportLogs, usageLogs, finalizedLogs, queuedLogs, vetoedLogs, executedLogs, proofLogs] =
    await Promise.all([
      readEvents(client, { ...epochs, eventName: "ReportSubmitted" }, cache),
      readEvents(client, { ...epochs, eventName: "UsageReported" }, cache),
      readEvents(client, { ...epochs, eventName: "EpochFinalized" }, cache),
      readEvents(client, { ...slasher, eventName: "SlashQueued" }, cache),
      readEvents(client, { ...slasher, eventName: "SlashVetoed" }, cache),
      readEvents(client, { ...slasher, eventName: "SlashExecuted" }, cache),
      readEvents(client, { ...slasher, eventName: "FraudProven" }, cache),
    ]);
  const reports = new Map<string, WatcherReport[]>();
  for (const log of reportLogs) {
    for (const m of log.args.metrics) {
      const key = judgedKey(log.args.networkId, log.args.epoch, m.operator);
      const list = reports.get(key) ?? [];
      list.push({
        watcher: getAddress(log.args.watcher),
        availabilityBps: m.availabilityBps,
        p50LatencyMs: m.p50LatencyMs,
        lagBlocks: m.lagBlocks,
      });
      reports.set(key, list);
    }
  }
  const relays = new Map<string, bigint>();
  for (const log of usageLogs) {
    for (const u of log.args.usage) {
      const key = judgedKey(log.args.networkId, log.args.epoch, u.operator);
      relays.set(key, (relays.get(key) ?? 0n) + u.relays);
    }
  }
  const slashTransactions: LedgerEvents["slashTransactions"] = new Map();
  const entry = (id: bigint) => {
    const key = id.toString();
    let value = slashTransactions.get(key);
    if (!value) {
      value = { queued: null, vetoed: null, executed: null };
      slashTransactions.set(key, value);
    }
    return value;
  };
  for (const log of queuedLogs) entry(log.args.slashId).queued = log.transactionHash;
  // The epochs contract queues an SLA slash while settling an epoch: settlePage(networkId, epoch, count)
  // names the epoch in its calldata. Other slashes (released by governance, wrong data) have none.
  await Promise.all(
    queuedLogs
      .filter((log) => !slashEpochs.has(log.args.slashId.toString()))
      .map(async (log) => {
        const transaction = await client.getTransaction({ hash: log.transactionHash });
        if (transaction.to === null || getAddress(transaction.to) !== getAddress(a.epochs)) return;
        try {
          const call = decodeFunctionData({ abi: dinEpochsAbi, data: transaction.input });
          if (call.functionName === "settlePage") slashEpochs.set(log.args.slashId.toString(), call.args[1]);
        } catch {
          // Not a call this ABI knows: no epoch to show.
        }
      }),
  );
  for (const log of vetoedLogs) entry(log.args.slashId).vetoed = log.transactionHash;
  for (const log of executedLogs) entry(log.args.slashId).executed = log.transactionHash;
  const finalizations: LedgerEvents["finalizations"] = new Map();
  for (const log of finalizedLogs) {
    finalizations.set(log.transactionHash, {
      networkId: log.args.networkId,
      epoch: log.args.epoch,
      block: log.blockNumber,
    });
  }
  const fraudProofTransactions = new Map<string, Hash>();
  for (const log of proofLogs) fraudProofTransactions.set(log.args.relayDigest, log.transactionHash);
  return { reports, relays, slashTransactions, finalizations, slashEpochs, fraudProofTransactions };
}

/**
 * The stakers delegated to `operator` now, with their withdrawable shares summed over the deployment's
 * strategies (what a slash of the operator reduces).
 */
export async function readDelegators(
  client: PublicClient,
  deployment: DinDeployment,
  operator: Address,
): Promise<Array<{ staker: Address; shares: bigint }>> {
  const a = deployment.addresses;
  const logs = await client.getContractEvents({
    address: a.delegationManager,
    abi: delegationManagerAbi,
    eventName: "StakerDelegated",
    args: { operator },
    fromBlock: 0n,
    strict: true,
  });
  const stakers = [...new Set(logs.map((log) => getAddress(log.args.staker)))];
  // Delegated once is not delegated now: undelegations leave no trace worth replaying, ask the core.
  const current = await Promise.all(
    stakers.map(async (staker) => {
      const to = await client.readContract({
        address: a.delegationManager,
        abi: delegationManagerAbi,
        functionName: "delegatedTo",
        args: [staker],
      });
      if (getAddress(to) !== operator) return null;
      const [shares] = await client.readContract({
        address: a.delegationManager,
        abi: delegationManagerAbi,
        functionName: "getWithdrawableShares",
        args: [staker, a.strategies],
      });
      return { staker, shares: shares.reduce((sum, s) => sum + s, 0n) };
    }),
  );
  return current.filter((x): x is { staker: Address; shares: bigint } => x !== null);
}
