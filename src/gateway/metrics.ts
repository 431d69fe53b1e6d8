/**
 * Prometheus metrics of the gateway (`GET /metrics`). Method labels are bounded to the method table
 * (anything else is `unknown`), so a client cannot blow up the series count with made-up method names.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { createRiskGauges, type RiskGaugeOptions } from "../risk/metrics.js";
import { labelForMethod } from "../rpc/methods.js";
import { collectHot, HotCount, HotObservations } from "./hotMetrics.js";

/**
 * The per-request updates keep one local series per label set (hotMetrics.ts: a plain number, or local
 * buckets, folded into prom-client when the registry is read; label values are bounded: networks,
 * upstreams and the method table), found through nested maps (no key string, no rest-argument array per
 * update).
 */
function memoize2<Child>(labels: (a: string, b: string) => Child): (a: string, b: string) => Child {
  const children = new Map<string, Map<string, Child>>();
  return (a, b) => {
    let level = children.get(a);
    if (!level) {
      level = new Map();
      children.set(a, level);
    }
    let child = level.get(b);
    if (!child) {
      child = labels(a, b);
      level.set(b, child);
    }
    return child;
  };
}

function memoize3<Child>(
  labels: (a: string, b: string, c: string) => Child,
): (a: string, b: string, c: string) => Child {
  const children = new Map<string, (b: string, c: string) => Child>();
  return (a, b, c) => {
    let level = children.get(a);
    if (!level) {
      level = memoize2((b2, c2) => labels(a, b2, c2));
      children.set(a, level);
    }
    return level(b, c);
  };
}

/** The method label of requests that were not JSON-RPC requests at all (no method to name). */
export const invalidRequestLabel = "invalid";

/**
 * Maps the method argument of a per-request update to the closed label set (the method table's names,
 * `unknown`, `invalid`) before it reaches prom-client or the memo: every caller is bounded, not only
 * those that remembered to map client input.
 */
function boundedMethod<Child>(
  labels: (network: string, method: string, outcome: string) => Child,
): (network: string, method: string, outcome: string) => Child {
  return (network, method, outcome) =>
    labels(network, method === invalidRequestLabel ? method : labelForMethod(method), outcome);
}

export function createGatewayMetrics(options: { risk?: RiskGaugeOptions } = {}) {
  const metrics = createMetrics(options);
  return {
    ...metrics,
    /** Cached children for the per-request updates. */
    hot: {
      request: boundedMethod(
        memoize3(
          (network, method, outcome) =>
            new HotCount(metrics.requests, metrics.requests.labels(network, method, outcome)),
        ),
      ),
      duration: memoize2(
        (network, methodClass) =>
          new HotObservations(metrics.requestDuration, { network, class: methodClass }, latencyBuckets),
      ),
      attempt: memoize3(
        (network, upstream, outcome) =>
          new HotCount(metrics.upstreamRequests, metrics.upstreamRequests.labels(network, upstream, outcome)),
      ),
      attemptLatency: memoize2(
        (network, upstream) =>
          new HotObservations(metrics.upstreamLatency, { network, upstream }, latencyBuckets),
      ),
      cache: memoize2(
        (network, result) => new HotCount(metrics.cache, metrics.cache.labels(network, result)),
      ),
    },
  };
}

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function createMetrics(options: { risk?: RiskGaugeOptions }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "din_" });
  return {
    registry,
    requests: new Counter({
      name: "din_requests_total",
      help: "JSON-RPC requests answered, by network, method and outcome (ok, error, rejected)",
      labelNames: ["network", "method", "outcome"] as const,
      registers: [registry],
      collect: collectHot, // hotMetrics.ts: the per-request updates folded in
    }),
    requestDuration: new Histogram({
      name: "din_request_duration_seconds",
      help: "Time to answer a JSON-RPC request, by network and method class",
      labelNames: ["network", "class"] as const,
      buckets: latencyBuckets,
      registers: [registry],
      collect: collectHot, // hotMetrics.ts: the per-request updates folded in
    }),
    upstreamRequests: new Counter({
      name: "din_upstream_requests_total",
      help: "Attempts sent to upstreams, by outcome (result, error, retry, cancelled)",
      labelNames: ["network", "upstream", "outcome"] as const,
      registers: [registry],
      collect: collectHot, // hotMetrics.ts: the per-request updates folded in
    }),
    upstreamLatency: new Histogram({
      name: "din_upstream_latency_seconds",
      help: "Latency of completed upstream attempts",
      labelNames: ["network", "upstream"] as const,
      buckets: latencyBuckets,
      registers: [registry],
      collect: collectHot, // hotMetrics.ts: the per-request updates folded in
    }),
    upstreamHealth: new Gauge({
      name: "din_upstream_health",
      help: "Upstream health: 2 healthy, 1 warning, 0 unhealthy",
      labelNames: ["network", "upstream"] as const,
      registers: [registry],
    }),
    upstreamWrongChain: new Gauge({
      name: "din_upstream_wrong_chain",
      help: "1 while the upstream serves another chain than its network's (or does not say which): it is not routed to",
      labelNames: ["network", "upstream"] as const,
      registers: [registry],
    }),
    upstreamHead: new Gauge({
      name: "din_upstream_head_block",
      help: "Latest block reported by the upstream",
      labelNames: ["network", "upstream"] as const,
      registers: [registry],
    }),
    networkHead: new Gauge({
      name: "din_network_head_block",
      help: "Network head tracked by the gateway (p75 of healthy upstreams)",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    failovers: new Counter({
      name: "din_failovers_total",
      help: "Attempts retried on another upstream after a retryable failure",
      labelNames: ["network", "reason"] as const,
      registers: [registry],
    }),
    hedges: new Counter({
      name: "din_hedges_total",
      help: "Hedged attempts, by whether the hedge answered first (won) or not (lost)",
      labelNames: ["network", "result"] as const,
      registers: [registry],
    }),
    cache: new Counter({
      name: "din_cache_requests_total",
      help: "Cache lookups: hit, miss, or shared (joined an identical request in flight)",
      labelNames: ["network", "result"] as const,
      registers: [registry],
      collect: collectHot, // hotMetrics.ts: the per-request updates folded in
    }),
    wsConnections: new Gauge({
      name: "din_ws_connections",
      help: "Open WebSocket connections",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    wsSubscriptions: new Gauge({
      name: "din_ws_subscriptions",
      help: "Active subscriptions, by type (newHeads, logs, newPendingTransactions)",
      labelNames: ["network", "type"] as const,
      registers: [registry],
    }),
    wsMessagesOut: new Counter({
      name: "din_ws_messages_out_total",
      help: "Messages sent to WebSocket clients (answers and notifications)",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    wsSourceSwitches: new Counter({
      name: "din_ws_source_switches_total",
      help: "Times the operator feeding subscriptions changed",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    quorumDisagreements: new Counter({
      name: "din_quorum_disagreements_total",
      help: "Quorum requests whose upstreams disagreed",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    quorumExtraAsks: new Counter({
      name: "din_quorum_extra_asks_total",
      help: "Operators asked beyond a quorum's N because some of the first N disagreed",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    quarantines: new Counter({
      name: "din_quarantines_total",
      help: "Upstreams quarantined for contradicting a quorum's agreed answer",
      labelNames: ["network"] as const,
      registers: [registry],
    }),
    upstreamQuarantined: new Gauge({
      name: "din_upstream_quarantined",
      help: "1 while the upstream is quarantined (it contradicted a quorum's agreed answer): it is not routed to",
      labelNames: ["network", "upstream"] as const,
      registers: [registry],
    }),
    /** The registry's risk figures (`din_risk_*`), refreshed with each read of the registry. */
    risk: createRiskGauges(registry, options.risk),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
