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
 * The same rules as `takeInMemory`, atomically in Redis, for a batch of requests of one key (admitted in
 * order, each seeing the ones before it). Windows come from Redis's TIME so gateways with skewed clocks
 * still share one window. ARGV: perSecond, perDay (-1 = unlimited), then each request's credits. The day's
 * credits are counted even without a daily limit, so a limit set during the day counts what was used.
 * Returns per request: 0 admitted, else the refusing limit (1 second, 2 day) then retry-after seconds.
 */
export const takeCreditsScript = `
local now = redis.call('TIME')
local second = tonumber(now[1])
local day = math.floor(second / 86400)
local perSecond = tonumber(ARGV[1])
local perDay = tonumber(ARGV[2])
local secondKey = KEYS[1] .. ':s:' .. second
local dayKey = KEYS[1] .. ':d:' .. day
local usedSecond = tonumber(redis.call('GET', secondKey) or '0')
local usedDay = tonumber(redis.call('GET', dayKey) or '0')
local addedSecond = 0
local addedDay = 0
local verdicts = {}
for i = 3, #ARGV do
  local credits = tonumber(ARGV[i])
  if perDay >= 0 and usedDay + addedDay + credits > perDay then
    verdicts[#verdicts + 1] = 2
    verdicts[#verdicts + 1] = 86400 - (second % 86400)
  elseif perSecond >= 0 and usedSecond + addedSecond > 0 and usedSecond + addedSecond + credits > perSecond then
    verdicts[#verdicts + 1] = 1
    verdicts[#verdicts + 1] = 1
  else
    addedSecond = addedSecond + credits
    addedDay = addedDay + credits
    verdicts[#verdicts + 1] = 0
    verdicts[#verdicts + 1] = 0
  end
end
if perSecond >= 0 and addedSecond > 0 then
  redis.call('INCRBY', secondKey, addedSecond)
  redis.call('EXPIRE', secondKey, 2)
end
if addedDay > 0 then
  redis.call('INCRBY', dayKey, addedDay)
  redis.call('EXPIRE', dayKey, 172800)
end
return verdicts
`;

interface CreditCommands {
  dinTakeCredits(key: string, ...args: number[]): Promise<number[]>;
}

interface PendingTake {
  credits: number;
  resolve: (verdict: LimitVerdict) => void;
}

/**
 * Limits shared by every gateway on one Redis. Requests of one key that arrive in the same turn of the
 * event loop share one script call (no added wait; under load, far fewer round trips). When Redis cannot
 * answer, the gateway keeps serving and enforces the limits on its own in memory (logged): an outage of
 * the limiter must not become an outage of the RPC service.
 */
export function redisLimiter(
  redis: Redis,
  options: { prefix?: string; logger?: Logger } = {},
): CreditLimiter {
  const prefix = options.prefix ?? "din:credits:";
  redis.defineCommand("dinTakeCredits", { numberOfKeys: 1, lua: takeCreditsScript });
  const commands = redis as unknown as CreditCommands;
  const fallback = new Map<string, Windows>();
  const pending = new Map<string, { limits: KeyLimits; takes: PendingTake[] }>();
  let scheduled = false;
  let lastWarning = 0;

  const send = async (key: string, limits: KeyLimits, takes: PendingTake[]) => {
    try {
      const verdicts = await commands.dinTakeCredits(
        `${prefix}${key}`,
        limits.creditsPerSecond ?? -1,
        limits.creditsPerDay ?? -1,
        ...takes.map((take) => take.credits),
      );
      takes.forEach((take, index) => {
        const verdict = Number(verdicts[index * 2]);
        take.resolve(
          verdict === 0
            ? { ok: true }
            : {
                ok: false,
                limit: verdict === 2 ? "day" : "second",
                retryAfterSeconds: Number(verdicts[index * 2 + 1]),
              },
        );
      });
    } catch (error) {
      if (Date.now() - lastWarning > 10_000) {
        lastWarning = Date.now();
        options.logger?.warn(
          { err: error },
          "redis limiter unavailable; enforcing limits in this gateway only",
        );
      }
      for (const take of takes) take.resolve(takeInMemory(fallback, key, take.credits, limits, Date.now()));
    }
  };

  const flush = () => {
    scheduled = false;
    const batch = [...pending];
    pending.clear();
    for (const [key, { limits, takes }] of batch) void send(key, limits, takes);
  };

  return {
    take(key, credits, limits) {
      return new Promise<LimitVerdict>((resolve) => {
        const entry = pending.get(key);
        if (entry) {
          entry.limits = limits;
          entry.takes.push({ credits, resolve });
        } else pending.set(key, { limits, takes: [{ credits, resolve }] });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      if (scheduled) flush();
      fallback.clear();
    },
  };
}
