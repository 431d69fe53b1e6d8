/**
 * Health verdicts of upstreams and the network head, after the rules of the anchors
 * (reference/rpc-routing.md): DIN's router thresholds and proxyd's tag-ordering ban. Pure functions.
 */
import type { BreakerState } from "./circuitBreaker.js";

export type HealthState = "healthy" | "warning" | "unhealthy";

export interface HeadSample {
  latest: bigint;
  safe?: bigint | undefined;
  finalized?: bigint | undefined;
  /** Hash of the latest block, for reorg detection. */
  latestHash?: string | undefined;
  /** Gas limit of the latest block: the ceiling of what one call may burn. */
  gasLimit?: bigint | undefined;
}

export interface HealthRules {
  /** Consecutive failures that make an upstream unhealthy (DIN: more than 2). */
  failureThreshold: number;
  /** Blocks behind the p75 head that give a warning (DIN: 5). */
  warnLagBlocks: number;
  /** Blocks off the p75 head either way that make an upstream unhealthy (DIN: 10). */
  unhealthyLagBlocks: number;
}

export interface HealthInput {
  consecutiveFailures: number;
  breaker: BreakerState;
  /** A 429 or rate-limit answer was seen recently (DIN: a warning, not a failure). */
  throttled: boolean;
  /** The upstream's last polled head; undefined when never polled successfully. */
  head: bigint | undefined;
  /** The network head (p75 of candidate upstreams). */
  networkHead: bigint | undefined;
  /** Excluded until this time (proxyd: tags went backwards or out of order). */
  bannedUntil: number;
  now: number;
  /** Why it is not serving its network's chain, when it is not. */
  wrongChain?: string;
}

export interface HealthVerdict {
  state: HealthState;
  reasons: string[];
}

export function assessHealth(input: HealthInput, rules: HealthRules): HealthVerdict {
  const unhealthy: string[] = [];
  const warnings: string[] = [];
  if (input.wrongChain !== undefined) unhealthy.push(input.wrongChain);
  if (input.bannedUntil > input.now) unhealthy.push("banned: block tags went backwards or out of order");
  if (input.breaker === "open") unhealthy.push("circuit open");
  if (input.consecutiveFailures >= rules.failureThreshold) {
    unhealthy.push(`${input.consecutiveFailures} consecutive failures`);
  }
  if (input.head === undefined) {
    unhealthy.push("no head reported recently"); // the last one known may still be shown
  } else if (input.networkHead !== undefined) {
    const offset = input.head - input.networkHead;
    const distance = offset < 0n ? -offset : offset;
    if (distance > BigInt(rules.unhealthyLagBlocks)) {
      unhealthy.push(`${offset < 0n ? "behind" : "ahead of"} the network head by ${distance} blocks`);
    } else if (-offset > BigInt(rules.warnLagBlocks)) {
      warnings.push(`behind the network head by ${-offset} blocks`);
    }
  }
  if (input.breaker === "half-open") warnings.push("circuit half-open");
  if (input.throttled) warnings.push("throttled");
  if (unhealthy.length) return { state: "unhealthy", reasons: [...unhealthy, ...warnings] };
  if (warnings.length) return { state: "warning", reasons: warnings };
  return { state: "healthy", reasons: [] };
}

/** The 75th percentile of heads (DIN's network head): a few laggards or one runaway do not move it. */
export function p75(heads: readonly bigint[]): bigint | undefined {
  if (heads.length === 0) return undefined;
  const sorted = [...heads].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.ceil(0.75 * sorted.length) - 1];
}

/**
 * proxyd's consistency rule: finalized ≤ safe ≤ latest, and finalized never moves backwards.
 * Returns the violation, or undefined. A shallow reorg of `latest` is not a violation.
 */
export function tagViolation(previous: HeadSample | undefined, next: HeadSample): string | undefined {
  // One block of inversion within a sample is a block mined while the node answered the batch (nodes may
  // answer a batch's items concurrently, e.g. Hardhat), not an inconsistent node: banning a healthy
  // operator for five minutes over it would be wrong. Two or more blocks is a node serving mixed state.
  if (next.safe !== undefined && next.safe > next.latest + 1n)
    return `safe ${next.safe} is above latest ${next.latest}`;
  if (next.finalized !== undefined && next.finalized > (next.safe ?? next.latest) + 1n) {
    return `finalized ${next.finalized} is above safe/latest`;
  }
  if (
    previous?.finalized !== undefined &&
    next.finalized !== undefined &&
    next.finalized < previous.finalized
  ) {
    return `finalized went backwards from ${previous.finalized} to ${next.finalized}`;
  }
  return undefined;
}

export const healthRank: Record<HealthState, number> = { healthy: 0, warning: 1, unhealthy: 2 };
