// An operator's public page: its SLA scorecard per epoch (the median finalize judged by and each watcher's
// report), relays, rewards, slashes with their evidence and transactions, delegators and commission.
import { formatUnits, getAddress } from "viem";
import type { StatusReport } from "../devnet/status.js";
import { rewardsCoordinatorAbi } from "../ledger/artifacts/index.js";
import { judgedKey, type LedgerEvents, readDelegators } from "./ledgerEvents.js";
import { ledgerClock, mapOperators } from "./networkMap.js";
import type { DashboardLedger } from "./source.js";
import type { OperatorPage, ScorecardEpoch, SlashView } from "./types.js";

/** The scorecard's length: the most recent epochs. */
export const SCORECARD_EPOCHS = 20;

/** A request for something the dashboard does not know: answered 404 with the message. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

/** The operator `ref` names: its id in `din status` or its ledger address, in any case. */
export function findOperator(status: StatusReport, ref: string) {
  const wanted = ref.toLowerCase();
  for (const network of status.networks) {
    const found = network.operators.find(
      (o) => o.id.toLowerCase() === wanted || o.address.toLowerCase() === wanted,
    );
    if (found) return found;
  }
  return undefined;
}

export async function operatorPage(
  status: StatusReport,
  events: LedgerEvents,
  ledger: DashboardLedger,
  ref: string,
  observed: boolean,
): Promise<OperatorPage> {
  const found = findOperator(status, ref);
  if (!found) {
    throw new NotFoundError(
      `no operator "${ref.slice(0, 100)}": name one by its id or ledger address (see /dashboard/api/network)`,
    );
  }
  const address = getAddress(found.address);
  const { deployment, client } = ledger;
  const map = mapOperators(status, observed);
  const networkId = (name: string) => deployment.networks.find((n) => n.name === name)?.id ?? -1;
  const memberships = status.networks.filter((n) => n.operators.some((o) => o.address === address));

  const scorecard = (network: string): ScorecardEpoch[] => {
    const id = networkId(network);
    const median = new Map<string, ScorecardEpoch["median"]>();
    for (const e of status.epochs ?? []) {
      if (e.network !== network) continue;
      const j = e.judged.find((x) => x.operator === address);
      if (j) median.set(e.epoch, j);
    }
    // Epochs watchers reported on but finalize has not judged yet count too: the page is live.
    const prefix = `${id}/`;
    const suffix = `/${address.toLowerCase()}`;
    const epochs = new Set(median.keys());
    for (const key of events.reports.keys()) {
      if (key.startsWith(prefix) && key.endsWith(suffix))
        epochs.add(key.slice(prefix.length, -suffix.length));
    }
    return [...epochs]
      .sort((a, b) => Number(BigInt(b) - BigInt(a)))
      .slice(0, SCORECARD_EPOCHS)
      .map((epoch) => {
        const m = median.get(epoch);
        return {
          epoch,
          median: m
            ? {
                availabilityBps: m.availabilityBps,
                p50LatencyMs: m.p50LatencyMs,
                lagBlocks: m.lagBlocks,
                multiplierBps: m.multiplierBps,
              }
            : null,
          watchers: events.reports.get(judgedKey(id, epoch, address)) ?? [],
          relays: (events.relays.get(judgedKey(id, epoch, address)) ?? 0n).toString(),
        };
      });
  };

  const slashes = status.slashes
    .filter((s) => s.operator === address)
    .map((s): SlashView => {
      const transactions = events.slashTransactions.get(s.id) ?? {
        queued: null,
        vetoed: null,
        executed: null,
      };
      // An SLA slash rests on the judgment of the epoch whose median failed.
      const epoch = events.slashEpochs.get(s.id)?.toString() ?? null;
      const judged = epoch
        ? status.epochs
            ?.find((e) => e.network === s.network && e.epoch === epoch)
            ?.judged.find((j) => j.operator === address)
        : undefined;
      return {
        id: s.id,
        network: s.network,
        reason: s.reason,
        percent: s.percent,
        status: s.status,
        queuedAt: String(s.queuedAt),
        vetoWindowEndsAt: String(s.queuedAt + s.vetoWindow),
        evidence: {
          epoch,
          median: judged
            ? {
                availabilityBps: judged.availabilityBps,
                p50LatencyMs: judged.p50LatencyMs,
                lagBlocks: judged.lagBlocks,
                multiplierBps: judged.multiplierBps,
              }
            : null,
          watchers: epoch ? (events.reports.get(judgedKey(s.networkId, epoch, address)) ?? []) : [],
          relayDigest: null,
        },
        transactions,
      };
    });

  const [delegators, commissions] = await Promise.all([
    readDelegators(client, deployment, address),
    Promise.all(
      memberships.map((n) =>
        client
          .readContract({
            address: deployment.addresses.rewardsCoordinator,
            abi: rewardsCoordinatorAbi,
            functionName: "getOperatorSetSplit",
            args: [address, { avs: deployment.addresses.registry, id: networkId(n.name) }],
          })
          .then((bips) => `${(Number(bips) / 100).toFixed(2)}%`),
      ),
    ),
  ]);

  return {
    id: found.id,
    address,
    ledger: ledgerClock(status),
    networks: memberships.map((n, i) => {
      const own = n.operators.find((o) => o.address === address)!;
      return {
        network: n.name,
        networkId: networkId(n.name),
        operator: map.find((o) => o.network === n.name && o.address === address)!,
        rewards: own.rewards,
        commission: commissions[i] ?? null,
        scorecard: scorecard(n.name),
        rejoin: own.rejoin ?? null,
      };
    }),
    slashes,
    fraudProofs: status.fraudProofs
      .filter((p) => p.operator === address)
      .map(({ network, blockNumber, provenAt, relayDigest }) => ({
        network,
        blockNumber,
        provenAt,
        relayDigest,
        transaction: events.fraudProofTransactions.get(relayDigest) ?? null,
      })),
    delegators: delegators.map((d) => ({ staker: d.staker, shares: formatUnits(d.shares, 18) })),
  };
}
