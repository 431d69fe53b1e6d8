/**
 * Routing against concentration: no one cloud serves more than `cap` of a network's requests while
 * operators on other clouds are healthy. The share is measured over the last `window` requests routed (the
 * cloud of each request's first attempt). When the best-ranked upstream's cloud is at or over the cap, the
 * best healthy upstream of the same tier and priority on a cloud under the cap goes first instead; when
 * there is none, the ranking stands (the cap gives way, it never refuses a request). Sessions are held to
 * it too: a session keeps its primary while the primary's cloud is under the cap (or no other healthy cloud
 * is) and no rival under the cap is clearly better; otherwise it moves to the head of the capped order.
 * Every request through an API key belongs to a session (the key's own when no session id is sent): a
 * primary kept regardless would let a few sessions put all of a network's traffic on one cloud.
 */
import { preferSticky, type RankedUpstream } from "./selection.js";

export class CloudShare {
  private readonly ring: (string | undefined)[];
  private next = 0;
  private filled = 0;
  private readonly counts = new Map<string, number>();
  /** The cap of each ranking (rankings are cached and shared by many requests: computed once each). */
  private readonly caps = new WeakMap<readonly RankedUpstream[], number | undefined>();

  /** `cap` in (0, 1]: 1 turns the cap off. `window`: requests the share is measured over. */
  constructor(
    readonly cap: number,
    window: number,
  ) {
    this.ring = new Array(Math.max(1, window));
  }

  /** Counts a request routed (first attempt) to an upstream on `cloud`. */
  record(cloud: string): void {
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.counts.set(evicted, (this.counts.get(evicted) ?? 1) - 1);
    this.ring[this.next] = cloud;
    this.counts.set(cloud, (this.counts.get(cloud) ?? 0) + 1);
    this.next = (this.next + 1) % this.ring.length;
    this.filled = Math.min(this.filled + 1, this.ring.length);
  }

  /** Share of the measured requests that went to `cloud` (0 before any). */
  share(cloud: string): number {
    return this.filled === 0 ? 0 : (this.counts.get(cloud) ?? 0) / this.filled;
  }

  /** Each cloud's share of the measured requests, largest first. */
  shares(): { cloud: string; share: number }[] {
    return [...this.counts]
      .filter(([, count]) => count > 0)
      .map(([cloud]) => ({ cloud, share: this.share(cloud) }))
      .sort((a, b) => b.share - a.share || a.cloud.localeCompare(b.cloud));
  }

  /** Requests measured (at most the window). */
  get measured(): number {
    return this.filled;
  }

  /** `ranked` with a healthy upstream of a cloud under the cap first, when the head's cloud is over it. */
  order(ranked: readonly RankedUpstream[]): readonly RankedUpstream[] {
    const head = ranked[0];
    const cap = this.effectiveCap(ranked);
    if (cap === undefined || !head || this.share(head.cloud) < cap) return ranked;
    const eligible = (view: RankedUpstream) =>
      view.tier === 0 && view.priority === head.priority && view.health !== "unhealthy";
    const index = ranked.findIndex(
      (view) => eligible(view) && view.cloud !== head.cloud && this.share(view.cloud) < cap,
    );
    if (index <= 0) return ranked;
    return [ranked[index] as RankedUpstream, ...ranked.slice(0, index), ...ranked.slice(index + 1)];
  }

  /**
   * The session's primary first, when stickiness keeps it under the cap: its cloud is under the cap or the
   * capped order found no other cloud, and the capped order's head is not `rivalFactor` times better.
   * Otherwise the capped order, whose head becomes the session's primary.
   */
  orderSticky(
    ranked: readonly RankedUpstream[],
    sticky: string,
    rivalFactor: number,
  ): readonly RankedUpstream[] {
    const ordered = this.order(ranked);
    const primary = ordered.find((view) => view.id === sticky);
    const head = ordered[0];
    const cap = this.effectiveCap(ranked);
    if (primary && head && cap !== undefined && head.cloud !== primary.cloud) {
      if (this.share(primary.cloud) >= cap && this.share(head.cloud) < cap) return ordered;
    }
    return preferSticky(ordered, sticky, rivalFactor);
  }

  /** The cap that applies to `ranked` now: undefined when it is off or fewer than two clouds are healthy. */
  private effectiveCap(ranked: readonly RankedUpstream[]): number | undefined {
    if (this.caps.has(ranked)) return this.caps.get(ranked);
    const cap = this.capOf(ranked);
    this.caps.set(ranked, cap);
    return cap;
  }

  private capOf(ranked: readonly RankedUpstream[]): number | undefined {
    const head = ranked[0];
    if (this.cap >= 1 || !head || head.tier !== 0) return undefined;
    const clouds = new Set(
      ranked
        .filter((view) => view.tier === 0 && view.priority === head.priority && view.health !== "unhealthy")
        .map((view) => view.cloud),
    ).size;
    // With fewer healthy clouds than the cap allows for (two clouds under a third), each may serve an equal share.
    return clouds < 2 ? undefined : Math.max(this.cap, 1 / clouds);
  }
}
