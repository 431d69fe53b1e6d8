// The risk figures as Prometheus gauges (`din_risk_*`), for a gateway (or any process that reads the
// registry) to export next to its own metrics. Every refresh replaces all series, so a cloud that left or
// a largest group that changed leaves no stale series behind. Names come from operators' metadata, which
// anyone registering writes: each gauge keeps at most `maxNames` distinct names per network and folds the
// rest into `other`, and every name is cut to `maxNameLength` characters.
import { Gauge, type Registry } from "prom-client";
import type { Concentration } from "./concentration.js";
import { toNumber } from "./fraction.js";
import { outages } from "./outage.js";
import { networkRisk } from "./report.js";
import { deploymentSecurity, type SecurityAssumptions } from "./security.js";
import { GROUPINGS, type NetworkSnapshot } from "./types.js";

/** The label a name beyond the cap is folded into. */
export const OTHER_LABEL = "other";

export interface RiskGaugeOptions {
  /** Distinct outage names kept per network and kind (the worst ones); the rest fold into `other`. @default 16 */
  maxNames?: number;
  /** Longest label value taken from metadata. @default 64 */
  maxNameLength?: number;
  /** The restaking check's threshold, declared profits and shock. @default 1/3, none declared, 1% */
  security?: SecurityAssumptions;
}

/** Token amounts in gauges: whole tokens of 18 decimals, as a float. */
const tokens = (wei: bigint) => toNumber({ num: wei, den: 10n ** 18n });

export function createRiskGauges(registry: Registry, options: RiskGaugeOptions = {}) {
  const maxNames = Math.max(1, options.maxNames ?? 16);
  const maxNameLength = Math.max(1, options.maxNameLength ?? 64);
  const name = (text: string) => text.slice(0, maxNameLength);
  const registers = [registry];
  const gauges = {
    operators: new Gauge({
      name: "din_risk_operators",
      help: "Registered operators of a network (what the risk figures are computed over)",
      labelNames: ["network"] as const,
      registers,
    }),
    nakamoto: new Gauge({
      name: "din_risk_nakamoto",
      help: "Fewest groups (operators, clouds, regions, entities) holding more than the threshold of a network's stake or traffic",
      labelNames: ["network", "group", "threshold", "basis"] as const,
      registers,
    }),
    hhi: new Gauge({
      name: "din_risk_hhi",
      help: "Herfindahl-Hirschman index (sum of squared shares, 0..1) of a network's stake or traffic by group",
      labelNames: ["network", "group", "basis"] as const,
      registers,
    }),
    largestShare: new Gauge({
      name: "din_risk_largest_share",
      help: "Share (0..1) of a network's stake or traffic held by its largest group, named",
      labelNames: ["network", "group", "basis", "name"] as const,
      registers,
    }),
    outageCapacityLeft: new Gauge({
      name: "din_risk_outage_capacity_left",
      help: "Share (0..1) of a network's operators left serving if one cloud or region goes down",
      labelNames: ["network", "kind", "name"] as const,
      registers,
    }),
    outageStakeLeft: new Gauge({
      name: "din_risk_outage_stake_left",
      help: "Share (0..1) of a network's stake left behind the operators still serving if one cloud or region goes down",
      labelNames: ["network", "kind", "name"] as const,
      registers,
    }),
    costOfCorruption: new Gauge({
      name: "din_risk_cost_of_corruption_tokens",
      help: "Stake (tokens) an attacker must hold, and lose, to corrupt a network: the threshold share of its allocated stake",
      labelNames: ["network"] as const,
      registers,
    }),
    profitFromCorruption: new Gauge({
      name: "din_risk_profit_from_corruption_tokens",
      help: "What corrupting a network is declared to be worth to an attacker (tokens); absent when none is declared",
      labelNames: ["network"] as const,
      registers,
    }),
    setSlack: new Gauge({
      name: "din_risk_security_slack",
      help: "A network's security slack: cost of corruption / declared profit - 1 (certified above 0); absent without a declared profit",
      labelNames: ["network"] as const,
      registers,
    }),
    restakingSlack: new Gauge({
      name: "din_risk_restaking_slack",
      help: "The restaking condition's slack gamma over every network with a declared profit (certified above 0), at the given corruption threshold",
      labelNames: ["threshold"] as const,
      registers,
    }),
    cascadeBound: new Gauge({
      name: "din_risk_cascade_bound",
      help: "Most of all allocated stake (0..1) a shock of the given share can cost through profitable attacks: (1 + 1/gamma) * shock",
      labelNames: ["shock"] as const,
      registers,
    }),
  };

  const setConcentration = (network: string, group: string, basis: string, c: Concentration) => {
    if (c.nakamotoThird !== null)
      gauges.nakamoto.set({ network, group, threshold: "1/3", basis }, c.nakamotoThird);
    if (c.nakamotoHalf !== null)
      gauges.nakamoto.set({ network, group, threshold: "1/2", basis }, c.nakamotoHalf);
    if (c.hhi !== null) gauges.hhi.set({ network, group, basis }, c.hhi);
    if (c.largest)
      gauges.largestShare.set({ network, group, basis, name: name(c.largest.group) }, c.largest.share);
  };

  return {
    ...gauges,
    /** Replaces every `din_risk_*` series with the figures of `networks`. */
    update(networks: readonly NetworkSnapshot[]): void {
      for (const gauge of Object.values(gauges)) gauge.reset();
      for (const snapshot of networks) {
        const network = snapshot.name;
        const risk = networkRisk(snapshot);
        gauges.operators.set({ network }, risk.operators);
        for (const group of GROUPINGS) {
          setConcentration(network, group, "stake", risk.stake[group]);
          if (risk.traffic) setConcentration(network, group, "traffic", risk.traffic[group]);
        }
        for (const kind of ["cloud", "region"] as const) {
          // Worst first: the outages kept are the ones that matter; `other` carries the worst of the rest.
          const list = outages(snapshot.operators, kind);
          const seen = new Set<string>();
          for (const [index, outage] of list.entries()) {
            const label = index < maxNames ? name(outage.name) : OTHER_LABEL;
            // Two names equal once cut (or the first fold) keep the worst, which came first.
            if (seen.has(label)) continue;
            seen.add(label);
            gauges.outageCapacityLeft.set({ network, kind, name: label }, outage.operatorShareLeft);
            if (outage.stakeShareLeft !== null)
              gauges.outageStakeLeft.set({ network, kind, name: label }, outage.stakeShareLeft);
          }
        }
      }
      const security = deploymentSecurity(networks, options.security);
      for (const n of security.networks) {
        gauges.costOfCorruption.set({ network: n.network }, tokens(n.costOfCorruption));
        if (n.profit !== null) gauges.profitFromCorruption.set({ network: n.network }, tokens(n.profit));
        if (n.slack !== null) gauges.setSlack.set({ network: n.network }, toNumber(n.slack));
      }
      if (security.check && security.cascadeBound) {
        const threshold = `${security.threshold.num}/${security.threshold.den}`;
        gauges.restakingSlack.set({ threshold }, toNumber(security.check.slack));
        gauges.cascadeBound.set({ shock: String(toNumber(security.shock)) }, toNumber(security.cascadeBound));
      }
    },
  };
}

export type RiskGauges = ReturnType<typeof createRiskGauges>;
