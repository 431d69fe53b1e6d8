import { describe, expect, it } from "vitest";
import { assessHealth, type HealthInput, p75, tagViolation } from "./health.js";

const rules = { failureThreshold: 3, warnLagBlocks: 5, unhealthyLagBlocks: 10 };
const input = (extra: Partial<HealthInput> = {}): HealthInput => ({
  consecutiveFailures: 0,
  breaker: "closed",
  throttled: false,
  head: 100n,
  networkHead: 100n,
  bannedUntil: 0,
  now: 1_000,
  ...extra,
});

describe("assessHealth (DIN rules)", () => {
  it("is healthy when level with the network head and answering", () => {
    expect(assessHealth(input(), rules)).toEqual({ state: "healthy", reasons: [] });
  });

  it("warns when more than 5 blocks behind, and on throttling", () => {
    expect(assessHealth(input({ head: 94n }), rules).state).toBe("warning");
    expect(assessHealth(input({ head: 95n }), rules).state).toBe("healthy");
    expect(assessHealth(input({ throttled: true }), rules)).toEqual({
      state: "warning",
      reasons: ["throttled"],
    });
  });

  it("is unhealthy more than 10 blocks off either way", () => {
    expect(assessHealth(input({ head: 89n }), rules).reasons[0]).toMatch(/behind the network head by 11/);
    expect(assessHealth(input({ head: 111n }), rules).reasons[0]).toMatch(/ahead of the network head by 11/);
    expect(assessHealth(input({ head: 110n }), rules).state).toBe("healthy");
  });

  it("is unhealthy after 3 consecutive failures, with an open circuit, when banned or headless", () => {
    expect(assessHealth(input({ consecutiveFailures: 3 }), rules).state).toBe("unhealthy");
    expect(assessHealth(input({ consecutiveFailures: 2 }), rules).state).toBe("healthy");
    expect(assessHealth(input({ breaker: "open" }), rules).state).toBe("unhealthy");
    expect(assessHealth(input({ bannedUntil: 2_000 }), rules).state).toBe("unhealthy");
    expect(assessHealth(input({ head: undefined }), rules).state).toBe("unhealthy");
  });
});

describe("p75", () => {
  it("ignores a minority of laggards and a single runaway", () => {
    expect(p75([100n, 100n, 100n, 80n, 60n])).toBe(100n);
    expect(p75([100n, 100n, 100n, 99n, 5000n])).toBe(100n);
    expect(p75([10n])).toBe(10n);
    expect(p75([])).toBeUndefined();
  });
});

describe("tagViolation (proxyd rules)", () => {
  it("flags tags out of order and finalized going backwards, not a shallow reorg of latest", () => {
    expect(tagViolation(undefined, { latest: 10n, safe: 12n })).toMatch(/safe/);
    expect(tagViolation(undefined, { latest: 10n, safe: 9n, finalized: 11n })).toMatch(/finalized/);
    expect(tagViolation({ latest: 10n, finalized: 8n }, { latest: 10n, finalized: 7n })).toMatch(/backwards/);
    expect(tagViolation({ latest: 10n, finalized: 8n }, { latest: 9n, finalized: 8n })).toBeUndefined();
  });

  it("tolerates one block of inversion within a sample: a block mined while the batch was answered", () => {
    expect(tagViolation(undefined, { latest: 10n, safe: 11n, finalized: 11n })).toBeUndefined();
    expect(tagViolation(undefined, { latest: 10n, safe: 10n, finalized: 11n })).toBeUndefined();
  });
});
