// A watcher's Prometheus metrics: what it measured this epoch (per operator: probes, availability, lag,
// latency), what it did on the ledger (reports posted, fraud proofs), and the risk figures (`din_risk_*`) over
// the registry it follows, the same gauges the gateway exports but from the watcher's own read of the
// registry, so a deployment without a gateway of its own still sees them. Measurements are read from the
// watcher's snapshot when scraped; the risk gauges are refreshed with each read of the registry.

import type { AddressInfo } from "node:net";
import { Gauge, Registry } from "prom-client";
import { listen as listenOn } from "../http/listen.js";
import { createLimitedServer } from "../http/listener.js";
import { requestPath } from "../http/path.js";
import { createRiskGauges, type RiskGauges } from "../risk/metrics.js";
import type { SecurityAssumptions } from "../risk/security.js";

/** The part of a watcher's snapshot the metrics read. */
export interface WatcherMetricsSource {
  blockNumber: string | undefined;
  epoch: string | undefined;
  rounds: number;
  networks: ReadonlyArray<{
    name: string;
    operators: ReadonlyArray<{
      id: string;
      probes: number;
      ok: number;
      availabilityBps: number;
      p50LatencyMs: number;
      lagBlocks: number;
      jailed: boolean;
    }>;
  }>;
  lastPosted: Readonly<Record<string, string>>;
  /** networkId → name, to label `lastPosted`. */
  networkNames: ReadonlyMap<number, string>;
  fraudProofs: number;
}

export interface WatcherMetrics {
  registry: Registry;
  risk: RiskGauges;
}

/** The watcher's registry: its measurements read from `source` at each scrape, and the risk gauges. */
export function createWatcherMetrics(
  source: () => WatcherMetricsSource,
  options: { security?: SecurityAssumptions } = {},
): WatcherMetrics {
  const registry = new Registry();
  const registers = [registry];
  const operatorLabels = ["network", "operator"] as const;
  new Gauge({
    name: "din_watcher_ledger_block",
    help: "Ledger block the watcher last saw",
    registers,
    collect() {
      const block = source().blockNumber;
      this.reset();
      if (block !== undefined) this.set(Number(block));
    },
  });
  new Gauge({
    name: "din_watcher_epoch",
    help: "The ledger's current epoch as the watcher follows it",
    registers,
    collect() {
      const epoch = source().epoch;
      this.reset();
      if (epoch !== undefined) this.set(Number(epoch));
    },
  });
  new Gauge({
    name: "din_watcher_probe_rounds",
    help: "Probe rounds completed since the watcher started",
    registers,
    collect() {
      this.set(source().rounds);
    },
  });
  new Gauge({
    name: "din_watcher_fraud_proofs",
    help: "Fraud proofs this watcher has landed on the ledger",
    registers,
    collect() {
      this.set(source().fraudProofs);
    },
  });
  new Gauge({
    name: "din_watcher_last_posted_epoch",
    help: "The last epoch the watcher posted an SLA report for, per network",
    labelNames: ["network"] as const,
    registers,
    collect() {
      const { lastPosted, networkNames } = source();
      this.reset();
      for (const [id, epoch] of Object.entries(lastPosted))
        this.set({ network: networkNames.get(Number(id)) ?? id }, Number(epoch));
    },
  });
  // Per operator, this epoch: each gauge reads the same snapshot field.
  const perOperator = (
    name: string,
    help: string,
    value: (o: WatcherMetricsSource["networks"][number]["operators"][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: operatorLabels,
      registers,
      collect() {
        this.reset();
        for (const network of source().networks)
          for (const o of network.operators) this.set({ network: network.name, operator: o.id }, value(o));
      },
    });
  perOperator("din_watcher_operator_probes", "Probes sent to an operator this epoch", (o) => o.probes);
  perOperator(
    "din_watcher_operator_probes_ok",
    "Probes an operator answered correctly this epoch",
    (o) => o.ok,
  );
  perOperator(
    "din_watcher_operator_availability",
    "An operator's availability this epoch as measured so far (0..1), what the next report will say",
    (o) => o.availabilityBps / 10_000,
  );
  perOperator(
    "din_watcher_operator_latency_p50_seconds",
    "Median latency of an operator's correct answers this epoch",
    (o) => o.p50LatencyMs / 1_000,
  );
  perOperator(
    "din_watcher_operator_lag_blocks",
    "Mean blocks an operator's head trailed the agreed head this epoch",
    (o) => o.lagBlocks,
  );
  perOperator("din_watcher_operator_jailed", "1 while the ledger jails the operator", (o) =>
    o.jailed ? 1 : 0,
  );
  return { registry, risk: createRiskGauges(registry, options) };
}

/** Serves `GET /metrics` on its own listener; anything else is a 404. */
export async function serveWatcherMetrics(
  registry: Registry,
  listen: { host?: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createLimitedServer({}, (req, res) => {
    const path = requestPath(req.url);
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(req.method !== "GET" ? 405 : 404, { "content-type": "text/plain" });
      res.end(req.method !== "GET" ? "GET only\n" : "not found: GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(text);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("metrics unavailable\n");
      },
    );
  });
  const host = listen.host ?? "127.0.0.1";
  await listenOn(server, listen.port, host);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
