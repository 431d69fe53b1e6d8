/**
 * Credit limits of a key: credits per second (fixed one-second windows) and per UTC day. In memory for
 * one gateway; in Redis, with one atomic script and Redis's own clock, so N gateways enforce one limit.
 * A request is charged only when admitted, so refused requests never eat into the daily quota.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { KeyLimits } from "./store.js";

export type LimitVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Which limit refused: `second` → HTTP 429, `day` → HTTP 402. */
      limit: "second" | "day";
      /** Seconds until the limit's window resets. */
      retryAfterSeconds: number;
    };

export interface CreditLimiter {
  /** Charges `credits` to `key` when both limits allow it, else tells which refused. */
  take(key: string, credits: number, limits: KeyLimits): Promise<LimitVerdict>;
  close(): Promise<void>;
}

const secondsPerDay = 86_400;

/** Seconds until the next 00:00 UTC, at least 1. */
export function secondsUntilUtcMidnight(nowMs: number): number {
  return Math.max(1, secondsPerDay - (Math.floor(nowMs / 1000) % secondsPerDay));
}

interface Windows {
  second: number;
  secondCredits: number;
  day: number;
  dayCredits: number;
}

/** One gateway's limits, in memory. `now` is injectable so window arithmetic can be tested without waiting. */
export function memoryLimiter(now: () => number = Date.now): CreditLimiter {
  const windows = new Map<string, Windows>();
  return {
    async take(key, credits, limits) {
      return takeInMemory(windows, key, credits, limits, now());
    },
    async close() {
      windows.clear();
    },
  };
}

function takeInMemory(
  windows: Map<string, Windows>,
  key: string,
  credits: number,
  limits: KeyLimits,
  nowMs: number,
): LimitVerdict {
  const second = Math.floor(nowMs / 1000);
  const day = Math.floor(second / secondsPerDay);
  let state = windows.get(key);
  if (!state) {
    state = { second, secondCredits: 0, day, dayCredits: 0 };
    windows.set(key, state);
  }
  if (state.second !== second) {
    state.second = second;
    state.secondCredits = 0;
  }
  if (state.day !== day) {
    state.day = day;
    state.dayCredits = 0;
  }
  if (limits.creditsPerDay !== null && state.dayCredits + credits > limits.creditsPerDay) {
    return { ok: false, limit: "day", retryAfterSeconds: secondsUntilUtcMidnight(nowMs) };
  }
  // A request dearer than the whole per-second budget may still run alone in an empty window.
  if (
    limits.creditsPerSecond !== null &&
    state.secondCredits > 0 &&
    state.secondCredits + credits > limits.creditsPerSecond
  ) {
    return { ok: false, limit: "second", retryAfterSeconds: 1 };
  }
  state.secondCredits += credits;
  state.dayCredits += credits;
  return { ok: true };
}

/**
 * The same rules as `takeInMemory`, atomically in Redis. Windows come from Redis's TIME so gateways with
 * skewed clocks still share one window. Returns {verdict, retryAfterSeconds}: 0 ok, 1 second, 2 day.
 */
export const takeCreditsScript = `
local now = redis.call('TIME')
local second = tonumber(now[1])
local day = math.floor(second / 86400)
local credits = tonumber(ARGV[1])
local perSecond = tonumber(ARGV[2])
local perDay = tonumber(ARGV[3])
local secondKey = KEYS[1] .. ':s:' .. second
local dayKey = KEYS[1] .. ':d:' .. day
if perDay >= 0 then
  local usedDay = tonumber(redis.call('GET', dayKey) or '0')
  if usedDay + credits > perDay then return {2, 86400 - (second % 86400)} end
end
if perSecond >= 0 then
  local usedSecond = tonumber(redis.call('GET', secondKey) or '0')
  if usedSecond > 0 and usedSecond + credits > perSecond then return {1, 1} end
  redis.call('INCRBY', secondKey, credits)
  redis.call('EXPIRE', secondKey, 2)
end
if perDay >= 0 then
  redis.call('INCRBY', dayKey, credits)
  redis.call('EXPIRE', dayKey, 172800)
end
return {0, 0}
`;

interface CreditCommands {
  dinTakeCredits(key: string, credits: number, perSecond: number, perDay: number): Promise<[number, number]>;
}

/**
 * Limits shared by every gateway on one Redis. When Redis cannot answer, the gateway keeps serving and
 * enforces the limits on its own in memory (logged): an outage of the limiter must not become an outage
 * of the RPC service.
 */
export function redisLimiter(
  redis: Redis,
  options: { prefix?: string; logger?: Logger } = {},
): CreditLimiter {
  const prefix = options.prefix ?? "din:credits:";
  redis.defineCommand("dinTakeCredits", { numberOfKeys: 1, lua: takeCreditsScript });
  const commands = redis as unknown as CreditCommands;
  const fallback = new Map<string, Windows>();
  let lastWarning = 0;
  return {
    async take(key, credits, limits) {
      if (limits.creditsPerSecond === null && limits.creditsPerDay === null) return { ok: true };
      try {
        const [verdict, retryAfterSeconds] = await commands.dinTakeCredits(
          `${prefix}${key}`,
          credits,
          limits.creditsPerSecond ?? -1,
          limits.creditsPerDay ?? -1,
        );
        if (verdict === 0) return { ok: true };
        return {
          ok: false,
          limit: verdict === 2 ? "day" : "second",
          retryAfterSeconds: Number(retryAfterSeconds),
        };
      } catch (error) {
        if (Date.now() - lastWarning > 10_000) {
          lastWarning = Date.now();
          options.logger?.warn(
            { err: error },
            "redis limiter unavailable; enforcing limits in this gateway only",
          );
        }
        return takeInMemory(fallback, key, credits, limits, Date.now());
      }
    },
    async close() {
      fallback.clear();
    },
  };
}
