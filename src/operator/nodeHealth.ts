// What the operator node knows about itself, for the AVS node API (`/eigen/node/health`, `/eigen/node/services`)
// and `eigen_performance_score`: its backing services — the execution client, the ledger connection, the relay
// signer — probed in the background, and a sliding window of how its calls went.
import { type Address, formatUnits, getAddress, type PublicClient, zeroAddress } from "viem";
import { dinRegistryAbi } from "../ledger/artifacts/index.js";
import type { DinDeployment, DinNetwork } from "../ledger/din/deploy.js";
import { verifyRelay } from "../ledger/din/relay.js";
import { fromQuantity } from "../rpc/blockTag.js";
import { clientVersionLabel } from "./nodeMetrics.js";
import { type RelaySignerOptions, signServedRelay } from "./relaySigner.js";

/** A backing service's state, as the AVS node specification spells it. */
export type ServiceStatus = "Up" | "Down" | "Initializing";
/** The node's health as `/eigen/node/health` answers it: 200, 206 or 503. */
export type NodeHealth = "healthy" | "partially healthy" | "unhealthy";

export interface NodeService {
  id: string;
  name: string;
  description: string;
  status: ServiceStatus;
}

export const EXECUTION_CLIENT = "execution-client";
export const LEDGER = "ledger";
export const RELAY_SIGNER = "relay-signer";

/**
 * 503 when the execution client is Down (the node cannot serve); 206 when any service is not Up (the
 * execution client syncing or not probed yet, the ledger unreachable, the signer not the registered one);
 * 200 when all are Up.
 */
export function nodeHealth(services: readonly NodeService[]): NodeHealth {
  if (services.some((s) => s.id === EXECUTION_CLIENT && s.status === "Down")) return "unhealthy";
  return services.every((s) => s.status === "Up") ? "healthy" : "partially healthy";
}

export const healthStatusCode: Record<NodeHealth, number> = {
  healthy: 200,
  "partially healthy": 206,
  unhealthy: 503,
};

export const serviceStatusCode: Record<ServiceStatus, number> = { Up: 200, Initializing: 206, Down: 503 };

// ---- performance window ----

interface Bucket {
  /** Index of the bucket's time slice (now / bucketMs); a stale slot is reset before reuse. */
  slice: number;
  calls: number;
  good: number;
  probes: number;
  probesUp: number;
}

export interface PerformanceWindowOptions {
  /** A call counts as good when answered within this many ms. */
  latencyBudgetMs: number;
  /** How far back the score looks, in ms. @default 300000 (5 minutes) */
  windowMs?: number;
  now?: () => number;
}

/**
 * The node's recent record in 30 time slices: calls it forwarded (good: answered by the execution client
 * within the latency budget) and probes of its execution client (up: reachable, not syncing, head fresh).
 *
 *   score = 100 × (good calls / calls) × (probes up / probes)
 *
 * with a factor of 1 when there was no call, or no probe, in the window. Calls the node refused (methods it
 * does not serve, limits, authentication) are the caller's doing and are not counted.
 */
export class PerformanceWindow {
  private readonly buckets: Bucket[];
  private readonly bucketMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PerformanceWindowOptions) {
    const slices = 30;
    this.bucketMs = Math.max(1, Math.floor((options.windowMs ?? 300_000) / slices));
    this.now = options.now ?? Date.now;
    this.buckets = Array.from({ length: slices }, () => ({
      slice: -1,
      calls: 0,
      good: 0,
      probes: 0,
      probesUp: 0,
    }));
  }

  get latencyBudgetMs(): number {
    return this.options.latencyBudgetMs;
  }

  call(answered: boolean, durationMs: number): void {
    const bucket = this.current();
    bucket.calls++;
    if (answered && durationMs <= this.options.latencyBudgetMs) bucket.good++;
  }

  probe(up: boolean): void {
    const bucket = this.current();
    bucket.probes++;
    if (up) bucket.probesUp++;
  }

  totals(): { calls: number; good: number; probes: number; probesUp: number } {
    const slice = Math.floor(this.now() / this.bucketMs);
    const sum = { calls: 0, good: 0, probes: 0, probesUp: 0 };
    for (const b of this.buckets) {
      if (b.slice <= slice - this.buckets.length || b.slice > slice) continue;
      sum.calls += b.calls;
      sum.good += b.good;
      sum.probes += b.probes;
      sum.probesUp += b.probesUp;
    }
    return sum;
  }

  /** 0–100, two decimals. */
  score(): number {
    const t = this.totals();
    const served = t.calls === 0 ? 1 : t.good / t.calls;
    const keptUp = t.probes === 0 ? 1 : t.probesUp / t.probes;
    return Math.round(served * keptUp * 10_000) / 100;
  }

  private current(): Bucket {
    const slice = Math.floor(this.now() / this.bucketMs);
    const bucket = this.buckets[slice % this.buckets.length] as Bucket;
    if (bucket.slice !== slice) Object.assign(bucket, { slice, calls: 0, good: 0, probes: 0, probesUp: 0 });
    return bucket;
  }
}

// ---- the services ----

/** The ledger as the node reads it: its client, the DIN deployment, and who this node is there. */
export interface LedgerView {
  client: PublicClient;
  deployment: DinDeployment;
  /** This operator's ledger address; without it stakes and the signer's registration are not read. */
  operator?: Address;
  /** The served network; without it the signer's registration is not read. */
  network?: DinNetwork;
}

/** Calls the execution client (bypassing faults and limits); throws when it cannot, or answers an error. */
export type ExecutionClientRpc = (method: string, params: unknown[]) => Promise<unknown>;

export interface NodeMonitorOptions {
  rpc: ExecutionClientRpc;
  ledger?: LedgerView;
  relaySigner?: RelaySignerOptions;
  performance: PerformanceWindow;
  /** How often the execution client and the ledger are probed, in ms. @default 5000 */
  probeIntervalMs?: number;
  /** How often stakes and the signer's registration are read from the ledger, in ms. @default 60000 */
  stakeRefreshMs?: number;
  /** A head older than this (by its timestamp) means the execution client fell behind. @default off */
  maxHeadAgeMs?: number;
  /** Told of every change, so metrics and logs follow. */
  onChange?: (event: MonitorEvent) => void;
  now?: () => number;
}

export type MonitorEvent =
  | { kind: "status"; service: string; status: ServiceStatus; reason: string }
  | { kind: "clientVersion"; version: string }
  | { kind: "head"; block: bigint }
  | { kind: "stake"; network: DinNetwork; tokens: number };

interface ServiceState extends NodeService {
  reason: string;
}

/** Probes the node's backing services in the background and keeps their status. */
export class NodeMonitor {
  private readonly services: ServiceState[] = [];
  private readonly probeIntervalMs: number;
  private readonly stakeRefreshMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private clientVersion: string | undefined;
  private lastLedgerRead = Number.NEGATIVE_INFINITY;
  private signerSelfCheck: boolean | undefined;

  constructor(private readonly options: NodeMonitorOptions) {
    this.probeIntervalMs = options.probeIntervalMs ?? 5_000;
    this.stakeRefreshMs = options.stakeRefreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.services.push({
      id: EXECUTION_CLIENT,
      name: "Execution client",
      description: "The Ethereum execution client whose JSON-RPC this node serves and signs",
      status: "Initializing",
      reason: "not probed yet",
    });
    if (options.ledger) {
      this.services.push({
        id: LEDGER,
        name: "Ledger",
        description:
          "The DIN ledger chain: the registry that admits callers, this operator's stake and its registered signer",
        status: "Initializing",
        reason: "not probed yet",
      });
    }
    if (options.relaySigner) {
      this.services.push({
        id: RELAY_SIGNER,
        name: "Relay signer",
        description: "The key that signs served relays as this operator's evidence on the ledger",
        status: "Initializing",
        reason: "not checked yet",
      });
    }
  }

  list(): NodeService[] {
    return this.services.map(({ id, name, description, status }) => ({ id, name, description, status }));
  }

  health(): NodeHealth {
    return nodeHealth(this.services);
  }

  /** Probes now, then every `probeIntervalMs` until `stop`. */
  start(): void {
    const loop = () => {
      // Each probe handles its own failures; nothing here may become an unhandled rejection.
      void this.probe()
        .catch(() => undefined)
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(loop, this.probeIntervalMs);
          this.timer.unref();
        });
    };
    loop();
  }

  /** Stops probing; a probe in flight is not waited for (it ends with the node's connections). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** One round: the execution client, then the ledger (stakes and registration when due), then the signer. */
  async probe(): Promise<void> {
    await Promise.all([this.probeExecutionClient(), this.probeLedger(), this.checkSignerKey()]);
  }

  private async probeExecutionClient(): Promise<void> {
    const { rpc, maxHeadAgeMs } = this.options;
    let status: ServiceStatus;
    let reason: string;
    try {
      const [syncing, block] = await Promise.all([
        rpc("eth_syncing", []),
        rpc("eth_getBlockByNumber", ["latest", false]),
      ]);
      const head = isRecord(block) ? fromQuantity(block.number) : undefined;
      const timestamp = isRecord(block) ? fromQuantity(block.timestamp) : undefined;
      if (head === undefined || timestamp === undefined) throw new Error("no head block");
      this.options.onChange?.({ kind: "head", block: head });
      const ageMs = this.now() - Number(timestamp) * 1000;
      if (syncing !== false) {
        status = "Initializing";
        reason = "syncing";
      } else if (maxHeadAgeMs !== undefined && ageMs > maxHeadAgeMs) {
        status = "Down";
        reason = `head block ${head} is ${Math.round(ageMs / 1000)} s old`;
      } else {
        status = "Up";
        reason = "answering, not syncing";
      }
    } catch {
      // The error may name the upstream URL (credentials included): only the fact is kept.
      status = "Down";
      reason = "unreachable or not answering";
    }
    const wasDown = this.statusOf(EXECUTION_CLIENT) === "Down";
    if (status !== "Down" && (this.clientVersion === undefined || wasDown)) await this.readClientVersion();
    this.options.performance.probe(status === "Up");
    this.set(EXECUTION_CLIENT, status, reason);
  }

  /** Read once, and again each time the client comes back (it may have been upgraded). */
  private async readClientVersion(): Promise<void> {
    try {
      const version = clientVersionLabel(await this.options.rpc("web3_clientVersion", []));
      if (version !== this.clientVersion) {
        this.clientVersion = version;
        this.options.onChange?.({ kind: "clientVersion", version });
      }
    } catch {
      // Some clients do not serve it: the label stays as it was.
    }
  }

  private async probeLedger(): Promise<void> {
    const ledger = this.options.ledger;
    if (!ledger) return;
    try {
      await ledger.client.getBlockNumber({ cacheTime: 0 });
      if (this.now() - this.lastLedgerRead >= this.stakeRefreshMs) {
        await Promise.all([this.readStakes(ledger), this.readRegistration(ledger)]);
        this.lastLedgerRead = this.now();
      }
      this.set(LEDGER, "Up", "reachable");
    } catch {
      this.set(LEDGER, "Down", "unreachable or not answering");
    }
  }

  private async readStakes(ledger: LedgerView): Promise<void> {
    const operator = ledger.operator;
    if (operator === undefined) return;
    const stakes = await Promise.all(
      ledger.deployment.networks.map((network) =>
        ledger.client.readContract({
          address: ledger.deployment.addresses.registry,
          abi: dinRegistryAbi,
          functionName: "allocatedStake",
          args: [operator, network.id],
        }),
      ),
    );
    for (const [i, network] of ledger.deployment.networks.entries()) {
      const tokens = Number(formatUnits(stakes[i] ?? 0n, 18));
      this.options.onChange?.({ kind: "stake", network, tokens });
    }
  }

  /** Whether the registry names this node's key as the operator's signer on the served network. */
  private async readRegistration(ledger: LedgerView): Promise<void> {
    const signer = this.options.relaySigner;
    if (!signer || ledger.operator === undefined || ledger.network === undefined) return;
    const metadata = await ledger.client.readContract({
      address: ledger.deployment.addresses.registry,
      abi: dinRegistryAbi,
      functionName: "getMetadata",
      args: [ledger.operator, ledger.network.id],
    });
    const registered = getAddress(metadata.signer);
    if (this.signerSelfCheck === false) return;
    if (registered === zeroAddress) {
      this.set(RELAY_SIGNER, "Down", `operator not registered on network ${ledger.network.name}`);
    } else if (registered !== signer.account.address) {
      this.set(RELAY_SIGNER, "Down", "the registry names another signer for this operator");
    } else {
      this.set(RELAY_SIGNER, "Up", "registered signer");
    }
  }

  /** Once: the key signs a relay that verifies as its own. Up now unless the registration can be read. */
  private async checkSignerKey(): Promise<void> {
    const signer = this.options.relaySigner;
    if (!signer || this.signerSelfCheck !== undefined) return;
    try {
      const request = { method: "eth_chainId", params: [] };
      const response = { result: "0x1" };
      const { relay, headers } = await signServedRelay(signer, request, response);
      const verdict = verifyRelay(
        relay,
        headers["din-signature"],
        { ...request, response, chainId: BigInt(signer.chainId), signer: signer.account.address },
        { ledgerChainId: signer.ledgerChainId, slasher: signer.slasher },
      );
      this.signerSelfCheck = verdict.ok;
    } catch {
      this.signerSelfCheck = false;
    }
    if (!this.signerSelfCheck) {
      this.set(RELAY_SIGNER, "Down", "the key does not sign verifiable relays");
      return;
    }
    const ledger = this.options.ledger;
    const registrationKnowable = ledger?.operator !== undefined && ledger.network !== undefined;
    if (!registrationKnowable) this.set(RELAY_SIGNER, "Up", "key loaded (registration not checked)");
  }

  private statusOf(id: string): ServiceStatus | undefined {
    return this.services.find((s) => s.id === id)?.status;
  }

  private set(id: string, status: ServiceStatus, reason: string): void {
    const service = this.services.find((s) => s.id === id);
    if (!service || this.stopped) return;
    const changed = service.status !== status || service.reason !== reason;
    service.status = status;
    service.reason = reason;
    if (changed) this.options.onChange?.({ kind: "status", service: id, status, reason });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
