// The watcher: follows the ledger's epochs, probes every registered operator of every network each round
// (signed relays, from its own vantage point), cross-checks their answers, and at each epoch's end posts
// its report per network. Between rounds it does the keeper's chores anyone may do: submit fraud proofs,
// finalize epochs whose reports are in, and execute slashes whose veto window passed. Probing never waits
// for the ledger: posting and keeping run beside it, one transaction at a time.

import { setTimeout as delay } from "node:timers/promises";
import { type Logger, pino } from "pino";
import {
  type Abi,
  type Account,
  type Address,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  decodeErrorResult,
  getAddress,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
  zeroHash,
} from "viem";
import {
  allocationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
} from "../ledger/artifacts/index.js";
import { AccessTokenCache } from "../ledger/din/auth.js";
import type { DinDeployment, DinNetwork } from "../ledger/din/deploy.js";
import {
  connectLedger,
  type DirectoryOperator,
  ledgerUpstreamId,
  readEpochClock,
  readOperators,
  readSlashes,
} from "../ledger/din/directory.js";
import {
  finalizationThresholds,
  type OperatorMetrics,
  readEpochReportPages,
  readEpochUsagePages,
  readFinalization,
  runFinalization,
  sortMetrics,
  toPages,
} from "../ledger/din/epochs.js";
import { blockHeader } from "../ledger/din/header.js";
import { GATEWAY_SET, WATCHER_SET } from "../ledger/din/registry.js";
import { type Relay, relayToJson } from "../ledger/din/relay.js";
import { riskSnapshot } from "../ledger/din/riskInputs.js";
import type { SecurityAssumptions } from "../risk/security.js";
import { toQuantity } from "../rpc/blockTag.js";
import {
  agreedHead,
  type BlockAnswer,
  canonicalByHeight,
  type MajorityVerdict,
  majorityOf,
} from "./canonical.js";
import { FinalHeights, nowSeconds } from "./finality.js";
import { epochMetrics, type ProbeOutcome, recordProbe, toOperatorMetrics } from "./measurements.js";
import {
  createWatcherMetrics,
  serveWatcherMetrics,
  type WatcherMetrics,
  type WatcherMetricsSource,
} from "./metrics.js";
import { type ProbeResult, Prober, type ProbeTarget, type SignedAnswer } from "./probe.js";
import {
  type ContradictionRecord,
  dropEpoch,
  epochEntry,
  type FraudRecord,
  lastPosted,
  loadState,
  markPosted,
  recordContradiction,
  recordFraud,
  relayUsed,
  rememberRelay,
  saveState,
  type WatcherState,
} from "./state.js";
import { type StateAnswer, StateProofs } from "./stateProofs.js";

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

// Sampled heights are drawn from the last blocks below the agreed head (deep enough to be settled, recent
// enough that the ledger's blockhash() still proves a lie about its own chain: 256 blocks). Where the slasher
// has a finality delay these are too young to be evidence: provable samples come from finality.ts.
const sampleDepth = 32;
const onChainProofHorizon = 250n;
// An attested-canonical proof waits this many keeper passes for other watchers' attestations.
const attestPatience = 120;
// Epochs looked at per network and keeper pass, so a watcher coming back after long does not flood.
const finalizeBatch = 8;

/** A signed contradiction waiting to be submitted. */
type Evidence = {
  operator: Address;
  network: DinNetwork;
  relay: Relay;
  signature: Hex;
  digest: Hex;
  canonical: Hex;
  passes: number;
  attested: boolean;
};

type EpochClock = Awaited<ReturnType<typeof readEpochClock>>;

const LEDGER_ERRORS = [...dinEpochsAbi, ...dinSlasherAbi, ...dinRegistryAbi].filter(
  (item) => item.type === "error",
) as Abi;

/** The custom error a ledger call reverted with, if it did. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  if (reverted.data?.errorName) return reverted.data.errorName;
  if (reverted.raw) {
    try {
      return decodeErrorResult({ abi: LEDGER_ERRORS, data: reverted.raw }).errorName;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const shortError = (error: unknown) =>
  error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);

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
  private readonly publicClient: PublicClient<Transport, Chain>;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly prober: Prober;
  private readonly finality: FinalHeights;
  private readonly stateProofs: StateProofs;
  private readonly probeIntervalMs: number;
  private readonly sampleEvery: number;
  private readonly ledgerPollMs: number;
  private readonly operatorRefreshMs: number;
  private state!: WatcherState;

  private clock: EpochClock | undefined;
  private blockNumber: bigint | undefined;
  private readonly operators = new Map<number, DirectoryOperator[]>();
  private readonly heads = new Map<string, bigint>();
  private readonly agreed = new Map<number, bigint>();
  /** networkId → the account whose balance is cross-checked (the head block's beneficiary, as most report it). */
  private readonly stateAccounts = new Map<number, Address>();
  private readonly lastErrors = new Map<string, string>();
  private readonly evidence: Evidence[] = [];
  private readonly recentlyAccused = new Map<string, number>();
  private rounds = 0;
  private metrics: WatcherMetrics | undefined;
  private metricsServer: { url: string; close(): Promise<void> } | undefined;

  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private roundInFlight: Promise<void> | undefined;
  private keeperInFlight: Promise<void> | undefined;
  private keeperAgain = false;
  private transactions: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WatcherOptions) {
    this.address = getAddress(options.account.address);
    this.deployment = options.deployment;
    this.log = (options.logger ?? pino({ level: "silent" })).child({ watcher: this.address });
    const clients = connectLedger(options.ledgerRpc, options.deployment.chainId, options.account);
    this.publicClient = clients.public;
    this.wallet = clients.wallet as WalletClient<Transport, Chain, Account>;
    this.prober = new Prober({
      tokens: new AccessTokenCache(options.account, "watcher", options.deployment.chainId),
      ledgerChainId: options.deployment.chainId,
      slasher: options.deployment.addresses.slasher,
      timeoutMs: options.probeTimeoutMs ?? defaults.probeTimeoutMs,
    });
    const slasher = { address: options.deployment.addresses.slasher, abi: dinSlasherAbi } as const;
    this.finality = new FinalHeights({
      readDelay: () => this.publicClient.readContract({ ...slasher, functionName: "finalityDelay" }),
      blockTime: async (blockNumber) => (await this.publicClient.getBlock({ blockNumber })).timestamp,
    });
    this.stateProofs = new StateProofs({
      log: this.log,
      ledger: this.publicClient,
      wallet: this.wallet,
      slasher: options.deployment.addresses.slasher,
      registry: options.deployment.addresses.registry,
      ledgerChainId: options.deployment.chainId,
      state: () => this.state,
      save: () => saveState(this.options.stateFile, this.state),
      send: (what, write) => this.send(what, write),
      designatedFor: async (operator) => this.designated(await this.activeWatchers(), BigInt(operator)),
      finalityDelay: () => this.finality.finalityDelay(),
      revertName,
      kick: () => this.kick(),
    });
    this.probeIntervalMs = options.probeIntervalMs ?? defaults.probeIntervalMs;
    this.sampleEvery = Math.max(1, options.sampleEvery ?? defaults.sampleEvery);
    this.ledgerPollMs = options.ledgerPollMs ?? defaults.ledgerPollMs;
    this.operatorRefreshMs = options.operatorRefreshMs ?? defaults.operatorRefreshMs;
  }

  async start(): Promise<void> {
    const chainId = await this.publicClient.getChainId().catch((error: unknown) => {
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
    const active = await this.publicClient.readContract({
      address: this.deployment.addresses.registry,
      abi: dinRegistryAbi,
      functionName: "isActiveWatcher",
      args: [this.address],
    });
    if (!active) {
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
    await this.prober.close();
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
            const lastError = this.lastErrors.get(`${network.id}:${operator.address}`);
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

  // ---- the ledger ----

  private async followLedger(): Promise<void> {
    const block = await this.publicClient.getBlockNumber({ cacheTime: 0 });
    if (block === this.blockNumber) return;
    this.blockNumber = block;
    if (!this.clock || block >= this.clock.end || block < this.clock.start) {
      const previous = this.clock?.epoch;
      this.clock = await readEpochClock(this.publicClient, this.deployment.addresses.epochs);
      if (previous !== undefined && this.clock.epoch !== previous) {
        this.log.info({ epoch: this.clock.epoch.toString(), ended: previous.toString() }, "epoch changed");
      }
    }
    this.kick();
  }

  private async refreshOperators(): Promise<void> {
    const a = this.deployment.addresses;
    const slashes = await readSlashes(this.publicClient, a, BigInt(this.state.slashCursor));
    const lists = await Promise.all(
      this.deployment.networks.map((n) => readOperators(this.publicClient, a, n.id, slashes)),
    );
    const endpoints = new Set<string>();
    this.deployment.networks.forEach((network, i) => {
      const list = lists[i] ?? [];
      this.operators.set(network.id, list);
      for (const operator of list) endpoints.add(operator.endpoint);
    });
    await this.prober.prune(endpoints);
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

  // ---- probing ----

  private async round(): Promise<void> {
    if (!this.clock) return;
    const epoch = this.clock.epoch;
    const sampled = this.rounds % this.sampleEvery === 0;
    const count = this.deployment.networks.reduce(
      (n, net) => n + (this.operators.get(net.id)?.length ?? 0),
      0,
    );
    // Probes are spread over the first half of the round, not fired at once: a burst would measure the
    // watcher's own queueing (and the operators', when several share a host) instead of their latency.
    const spacingMs = count > 1 ? this.probeIntervalMs / 2 / count : 0;
    let offset = 0;
    await Promise.all(
      this.deployment.networks.map((network) => {
        const start = offset;
        offset += this.operators.get(network.id)?.length ?? 0;
        return this.probeNetwork(network, epoch, sampled, start, spacingMs);
      }),
    );
    this.rounds++;
    saveState(this.options.stateFile, this.state);
  }

  private async probeNetwork(
    network: DinNetwork,
    roundEpoch: bigint,
    sampled: boolean,
    firstSlot = 0,
    spacingMs = 0,
  ): Promise<void> {
    // The epoch has an entry even with no operators: every network gets its (possibly empty) report.
    epochEntry(this.state, network.id, roundEpoch);
    const operators = this.operators.get(network.id) ?? [];
    if (operators.length === 0) return;
    const head = this.agreed.get(network.id);
    let height: bigint | undefined;
    if (sampled && head !== undefined && head >= 3n) {
      const depth = BigInt(Math.floor(Math.random() * Math.min(sampleDepth, Number(head - 2n))));
      height = head - 2n - depth;
    }
    // On the ledger's own chain with a finality delay, a lie about a recent block is never evidence: sampled
    // rounds also ask for a block final now and within the ledger's reach, and only lies there are accused.
    const onLedger = network.chainId === BigInt(this.deployment.chainId);
    const finalOnly = onLedger && ((await this.finality.finalityDelay()) ?? 0n) > 0n;
    const provable =
      finalOnly && sampled && this.blockNumber !== undefined
        ? await this.finality.sample(this.blockNumber, nowSeconds()).catch(() => undefined)
        : undefined;
    // A deterministic call at the sampled height: every honest operator returns the same state there. Where
    // only final blocks are evidence, it is asked at the provable height, so a wrong answer can be proven.
    const stateHeight = finalOnly ? provable : height;
    const stateCall =
      stateHeight === undefined
        ? undefined
        : {
            method: "eth_getBalance",
            params: [this.stateAccounts.get(network.id) ?? this.address, toQuantity(stateHeight)] as const,
          };
    const results = await Promise.all(
      operators.map(async (operator, index) => {
        if (spacingMs > 0) await delay((firstSlot + index) * spacingMs);
        // A probe counts for the epoch of the ledger block current when it is sent.
        const epoch = this.clock?.epoch ?? roundEpoch;
        const target: ProbeTarget = {
          operator: operator.address,
          endpoint: operator.endpoint,
          signer: operator.signer,
          chainId: network.chainId,
        };
        const knownHead = this.heads.get(`${network.id}:${operator.address}`);
        // A lagging operator is not asked for blocks it has not reached: its lag is measured, not counted twice.
        const askSample = height !== undefined && (knownHead === undefined || knownHead >= height);
        const askState =
          stateCall && stateHeight !== undefined && (knownHead === undefined || knownHead >= stateHeight);
        const [latest, sample, state, deep] = await Promise.all([
          this.prober.probe(target),
          askSample ? this.prober.probe(target, height) : Promise.resolve(undefined),
          askState ? this.prober.call(target, stateCall.method, stateCall.params) : undefined,
          provable === undefined ? undefined : this.prober.probe(target, provable),
        ]);
        return { operator, latest, sample, state, deep, epoch };
      }),
    );

    const heads: bigint[] = [];
    const answers: BlockAnswer[] = [];
    const signed = new Map<string, { result: ProbeResult & { ok: true }; evidence: boolean }[]>();
    for (const { operator, latest, sample, deep } of results) {
      for (const result of [latest, sample, deep]) {
        if (!result?.ok) continue;
        answers.push({ operator: operator.address, ...result.block });
        const list = signed.get(operator.address) ?? [];
        list.push({ result, evidence: !finalOnly || result === deep });
        signed.set(operator.address, list);
      }
      if (latest.ok) {
        heads.push(latest.block.blockNumber);
        this.heads.set(`${network.id}:${operator.address}`, latest.block.blockNumber);
      }
    }
    const agreed = agreedHead(heads);
    if (agreed !== undefined) this.agreed.set(network.id, agreed);
    const miner = majorityOf(
      results.flatMap(({ operator, latest }) =>
        latest.ok && latest.block.miner ? [{ operator: operator.address, value: latest.block.miner }] : [],
      ),
    ).value;
    if (miner !== undefined) this.stateAccounts.set(network.id, miner as Address);
    const stateVerdict = majorityOf(
      results.flatMap(({ operator, state }) =>
        state?.ok ? [{ operator: operator.address, value: state.relay.responseHash }] : [],
      ),
    );
    // On the ledger's chain, each signed state answer is also checked against the ledger's node and proven.
    if (stateCall) {
      const answers = results.flatMap(({ operator, state }): StateAnswer[] =>
        state?.ok ? [{ operator, answer: state }] : [],
      );
      await this.stateProofs.check(network, stateCall, answers);
    }

    const wrong = new Map<string, { blockNumber: bigint; canonical: Hex }>();
    for (const verdict of canonicalByHeight(answers)) {
      if (verdict.canonical === undefined) continue;
      for (const operator of verdict.contradictors) {
        wrong.set(`${operator}:${verdict.blockNumber}`, {
          blockNumber: verdict.blockNumber,
          canonical: verdict.canonical,
        });
      }
    }

    for (const { operator, latest, sample, state, epoch } of results) {
      const entry = epochEntry(this.state, network.id, epoch);
      const key = `${network.id}:${operator.address}`;
      let outcome: ProbeOutcome;
      let failure: string | undefined;
      if (!latest.ok) failure = latest.reason;
      else if (sample && !sample.ok) failure = `block ${height}: ${sample.reason}`;
      else if (state && !state.ok) failure = `${describeCall(stateCall)}: ${state.reason}`;
      if (state?.ok && stateCall && stateVerdict.contradictors.includes(operator.address)) {
        failure = `${describeCall(stateCall)}: answer contradicts ${stateVerdict.answered - stateVerdict.contradictors.length} of ${stateVerdict.answered} operators`;
        this.contradicted(operator, network, stateCall, state, stateVerdict);
      }
      // Wrong data fails the probe at any height (a provable sample that goes unanswered does not).
      for (const { result, evidence } of signed.get(operator.address) ?? []) {
        const contradiction = wrong.get(`${operator.address}:${result.block.blockNumber}`);
        if (!contradiction) continue;
        failure = `block ${result.block.blockNumber}: hash ${result.block.blockHash} contradicts ${contradiction.canonical}`;
        if (evidence) this.accuse(operator, network, result.block, contradiction.canonical);
      }
      if (failure !== undefined || !latest.ok) {
        outcome = { ok: false };
        this.lastErrors.set(key, failure ?? "failed");
        this.log.debug(
          { operator: operator.address, network: network.name, reason: failure },
          "probe failed",
        );
      } else {
        const lag =
          agreed !== undefined && agreed > latest.block.blockNumber ? agreed - latest.block.blockNumber : 0n;
        outcome = { ok: true, latencyMs: latest.latencyMs, lagBlocks: Number(lag) };
      }
      recordProbe(entry, operator.address, outcome);
    }
  }

  /**
   * Keeps a signed answer to a deterministic call that contradicts most operators. The probe already
   * failed (wrong data counts against availability, so the SLA punishes it); the relay is kept as evidence
   * for anyone to re-check against an archive node (on the ledger's own chain stateProofs.ts also proves it
   * on-chain; elsewhere the watcher has no node to take a proof from). One
   * per operator, network and epoch proves it: an operator that keeps doing it would otherwise grow the
   * state file (saved every round) and flood the log.
   */
  private contradicted(
    operator: DirectoryOperator,
    network: DinNetwork,
    call: { method: string; params: readonly unknown[] },
    answer: SignedAnswer & { ok: true },
    verdict: MajorityVerdict,
  ): void {
    const epoch = (this.clock?.epoch ?? 0n).toString();
    const known = this.state.contradictions.some(
      (c) => c.operator === operator.address && c.networkId === network.id && c.epoch === epoch,
    );
    this.log[known ? "debug" : "warn"](
      { operator: operator.address, network: network.name, method: call.method, params: call.params },
      "operator signed an answer that contradicts the other operators",
    );
    if (known) return;
    recordContradiction(this.state, {
      operator: operator.address,
      networkId: network.id,
      epoch,
      method: call.method,
      params: [...call.params],
      result: answer.result,
      relay: relayToJson(answer.relay),
      signature: answer.signature,
      majorityResponseHash: verdict.value as Hex,
      agreeing: verdict.answered - verdict.contradictors.length,
      answered: verdict.answered,
      at: new Date().toISOString(),
    });
  }

  /** Queues a signed contradiction as evidence, once per relay and not against an operator already jailed for it. */
  private accuse(
    operator: DirectoryOperator,
    network: DinNetwork,
    block: { relay: Relay; signature: Hex; digest: Hex },
    canonical: Hex,
  ): void {
    const key = `${network.id}:${operator.address}`;
    if (operator.jailed || relayUsed(this.state, block.digest)) return;
    const since = this.recentlyAccused.get(key);
    // One proof per offence: the next ones wait until the registry shows the jail (or that it failed).
    if (
      since !== undefined &&
      performance.now() - since < 2 * this.operatorRefreshMs + 10 * this.ledgerPollMs
    )
      return;
    if (this.evidence.some((e) => e.operator === operator.address && e.network.id === network.id)) return;
    this.recentlyAccused.set(key, performance.now());
    this.evidence.push({
      operator: operator.address,
      network,
      relay: block.relay,
      signature: block.signature,
      digest: block.digest,
      canonical,
      passes: 0,
      attested: false,
    });
    this.log.warn(
      { operator: operator.address, network: network.name, blockNumber: block.relay.blockNumber.toString() },
      "operator signed a block hash that contradicts the other operators",
    );
    this.kick();
  }

  // ---- keeping ----

  private async keep(): Promise<void> {
    if (!this.clock || this.blockNumber === undefined) return;
    await this.postReports(this.clock, this.blockNumber);
    await this.submitEvidence(this.blockNumber);
    await this.stateProofs.submit(this.blockNumber);
    await this.finalizeEpochs(this.clock, this.blockNumber);
    await this.executeSlashes(this.blockNumber);
  }

  /** Posts every measured epoch that ended, is not yet posted and is still within its report window. */
  private async postReports(clock: EpochClock, block: bigint): Promise<void> {
    const epochs = { address: this.deployment.addresses.epochs, abi: dinEpochsAbi } as const;
    const due = this.state.measurements
      .filter((m) => BigInt(m.epoch) < clock.epoch)
      .sort((x, y) => (BigInt(x.epoch) < BigInt(y.epoch) ? -1 : 1));
    for (const entry of due) {
      if (this.closed) return;
      const epoch = BigInt(entry.epoch);
      const networkId = entry.networkId;
      const posted = lastPosted(this.state, networkId);
      if (posted !== undefined && epoch <= posted) {
        dropEpoch(this.state, networkId, epoch);
        continue;
      }
      // The window resumes after a guardian pause: the ledger knows the deadline.
      const deadline = await this.publicClient.readContract({
        ...epochs,
        functionName: "reportDeadline",
        args: [epoch],
      });
      if (block > deadline) {
        this.log.warn({ networkId, epoch: entry.epoch }, "report window closed before the report was posted");
        dropEpoch(this.state, networkId, epoch);
        saveState(this.options.stateFile, this.state);
        continue;
      }
      // A crash between sending and saving must not post twice: the ledger is the judge.
      const already = await this.publicClient.readContract({
        ...epochs,
        functionName: "hasReported",
        args: [networkId, epoch, this.address],
      });
      if (!already) {
        const registered = (this.operators.get(networkId) ?? []).map((o) => o.address);
        const metrics = sortMetrics(epochMetrics(entry, registered));
        try {
          // Page by page, resuming after the pages already on the ledger; the last page completes it.
          const pages = toPages(metrics);
          const posted = await this.publicClient.readContract({
            ...epochs,
            functionName: "reportPages",
            args: [networkId, epoch, this.address, false],
          });
          for (let page = Number(posted); page < pages.length; page++) {
            await this.send("submitReportPage", () =>
              this.wallet.writeContract({
                ...epochs,
                functionName: "submitReportPage",
                args: [networkId, epoch, BigInt(page), page === pages.length - 1, pages[page] ?? []],
                account: this.wallet.account,
                chain: this.wallet.chain,
              }),
            );
          }
          this.log.info({ networkId, epoch: entry.epoch, operators: metrics.length }, "report posted");
        } catch (error) {
          const name = revertName(error);
          if (name === "ReportWindowOver" || name === "AlreadyFinalized" || name === "FinalizationStarted") {
            this.log.warn({ networkId, epoch: entry.epoch, reason: name }, "report not accepted; dropped");
            dropEpoch(this.state, networkId, epoch);
            saveState(this.options.stateFile, this.state);
            continue;
          }
          if (name !== "AlreadyReported") {
            this.log.error(
              { networkId, epoch: entry.epoch, error: shortError(error) },
              "posting the report failed; retrying",
            );
            continue;
          }
        }
      }
      markPosted(this.state, networkId, epoch);
      saveState(this.options.stateFile, this.state);
    }
  }

  private async submitEvidence(block: bigint): Promise<void> {
    const slasher = { address: this.deployment.addresses.slasher, abi: dinSlasherAbi } as const;
    let watchers: Address[] | undefined;
    for (const evidence of [...this.evidence]) {
      if (this.closed) return;
      const done = () => {
        const i = this.evidence.indexOf(evidence);
        if (i >= 0) this.evidence.splice(i, 1);
      };
      evidence.passes++;
      const onLedger = evidence.network.chainId === BigInt(this.deployment.chainId);
      try {
        if (
          await this.publicClient.readContract({
            ...slasher,
            functionName: "relayUsed",
            args: [evidence.digest],
          })
        ) {
          rememberRelay(this.state, evidence.digest);
          done();
          continue;
        }
        // One offence, one slash: the watcher designated for this operator proves at once; the others wait a
        // few passes and drop their evidence once the registry shows the operator jailed (a second proof of
        // the same lie would be charged as a repeat offence).
        watchers ??= await this.activeWatchers();
        if (!this.designated(watchers, BigInt(evidence.operator)) && evidence.passes < 4) continue;
        const jailed = await this.publicClient.readContract({
          address: this.deployment.addresses.registry,
          abi: dinRegistryAbi,
          functionName: "isJailed",
          args: [evidence.operator, evidence.network.id],
        });
        if (jailed) {
          this.log.info(
            { operator: evidence.operator },
            "operator already jailed for wrong data; evidence kept, not submitted",
          );
          done();
          continue;
        }
        if (onLedger) {
          if (block - evidence.relay.blockNumber > onChainProofHorizon) {
            this.log.warn({ operator: evidence.operator }, "evidence too old for an on-chain proof; dropped");
            done();
            continue;
          }
          // The slasher takes the canonical block's header and counts only answers served once it was final.
          const [canonical, finalityDelay] = await Promise.all([
            this.publicClient.getBlock({ blockNumber: evidence.relay.blockNumber }),
            this.finality.finalityDelay(),
          ]);
          if (finalityDelay === undefined) continue; // read again next pass
          if (canonical.hash.toLowerCase() === evidence.relay.blockHash.toLowerCase()) {
            this.log.warn(
              { operator: evidence.operator },
              "the ledger's block hash agrees with the operator; dropped",
            );
            done();
            continue;
          }
          if (canonical.timestamp + finalityDelay > evidence.relay.servedAt) {
            this.log.info(
              { operator: evidence.operator },
              "the block was not final when the answer was served; evidence kept, not submitted",
            );
            done();
            continue;
          }
          const header = await blockHeader(this.publicClient, evidence.relay.blockNumber);
          const transaction = await this.send("proveWrongBlockHash", () =>
            this.wallet.writeContract({
              ...slasher,
              functionName: "proveWrongBlockHash",
              args: [evidence.relay, evidence.signature, header],
              account: this.wallet.account,
              chain: this.wallet.chain,
            }),
          );
          this.proven(evidence, "proven", transaction);
          done();
          continue;
        }
        const chainId = evidence.network.chainId;
        const height = evidence.relay.blockNumber;
        if (!evidence.attested) {
          try {
            await this.send("attestBlockHash", () =>
              this.wallet.writeContract({
                ...slasher,
                functionName: "attestBlockHash",
                args: [chainId, height, evidence.canonical],
                account: this.wallet.account,
                chain: this.wallet.chain,
              }),
            );
          } catch (error) {
            if (revertName(error) !== "AlreadyAttested") throw error;
          }
          evidence.attested = true;
        }
        const canonical = await this.publicClient.readContract({
          ...slasher,
          functionName: "canonicalHash",
          args: [chainId, height],
        });
        if (canonical === zeroHash) {
          if (evidence.passes > attestPatience) {
            this.log.warn({ operator: evidence.operator }, "no attestation quorum for the evidence; dropped");
            done();
          }
          continue;
        }
        if (canonical.toLowerCase() === evidence.relay.blockHash.toLowerCase()) {
          this.log.warn(
            { operator: evidence.operator },
            "the attested canonical hash agrees with the operator; dropped",
          );
          done();
          continue;
        }
        // An attested hash is fixed only after its dispute period: wait for it (a majority may replace it).
        const fixedAt = await this.publicClient.readContract({
          ...slasher,
          functionName: "canonicalFixedAt",
          args: [chainId, height],
        });
        if (block < fixedAt) continue;
        const transaction = await this.send("proveWrongBlockHashAttested", () =>
          this.wallet.writeContract({
            ...slasher,
            functionName: "proveWrongBlockHashAttested",
            args: [evidence.relay, evidence.signature],
            account: this.wallet.account,
            chain: this.wallet.chain,
          }),
        );
        this.proven(evidence, "attested", transaction);
        done();
      } catch (error) {
        const name = revertName(error);
        if (name === "RelayAlreadyUsed") {
          rememberRelay(this.state, evidence.digest);
          done();
        } else if (name !== undefined && name !== "EnforcedPause") {
          this.log.warn({ operator: evidence.operator, reason: name }, "evidence refused; dropped");
          done();
        } else {
          this.log.error(
            { operator: evidence.operator, error: shortError(error) },
            "submitting evidence failed; retrying",
          );
        }
      }
    }
  }

  private proven(evidence: Evidence, kind: FraudRecord["kind"], transaction: Hash): void {
    rememberRelay(this.state, evidence.digest);
    recordFraud(this.state, {
      operator: evidence.operator,
      networkId: evidence.network.id,
      blockNumber: evidence.relay.blockNumber.toString(),
      digest: evidence.digest,
      kind,
      transaction,
    });
    saveState(this.options.stateFile, this.state);
    this.log.warn(
      { operator: evidence.operator, network: evidence.network.name, kind, transaction },
      "fraud proof submitted",
    );
  }

  /** Finalizes ended epochs once every active watcher reported (and the quorum is met) or the window closed. */
  private async finalizeEpochs(clock: EpochClock, block: bigint): Promise<void> {
    if (clock.epoch === 0n) return;
    const epochs = { address: this.deployment.addresses.epochs, abi: dinEpochsAbi } as const;
    let activeWatchers: Address[] | undefined;
    let activeGateways: Address[] | undefined;
    for (const network of this.deployment.networks) {
      const key = String(network.id);
      let from =
        this.state.finalizeFrom[key] === undefined ? clock.epoch - 1n : BigInt(this.state.finalizeFrom[key]);
      if (clock.epoch - from > BigInt(finalizeBatch * 4)) from = clock.epoch - BigInt(finalizeBatch);
      let advanced = from;
      let contiguous = true;
      for (let epoch = from; epoch < clock.epoch && epoch < from + BigInt(finalizeBatch); epoch++) {
        if (this.closed) return;
        const [, reportCount, finalized] = await this.publicClient.readContract({
          ...epochs,
          functionName: "getEpoch",
          args: [network.id, epoch],
        });
        let done = finalized;
        if (!done) {
          const [, end] = await this.publicClient.readContract({
            ...epochs,
            functionName: "epochBounds",
            args: [epoch],
          });
          const deadline = await this.publicClient.readContract({
            ...epochs,
            functionName: "reportDeadline",
            args: [epoch],
          });
          const windowOver = block > deadline;
          activeWatchers ??= await this.activeWatchers();
          activeGateways ??= await this.activeMembers(GATEWAY_SET);
          // Early finalization waits for every gateway's usage too: a usage report after finalize is refused,
          // and the epoch's fees would be split without the relays it counts.
          const usageCount = await this.publicClient.readContract({
            ...epochs,
            functionName: "usageReportCount",
            args: [network.id, epoch],
          });
          // Before the deadline the ledger finalizes only once the tolerated minority of watchers cannot
          // decide (every admitted watcher when their number is odd).
          const { early } = finalizationThresholds(
            Number(reportCount),
            activeWatchers.length,
            clock.reportQuorum,
          );
          const everyoneReported =
            reportCount >= BigInt(early) &&
            reportCount >= BigInt(activeWatchers.length) &&
            usageCount >= BigInt(activeGateways.length);
          const mine = this.designated(activeWatchers, epoch + BigInt(network.id));
          if (windowOver || (everyoneReported && mine)) {
            try {
              const client = this.publicClient;
              const [reports, usage] = await Promise.all([
                readEpochReportPages(client, epochs.address, network.id, epoch, end),
                readEpochUsagePages(client, epochs.address, network.id, epoch, end),
              ]);
              // In steps (judging, settling, paying), resuming where this or another keeper stopped.
              await runFinalization(
                network.id,
                epoch,
                reports,
                usage,
                () => readFinalization(client, epochs.address, network.id, epoch),
                async (step) => {
                  await this.send(step.functionName, () =>
                    this.wallet.writeContract({
                      ...epochs,
                      ...step,
                      account: this.wallet.account,
                      chain: this.wallet.chain,
                    } as Parameters<typeof this.wallet.writeContract>[0]),
                  );
                },
              );
              this.log.info(
                { network: network.name, epoch: epoch.toString(), reports: Number(reportCount) },
                "epoch finalized",
              );
              done = true;
            } catch (error) {
              const name = revertName(error);
              if (name === "AlreadyFinalized" || (await this.isFinalized(network.id, epoch))) done = true;
              else if (name !== "NotFinalizable" && name !== "ReportsMismatch" && name !== "InvalidPage") {
                this.log.warn(
                  { network: network.name, epoch: epoch.toString(), error: shortError(error) },
                  "finalize failed; retrying",
                );
              }
            }
          }
        }
        if (done && contiguous) advanced = epoch + 1n;
        else contiguous = false;
      }
      if (advanced !== from || this.state.finalizeFrom[key] === undefined) {
        this.state.finalizeFrom[key] = advanced.toString();
        saveState(this.options.stateFile, this.state);
      }
    }
  }

  /** Active members of the watcher or gateway set, sorted by address. */
  private async activeMembers(setId: number): Promise<Address[]> {
    const a = this.deployment.addresses;
    const members = await this.publicClient.readContract({
      address: a.allocationManager,
      abi: allocationManagerAbi,
      functionName: "getMembers",
      args: [{ avs: a.registry, id: setId }],
    });
    const active = await Promise.all(
      members.map((m) =>
        this.publicClient.readContract({
          address: a.registry,
          abi: dinRegistryAbi,
          functionName: setId === WATCHER_SET ? "isActiveWatcher" : "isActiveGateway",
          args: [m],
        }),
      ),
    );
    return members
      .filter((_, i) => active[i])
      .map((m) => getAddress(m))
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  }

  /** Active watchers, sorted by address: who is designated for which keeper duty. */
  private activeWatchers(): Promise<Address[]> {
    return this.activeMembers(WATCHER_SET);
  }

  /**
   * Whether this watcher is the one designated for duty `n` (an epoch, a slash id): keeper duties are
   * spread across watchers so that they do not all send the same transaction in the same block, where
   * all but the first would revert. The others step in only when the designated one did not act.
   */
  private designated(watchers: readonly Address[], n: bigint): boolean {
    if (watchers.length === 0) return true;
    return watchers[Number(n % BigInt(watchers.length))] === this.address;
  }

  /** Executes queued slashes whose veto window has passed (anyone may; the first one wins). */
  private async executeSlashes(block: bigint): Promise<void> {
    const slasher = { address: this.deployment.addresses.slasher, abi: dinSlasherAbi } as const;
    const cursor = BigInt(this.state.slashCursor);
    const slashes = await readSlashes(this.publicClient, this.deployment.addresses, cursor);
    if (slashes.length === 0) return;
    let next = cursor;
    let contiguous = true;
    const watchers = await this.activeWatchers();
    for (const slash of slashes) {
      if (this.closed) return;
      let settled = slash.status !== "queued";
      // The designated watcher executes in the first block after the window; the others a few blocks later.
      const due =
        BigInt(slash.queuedAt) + BigInt(slash.vetoWindow) + (this.designated(watchers, slash.id) ? 0n : 3n);
      if (!settled && block > due) {
        try {
          await this.send("execute", () =>
            this.wallet.writeContract({
              ...slasher,
              functionName: "execute",
              args: [slash.id],
              account: this.wallet.account,
              chain: this.wallet.chain,
            }),
          );
          this.log.info({ slashId: slash.id.toString(), operator: slash.operator }, "slash executed");
          settled = true;
        } catch (error) {
          const name = revertName(error);
          const [now] = await readSlashes(this.publicClient, this.deployment.addresses, slash.id);
          if (name === "NotQueued" || (now && now.id === slash.id && now.status !== "queued")) settled = true;
          else if (name !== "VetoWindowOpen") {
            this.log.warn(
              { slashId: slash.id.toString(), error: shortError(error) },
              "executing a slash failed; retrying",
            );
          }
        }
      }
      if (settled && contiguous) next = slash.id + 1n;
      else contiguous = false;
    }
    if (next !== cursor) {
      this.state.slashCursor = next.toString();
      saveState(this.options.stateFile, this.state);
    }
  }

  private async isFinalized(networkId: number, epoch: bigint): Promise<boolean> {
    const [, , finalized] = await this.publicClient.readContract({
      address: this.deployment.addresses.epochs,
      abi: dinEpochsAbi,
      functionName: "getEpoch",
      args: [networkId, epoch],
    });
    return finalized;
  }

  /** Sends one transaction at a time (nonces never collide) and waits for it to be mined successfully. */
  private send(what: string, write: () => Promise<Hash>): Promise<Hash> {
    const run = this.transactions.then(async () => {
      const hash = await write();
      const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`${what} reverted in transaction ${hash}`);
      return hash;
    });
    this.transactions = run.catch(() => undefined);
    return run;
  }
}

/** A call as a person reads it: `eth_getBalance(0x…, 0x1f)`. */
function describeCall(call: { method: string; params: readonly unknown[] } | undefined): string {
  return call ? `${call.method}(${call.params.map((p) => String(p)).join(", ")})` : "call";
}
