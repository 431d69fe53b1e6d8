/**
 * Upstream selection: rank by tier, health and score, keep a session's primary until a rival is clearly
 * better, and spread consecutive attempts of one request across clouds and regions so that a cloud
 * outage costs at most one attempt. Pure functions over plain data.
 */
import type { HealthState } from "./health.js";

export interface UpstreamView {
  id: string;
  cloud: string;
  region: string;
  /** Lower is preferred. */
  priority: number;
  weight: number;
  health: HealthState;
  /** False while the circuit breaker is open (or its half-open probe is taken). */
  available: boolean;
  latencyMs: number;
  errorRate: number;
  throttleRate: number;
  /** Blocks behind the network head (0 when level or ahead; undefined when the head is unknown). */
  lagBlocks: number | undefined;
  /** Multiplies the score: the operator's stake relative to its network's ({@link stakeFactor}). @default 1 */
  stakeFactor?: number;
  /** Jailed on the ledger: never selected, not even as a last resort. @default false */
  jailed?: boolean;
  /** A slash is queued against it on the ledger: used only when nothing else is left. @default false */
  queuedSlash?: boolean;
  /** It serves another chain than its network's (or would not say which): never selected. @default false */
  wrongChain?: boolean;
  /** It contradicted a quorum's agreed answer (quarantine.ts): never selected while it lasts. @default false */
  quarantined?: boolean;
}

export interface SelectionContext {
  /** Upstreams that must not be used at all (e.g. not declaring a heavy method). */
  eligible?: ((view: UpstreamView) => boolean) | undefined;
  /** Head-dependent reads: upstreams lagging more than this are used only when nothing else is left. */
  maxLagBlocks?: number | undefined;
  /** The session's primary, kept first while no rival scores `rivalFactor` times better. */
  sticky?: string | undefined;
  /** @default 1.3 */
  rivalFactor?: number;
}

/**
 * Higher is better: weight over the sum of penalties (eRPC's form), latency in units of 100 ms, times the
 * stake factor (an operator with more at stake has more to lose by serving badly).
 */
export function score(view: UpstreamView): number {
  const lagPenalty = view.lagBlocks === undefined ? 5 : 0.5 * view.lagBlocks;
  return (
    (view.weight * (view.stakeFactor ?? 1)) /
    (1 + view.latencyMs / 100 + 4 * view.errorRate + 2 * view.throttleRate + lagPenalty)
  );
}

/** Bounds of {@link stakeFactor}: stake tilts traffic, it never starves or floods an operator. */
export const STAKE_FACTOR_MIN = 0.5;
export const STAKE_FACTOR_MAX = 2;

/**
 * How much an operator's stake raises its score: sqrt(stake / the network's median stake), clamped to
 * [0.5, 2]. The square root keeps a whale from taking all the traffic; 1 when the median is unknown or 0.
 */
export function stakeFactor(stake: bigint, median: bigint): number {
  if (median <= 0n) return 1;
  // Ratios far outside the clamp need no precision; scale to keep the division exact enough in doubles.
  const ratio = Number((stake * 1_000_000n) / median) / 1_000_000;
  return Math.min(STAKE_FACTOR_MAX, Math.max(STAKE_FACTOR_MIN, Math.sqrt(ratio)));
}

/** The median of stakes (the lower middle for an even count); 0 for none. */
export function medianStake(stakes: readonly bigint[]): bigint {
  if (stakes.length === 0) return 0n;
  const sorted = [...stakes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export interface RankedUpstream extends UpstreamView {
  /**
   * 0: a normal candidate; 1: unhealthy; 2: lagging for a head-dependent read; 3: circuit open; 4 and up:
   * a slash is queued against it (4 + the tier it would have otherwise).
   */
  tier: number;
  score: number;
}

/**
 * The order in which upstreams should be tried; ineligible, jailed, quarantined and wrong-chain ones are
 * left out (a liar is worse than no answer), poor ones put last, operators with a queued slash after
 * everything else.
 */
export function rankUpstreams(
  views: readonly UpstreamView[],
  context: SelectionContext = {},
): RankedUpstream[] {
  const scored = views
    .filter(
      (view) =>
        view.jailed !== true &&
        view.wrongChain !== true &&
        view.quarantined !== true &&
        (context.eligible?.(view) ?? true),
    )
    .map((view) => ({ view, score: score(view), lastResort: lastResortLevel(view, context) }));
  scored.sort(
    (a, b) =>
      a.lastResort - b.lastResort ||
      a.view.priority - b.view.priority ||
      (a.view.health === "warning" ? 1 : 0) - (b.view.health === "warning" ? 1 : 0) ||
      b.score - a.score,
  );
  const ranked: RankedUpstream[] = scored.map((entry) => ({
    ...entry.view,
    tier: entry.lastResort,
    score: entry.score,
  }));
  return context.sticky === undefined
    ? ranked
    : preferSticky(ranked, context.sticky, context.rivalFactor ?? 1.3);
}

/**
 * Puts a session's primary first unless the best rival (same tier and priority) scores `rivalFactor`
 * times better. Returns a new array when it reorders; `ranked` is never modified.
 */
export function preferSticky(
  ranked: readonly RankedUpstream[],
  sticky: string,
  rivalFactor: number,
): RankedUpstream[] {
  const index = ranked.findIndex((view) => view.id === sticky);
  const best = ranked[0];
  const primary = ranked[index];
  if (
    index > 0 &&
    best &&
    primary &&
    primary.tier === best.tier &&
    primary.priority === best.priority &&
    primary.health !== "unhealthy" &&
    best.score < primary.score * rivalFactor
  ) {
    return [primary, ...ranked.slice(0, index), ...ranked.slice(index + 1)];
  }
  return ranked as RankedUpstream[];
}

function lastResortLevel(view: UpstreamView, context: SelectionContext): number {
  return view.queuedSlash === true ? 4 + baseLevel(view, context) : baseLevel(view, context);
}

function baseLevel(view: UpstreamView, context: SelectionContext): number {
  if (!view.available) return 3;
  if (
    context.maxLagBlocks !== undefined &&
    (view.lagBlocks === undefined || view.lagBlocks > context.maxLagBlocks)
  ) {
    return 2;
  }
  return view.health === "unhealthy" ? 1 : 0;
}

/**
 * The next upstream to try for a request that already tried `tried`: within the best tier left, the
 * best-ranked one on a cloud not tried yet, else on a region not tried yet, else any untried one.
 */
export function pickNext(
  ranked: readonly RankedUpstream[],
  tried: readonly UpstreamView[],
): RankedUpstream | undefined {
  // The first attempt of every request: the ranking is sorted by tier first, so its head is the answer.
  if (tried.length === 0) return ranked[0];
  const triedIds = new Set(tried.map((view) => view.id));
  const left = ranked.filter((view) => !triedIds.has(view.id));
  if (left.length === 0) return undefined;
  const bestTier = Math.min(...left.map((view) => view.tier));
  const untried = left.filter((view) => view.tier === bestTier);
  const clouds = new Set(tried.map((view) => view.cloud));
  const regions = new Set(tried.map((view) => `${view.cloud}/${view.region}`));
  return (
    untried.find((view) => !clouds.has(view.cloud)) ??
    untried.find((view) => !regions.has(`${view.cloud}/${view.region}`)) ??
    untried[0]
  );
}

/** `count` distinct upstreams, as diverse as possible (quorum, broadcast, nonce fan-out). */
export function pickDiverse(ranked: readonly RankedUpstream[], count: number): RankedUpstream[] {
  const picked: RankedUpstream[] = [];
  while (picked.length < count) {
    const next = pickNext(ranked, picked);
    if (!next) break;
    picked.push(next);
  }
  return picked;
}
