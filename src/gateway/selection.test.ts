import { describe, expect, it } from "vitest";
import { pickDiverse, pickNext, rankUpstreams, type UpstreamView } from "./selection.js";

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
