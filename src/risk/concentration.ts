// How concentrated a network is, over its allocated stake and over the traffic it served: per operator,
// cloud, region and entity. Two standard figures, each answering a different question:
// - the Nakamoto coefficient: how few groups would have to fail or collude together to hold more than a
//   given fraction (1/3: enough to stall anything that needs a two-thirds agreement; 1/2: a majority);
// - the Herfindahl–Hirschman index: the sum of squared shares, a single number for the whole distribution.
import { type Fraction, ONE_HALF, ONE_THIRD, ratio } from "./fraction.js";
import { type Grouping, groupOf, type NetworkOperator, servedWeight, stakeWeight } from "./types.js";

/** One group's weight (stake or served traffic) and its share of the network's total. */
export interface GroupShare {
  group: string;
  weight: bigint;
  /** weight / total, 0 when the total is 0. */
  share: number;
  /** Operators in the group. */
  operators: number;
}

export interface Concentration {
  total: bigint;
  /** Every group, largest first; equal weights in the order of their labels, so reports are stable. */
  groups: GroupShare[];
  /** Fewest groups holding strictly more than 1/3 of the total; null when the total is 0. */
  nakamotoThird: number | null;
  /** Fewest groups holding strictly more than 1/2 of the total; null when the total is 0. */
  nakamotoHalf: number | null;
  /** Σ shareᵢ², from 1/groups (even) to 1 (one group); null when the total is 0. */
  hhi: number | null;
  /** The HHI on the 0..10,000 scale it is usually quoted on (shares in percent, squared). */
  hhiPoints: number | null;
  /** The largest group (the first by label among equals); null when the total is 0. */
  largest: GroupShare | null;
}

/** Largest weight first, then label order (by code unit, not locale, so every machine agrees). */
function byWeightThenLabel(a: GroupShare, b: GroupShare): number {
  if (a.weight !== b.weight) return a.weight > b.weight ? -1 : 1;
  return a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
}

/** Adds up weights per group and sorts the groups (negative weights count as 0). */
export function groupWeights(items: ReadonlyArray<{ group: string; weight: bigint }>): GroupShare[] {
  const groups = new Map<string, { weight: bigint; operators: number }>();
  for (const { group, weight } of items) {
    const entry = groups.get(group) ?? { weight: 0n, operators: 0 };
    entry.weight += stakeWeight(weight);
    entry.operators++;
    groups.set(group, entry);
  }
  const total = [...groups.values()].reduce((sum, g) => sum + g.weight, 0n);
  return [...groups.entries()]
    .map(([group, { weight, operators }]) => ({ group, weight, share: ratio(weight, total), operators }))
    .sort(byWeightThenLabel);
}

/**
 * The Nakamoto coefficient at `threshold`: the fewest groups whose combined weight is strictly greater
 * than `threshold` of the total — `Σ weights × den > total × num`, compared exactly. Exactly a third is
 * not more than a third: two groups of 50% each give a coefficient of 2 at 1/2, not 1. Taking the largest
 * groups first gives the fewest. Null when the total is 0 or no set of groups can exceed `threshold`
 * (a threshold of 1 or more).
 */
export function nakamoto(groups: readonly GroupShare[], threshold: Fraction): number | null {
  const total = groups.reduce((sum, g) => sum + g.weight, 0n);
  if (total === 0n) return null;
  const sorted = [...groups].sort(byWeightThenLabel);
  let held = 0n;
  for (const [index, group] of sorted.entries()) {
    held += group.weight;
    if (held * threshold.den > total * threshold.num) return index + 1;
  }
  return null;
}

/** Σ (weightᵢ / total)² × `scale`, computed exactly before the one division; null for a total of 0. */
export function hhi(groups: readonly GroupShare[], scale = 1n): number | null {
  const total = groups.reduce((sum, g) => sum + g.weight, 0n);
  if (total === 0n) return null;
  const squares = groups.reduce((sum, g) => sum + g.weight * g.weight, 0n);
  return ratio(squares * scale, total * total);
}

/** Every concentration figure over one set of weighted groups. */
export function concentrationOf(items: ReadonlyArray<{ group: string; weight: bigint }>): Concentration {
  const groups = groupWeights(items);
  const total = groups.reduce((sum, g) => sum + g.weight, 0n);
  return {
    total,
    groups,
    nakamotoThird: nakamoto(groups, ONE_THIRD),
    nakamotoHalf: nakamoto(groups, ONE_HALF),
    hhi: hhi(groups),
    hhiPoints: hhi(groups, 10_000n),
    largest: total === 0n ? null : (groups[0] ?? null),
  };
}

/** Concentration of a network's allocated stake, grouped `by`. */
export function stakeConcentration(operators: readonly NetworkOperator[], by: Grouping): Concentration {
  return concentrationOf(operators.map((o) => ({ group: groupOf(o, by), weight: o.allocatedStake })));
}

/**
 * Concentration of the traffic a network's operators served, grouped `by`; null when no operator reports
 * a served share. Shares are normalised to what was reported, and an operator without one counts as
 * having served nothing.
 */
export function trafficConcentration(
  operators: readonly NetworkOperator[],
  by: Grouping,
): Concentration | null {
  if (!operators.some((o) => o.servedShare !== undefined)) return null;
  return concentrationOf(
    operators.map((o) => ({ group: groupOf(o, by), weight: servedWeight(o.servedShare) })),
  );
}
