import { describe, expect, it } from "vitest";
import { RelaySampler } from "./relaySampler.js";

/** A seeded uniform generator (mulberry32), so the share is checked on a fixed sequence. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const count = (sampler: RelaySampler, relays: number) => {
  let sampled = 0;
  for (let i = 0; i < relays; i++) if (sampler.sample()) sampled++;
  return sampled;
};

describe("RelaySampler", () => {
  it("samples every relay at rate 1 and none at rate 0", () => {
    expect(count(new RelaySampler(1), 1_000)).toBe(1_000);
    expect(count(new RelaySampler(0), 1_000)).toBe(0);
  });

  it("samples about the configured share of relays", () => {
    for (const rate of [0.01, 0.1, 0.5]) {
      const relays = 200_000;
      const sampled = count(new RelaySampler(rate, seeded(42)), relays);
      // Four standard deviations of a binomial count.
      const tolerance = 4 * Math.sqrt(relays * rate * (1 - rate));
      expect(Math.abs(sampled - relays * rate)).toBeLessThan(tolerance);
    }
  });

  it("draws a random number only for sampled relays", () => {
    let draws = 0;
    const sampler = new RelaySampler(0.01, () => {
      draws++;
      return 0.5;
    });
    const sampled = count(sampler, 10_000);
    expect(sampled).toBeGreaterThan(0);
    expect(draws).toBe(sampled + 1);
  });

  it("refuses a rate outside 0..1", () => {
    expect(() => new RelaySampler(1.5)).toThrow(/within 0..1/);
    expect(() => new RelaySampler(Number.NaN)).toThrow(/within 0..1/);
  });
});
