// Stake and risk: each network's stake by operator, cloud, region and entity, the concentration figures
// and verdicts of `din risk` (computed by the same function), and the last `din drill` report's windows.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Address, formatUnits, getAddress } from "viem";
import type { DrillReport } from "../devnet/drillReport.js";
import type { StatusReport } from "../devnet/status.js";
import type { HealthReport } from "../gateway/healthReport.js";
import { readNetworkRisks, servedRelaysOf } from "../ledger/din/riskInputs.js";
import type { Concentration } from "../risk/concentration.js";
import type { Outage } from "../risk/outage.js";
import {
  deploymentSecurity,
  deploymentSecurityVerdicts,
  type SecurityAssumptions,
} from "../risk/security.js";
import { GROUPINGS } from "../risk/types.js";
import { ledgerClock } from "./networkMap.js";
import type { DashboardLedger } from "./source.js";
import type { DrillSummary, RiskView } from "./types.js";

export async function riskView(
  status: StatusReport,
  health: HealthReport,
  ledger: DashboardLedger,
  dataDir: string | undefined,
  security?: SecurityAssumptions,
): Promise<RiskView> {
  const ids = new Map<Address, string>();
  for (const network of status.networks)
    for (const o of network.operators) ids.set(getAddress(o.address), o.id);
  const networks = await readNetworkRisks(ledger.client, ledger.deployment, {
    ids,
    served: servedRelaysOf(health),
  });
  const drill = dataDir === undefined ? null : lastDrill(dataDir);
  return {
    ledger: ledgerClock(status),
    networks: networks.map(({ name, risk, verdicts }) => ({
      name,
      operators: risk.operators,
      totalStake: formatUnits(risk.stake.operator.total, 18),
      stakeBy: Object.fromEntries(
        GROUPINGS.map((by) => [
          by,
          risk.stake[by].groups.map((g) => ({
            group: g.group,
            stake: formatUnits(g.weight, 18),
            share: g.share,
          })),
        ]),
      ) as RiskView["networks"][number]["stakeBy"],
      figures: [
        ...GROUPINGS.map((by) => figure("stake", by, risk.stake[by])),
        ...(risk.traffic ? GROUPINGS.map((by) => figure("traffic", by, risk.traffic![by])) : []),
      ],
      worstCloudOutage: outage(risk.worstCloudOutage),
      worstRegionOutage: outage(risk.worstRegionOutage),
      verdicts,
    })),
    // The restaking check of `din risk`, under the gateway's declared assumptions (by default, no profit
    // declared: what corrupting each network costs).
    restaking: { verdicts: deploymentSecurityVerdicts(deploymentSecurity(networks, security)) },
    drill: drill?.summary ?? null,
    drillNote:
      dataDir === undefined
        ? "drill reports are read from a local network's data dir"
        : (drill?.note ?? null),
  };
}

function figure(basis: "stake" | "traffic", by: string, c: Concentration) {
  return {
    basis,
    by,
    largest: c.largest?.group ?? null,
    largestShare: c.largest?.share ?? null,
    nakamotoThird: c.nakamotoThird,
    nakamotoHalf: c.nakamotoHalf,
    hhi: c.hhiPoints,
  };
}

function outage(o: Outage | null) {
  return o
    ? {
        name: o.name,
        operatorsDown: o.operatorsDown,
        operatorsTotal: o.operatorsTotal,
        stakeShare: 1 - (o.stakeShareLeft ?? 1),
      }
    : null;
}

/** The newest `din drill` report of a data dir (`<data-dir>/drills/<timestamp>.json`). */
export function lastDrill(dataDir: string): { summary: DrillSummary | null; note: string | null } {
  const dir = join(resolve(dataDir), "drills");
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return { summary: null, note: "no drill has been run on this network yet (din drill --cloud aws)" };
  }
  // Timestamped names sort by time.
  const newest = names.sort().at(-1);
  if (!newest)
    return { summary: null, note: "no drill has been run on this network yet (din drill --cloud aws)" };
  let report: DrillReport;
  try {
    report = JSON.parse(readFileSync(join(dir, newest), "utf8")) as DrillReport;
  } catch (error) {
    return {
      summary: null,
      note: `the last drill report ${newest} cannot be read: ${(error as Error).message}`,
    };
  }
  return {
    note: null,
    summary: {
      file: newest,
      startedAt: report.startedAt,
      target: `cloud ${report.cloud} down, ${report.ratePerSecond} requests/s for ${report.durationMs / 1000} s`,
      clients: report.clients.map((c) => ({
        name: c.name,
        requests: c.requests,
        errors: c.errors,
        windows: c.windows.map((w) => ({
          startMs: w.startMs,
          availability: w.availability,
          p99Ms: w.p99Ms,
          outage: w.outage,
        })),
      })),
      verdicts: (report.ledger?.slashes ?? []).map(
        (s) => `slash #${s.id}: ${s.idOf} (${s.network}) ${s.reason} ${s.percent} of its stake, ${s.status}`,
      ),
    },
  };
}
