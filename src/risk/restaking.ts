// Is the stake restaked across operator sets enough to make corrupting them unprofitable, and how far can
// a sudden loss of stake cascade? The model (Durvasula & Roughgarden, "Robust Restaking Networks", 2024):
// operator sets s with a profit from corruption πₛ and a threshold αₛ (the fraction of the set's stake
// needed to corrupt it), operators v with stake σᵥ, N(s) the operators securing s. A coalition B of
// operators can corrupt the sets A when it holds αₛ of each one's stake; the attack pays when π(A) > σ(B)
// (the coalition's stake is slashed, the profit is the prize). Deciding exactly whether any attack pays is
// coNP-hard, so the check below is the polynomial sufficient condition, with exact enumeration as a
// cross-check on small graphs.
import { ceilTimes, compare, type Fraction, fraction, INFINITY, isInfinite, ratio } from "./fraction.js";
import { stakeWeight } from "./types.js";

export interface RestakingOperator {
  id: string;
  /** Stake the operator has restaked: the same stake backs every set it is in. */
  stake: bigint;
}

export interface OperatorSet {
  id: string;
  /** αₛ: fraction of the set's stake that corrupts it (1/3 for a two-thirds quorum, 1/2 for a majority). */
  threshold: Fraction;
  /** πₛ: what corrupting the set is worth to an attacker, in the stake's unit. */
  profit: bigint;
  /** Ids of the operators securing the set (unknown ids count as operators without stake). */
  operators: readonly string[];
}

/**
 * Operators and the sets they secure. Stake allocated to one set alone (EigenLayer's unique stake) is an
 * operator of its own here: give each (operator, set) allocation its own node.
 */
export interface RestakingGraph {
  operators: readonly RestakingOperator[];
  sets: readonly OperatorSet[];
}

export interface SetSecurity {
  id: string;
  /** σ(N(s)): stake securing the set. */
  stake: bigint;
  /** ⌈αₛ · σ(N(s))⌉: the least stake a coalition must hold, and lose, to corrupt the set. */
  costOfCorruption: bigint;
  profit: bigint;
  /** cost / profit − 1: the set's margin if its operators secured nothing else (+∞ without profit). */
  standaloneSlack: Fraction;
  /** The least slack of its operators (the standalone slack when it has none): what restaking leaves it. */
  slack: Fraction;
  /** slack ≤ 0: the condition does not certify the set. */
  fails: boolean;
}

export interface OperatorSecurity {
  id: string;
  stake: bigint;
  /** Σ over its sets of πₛ / (αₛ · σ(N(s))): the profit each unit of its stake is exposed to. */
  load: Fraction;
  /** 1 / load − 1: how far its stake overcollateralises the profits it is exposed to (+∞ without load). */
  slack: Fraction;
  fails: boolean;
}

export interface SecurityCheck {
  /**
   * γ, the network's security slack: the largest γ with (1 + γ) · load ≤ 1 for every operator. γ > 0
   * certifies that every attack costs at least (1 + γ) times what it earns; γ ≤ 0 means "not
   * certified", not "broken" (the condition is sufficient, not necessary).
   */
  slack: Fraction;
  certified: boolean;
  sets: SetSecurity[];
  operators: OperatorSecurity[];
  /** Ids of the sets the condition does not certify, in input order. */
  failingSets: string[];
  /** Ids of the operators whose load is 1 or more, in input order. */
  failingOperators: string[];
}

/** The graph with duplicate ids merged away and set members reduced to known, distinct indices. */
interface Indexed {
  ids: string[];
  stakes: bigint[];
  /** Per set, the indices of its operators (unknown ids get an index of their own with no stake). */
  members: number[][];
}

function indexGraph(graph: RestakingGraph): Indexed {
  const index = new Map<string, number>();
  const ids: string[] = [];
  const stakes: bigint[] = [];
  const indexOf = (id: string): number => {
    let i = index.get(id);
    if (i === undefined) {
      i = ids.length;
      index.set(id, i);
      ids.push(id);
      stakes.push(0n);
    }
    return i;
  };
  for (const operator of graph.operators) {
    const i = indexOf(operator.id);
    stakes[i] = stakeWeight(operator.stake);
  }
  const members = graph.sets.map((set) => [...new Set(set.operators.map(indexOf))].sort((a, b) => a - b));
  return { ids, stakes, members };
}

/** The slack 1/load − 1 of a load `n/d` (d = 0: an infinite load, slack −1). */
function slackOfLoad(load: Fraction): Fraction {
  if (isInfinite(load)) return fraction(-1n, 1n);
  if (load.num === 0n) return INFINITY;
  return fraction(load.den - load.num, load.num);
}

function addLoad(a: Fraction, b: Fraction): Fraction {
  if (isInfinite(a) || isInfinite(b)) return INFINITY;
  return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

function minFraction(values: readonly Fraction[], empty: Fraction): Fraction {
  return values.reduce((least, f) => (compare(f, least) < 0 ? f : least), empty);
}

/**
 * The polynomial security check (EigenLayer's condition): every operator's load
 * Σ_{s ∋ v} πₛ / (αₛ · σ(N(s))) must be at most 1 / (1 + γ). Computed in exact fractions, so a set
 * whose profit equals its cost of corruption has slack exactly 0 and is not certified.
 */
export function securityCheck(graph: RestakingGraph): SecurityCheck {
  const { ids, stakes, members } = indexGraph(graph);
  const loads: Fraction[] = ids.map(() => fraction(0n, 1n));
  const sets = graph.sets.map((set, s) => {
    const stake = members[s]!.reduce((sum, v) => sum + stakes[v]!, 0n);
    const profit = stakeWeight(set.profit);
    // πₛ / (αₛ · σ(N(s))) per unit of stake: what each member's stake is exposed to through this set.
    const exposure =
      profit === 0n ? fraction(0n, 1n) : fraction(profit * set.threshold.den, set.threshold.num * stake);
    for (const v of members[s]!) loads[v] = addLoad(loads[v]!, exposure);
    const costOfCorruption = ceilTimes(stake, set.threshold);
    return { id: set.id, stake, costOfCorruption, profit, standaloneSlack: slackOfLoad(exposure) };
  });
  const operators = ids.map((id, v) => {
    const slack = slackOfLoad(loads[v]!);
    return { id, stake: stakes[v]!, load: loads[v]!, slack, fails: compare(slack, fraction(0n, 1n)) <= 0 };
  });
  const setResults = sets.map((set, s): SetSecurity => {
    const slack =
      members[s]!.length === 0
        ? set.standaloneSlack
        : minFraction(
            members[s]!.map((v) => operators[v]!.slack),
            INFINITY,
          );
    return { ...set, slack, fails: compare(slack, fraction(0n, 1n)) <= 0 };
  });
  const slack = minFraction([...operators.map((o) => o.slack), ...setResults.map((s) => s.slack)], INFINITY);
  return {
    slack,
    certified: compare(slack, fraction(0n, 1n)) > 0,
    sets: setResults,
    operators,
    failingSets: setResults.filter((s) => s.fails).map((s) => s.id),
    failingOperators: operators.filter((o) => o.fails).map((o) => o.id),
  };
}

/**
 * The most a shock of `shock` (fraction of all stake lost at once: a bug, a mass slashing) can grow to
 * once attacks that became profitable follow it: (1 + 1/γ) · ψ, exact. Capped at 1, and 1 when γ ≤ 0
 * (nothing bounds the cascade: an uncertified network may lose everything to a tiny shock).
 */
export function cascadeBound(slack: Fraction, shock: Fraction): Fraction {
  const one = fraction(1n, 1n);
  if (compare(slack, fraction(0n, 1n)) <= 0) return one;
  const psi = compare(shock, one) > 0 ? one : compare(shock, fraction(0n, 1n)) < 0 ? fraction(0n, 1n) : shock;
  const bound = isInfinite(slack) ? psi : fraction(psi.num * (slack.num + slack.den), psi.den * slack.num);
  return compare(bound, one) > 0 ? one : bound;
}

/** Operators up to which every coalition is enumerated (2ⁿ coalitions: 65,536 at 16). */
export const MAX_EXACT_OPERATORS = 16;
/** Operators and sets up to which cascades are enumerated (every shock, every attack, every order). */
export const MAX_CASCADE_OPERATORS = 8;
export const MAX_CASCADE_SETS = 6;

/** An attack: the operators that lose their stake and the sets they corrupt. */
export interface Attack {
  operators: string[];
  sets: string[];
  /** σ(B): stake the coalition loses. */
  cost: bigint;
  /** π(A): what it earns. */
  profit: bigint;
}

export interface ExactSecurity {
  /** The exact slack: min over coalitions of σ(B) / π(A) − 1 (+∞ when no coalition can corrupt a set with profit). */
  slack: Fraction;
  /** No attack pays: π(A) ≤ σ(B) for every coalition. */
  secure: boolean;
  /** The attack with the least cost per unit of profit (null when none has profit). */
  worst: Attack | null;
}

interface Bits {
  ids: string[];
  /** Stake of every subset of operators, by bitmask. */
  stakeOf: bigint[];
  setMask: number[];
  profits: bigint[];
  thresholds: Fraction[];
}

function bits(graph: RestakingGraph): Bits {
  const { ids, stakes, members } = indexGraph(graph);
  const stakeOf: bigint[] = new Array(1 << ids.length).fill(0n);
  for (let mask = 1; mask < stakeOf.length; mask++) {
    const low = 31 - Math.clz32(mask & -mask);
    stakeOf[mask] = stakeOf[mask & (mask - 1)]! + stakes[low]!;
  }
  return {
    ids,
    stakeOf,
    setMask: members.map((m) => m.reduce((mask, v) => mask | (1 << v), 0)),
    profits: graph.sets.map((s) => stakeWeight(s.profit)),
    thresholds: graph.sets.map((s) => s.threshold),
  };
}

/** Sets (not in `gone`) that coalition `coalition` can corrupt once the operators in `lost` are gone. */
function corruptible(b: Bits, coalition: number, lost: number, gone: number): number {
  let sets = 0;
  for (let s = 0; s < b.setMask.length; s++) {
    if (gone & (1 << s)) continue;
    const left = b.setMask[s]! & ~lost;
    const t = b.thresholds[s]!;
    if (b.stakeOf[coalition & left]! * t.den >= t.num * b.stakeOf[left]!) sets |= 1 << s;
  }
  return sets;
}

function profitOf(b: Bits, sets: number): bigint {
  let sum = 0n;
  for (let s = 0; s < b.profits.length; s++) if (sets & (1 << s)) sum += b.profits[s]!;
  return sum;
}

function attackOf(b: Bits, coalition: number, sets: number, setIds: readonly string[]): Attack {
  return {
    operators: b.ids.filter((_, v) => coalition & (1 << v)),
    sets: setIds.filter((_, s) => sets & (1 << s)),
    cost: b.stakeOf[coalition]!,
    profit: profitOf(b, sets),
  };
}

/**
 * Every coalition tried: the exact slack and the cheapest attack per unit of profit. A coalition always
 * goes for every set it can corrupt (profits are never negative). Null above MAX_EXACT_OPERATORS.
 */
export function exactSecurity(graph: RestakingGraph): ExactSecurity | null {
  const b = bits(graph);
  if (b.ids.length > MAX_EXACT_OPERATORS) return null;
  let best: { coalition: number; sets: number; cost: bigint; profit: bigint } | null = null;
  for (let coalition = 0; coalition < b.stakeOf.length; coalition++) {
    const sets = corruptible(b, coalition, 0, 0);
    const profit = profitOf(b, sets);
    if (profit === 0n) continue;
    const cost = b.stakeOf[coalition]!;
    if (!best || cost * best.profit < best.cost * profit) best = { coalition, sets, cost, profit };
  }
  if (!best) return { slack: INFINITY, secure: true, worst: null };
  const slack = fraction(best.cost - best.profit, best.profit);
  return {
    slack,
    secure: best.cost >= best.profit,
    worst: attackOf(
      b,
      best.coalition,
      best.sets,
      graph.sets.map((s) => s.id),
    ),
  };
}

export interface Cascade {
  /** The operators lost in the shock (their stake at most the shock given). */
  shock: string[];
  /** The attacks that follow, in order, each profitable on what the earlier ones left. */
  attacks: Attack[];
  /** Stake lost in all: the shock and every attacking coalition. */
  loss: bigint;
  /** loss / all stake. */
  lossShare: Fraction;
}

/**
 * The worst cascade after a shock of at most `shockStake`, by enumeration: every set of operators the
 * shock can take, then every sequence of profitable attacks on what is left — a coalition B corrupts sets
 * A if it holds αₛ of each one's remaining stake and π(A) > σ(B); B loses its stake, A is corrupted and
 * pays out once. B only holds operators of the sets it attacks (they are the only ones those sets can
 * slash), and may attack fewer sets than it could, keeping the others for a later, larger attack. Null
 * above MAX_CASCADE_OPERATORS operators or MAX_CASCADE_SETS sets.
 */
export function worstCascade(graph: RestakingGraph, shockStake: bigint): Cascade | null {
  const b = bits(graph);
  if (b.ids.length > MAX_CASCADE_OPERATORS || b.setMask.length > MAX_CASCADE_SETS) return null;
  const all = (1 << b.ids.length) - 1;
  const setIds = graph.sets.map((s) => s.id);
  const memo = new Map<number, { loss: bigint; next?: { coalition: number; sets: number } }>();
  const further = (lost: number, gone: number): bigint => {
    const key = lost * (1 << b.setMask.length) + gone;
    const known = memo.get(key);
    if (known) return known.loss;
    let best: { loss: bigint; next?: { coalition: number; sets: number } } = { loss: 0n };
    const left = all & ~lost;
    for (let coalition = left; coalition > 0; coalition = (coalition - 1) & left) {
      const cost = b.stakeOf[coalition]!;
      const open = corruptible(b, coalition, lost, gone);
      if (profitOf(b, open) <= cost) continue;
      for (let sets = open; sets > 0; sets = (sets - 1) & open) {
        if (profitOf(b, sets) <= cost) continue;
        const reach = b.setMask.reduce((mask, m, s) => (sets & (1 << s) ? mask | m : mask), 0);
        if (coalition & ~reach) continue;
        const loss = cost + further(lost | coalition, gone | sets);
        if (loss > best.loss) best = { loss, next: { coalition, sets } };
      }
    }
    memo.set(key, best);
    return best.loss;
  };
  let worst: { shock: number; loss: bigint } | null = null;
  for (let shock = 0; shock <= all; shock++) {
    if (b.stakeOf[shock]! > shockStake) continue;
    const loss = b.stakeOf[shock]! + further(shock, 0);
    if (!worst || loss > worst.loss) worst = { shock, loss };
  }
  const total = b.stakeOf[all]!;
  const attacks: Attack[] = [];
  let lost = worst!.shock;
  let gone = 0;
  for (let step = memo.get(lost * (1 << b.setMask.length))?.next; step; ) {
    attacks.push(attackOf(b, step.coalition, step.sets, setIds));
    lost |= step.coalition;
    gone |= step.sets;
    step = memo.get(lost * (1 << b.setMask.length) + gone)?.next;
  }
  return {
    shock: b.ids.filter((_, v) => worst!.shock & (1 << v)),
    attacks,
    loss: worst!.loss,
    lossShare: total === 0n ? fraction(0n, 1n) : fraction(worst!.loss, total),
  };
}

/** The network's stake: every operator's, counted once however many sets it secures. */
export function totalStake(graph: RestakingGraph): bigint {
  const seen = new Map<string, bigint>();
  for (const o of graph.operators) seen.set(o.id, stakeWeight(o.stake));
  return [...seen.values()].reduce((sum, s) => sum + s, 0n);
}

/** `stake / total` as an exact share (0 for no stake). */
export function shareOf(stake: bigint, total: bigint): Fraction {
  return total === 0n ? fraction(0n, 1n) : fraction(stake, total);
}

/** γ as a number for display (+∞ stays Infinity). */
export function slackNumber(slack: Fraction): number {
  return ratio(slack.num, slack.den);
}
