/**
 * Circuit breaker of one upstream: closed while it answers; open after consecutive failures; after a
 * cooldown half-open, letting one probe through; a good probe closes it, a bad one reopens it with a
 * doubled cooldown. Time is passed in, so the state machine is pure.
 */

export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 3 */
  failureThreshold: number;
  /** First open period. @default 2000 */
  cooldownMs: number;
  /** Longest open period. @default 60000 */
  maxCooldownMs: number;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openedAt = 0;
  private currentCooldownMs: number;
  private opened = false;
  private probeInFlight = false;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.currentCooldownMs = options.cooldownMs;
  }

  state(now: number): BreakerState {
    if (!this.opened) return "closed";
    return now - this.openedAt >= this.currentCooldownMs ? "half-open" : "open";
  }

  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Whether a request may be sent now; in half-open, only one probe at a time. */
  allows(now: number): boolean {
    const state = this.state(now);
    if (state === "closed") return true;
    if (state === "open") return false;
    if (this.probeInFlight) return false;
    return true;
  }

  /** Marks the start of a request, so that half-open admits a single probe. */
  onAttempt(now: number): void {
    if (this.state(now) === "half-open") this.probeInFlight = true;
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    this.opened = false;
    this.probeInFlight = false;
    this.currentCooldownMs = this.options.cooldownMs;
  }

  onFailure(now: number): void {
    this.consecutiveFailures++;
    const wasProbe = this.opened && this.state(now) === "half-open";
    this.probeInFlight = false;
    if (wasProbe) {
      this.currentCooldownMs = Math.min(this.currentCooldownMs * 2, this.options.maxCooldownMs);
      this.openedAt = now;
    } else if (!this.opened && this.consecutiveFailures >= this.options.failureThreshold) {
      this.opened = true;
      this.openedAt = now;
    }
  }

  /** A request that ended without a verdict (cancelled by a hedge winner) frees the probe slot. */
  onCancel(): void {
    this.probeInFlight = false;
  }
}
