import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "./circuitBreaker.js";

const options = { failureThreshold: 3, cooldownMs: 1_000, maxCooldownMs: 4_000 };

describe("CircuitBreaker", () => {
  it("opens after consecutive failures and stays open for the cooldown", () => {
    const breaker = new CircuitBreaker(options);
    breaker.onFailure(0);
    breaker.onFailure(0);
    expect(breaker.state(0)).toBe("closed");
    breaker.onFailure(0);
    expect(breaker.state(10)).toBe("open");
    expect(breaker.allows(999)).toBe(false);
  });

  it("lets exactly one probe through when half-open; a good probe closes it", () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.onFailure(0);
    expect(breaker.state(1_000)).toBe("half-open");
    expect(breaker.allows(1_000)).toBe(true);
    breaker.onAttempt(1_000);
    expect(breaker.allows(1_001)).toBe(false);
    breaker.onSuccess();
    expect(breaker.state(1_002)).toBe("closed");
    expect(breaker.failures).toBe(0);
  });

  it("reopens with a doubled cooldown, up to the maximum, when a probe fails", () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.onFailure(0);
    breaker.onAttempt(1_000);
    breaker.onFailure(1_000);
    expect(breaker.state(2_500)).toBe("open");
    expect(breaker.state(3_000)).toBe("half-open");
    breaker.onFailure(3_000);
    breaker.onFailure(7_000);
    expect(breaker.state(10_999)).toBe("open");
    expect(breaker.state(11_000)).toBe("half-open");
  });

  it("frees the probe slot when the probe is cancelled", () => {
    const breaker = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) breaker.onFailure(0);
    breaker.onAttempt(1_000);
    breaker.onCancel();
    expect(breaker.allows(1_000)).toBe(true);
  });
});
