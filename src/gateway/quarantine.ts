/**
 * Quarantine: an operator whose answer contradicted what a quorum of operators on different clouds agreed
 * on is taken out of its network's routing for a while (`routing.quarantineMs`), without waiting for a
 * verdict on the ledger (which, for a network other than the ledger's own chain, only ever comes through
 * the watchers' SLA). Only an agreed answer quarantines: a disagreement that reaches no quorum proves
 * nothing about who lied, so nobody is taken out — a lying minority can never quarantine an honest
 * operator, and an attacker would need a quorum of its own on distinct clouds to do it.
 *
 * The state lives on each upstream (`quarantinedUntil`), so ranking reads it like a ban; this module
 * sets it, counts it and lifts it. It is per gateway: another gateway learns of a liar by its own quorums.
 */
import type { Logger } from "pino";
import type { GatewayMetrics } from "./metrics.js";

/** What a quarantine needs of an upstream. */
export interface Quarantinable {
  readonly id: string;
  /** Date.now() until which it is out of routing; 0 or past: routed. */
  readonly quarantinedUntil: number;
  /** Sets the quarantine (`until` 0 lifts it), bumping what its ranking depends on. */
  setQuarantine(until: number, reason: string | undefined): void;
}

/** The network a quarantine is decided in. */
export interface QuarantineScope {
  readonly name: string;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/** Takes `upstream` out of routing until `now + durationMs` (a longer quarantine already running stands). */
export function quarantine(
  scope: QuarantineScope,
  upstream: Quarantinable,
  durationMs: number,
  reason: string,
  now = Date.now(),
): void {
  if (durationMs <= 0) return;
  const until = now + durationMs;
  if (upstream.quarantinedUntil >= until) return;
  const already = upstream.quarantinedUntil > now;
  upstream.setQuarantine(until, reason);
  scope.metrics.upstreamQuarantined.set({ network: scope.name, upstream: upstream.id }, 1);
  if (!already) scope.metrics.quarantines.inc({ network: scope.name });
  scope.logger.warn(
    { upstream: upstream.id, until: new Date(until).toISOString(), reason },
    "upstream quarantined: it contradicted a quorum's agreed answer, no traffic until the quarantine ends",
  );
}

/** Lifts the quarantines that ended by `now` (called every head poll round). */
export function liftEndedQuarantines(
  scope: QuarantineScope,
  upstreams: readonly Quarantinable[],
  now = Date.now(),
): void {
  for (const upstream of upstreams) {
    if (upstream.quarantinedUntil === 0 || upstream.quarantinedUntil > now) continue;
    upstream.setQuarantine(0, undefined);
    scope.metrics.upstreamQuarantined.set({ network: scope.name, upstream: upstream.id }, 0);
    scope.logger.info({ upstream: upstream.id }, "upstream's quarantine ended: routed again");
  }
}

/** Whether `upstream` is out of routing at `now`. */
export function isQuarantined(upstream: Pick<Quarantinable, "quarantinedUntil">, now = Date.now()): boolean {
  return upstream.quarantinedUntil > now;
}
