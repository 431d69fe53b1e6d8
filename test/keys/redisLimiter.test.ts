// The Redis credit limiter on a real Redis: one script call admits a burst in order, limits are shared
// by every limiter on the same Redis, and an unreachable Redis falls back to limits in memory.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LimitVerdict, redisLimiter } from "../../src/gateway/keys/limiter.js";
import { sharedServices } from "./keyedGateway.js";
import { startRedis } from "./services.js";

describe("Redis credit limiter", () => {
  let services: Awaited<ReturnType<typeof sharedServices>>;
  const connections: Redis[] = [];
  const connect = (url: string) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    redis.on("error", () => undefined);
    connections.push(redis);
    return redis;
  };

  beforeAll(async () => {
    services = await sharedServices();
  }, 60_000);

  afterAll(async () => {
    for (const redis of connections) redis.disconnect();
    await services?.stop();
  });

  it("admits a same-tick burst in order, up to the per-second limit, across two limiters", async () => {
    const a = connect(services.redisUrl);
    const b = connect(services.redisUrl);
    await Promise.all([a.connect(), b.connect()]);
    const key = `burst-${Date.now()}`;
    const limits = { creditsPerSecond: 6, creditsPerDay: null };
    const [first, second] = [redisLimiter(a), redisLimiter(b)];
    const wait = async () => {
      // Start right after a second boundary of Redis's clock, so both bursts land in one window.
      const start = Number((await a.time())[0]);
      while (Number((await a.time())[0]) === start) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await wait();
    const verdicts: LimitVerdict[] = await Promise.all([
      ...Array.from({ length: 5 }, () => first.take(key, 1, limits)),
      ...Array.from({ length: 5 }, () => second.take(key, 1, limits)),
    ]);
    expect(verdicts.filter((verdict) => verdict.ok)).toHaveLength(6);
    // In order within each limiter: its admitted requests are its first ones.
    for (const own of [verdicts.slice(0, 5), verdicts.slice(5)]) {
      const admitted = own.filter((verdict) => verdict.ok).length;
      expect(own.map((verdict) => verdict.ok)).toEqual(own.map((_, index) => index < admitted));
    }
    const refused = verdicts.find((verdict) => !verdict.ok);
    expect(refused).toEqual({ ok: false, limit: "second", retryAfterSeconds: 1 });
  });

  it("charges only admitted requests against the daily quota", async () => {
    const redis = connect(services.redisUrl);
    await redis.connect();
    const limiter = redisLimiter(redis);
    const key = `day-${Date.now()}`;
    const limits = { creditsPerSecond: null, creditsPerDay: 10 };
    expect((await limiter.take(key, 8, limits)).ok).toBe(true);
    const refused = await limiter.take(key, 5, limits);
    expect(refused).toMatchObject({ ok: false, limit: "day" });
    expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect((await limiter.take(key, 2, limits)).ok).toBe(true);
    expect((await limiter.take(key, 1, limits)).ok).toBe(false);
  });

  it("counts the day's credits before a daily limit is set", async () => {
    const redis = connect(services.redisUrl);
    await redis.connect();
    const limiter = redisLimiter(redis);
    const key = `later-limit-${Date.now()}`;
    expect((await limiter.take(key, 8, { creditsPerSecond: null, creditsPerDay: null })).ok).toBe(true);
    expect((await limiter.take(key, 3, { creditsPerSecond: null, creditsPerDay: 10 })).ok).toBe(false);
  });

  it("keeps enforcing limits in memory when Redis goes away", async () => {
    const own = await startRedis();
    const redis = connect(own.url);
    await redis.connect();
    const limiter = redisLimiter(redis);
    const limits = { creditsPerSecond: null, creditsPerDay: 3 };
    expect((await limiter.take("k", 1, limits)).ok).toBe(true);
    await own.stop();
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push((await limiter.take("k", 1, limits)).ok);
    expect(verdicts).toEqual([true, true, true, false]);
  });
});
