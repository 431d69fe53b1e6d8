import { describe, expect, it } from "vitest";
import { CloudShare } from "./cloudShare.js";
import type { RankedUpstream } from "./selection.js";

const view = (id: string, cloud: string, overrides: Partial<RankedUpstream> = {}): RankedUpstream => ({
  id,
  cloud,
  region: "r",
  priority: 0,
  weight: 1,
  health: "healthy",
  available: true,
  latencyMs: 10,
  errorRate: 0,
  throttleRate: 0,
  lagBlocks: 0,
  tier: 0,
  score: 1,
  ...overrides,
});

describe("CloudShare", () => {
  it("measures each cloud's share over a sliding window of requests", () => {
    const share = new CloudShare(1 / 3, 4);
    for (const cloud of ["aws", "aws", "gcp", "aws", "hetzner", "hetzner"]) share.record(cloud);
    // The window holds the last four: gcp, aws, hetzner, hetzner.
    expect(share.measured).toBe(4);
    expect(share.shares()).toEqual([
      { cloud: "hetzner", share: 0.5 },
      { cloud: "aws", share: 0.25 },
      { cloud: "gcp", share: 0.25 },
    ]);
  });

  it("puts a healthy upstream of a cloud under the cap first once the best one's cloud is at it", () => {
    const share = new CloudShare(1 / 3, 30);
    const ranked = [view("a1", "aws"), view("a2", "aws"), view("g", "gcp"), view("h", "hetzner")];
    expect(share.order(ranked)[0]?.id).toBe("a1"); // nothing measured yet
    for (let i = 0; i < 10; i++) share.record("aws");
    expect(share.order(ranked).map((u) => u.id)).toEqual(["g", "a1", "a2", "h"]);
    for (let i = 0; i < 10; i++) share.record("gcp");
    expect(share.order(ranked)[0]?.id).toBe("h");
  });

  it("gives way when no other cloud is healthy, in the same tier, or of the same priority", () => {
    const share = new CloudShare(1 / 3, 10);
    for (let i = 0; i < 10; i++) share.record("aws");
    for (const others of [
      [view("g", "gcp", { health: "unhealthy" }), view("h", "hetzner", { health: "unhealthy" })],
      [view("g", "gcp", { tier: 3 }), view("h", "hetzner", { tier: 1 })],
      [view("g", "gcp", { priority: 1 }), view("h", "hetzner", { priority: 1 })],
    ]) {
      expect(share.order([view("a1", "aws"), ...others])[0]?.id).toBe("a1");
    }
  });

  it("lets each of two healthy clouds serve half when a third is the cap, and nothing with the cap off", () => {
    const two = new CloudShare(1 / 3, 10);
    for (let i = 0; i < 4; i++) two.record("aws");
    for (let i = 0; i < 6; i++) two.record("gcp");
    expect(two.order([view("a", "aws"), view("g", "gcp")])[0]?.id).toBe("a"); // aws 40% < 50%
    const off = new CloudShare(1, 10);
    for (let i = 0; i < 10; i++) off.record("aws");
    expect(off.order([view("a", "aws"), view("g", "gcp")])[0]?.id).toBe("a");
  });

  it("moves a session off its primary once the primary's cloud is at the cap, and keeps it under the cap", () => {
    const share = new CloudShare(1 / 3, 30);
    // Stake puts hetzner well above the others: a rival twice as good as any other primary.
    const ranked = [
      view("h", "hetzner", { score: 2 }),
      view("a", "aws"),
      view("g", "gcp"),
      view("b", "bare"),
    ];
    for (let i = 0; i < 10; i++) share.record("hetzner");
    // A session on gcp is not drawn to hetzner while hetzner is at the cap: the capped head is its rival.
    expect(share.orderSticky(ranked, "g", 1.3)[0]?.id).toBe("g");
    // A session on hetzner moves to the capped head while hetzner is at the cap and aws under it.
    expect(share.orderSticky(ranked, "h", 1.3)[0]?.id).toBe("a");
    // Under the cap, stickiness rules as before: the primary stays unless a rival is clearly better.
    for (let i = 0; i < 30; i++) share.record("gcp");
    expect(share.orderSticky(ranked, "h", 1.3)[0]?.id).toBe("h");
    expect(share.orderSticky(ranked, "g", 1.3)[0]?.id).toBe("h");
    expect(share.orderSticky(ranked, "a", 1.3)[0]?.id).toBe("h");
  });

  it("keeps a session's primary over the cap when no other cloud is healthy", () => {
    const share = new CloudShare(1 / 3, 30);
    const ranked = [
      view("a1", "aws"),
      view("a2", "aws"),
      view("g", "gcp", { health: "unhealthy", tier: 1 }),
      view("h", "hetzner", { health: "unhealthy", tier: 1 }),
    ];
    for (let i = 0; i < 10; i++) share.record("aws");
    expect(share.orderSticky(ranked, "a2", 1.3)[0]?.id).toBe("a2");
  });
});
