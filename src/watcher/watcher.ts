// The watcher: follows the ledger's epochs, probes every registered operator of every network each round
// (signed relays, from its own vantage point), cross-checks their answers, and at each epoch's end posts
// its report per network. Between rounds it does the keeper's chores anyone may do: submit fraud proofs,
// finalize epochs whose reports are in, and execute slashes whose veto window passed. Probing never waits
// for the ledger: posting and keeping run beside it, one transaction at a time.
//
// This module only schedules and composes; each responsibility is its own part, given what it needs:
// prober.ts (probe rounds, cross-checks and measurements; probe.ts sends each signed probe), reporter.ts
// (SLA reports), prover.ts and stateProofs.ts (fraud proofs), keeper.ts (finalization and slashes), and
// ledger.ts (the ledger calls they make, one transaction at a time).

import { type Logger, pino } from "pino";
import { type Address, getAddress, type LocalAccount } from "viem";
import { AccessTokenCache } from "../ledger/din/auth.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import {
  connectLedger,
  type DirectoryOperator,
  ledgerUpstreamId,
  readOperators,
  readSlashes,
} from "../ledger/din/directory.js";
import type { OperatorMetrics } from "../ledger/din/epochs.js";
import { riskSnapshot } from "../ledger/din/riskInputs.js";
import type { SecurityAssumptions } from "../risk/security.js";
import { designated } from "./duties.js";
import { revertName, shortError } from "./errors.js";
import { FinalHeights } from "./finality.js";
import { Keeper } from "./keeper.js";
import { type EpochClock, WatcherLedger } from "./ledger.js";
import { toOperatorMetrics } from "./measurements.js";
import {
  createWatcherMetrics,
  serveWatcherMetrics,
  type WatcherMetrics,
  type WatcherMetricsSource,
} from "./metrics.js";
import { Prober } from "./probe.js";
import { NetworkProber } from "./prober.js";
import { Prover } from "./prover.js";
import { Reporter } from "./reporter.js";
import {
  type ContradictionRecord,
  type FraudRecord,
  loadState,
  saveState,
  type WatcherState,
} from "./state.js";
import { StateProofs } from "./stateProofs.js";

export { revertName };

/** Options of {@link startWatcher}. */
export type WatcherOptions = {
  /** The watcher's ledger key: it signs access tokens, reports and proofs (funded and registered). */
  account: LocalAccount;
  /** HTTP JSON-RPC URL of the ledger. */
  ledgerRpc: string;
  deployment: DinDeployment;
  /** Where the watcher keeps its state across restarts (JSON, written atomically). */
  stateFile: string;
  /** Time between probe rounds, in ms. @default 1000 */
  probeIntervalMs?: number;
  /** A probe slower than this fails, in ms. @default 2000 */
  probeTimeoutMs?: number;
  /** Every this many rounds, also ask each operator for a block at a sampled height. @default 3 */
  sampleEvery?: number;
  /** Time between reads of the ledger's block number, in ms. @default 500 */
  ledgerPollMs?: number;
  /** Time between reads of the registry's operator lists, in ms. @default 5000 */
  operatorRefreshMs?: number;
  /** A pino logger. @default silent */
  logger?: Logger;
  /**
   * Serve Prometheus metrics (`GET /metrics`: measurements, ledger work, `din_risk_*`) on this listener
   * (port 0 picks one). @default none
   */
  metrics?: { host?: string; port: number; security?: SecurityAssumptions };
};

/** One operator as measured this epoch. */
export type OperatorSnapshot = OperatorMetrics & {
  probes: number;
  ok: number;
  jailed: boolean;
  /** Why its last failed probe failed. */
  lastError?: string;
};

/** What the watcher knows now. */
export type WatcherSnapshot = {
  address: Address;
  /** Ledger block last seen (decimal string). */
  blockNumber: string | undefined;
  /** Current epoch (decimal string). */
  epoch: string | undefined;
  /** Probe rounds completed since start. */
  rounds: number;
  networks: { networkId: number; name: string; epoch: string | undefined; operators: OperatorSnapshot[] }[];
  /** networkId → last posted epoch. */
  lastPosted: Record<string, string>;
  fraudProofs: FraudRecord[];
  /** Signed answers to deterministic calls that contradicted most operators (most recent last). */
  contradictions: ContradictionRecord[];
};

/** A running watcher. */
export type Watcher = {
  address: Address;
  /** Where `GET /metrics` is served; undefined without the `metrics` option. */
  metricsUrl: string | undefined;
  /** Stops probing and keeping, waits for work in flight, saves the state. */
  close(): Promise<void>;
  snapshot(): WatcherSnapshot;
};

const defaults = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 2000,
  sampleEvery: 3,
  ledgerPollMs: 500,
  operatorRefreshMs: 5000,
} as const;

/** Starts a watcher; resolves once it has read the ledger and started probing. */
export async function startWatcher(options: WatcherOptions): Promise<Watcher> {
  const watcher = new WatcherLoop(options);
  await watcher.start();
  return {
    address: watcher.address,
    metricsUrl: watcher.metricsUrl,
    close: () => watcher.close(),
    snapshot: () => watcher.snapshot(),
  };
}

class WatcherLoop {
  readonly address: Address;
  private readonly deployment: DinDeployment;
  private readonly log: Logger;
  private readonly ledger: WatcherLedger;
  private readonly probes: Prober;
  private readonly prober: NetworkProber;
  private readonly reporter: Reporter;
  private readonly prover: Prover;
  private readonly stateProofs: StateProofs;
  private readonly keeper: Keeper;
  private readonly probeIntervalMs: number;
  private readonly sampleEvery: number;
  private readonly ledgerPollMs: number;
  private readonly operatorRefreshMs: number;
  private state!: WatcherState;

  private clock: EpochClock | undefined;
  private blockNumber: bigint | undefined;
  private readonly operators = new Map<number, DirectoryOperator[]>();
  private rounds = 0;
  private metrics: WatcherMetrics | undefined;
  private metricsServer: { url: string; close(): Promise<void> } | undefined;

  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private roundInFlight: Promise<void> | undefined;
  private keeperInFlight: Promise<void> | undefined;
  private keeperAgain = false;

  constructor(private readonly options: WatcherOptions) {
    this.address = getAddress(options.account.address);
    this.deployment = options.deployment;
    this.log = (options.logger ?? pino({ level: "silent" })).child({ watcher: this.address });
    this.probeIntervalMs = options.probeIntervalMs ?? defaults.probeIntervalMs;
    this.sampleEvery = Math.max(1, options.sampleEvery ?? defaults.sampleEvery);
    this.ledgerPollMs = options.ledgerPollMs ?? defaults.ledgerPollMs;
    this.operatorRefreshMs = options.operatorRefreshMs ?? defaults.operatorRefreshMs;

    const { chainId, addresses, networks } = options.deployment;
    const clients = connectLedger(options.ledgerRpc, chainId, options.account);
    if (!clients.wallet) throw new Error("the watcher needs a wallet to sign with");
    const ledger = new WatcherLedger(clients.public, clients.wallet, addresses, this.address);
    this.ledger = ledger;
    const state = () => this.state;
    const save = () => saveState(this.options.stateFile, this.state);
    const closed = () => this.closed;
    const kick = () => this.kick();
    this.probes = new Prober({
      tokens: new AccessTokenCache(options.account, "watcher", chainId),
      ledgerChainId: chainId,
      slasher: addresses.slasher,
      timeoutMs: options.probeTimeoutMs ?? defaults.probeTimeoutMs,
    });
    const finality = new FinalHeights({
      readDelay: () => ledger.finalityDelay(),
      blockTime: async (blockNumber) => (await ledger.block(blockNumber)).timestamp,
    });
    this.stateProofs = new StateProofs({
      log: this.log,
      ledger: ledger.client,
      wallet: ledger.wallet,
      slasher: addresses.slasher,
      registry: addresses.registry,
      ledgerChainId: chainId,
      state,
      save,
      send: (what, write) => ledger.send(what, write),
      designatedFor: async (operator) =>
        designated(await ledger.activeWatchers(), this.address, BigInt(operator)),
      finalityDelay: () => finality.finalityDelay(),
      revertName,
      kick,
    });
    this.prover = new Prover({
      ledger,
      address: this.address,
      ledgerChainId: chainId,
      finalityDelay: () => finality.finalityDelay(),
      state,
      save,
      closed,
      kick,
      now: () => performance.now(),
      quietMs: 2 * this.operatorRefreshMs + 10 * this.ledgerPollMs,
      log: this.log,
    });
    this.prober = new NetworkProber({
      probes: this.probes,
      finality,
      stateProofs: this.stateProofs,
      accuse: (operator, network, block, canonical) =>
        this.prover.accuse(operator, network, block, canonical),
      networks,
      operators: (networkId) => this.operators.get(networkId) ?? [],
      epoch: () => this.clock?.epoch,
      blockNumber: () => this.blockNumber,
      ledgerChainId: chainId,
      address: this.address,
      state,
      log: this.log,
    });
    this.reporter = new Reporter({
      ledger,
      state,
      save,
      registered: (networkId) => (this.operators.get(networkId) ?? []).map((o) => o.address),
      closed,
      log: this.log,
    });
    this.keeper = new Keeper({ ledger, address: this.address, networks, state, save, closed, log: this.log });
  }

  async start(): Promise<void> {
    const chainId = await this.ledger.client.getChainId().catch((error: unknown) => {
      throw new Error(`cannot reach the ledger at ${this.options.ledgerRpc}: ${shortError(error)}`);
    });
    if (chainId !== this.deployment.chainId) {
      throw new Error(
        `the ledger at ${this.options.ledgerRpc} is chain ${chainId}, but the deployment is on chain ${this.deployment.chainId}`,
      );
    }
    this.state = loadState(
      this.options.stateFile,
      this.address,
      this.deployment.addresses.registry,
      this.deployment.chainId,
    );
    if (!(await this.ledger.isActiveWatcher(this.address))) {
      this.log.warn(
        "this address is not an active watcher: operators will refuse its probes and the ledger its reports",
      );
    }
    const { security, ...listen } = this.options.metrics ?? { port: 0 };
    if (this.options.metrics)
      this.metrics = createWatcherMetrics(() => this.metricsSource(), security ? { security } : {});
    await this.followLedger();
    await this.refreshOperators();
    if (this.metrics) {
      this.metricsServer = await serveWatcherMetrics(this.metrics.registry, listen).catch((error: Error) => {
        throw new Error(
          `cannot serve metrics on ${listen.host ?? "127.0.0.1"}:${listen.port}: ${error.message}`,
        );
      });
    }
    saveState(this.options.stateFile, this.state);
    this.log.info(
      { epoch: this.clock?.epoch.toString(), networks: this.deployment.networks.map((n) => n.name) },
      "watcher started",
    );
    this.every(this.ledgerPollMs, () => this.followLedger());
    this.every(this.operatorRefreshMs, () => this.refreshOperators());
    this.scheduleRound(0);
    this.kick();
  }

  get metricsUrl(): string | undefined {
    return this.metricsServer?.url;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    await this.metricsServer?.close();
    await this.roundInFlight;
    await this.keeperInFlight;
    await this.probes.close();
    saveState(this.options.stateFile, this.state);
    this.log.info("watcher stopped");
  }

  snapshot(): WatcherSnapshot {
    const epoch = this.clock?.epoch;
    return {
      address: this.address,
      blockNumber: this.blockNumber?.toString(),
      epoch: epoch?.toString(),
      rounds: this.rounds,
      networks: this.deployment.networks.map((network) => {
        const entry =
          epoch === undefined
            ? undefined
            : this.state.measurements.find((m) => m.networkId === network.id && m.epoch === epoch.toString());
        return {
          networkId: network.id,
          name: network.name,
          epoch: epoch?.toString(),
          operators: (this.operators.get(network.id) ?? []).map((operator) => {
            const counters = entry?.operators[operator.address];
            const lastError = this.prober.lastError(network.id, operator.address);
            return {
              ...toOperatorMetrics(operator.address, counters),
              probes: counters?.probes ?? 0,
              ok: counters?.ok ?? 0,
              jailed: operator.jailed,
              ...(lastError ? { lastError } : {}),
            };
          }),
        };
      }),
      lastPosted: { ...this.state.lastPosted },
      fraudProofs: [...this.state.fraudProofs],
      contradictions: [...this.state.contradictions],
    };
  }

  // ---- scheduling ----

  /** Runs `task` every `ms` (after the previous run finished); failures are logged, never fatal. */
  private every(ms: number, task: () => Promise<void>): void {
    const tick = () => {
      if (this.closed) return;
      task()
        .catch((error: unknown) => this.log.warn({ error: shortError(error) }, "ledger read failed"))
        .finally(() => {
          if (!this.closed) this.timers.push(setTimeout(tick, ms));
        });
    };
    this.timers.push(setTimeout(tick, ms));
  }

  private scheduleRound(delayMs: number): void {
    if (this.closed) return;
    this.timers.push(
      setTimeout(() => {
        if (this.closed) return;
        // A monotonic clock: a wall clock stepped back (NTP, a VM resumed) must not put the next round off.
        const started = performance.now();
        this.roundInFlight = this.round()
          .catch((error: unknown) => this.log.error({ error: shortError(error) }, "probe round failed"))
          .finally(() => {
            this.roundInFlight = undefined;
            this.scheduleRound(Math.max(0, this.probeIntervalMs - (performance.now() - started)));
          });
      }, delayMs),
    );
  }

  /** Starts a keeper pass, or asks for another one after the pass in flight. */
  private kick(): void {
    if (this.closed) return;
    if (this.keeperInFlight) {
      this.keeperAgain = true;
      return;
    }
    this.keeperInFlight = this.keep()
      .catch((error: unknown) => this.log.error({ error: shortError(error) }, "keeper pass failed"))
      .finally(() => {
        this.keeperInFlight = undefined;
        if (this.keeperAgain) {
          this.keeperAgain = false;
          this.kick();
        }
      });
  }

  /** One probe round over every network (sampled every `sampleEvery` rounds); the state is saved after it. */
  private async round(): Promise<void> {
    if (!this.clock) return;
    const sampled = this.rounds % this.sampleEvery === 0;
    await this.prober.round(this.clock.epoch, sampled, this.probeIntervalMs);
    this.rounds++;
    saveState(this.options.stateFile, this.state);
  }

  /** One keeper pass: reports, fraud proofs, finalization, slashes, one transaction at a time. */
  private async keep(): Promise<void> {
    if (!this.clock || this.blockNumber === undefined) return;
    await this.reporter.post(this.clock.epoch, this.blockNumber);
    await this.prover.submit(this.blockNumber);
    await this.stateProofs.submit(this.blockNumber);
    await this.keeper.finalizeEpochs(this.clock, this.blockNumber);
    await this.keeper.executeSlashes(this.blockNumber);
  }

  // ---- the ledger ----

  private async followLedger(): Promise<void> {
    const block = await this.ledger.client.getBlockNumber({ cacheTime: 0 });
    if (block === this.blockNumber) return;
    this.blockNumber = block;
    if (!this.clock || block >= this.clock.end || block < this.clock.start) {
      const previous = this.clock?.epoch;
      this.clock = await this.ledger.epochClock();
      if (previous !== undefined && this.clock.epoch !== previous) {
        this.log.info({ epoch: this.clock.epoch.toString(), ended: previous.toString() }, "epoch changed");
      }
    }
    this.kick();
  }

  private async refreshOperators(): Promise<void> {
    const a = this.deployment.addresses;
    const client = this.ledger.client;
    const slashes = await readSlashes(client, a, BigInt(this.state.slashCursor));
    const lists = await Promise.all(
      this.deployment.networks.map((n) => readOperators(client, a, n.id, slashes)),
    );
    const endpoints = new Set<string>();
    this.deployment.networks.forEach((network, i) => {
      const list = lists[i] ?? [];
      this.operators.set(network.id, list);
      for (const operator of list) endpoints.add(operator.endpoint);
    });
    await this.probes.prune(endpoints);
    this.updateRisk(lists);
  }

  /** The risk gauges over the operators just read (stake only: traffic is the gateways' to count). */
  private updateRisk(lists: ReadonlyArray<readonly DirectoryOperator[]>): void {
    if (!this.metrics) return;
    try {
      this.metrics.risk.update(
        this.deployment.networks.map((n, i) =>
          riskSnapshot(n.name, lists[i] ?? [], { idOf: ledgerUpstreamId }),
        ),
      );
    } catch (error) {
      this.log.warn({ error: shortError(error) }, "risk figures not updated");
    }
  }

  /** What the metrics read at a scrape: the snapshot, with operators named as the gateway names them. */
  private metricsSource(): WatcherMetricsSource {
    const snapshot = this.snapshot();
    return {
      blockNumber: snapshot.blockNumber,
      epoch: snapshot.epoch,
      rounds: snapshot.rounds,
      networks: snapshot.networks.map((network) => {
        const registered = this.operators.get(network.networkId) ?? [];
        return {
          name: network.name,
          operators: network.operators.map((o, i) => ({
            ...o,
            id: registered[i] ? ledgerUpstreamId(registered[i]) : o.operator,
          })),
        };
      }),
      lastPosted: snapshot.lastPosted,
      networkNames: new Map(this.deployment.networks.map((n) => [n.id, n.name])),
      fraudProofs: snapshot.fraudProofs.length,
    };
  }
}
