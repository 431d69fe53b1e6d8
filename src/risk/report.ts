// One network's risk figures together, and the plain-language lines a CLI prints and metrics label with:
// computed here once so that every reader of the figures says the same thing about them.
import { type Concentration, stakeConcentration, trafficConcentration } from "./concentration.js";
import { type Fraction, fraction, toNumber } from "./fraction.js";
import { type Outage, worstOutage } from "./outage.js";
import { cascadeBound, type SecurityCheck } from "./restaking.js";
import { GROUPINGS, type Grouping, type NetworkSnapshot } from "./types.js";

export interface NetworkRisk {
  name: string;
  operators: number;
  stake: Record<Grouping, Concentration>;
  /** Null when no operator reports a served share. */
  traffic: Record<Grouping, Concentration> | null;
  worstCloudOutage: Outage | null;
  worstRegionOutage: Outage | null;
  /** Whether any operator declares an entity (without, each operator is its own). */
  entitiesDeclared: boolean;
}

export function networkRisk(network: NetworkSnapshot): NetworkRisk {
  const ops = network.operators;
  const per = <T>(f: (by: Grouping) => T) =>
    Object.fromEntries(GROUPINGS.map((by) => [by, f(by)])) as Record<Grouping, T>;
  const traffic = per((by) => trafficConcentration(ops, by));
  return {
    name: network.name,
    operators: ops.length,
    stake: per((by) => stakeConcentration(ops, by)),
    traffic: traffic.operator === null ? null : (traffic as Record<Grouping, Concentration>),
    worstCloudOutage: worstOutage(ops, "cloud"),
    worstRegionOutage: worstOutage(ops, "region"),
    entitiesDeclared: ops.some((o) => o.entity !== undefined),
  };
}

/** A share as a percentage with up to three significant digits: 40%, 33.3%, 1.1%, 0.05%. */
export function percent(share: number): string {
  if (!Number.isFinite(share)) return share > 0 ? "∞%" : "−∞%";
  const value = Number((share * 100).toPrecision(3));
  return `${Object.is(value, -0) ? 0 : value}%`.replace("-", "−");
}

/** A token amount of `decimals` decimals with at most four after the point: 8.3334, 25, 0.0001. */
export function amount(value: bigint, decimals = 18): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const shown = decimals > 4 ? (abs * 10_000n + scale / 2n) / scale : abs * 10n ** BigInt(4 - decimals);
  const whole = (shown / 10_000n).toLocaleString("en-US");
  const part = (shown % 10_000n).toString().padStart(4, "0").replace(/0+$/, "");
  return `${negative ? "−" : ""}${whole}${part ? `.${part}` : ""}`;
}

/** The usual reading of an HHI (points): under 1,500 unconcentrated, over 2,500 highly concentrated. */
export function hhiReading(points: number): string {
  if (points < 1_500) return "unconcentrated";
  if (points <= 2_500) return "moderately concentrated";
  return "highly concentrated";
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const groupWord: Record<Grouping, [string, string]> = {
  operator: ["operator", "operators"],
  cloud: ["cloud", "clouds"],
  region: ["region", "regions"],
  entity: ["entity", "entities"],
};

function concentrationLine(network: string, what: string, by: Grouping, c: Concentration): string {
  const [one, many] = groupWord[by];
  const third = c.nakamotoThird === null ? "none" : plural(c.nakamotoThird, one, many);
  const half = c.nakamotoHalf === null ? "none" : plural(c.nakamotoHalf, one, many);
  const hold = c.nakamotoThird === 1 ? "holds" : "hold";
  const points = Math.round(c.hhiPoints ?? 0).toLocaleString("en-US");
  return `${network}'s ${what} by ${one}: ${third} ${hold} more than a third, ${half} more than half; largest ${c.largest!.group} ${percent(c.largest!.share)}; HHI ${points} (${hhiReading(c.hhiPoints ?? 0)})`;
}

function outageLine(network: string, outage: Outage): string {
  const where = outage.domain === "cloud" ? "cloud" : "region";
  if (outage.operatorsLeft === 0)
    return `${network} runs entirely on ${outage.name}: one ${where} outage halts it`;
  const stake = outage.stakeShareLeft === null ? "" : ` and ${percent(outage.stakeShareLeft)} of its stake`;
  const moved =
    outage.trafficShareMoved === null
      ? ""
      : `; ${percent(outage.trafficShareMoved)} of its traffic fails over`;
  return `worst ${where} outage for ${network} is ${outage.name}: it leaves ${outage.operatorsLeft} of ${outage.operatorsTotal} operators${stake}${moved}`;
}

/**
 * What a network's figures mean, one line each: the largest cloud and what its outage halts, the Nakamoto
 * coefficients and HHI per grouping, the worst cloud and region outages, the traffic, and whether entities
 * are known. Never throws: an empty network or one without stake gets a line saying so.
 */
export function networkVerdicts(risk: NetworkRisk): string[] {
  const { name } = risk;
  if (risk.operators === 0) return [`${name} has no operators: nothing serves it`];
  const lines: string[] = [];
  const cloud = risk.worstCloudOutage!;
  const largestCloud = risk.stake.cloud.largest;
  if (largestCloud === null)
    lines.push(`${name} has no allocated stake: nothing backs its operators' answers`);
  else {
    const which = cloud.name === largestCloud.group ? "one cloud" : `one cloud (${cloud.name})`;
    lines.push(
      `${largestCloud.group} holds ${percent(largestCloud.share)} of ${name}'s stake: ${which} can halt ${cloud.operatorsDown} of ${cloud.operatorsTotal} operators`,
    );
    for (const by of ["operator", "cloud", "region", "entity"] as const) {
      if (by === "entity" && !risk.entitiesDeclared) continue;
      lines.push(concentrationLine(name, "stake", by, risk.stake[by]));
    }
  }
  lines.push(outageLine(name, cloud));
  if (risk.worstRegionOutage) lines.push(outageLine(name, risk.worstRegionOutage));
  if (risk.traffic?.cloud.largest)
    lines.push(concentrationLine(name, "traffic", "cloud", risk.traffic.cloud));
  if (!risk.entitiesDeclared)
    lines.push(`no operator of ${name} declares who runs it: each counts as an entity of its own`);
  return lines;
}

/**
 * What the restaking check means, one line each: the slack and what it bounds for a shock of `shock`
 * (default 1% of all stake), then each set the condition does not certify. Amounts in `decimals`.
 */
export function securityVerdicts(
  check: SecurityCheck,
  options: { shock?: Fraction; decimals?: number } = {},
): string[] {
  const shock = options.shock ?? fraction(1n, 100n);
  const gamma = toNumber(check.slack);
  const lines: string[] = [];
  if (check.sets.every((s) => s.profit === 0n))
    lines.push("restaking: no set declares a profit from corruption");
  else if (check.certified) {
    const bound = toNumber(cascadeBound(check.slack, shock));
    const costs = Number.isFinite(gamma) ? `at least ${Number((1 + gamma).toPrecision(3))}×` : "more than";
    lines.push(
      `restaking slack γ = ${percent(gamma)}: every attack costs ${costs} what it earns; a ${percent(toNumber(shock))} shock can cost at most ${percent(bound)} of all stake`,
    );
  } else
    lines.push(
      `restaking is not certified (γ = ${percent(gamma)}): a shock of any size may cascade to all stake`,
    );
  for (const set of check.sets.filter((s) => s.fails)) {
    lines.push(
      `set ${set.id} is not certified: cost of corruption ${amount(set.costOfCorruption, options.decimals)} vs profit ${amount(set.profit, options.decimals)} (standalone slack ${percent(toNumber(set.standaloneSlack))}, with restaking ${percent(toNumber(set.slack))})`,
    );
  }
  return lines;
}
