// The epochs timeline: per network, each finalized epoch's reports, judgments, fees paid and carried, the
// slashes its finalization queued and those it held for governance, most recent first.
import type { StatusReport } from "../devnet/status.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import type { LedgerEvents } from "./ledgerEvents.js";
import { ledgerClock } from "./networkMap.js";
import type { EpochEntry, EpochsView } from "./types.js";

export function epochsView(
  status: StatusReport,
  events: LedgerEvents,
  deployment: DinDeployment,
  query: { network?: string | undefined; limit: number },
): EpochsView {
  const idOf = new Map<string, string>();
  for (const network of status.networks) for (const o of network.operators) idOf.set(o.address, o.id);
  const name = (address: string) => idOf.get(address) ?? address;
  // The transaction that closed each (network, epoch).
  const finalization = new Map<string, { tx: string; block: bigint }>();
  for (const [tx, f] of events.finalizations)
    finalization.set(`${f.networkId}/${f.epoch}`, { tx, block: f.block });
  const epochs = (status.epochs ?? [])
    .filter((e) => query.network === undefined || e.network === query.network)
    .map((e): EpochEntry => {
      const networkId = deployment.networks.find((n) => n.name === e.network)?.id;
      const closed = finalization.get(`${networkId}/${e.epoch}`);
      return {
        network: e.network,
        epoch: e.epoch,
        reports: e.reports,
        paid: e.paid,
        carried: e.carried,
        finalizedAt: closed ? closed.block.toString() : null,
        transaction: closed?.tx ?? null,
        judged: e.judged.map((j) => ({
          id: name(j.operator),
          address: j.operator,
          availabilityBps: j.availabilityBps,
          p50LatencyMs: j.p50LatencyMs,
          lagBlocks: j.lagBlocks,
          multiplierBps: j.multiplierBps,
        })),
        slashesQueued: status.slashes
          .filter((s) => s.networkId === networkId && events.slashEpochs.get(s.id)?.toString() === e.epoch)
          .map((s) => ({ id: s.id, operator: name(s.operator), reason: s.reason, percent: s.percent })),
        heldForGovernance: e.heldForGovernance.map((h) => ({ ...h, operators: h.operators.map(name) })),
      };
    })
    .reverse()
    .slice(0, query.limit);
  return { ledger: ledgerClock(status), epochs };
}
