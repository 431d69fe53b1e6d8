import { describe, expect, it } from "vitest";
import {
  medianStake,
  pickDiverse,
  pickNext,
  rankUpstreams,
  stakeFactor,
  type UpstreamView,
} from "./selection.js";

const view = (
  id: string,
  cloud: string,
  region: string,
  extra: Partial<UpstreamView> = {},
): UpstreamView => ({
  id,
  cloud,
  region,
  priority: 0,
  weight: 1,
  health: "healthy",
  available: true,
  latencyMs: 10,
  errorRate: 0,
  throttleRate: 0,
  lagBlocks: 0,
  ...extra,
});

const fleet = [
  view("aws-1", "aws", "us-east-1", { latencyMs: 5 }),
  view("aws-2", "aws", "eu-west-1", { latencyMs: 6 }),
  view("gcp-1", "gcp", "us-central1", { latencyMs: 20 }),
  view("hetzner-1", "hetzner", "eu-central", { latencyMs: 30 }),
  view("bare-1", "bare-metal", "eu-west", { latencyMs: 40 }),
];

describe("rankUpstreams", () => {
  it("prefers lower latency, fewer errors and throttles, less lag", () => {
    expect(rankUpstreams(fleet).map((u) => u.id)).toEqual(["aws-1", "aws-2", "gcp-1", "hetzner-1", "bare-1"]);
    const erring = fleet.map((u) => (u.id === "aws-1" ? { ...u, errorRate: 0.5 } : u));
    expect(rankUpstreams(erring)[0]!.id).toBe("aws-2");
  });

  it("puts unhealthy, lagging (for reads) and open-circuit upstreams last, in that order", () => {
    const views = [
      view("open", "a", "r", { available: false, latencyMs: 1 }),
      view("lagging", "b", "r", { lagBlocks: 20, latencyMs: 1 }),
      view("sick", "c", "r", { health: "unhealthy", latencyMs: 1 }),
      view("fine", "d", "r", { latencyMs: 50 }),
    ];
    expect(rankUpstreams(views, { maxLagBlocks: 2 }).map((u) => u.id)).toEqual([
      "fine",
      "sick",
      "lagging",
      "open",
    ]);
    expect(rankUpstreams(views).map((u) => u.id)).toEqual(["fine", "lagging", "sick", "open"]);
  });

  it("honours priority tiers before score", () => {
    const views = [
      view("backup", "a", "r", { priority: 1, latencyMs: 1 }),
      view("primary", "b", "r", { latencyMs: 90 }),
    ];
    expect(rankUpstreams(views)[0]!.id).toBe("primary");
  });

  it("keeps a sticky primary until a rival is clearly (30%) better", () => {
    const views = [view("a", "x", "1", { latencyMs: 10 }), view("b", "y", "2", { latencyMs: 12 })];
    expect(rankUpstreams(views, { sticky: "b" })[0]!.id).toBe("b");
    const muchWorse = [view("a", "x", "1", { latencyMs: 10 }), view("b", "y", "2", { latencyMs: 200 })];
    expect(rankUpstreams(muchWorse, { sticky: "b" })[0]!.id).toBe("a");
    const sick = [view("a", "x", "1"), view("b", "y", "2", { health: "unhealthy" })];
    expect(rankUpstreams(sick, { sticky: "b" })[0]!.id).toBe("a");
  });

  it("leaves out upstreams that are not eligible", () => {
    expect(rankUpstreams(fleet, { eligible: (u) => u.cloud === "gcp" }).map((u) => u.id)).toEqual(["gcp-1"]);
  });
});

describe("pickNext", () => {
  it("moves to another cloud after a failure, so a cloud outage costs one attempt", () => {
    const ranked = rankUpstreams(fleet);
    const first = pickNext(ranked, [])!;
    expect(first.id).toBe("aws-1");
    const second = pickNext(ranked, [first])!;
    expect(second.cloud).not.toBe("aws");
    expect(second.id).toBe("gcp-1");
  });

  it("moves to another region when every cloud was tried", () => {
    const views = [view("a1", "aws", "us"), view("a2", "aws", "us"), view("a3", "aws", "eu")];
    const ranked = rankUpstreams(views);
    expect(pickNext(ranked, [ranked[0]!])!.id).toBe("a3");
  });

  it("never trades a healthy upstream for a worse tier for the sake of diversity", () => {
    const views = [
      view("aws-1", "aws", "a"),
      view("aws-2", "aws", "b"),
      view("gcp-1", "gcp", "c", { available: false }),
    ];
    const ranked = rankUpstreams(views);
    expect(pickNext(ranked, [ranked[0]!])!.id).toBe("aws-2");
  });

  it("returns nothing once every upstream was tried", () => {
    const ranked = rankUpstreams(fleet.slice(0, 2));
    expect(pickNext(ranked, ranked)).toBeUndefined();
  });
});

describe("pickDiverse", () => {
  it("spreads a fan-out across clouds first", () => {
    expect(pickDiverse(rankUpstreams(fleet), 3).map((u) => u.cloud)).toEqual(["aws", "gcp", "hetzner"]);
  });
});

describe("stake", () => {
  it("scales an operator's score by the square root of its stake over the network's median, within [0.5, 2]", () => {
    expect(stakeFactor(100n, 100n)).toBe(1);
    expect(stakeFactor(400n, 100n)).toBeCloseTo(2);
    expect(stakeFactor(225n, 100n)).toBeCloseTo(1.5);
    expect(stakeFactor(10_000n, 100n)).toBe(2);
    expect(stakeFactor(1n, 100n)).toBe(0.5);
    expect(stakeFactor(0n, 100n)).toBe(0.5);
    expect(stakeFactor(5n, 0n)).toBe(1);
    expect(stakeFactor(10n ** 30n, 10n ** 18n)).toBe(2);
  });

  it("takes the lower middle stake as the median", () => {
    expect(medianStake([])).toBe(0n);
    expect(medianStake([7n])).toBe(7n);
    expect(medianStake([30n, 10n, 20n])).toBe(20n);
    expect(medianStake([40n, 10n, 30n, 20n])).toBe(20n);
  });

  it("prefers the better staked of two equal operators", () => {
    const ranked = rankUpstreams([
      view("small", "aws", "a", { stakeFactor: 0.5 }),
      view("large", "gcp", "b", { stakeFactor: 2 }),
    ]);
    expect(ranked.map((u) => u.id)).toEqual(["large", "small"]);
    expect(ranked[0]!.score).toBeCloseTo(ranked[1]!.score * 4);
  });

  it("never selects a jailed operator and tries one with a queued slash only after everything else", () => {
    const ranked = rankUpstreams([
      view("jailed", "aws", "a", { jailed: true, latencyMs: 1 }),
      view("slashed", "gcp", "b", { queuedSlash: true, latencyMs: 1 }),
      view("open", "hetzner", "c", { available: false }),
      view("fine", "bare-metal", "d", { latencyMs: 50 }),
    ]);
    expect(ranked.map((u) => u.id)).toEqual(["fine", "open", "slashed"]);
    expect(pickDiverse(ranked, 5).map((u) => u.id)).toEqual(["fine", "open", "slashed"]);
    expect(rankUpstreams([view("jailed", "aws", "a", { jailed: true })])).toEqual([]);
  });
});
