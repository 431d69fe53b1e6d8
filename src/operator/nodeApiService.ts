// The operator node's observability, when started with `nodeApi`: the background probes of its backing
// services (NodeMonitor), the Prometheus metrics and the performance window the public path feeds, the
// ledger's news about this operator in the log, and the listener serving the AVS node API and /metrics
// (nodeApi.ts answers its requests).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { closeServer, listen, urlHost } from "../http/listen.js";
import { createLimitedServer, type ListenerLimits } from "../http/listener.js";
import type { Answer, RequestTrace } from "./answers.js";
import { type LedgerNewsFollower, ledgerNewsLogger } from "./ledgerNews.js";
import { handleNodeApi, type NodeApiSource, packageVersion } from "./nodeApi.js";
import { type ExecutionClientRpc, type LedgerView, NodeMonitor, PerformanceWindow } from "./nodeHealth.js";
import { OperatorMetrics } from "./nodeMetrics.js";
import type { RelaySignerOptions } from "./relaySigner.js";

/** The node API and metrics listener, and what its health and metrics are computed from. */
export interface NodeApiOptions {
  /** Interface it binds to. @default "127.0.0.1" */
  host?: string;
  /** Its port; 0 lets the OS pick. @default 0 */
  port?: number;
  /** The ledger: probed, and read for this operator's stakes and registered signer. */
  ledger?: LedgerView;
  /** A call answered within this many ms counts as good in the performance score. @default 1000 */
  latencyBudgetMs?: number;
  /** How far back the performance score looks, in ms. @default 300000 */
  performanceWindowMs?: number;
  /** How often the execution client and the ledger are probed, in ms. @default 5000 */
  probeIntervalMs?: number;
  /** How often stakes and the signer's registration are read from the ledger, in ms. @default 60000 */
  stakeRefreshMs?: number;
  /** The execution client is Down when its latest block is older than this, in ms. @default off */
  maxHeadAgeMs?: number;
  /** Reported as `node_version`. @default package.json's version */
  version?: string;
}

export interface NodeApiDeps {
  /** The operator node's id (`node_name`). */
  id: string;
  /** Calls the execution client past any fault or limit: the health probes. */
  probe: ExecutionClientRpc;
  relaySigner: RelaySignerOptions | undefined;
  listenerLimits: ListenerLimits;
  log: Logger;
  /** Answers a request the handler failed on (a bug there: it answers its own errors). */
  onError(res: ServerResponse, error: unknown): void;
}

export class NodeApiService {
  readonly metrics: OperatorMetrics;
  private readonly performance: PerformanceWindow;
  private readonly monitor: NodeMonitor;
  /** Logs what the ledger decides about this operator (verdicts, slashes, jail), when it knows its address. */
  private readonly news: LedgerNewsFollower | undefined;
  private server: Server | undefined;

  constructor(
    private readonly options: NodeApiOptions,
    private readonly deps: NodeApiDeps,
  ) {
    const performance = new PerformanceWindow({
      latencyBudgetMs: options.latencyBudgetMs ?? 1_000,
      ...(options.performanceWindowMs !== undefined ? { windowMs: options.performanceWindowMs } : {}),
    });
    const metrics = new OperatorMetrics({ performanceScore: () => performance.score() });
    const log = deps.log;
    this.performance = performance;
    this.metrics = metrics;
    this.monitor = new NodeMonitor({
      rpc: deps.probe,
      performance,
      ...(options.ledger ? { ledger: options.ledger } : {}),
      ...(deps.relaySigner ? { relaySigner: deps.relaySigner } : {}),
      ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
      ...(options.stakeRefreshMs !== undefined ? { stakeRefreshMs: options.stakeRefreshMs } : {}),
      ...(options.maxHeadAgeMs !== undefined ? { maxHeadAgeMs: options.maxHeadAgeMs } : {}),
      onChange: (event) => {
        if (event.kind === "status") {
          metrics.setServiceUp(event.service, event.status === "Up");
          const line = event.status === "Up" ? log.info.bind(log) : log.warn.bind(log);
          line({ service: event.service, status: event.status, reason: event.reason }, "service status");
        } else if (event.kind === "clientVersion") metrics.setClientVersion(event.version);
        else if (event.kind === "head") metrics.setHead(event.block);
        else metrics.setStake(event.network.id, event.network.name, event.tokens);
      },
    });
    for (const service of this.monitor.list()) metrics.setServiceUp(service.id, false);
    const ledger = options.ledger;
    if (ledger?.operator !== undefined) {
      this.news = ledgerNewsLogger({
        client: ledger.client,
        deployment: ledger.deployment,
        operator: ledger.operator,
        intervalMs: options.probeIntervalMs ?? 5_000,
        log,
      });
    }
  }

  /**
   * Metrics and the performance window, per call: a forwarded call is served, or failed when the node could
   * not get an answer (the execution client unreachable, timed out, answered 5xx, or an injected failure).
   */
  observe(trace: RequestTrace, answer: Answer, durationMs: number): void {
    const failed = trace.failed || answer.status >= 500;
    for (const method of trace.refused) this.metrics.call(method, "refused");
    for (const method of trace.forwarded) {
      this.metrics.call(method, failed ? "failed" : "served");
      // Calls failed before reaching the execution client (an injected fault) were not sent to it.
      if (!trace.injected) this.metrics.forwarded(method, durationMs / 1000);
      this.performance.call(!failed, durationMs);
    }
  }

  /** Opens the listener and starts the probes; resolves with its URL. Rejects if the port is taken. */
  async start(): Promise<string> {
    const { monitor, metrics } = this;
    const source: NodeApiSource = {
      nodeName: this.deps.id,
      nodeVersion: this.options.version ?? packageVersion(),
      services: () => monitor.list(),
      health: () => monitor.health(),
      metrics: () => metrics.scrape(),
      metricsContentType: metrics.contentType,
    };
    const server = createLimitedServer(this.deps.listenerLimits, (req: IncomingMessage, res) => {
      // handleNodeApi answers its own errors; this only guards against a bug there.
      handleNodeApi(source, req, res).catch((error: unknown) => this.deps.onError(res, error));
    });
    const host = this.options.host ?? "127.0.0.1";
    await listen(server, this.options.port ?? 0, host);
    this.server = server;
    monitor.start();
    this.news?.start();
    return `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.monitor.stop();
    await this.news?.stop();
    if (this.server !== undefined) await closeServer(this.server);
  }
}
