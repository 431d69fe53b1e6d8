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
}

export interface SelectionContext {
  /** Upstreams that must not be used at all (e.g. not declaring a heavy method). */
  eligible?: (view: UpstreamView) => boolean;
  /** Head-dependent reads: upstreams lagging more than this are used only when nothing else is left. */
  maxLagBlocks?: number;
  /** The session's primary, kept first while no rival scores `rivalFactor` times better. */
  sticky?: string | undefined;
  /** @default 1.3 */
  rivalFactor?: number;
}

/** Higher is better: weight over the sum of penalties (eRPC's form), latency in units of 100 ms. */
export function score(view: UpstreamView): number {
  const lagPenalty = view.lagBlocks === undefined ? 5 : 0.5 * view.lagBlocks;
  return view.weight / (1 + view.latencyMs / 100 + 4 * view.errorRate + 2 * view.throttleRate + lagPenalty);
}

export interface RankedUpstream extends UpstreamView {
  /** 0: a normal candidate; 1: unhealthy; 2: lagging for a head-dependent read; 3: circuit open. */
  tier: number;
  score: number;
}

/** The order in which upstreams should be tried; ineligible ones are left out, poor ones put last. */
export function rankUpstreams(
  views: readonly UpstreamView[],
  context: SelectionContext = {},
): RankedUpstream[] {
  const scored = views
    .filter((view) => context.eligible?.(view) ?? true)
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
