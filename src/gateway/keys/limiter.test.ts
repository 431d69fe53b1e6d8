import { describe, expect, it } from "vitest";
import { memoryLimiter, secondsUntilUtcMidnight } from "./limiter.js";

describe("memory credit limiter", () => {
  it("admits up to the per-second credits, then refuses until the next second", async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 0, 100);
    const limiter = memoryLimiter(() => now);
    const limits = { creditsPerSecond: 5, creditsPerDay: null };
    const verdicts = [];
    for (let i = 0; i < 7; i++) verdicts.push(await limiter.take("k", 1, limits));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(5);
    expect(verdicts[6]).toEqual({ ok: false, limit: "second", retryAfterSeconds: 1 });
    now += 900;
    expect((await limiter.take("k", 1, limits)).ok).toBe(true);
  });

  it("lets a request dearer than the per-second budget run alone in an empty second", async () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const limiter = memoryLimiter(() => now);
    const limits = { creditsPerSecond: 10, creditsPerDay: null };
    expect((await limiter.take("k", 100, limits)).ok).toBe(true);
    expect((await limiter.take("k", 1, limits)).ok).toBe(false);
  });

  it("stops at the daily quota until 00:00 UTC, and refused requests are not charged", async () => {
    let now = Date.UTC(2026, 0, 1, 23, 59, 0);
    const limiter = memoryLimiter(() => now);
    const limits = { creditsPerSecond: null, creditsPerDay: 10 };
    expect((await limiter.take("k", 8, limits)).ok).toBe(true);
    expect(await limiter.take("k", 3, limits)).toEqual({ ok: false, limit: "day", retryAfterSeconds: 60 });
    expect((await limiter.take("k", 2, limits)).ok).toBe(true);
    expect((await limiter.take("k", 1, limits)).ok).toBe(false);
    now = Date.UTC(2026, 0, 2, 0, 0, 1);
    expect((await limiter.take("k", 10, limits)).ok).toBe(true);
  });

  it("counts the day's credits before a daily limit is set", async () => {
    const limiter = memoryLimiter(() => Date.UTC(2026, 0, 1, 12));
    expect((await limiter.take("k", 8, { creditsPerSecond: null, creditsPerDay: null })).ok).toBe(true);
    expect((await limiter.take("k", 3, { creditsPerSecond: null, creditsPerDay: 10 })).ok).toBe(false);
  });

  it("keeps keys apart", async () => {
    const limiter = memoryLimiter(() => 0);
    const limits = { creditsPerSecond: 1, creditsPerDay: null };
    expect((await limiter.take("a", 1, limits)).ok).toBe(true);
    expect((await limiter.take("b", 1, limits)).ok).toBe(true);
    expect((await limiter.take("a", 1, limits)).ok).toBe(false);
  });

  it("counts the seconds to midnight UTC", () => {
    expect(secondsUntilUtcMidnight(Date.UTC(2026, 0, 1, 0, 0, 0))).toBe(86_400);
    expect(secondsUntilUtcMidnight(Date.UTC(2026, 0, 1, 23, 59, 59, 500))).toBe(1);
  });
});
