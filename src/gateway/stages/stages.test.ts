// Each stage of the request path against fake upstreams and fake timers: no network, no real time.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AttemptOutcome, retry } from "../outcome.js";
import { pickNext, type RankedUpstream } from "../selection.js";
import type { CancelHandle } from "../upstream.js";
import { attempt } from "./attempt.js";
import { failover } from "./failover.js";
import { hedge } from "./hedge.js";
import { newRouteState, type RouteState } from "./types.js";

const upstream = (id: string, cloud: string): RankedUpstream => ({
  id,
  cloud,
  region: `${cloud}-1`,
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
});
const ranked = [upstream("a", "aws"), upstream("b", "aws"), upstream("g", "gcp"), upstream("h", "hetzner")];

/** A fake upstream: answers `outcome` after `delayMs` of (fake) time, or is cancelled. */
interface Script {
  outcome: AttemptOutcome;
  delayMs?: number;
}

function harness(script: Record<string, Script>, options: { attemptTimeoutMs?: number } = {}) {
  const sent: Array<{ id: string; timeoutMs: number }> = [];
  const cancelled: string[] = [];
  const one = attempt({
    pick: (tried) => pickNext(ranked, tried),
    attemptTimeoutMs: options.attemptTimeoutMs ?? 1_000,
    send: (target, timeoutMs, cancel: CancelHandle | undefined) => {
      sent.push({ id: target.id, timeoutMs });
      const { outcome, delayMs = 0 } = script[target.id] ?? { outcome: retry("transport", "refused") };
      // An immediate answer needs no timer (fake timers only run when the test advances them).
      if (delayMs === 0) return Promise.resolve(outcome);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(outcome), Math.min(delayMs, timeoutMs));
        if (delayMs > timeoutMs) {
          clearTimeout(timer);
          setTimeout(() => resolve(retry("timeout", "timed out")), timeoutMs);
        }
        if (cancel) {
          cancel.abort = () => {
            clearTimeout(timer);
            cancelled.push(target.id);
            resolve({ kind: "cancelled" });
          };
        }
      });
    },
  });
  return { one, sent, cancelled };
}

const ok = (result: unknown): Script => ({ outcome: { kind: "result", result } });

describe("request path stages", () => {
  let state: RouteState;
  beforeEach(() => {
    vi.useFakeTimers();
    state = newRouteState(Date.now() + 5_000, 5);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe("attempt", () => {
    it("spreads attempts across clouds and gives each at most what the deadline leaves", async () => {
      const { one, sent } = harness({ a: ok(1) });
      state = newRouteState(Date.now() + 400, 5);
      await one(state, { hedge: false });
      await one(state, { hedge: false });
      expect(sent.map((s) => s.id)).toEqual(["a", "g"]);
      expect(sent[0]!.timeoutMs).toBe(400);
    });

    it("starts nothing past the deadline or the attempt budget", async () => {
      const { one, sent } = harness({});
      state = newRouteState(Date.now() - 1, 5);
      expect(await one(state, { hedge: false })).toBeUndefined();
      expect(state.lastReason).toBe("request deadline exceeded");
      state = newRouteState(Date.now() + 1_000, 0);
      expect(await one(state, { hedge: false })).toBeUndefined();
      expect(sent).toEqual([]);
    });
  });

  describe("failover", () => {
    it("moves on for a retryable cause and stops at the first answer", async () => {
      const { one, sent } = harness({ a: { outcome: retry("http-status", "HTTP 502") }, g: ok("0x1") });
      const tried = await failover(one, { costly: false, maxCostlyTimeouts: 2 })(state, { hedge: false });
      expect(tried?.outcome).toEqual({ kind: "result", result: "0x1" });
      expect(sent.map((s) => s.id)).toEqual(["a", "g"]);
      expect(state.lastCause).toBe("http-status");
    });

    it("never retries a deterministic error", async () => {
      const revert: Script = {
        outcome: { kind: "error", error: { code: 3, message: "execution reverted" } },
      };
      const { one, sent } = harness({ a: revert, g: ok(1) });
      const tried = await failover(one, { costly: false, maxCostlyTimeouts: 2 })(state, { hedge: false });
      expect(tried?.outcome.kind).toBe("error");
      expect(sent).toHaveLength(1);
    });

    it("keeps the first null and the last upstream error for when nobody does better", async () => {
      const { one } = harness({
        a: { outcome: retry("null", "null where data may exist elsewhere") },
        g: { outcome: retry("missing-data", "missing data", { code: -32000, message: "header not found" }) },
      });
      await failover(one, { costly: false, maxCostlyTimeouts: 2 })(state, { hedge: false });
      expect(state.sawNull).toBe("a");
      expect(state.lastError?.message).toBe("header not found");
      expect(state.tried.map((u) => u.id)).toEqual(["a", "g", "h", "b"]);
    });

    it("lets a costly call spend only its timeouts, then says it may be too expensive", async () => {
      const slow: Script = { outcome: ok(1).outcome, delayMs: 10_000 };
      const { one, sent } = harness({ a: slow, g: slow, h: slow }, { attemptTimeoutMs: 1_000 });
      const running = failover(one, { costly: true, maxCostlyTimeouts: 2 })(state, { hedge: false });
      await vi.advanceTimersByTimeAsync(2_500);
      await running;
      expect(sent).toHaveLength(2);
      expect(state.stopReason).toMatch(/timed out on 2 operators; the request may be too expensive/);
    });
  });

  describe("hedge", () => {
    const delayFor = () => 100;

    it("sends a second attempt after the delay, takes the first answer and cancels the loser", async () => {
      const { one, sent, cancelled } = harness({
        a: { ...ok("slow"), delayMs: 500 },
        g: { ...ok("fast"), delayMs: 50 },
      });
      const events: string[] = [];
      const running = hedge(one, {
        delayFor,
        sent: () => events.push("sent"),
        won: () => events.push("won"),
      })(state, { hedge: false });
      await vi.advanceTimersByTimeAsync(99);
      expect(sent).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(60);
      const tried = await running;
      expect(tried?.outcome).toEqual({ kind: "result", result: "fast" });
      expect(cancelled).toEqual(["a"]);
      expect(events).toEqual(["sent", "won"]);
    });

    it("does not hedge an attempt that answers in time, nor a second time in one call", async () => {
      const { one, sent } = harness({
        a: { ...ok(1), delayMs: 50 },
        g: { ...ok(2), delayMs: 500 },
        h: ok(3),
      });
      const stage = hedge(one, { delayFor });
      const first = stage(state, { hedge: false });
      await vi.advanceTimersByTimeAsync(60);
      expect((await first)?.outcome).toEqual({ kind: "result", result: 1 });
      expect(sent).toHaveLength(1);
      state.hedged = true;
      const second = stage(state, { hedge: false });
      await vi.advanceTimersByTimeAsync(600);
      await second;
      expect(sent.map((s) => s.id)).toEqual(["a", "g"]);
    });

    it("waits for the other attempt when one fails, and returns a failure only when both did", async () => {
      const { one } = harness({
        a: { outcome: retry("http-status", "HTTP 503"), delayMs: 150 },
        g: { outcome: retry("transport", "reset"), delayMs: 300 },
      });
      const running = hedge(one, { delayFor })(state, { hedge: false });
      await vi.advanceTimersByTimeAsync(500);
      const tried = await running;
      expect(tried?.upstream.id).toBe("g");
      // The first failure is remembered too (the outer stage notes the one returned).
      expect(state.lastReason).toBe("HTTP 503");
    });
  });
});
