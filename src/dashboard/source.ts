// Where the dashboard's figures come from: the gateway's health (in the gateway's own process, or a
// gateway's /healthz, or none) and the ledger, read through `din status`'s own ledgerStatus so that the page
// and the CLI say the same thing. Reads are shared by every viewer for a second: a page open in ten tabs
// does not read the ledger ten times as often.
import type { PublicClient } from "viem";
import type { NetworkStateOperator } from "../devnet/state.js";
import { gatewayOnlyStatus, ledgerStatus, type StatusReport } from "../devnet/status.js";
import type { HealthReport } from "../gateway/healthReport.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { EventLogCache } from "../ledger/eventLog.js";
import { type LedgerEvents, readLedgerEvents } from "./ledgerEvents.js";

export type DashboardLedger = { rpc: string; deployment: DinDeployment; client: PublicClient };

/** A local network's operators and data dir (`din up`): their ids, rejoin commands and drill reports. */
export type LocalNetwork = { operators: readonly NetworkStateOperator[]; dataDir: string };

export interface DashboardSourceOptions {
  /** The gateway's URL and its health now; none: health is not observed. */
  gateway?: { url: () => string; health: () => Promise<HealthReport> } | undefined;
  ledger?: DashboardLedger | undefined;
  local?: (() => LocalNetwork | undefined) | undefined;
  /** How long one read is reused. @default 1000 */
  maxAgeMs?: number;
}

/** Every finalized epoch the ledger holds: the dashboard slices what each view shows. */
const ALL_EPOCHS = 1_000_000;

export class DashboardSource {
  readonly ledger: DashboardLedger | undefined;
  private readonly options: DashboardSourceOptions;
  readonly status: () => Promise<StatusReport>;
  readonly events: () => Promise<LedgerEvents>;
  /** Each slash's epoch, learnt once from its transaction. */
  private readonly slashEpochs = new Map<string, bigint>();
  /** The ledger's events read so far: each refresh reads only the blocks since the last. */
  private readonly eventLogs = new EventLogCache();

  constructor(options: DashboardSourceOptions) {
    this.options = options;
    this.ledger = options.ledger;
    const maxAgeMs = options.maxAgeMs ?? 1_000;
    this.status = reused(() => this.readStatus(), maxAgeMs);
    this.events = reused(async () => {
      if (!this.ledger) throw new Error("no ledger");
      return readLedgerEvents(this.ledger.client, this.ledger.deployment, this.slashEpochs, this.eventLogs);
    }, maxAgeMs);
  }

  /** The gateway whose health the dashboard shows; null when it has none. */
  get gateway(): string | null {
    return this.options.gateway ? this.options.gateway.url() : null;
  }

  local(): LocalNetwork | undefined {
    return this.options.local?.();
  }

  /** The health report: the gateway's, or every network of the deployment with nothing observed. */
  async health(): Promise<HealthReport> {
    if (this.options.gateway) return this.options.gateway.health();
    return {
      status: "ok",
      networks: (this.ledger?.deployment.networks ?? []).map((n) => ({
        name: n.name,
        chainId: Number(n.chainId),
        head: { latest: null, safe: null, finalized: null },
        upstreams: [],
        clouds: { cap: 1, measured: 0, shares: [] },
      })),
    };
  }

  private async readStatus(): Promise<StatusReport> {
    const report = await this.health();
    const gateway = this.gateway ?? "";
    if (!this.ledger) return gatewayOnlyStatus(gateway, report);
    const local = this.local();
    const { rpc, deployment, client } = this.ledger;
    return ledgerStatus(
      { gateway, ledger: { rpc, chainId: deployment.chainId }, operators: local?.operators ?? [] },
      report,
      deployment,
      client,
      {
        epochs: true,
        epochLimit: ALL_EPOCHS,
        events: this.eventLogs,
        ...(local ? { dataDir: local.dataDir } : {}),
      },
    );
  }
}

/**
 * `read` whose result is reused for `maxAgeMs` and shared by concurrent callers; a failed read is not kept,
 * so the next caller tries again.
 */
export function reused<T>(read: () => Promise<T>, maxAgeMs: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < maxAgeMs) return last.value;
    const value = read();
    const entry = { at: now, value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
