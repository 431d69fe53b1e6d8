// The operator node's Prometheus metrics, as EigenLayer's AVS Node Specification names them (`eigen_*`), and
// the node's own (`din_operator_*`). Every label value comes from a closed set — the method table, a few
// outcomes and reasons, the deployment's networks, the services — or, for `client_version`, from the
// operator's own execution client (sanitised and capped): a caller cannot grow the registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { labelForMethod } from "../rpc/methods.js";

/** The `client_version` label until the execution client has answered `web3_clientVersion`. */
export const unknownClientVersion = "unknown";
/** The method label of a call without a method name (not a JSON-RPC call). */
export const invalidCallLabel = "(invalid)";

/** Why a request was refused before any call in it was looked at. */
export type RefusalReason =
  | "unauthorized"
  | "auth_unavailable"
  | "rate_limited"
  | "invalid_request"
  | "too_large";
/** What became of one call: forwarded and answered, forwarded and failed, or refused by the node. */
export type CallOutcome = "served" | "failed" | "refused";

/** Seconds; from a cached read to a long trace. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A client version as a label: printable ASCII, at most 100 characters. */
export function clientVersionLabel(raw: unknown): string {
  if (typeof raw !== "string") return unknownClientVersion;
  const printable = raw.replace(/[^\x20-\x7e]/g, "").trim();
  return printable.length === 0 ? unknownClientVersion : printable.slice(0, 100);
}

/** The method of a call as a label: a name the method table lists, else one shared value. */
export function methodLabel(call: unknown): string {
  if (typeof call !== "object" || call === null || Array.isArray(call)) return invalidCallLabel;
  const method = (call as { method?: unknown }).method;
  return typeof method === "string" ? labelForMethod(method) : invalidCallLabel;
}

type RpcLabels = "method" | "client_version";

export interface OperatorMetricsSources {
  /** `eigen_performance_score`, read at each scrape. */
  performanceScore: () => number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  private clientVersion = unknownClientVersion;
  private readonly rpcRequests: Counter<RpcLabels>;
  private readonly rpcDuration: Histogram<RpcLabels>;
  private readonly stakes: Gauge<"quorum_number" | "quorum_name">;
  private readonly calls: Counter<"method" | "outcome">;
  private readonly refusals: Counter<"reason">;
  private readonly serviceUp: Gauge<"service">;
  private readonly head: Gauge;
  // prom-client hashes a label object on each update; the hot path keeps each label set's child.
  private readonly rpcChildren = new Map<
    string,
    { count: Counter.Internal; duration: Histogram.Internal<RpcLabels> }
  >();

  constructor(sources: OperatorMetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "din_operator_" });
    new Gauge({
      name: "eigen_performance_score",
      help: "Performance of this operator node from its own view, 0-100: share of calls answered within the latency budget times share of execution client probes that found it up, over the recent window",
      registers,
      collect() {
        this.set(sources.performanceScore());
      },
    });
    this.stakes = new Gauge({
      name: "eigen_registered_stakes",
      help: "This operator's stake allocated to each DIN network (quorum) on the ledger, in tokens (shares / 1e18)",
      labelNames: ["quorum_number", "quorum_name"] as const,
      registers,
    });
    this.rpcRequests = new Counter({
      name: "eigen_rpc_request_total",
      help: "JSON-RPC calls forwarded to the execution client, by method and execution client version",
      labelNames: ["method", "client_version"] as const,
      registers,
    });
    this.rpcDuration = new Histogram({
      name: "eigen_rpc_request_duration_seconds",
      help: "Time to answer a request whose calls went to the execution client, in seconds, by method and execution client version",
      labelNames: ["method", "client_version"] as const,
      buckets: durationBuckets,
      registers,
    });
    this.calls = new Counter({
      name: "din_operator_calls_total",
      help: "JSON-RPC calls received, by method and outcome (served, failed, refused)",
      labelNames: ["method", "outcome"] as const,
      registers,
    });
    this.refusals = new Counter({
      name: "din_operator_refusals_total",
      help: "Requests refused before their calls were read, by reason",
      labelNames: ["reason"] as const,
      registers,
    });
    this.serviceUp = new Gauge({
      name: "din_operator_service_up",
      help: "1 when a backing service of the node is Up, 0 when Down or Initializing",
      labelNames: ["service"] as const,
      registers,
    });
    this.head = new Gauge({
      name: "din_operator_execution_client_head",
      help: "Latest block number the execution client reported at the last probe",
      registers,
    });
  }

  setClientVersion(version: string): void {
    this.clientVersion = version;
  }

  /** One call that went to the execution client, answered in `seconds` (a batch's calls share its time). */
  forwarded(method: string, seconds: number): void {
    const key = `${method}\u0000${this.clientVersion}`;
    let child = this.rpcChildren.get(key);
    if (!child) {
      child = {
        count: this.rpcRequests.labels(method, this.clientVersion),
        duration: this.rpcDuration.labels(method, this.clientVersion),
      };
      this.rpcChildren.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  call(method: string, outcome: CallOutcome): void {
    this.calls.labels(method, outcome).inc();
  }

  refused(reason: RefusalReason): void {
    this.refusals.labels(reason).inc();
  }

  setStake(quorumNumber: number, quorumName: string, tokens: number): void {
    this.stakes.labels(String(quorumNumber), quorumName).set(tokens);
  }

  setServiceUp(service: string, up: boolean): void {
    this.serviceUp.labels(service).set(up ? 1 : 0);
  }

  setHead(block: bigint): void {
    this.head.set(Number(block));
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
