/**
 * One served network: its upstreams, the head the gateway tracks for it (p75 of healthy upstreams,
 * never going backwards but on a reorg), sessions, filters and the response cache.
 */

import type { Logger } from "pino";
import type { Address } from "viem";
import { type DirectoryOperator, ledgerUpstreamId } from "../ledger/din/directory.js";
import type { HeadView } from "../rpc/blockTag.js";
import { InflightRequests, ResponseCache } from "./cache.js";
import { CloudShare } from "./cloudShare.js";
import type { CacheConfig, HealthConfig, NetworkConfig, RoutingConfig } from "./config.js";
import { CostBudget } from "./costBudget.js";
import type { SignedRelay } from "./evidence.js";
import { chainProblem, type PollResult, pollUpstream } from "./headPoll.js";
import { type HeadSample, p75 } from "./health.js";
import type { GatewayMetrics } from "./metrics.js";
import { fixedName, OwnedStore } from "./ownedStore.js";
import { liftEndedQuarantines } from "./quarantine.js";
import {
  medianStake,
  type RankedUpstream,
  rankUpstreams,
  type SelectionContext,
  stakeFactor,
} from "./selection.js";
import { type RelayHooks, Upstream } from "./upstream.js";

/** How long a ranking is shared by requests when nothing notable happened. */
const rankingTtlMs = 20;
/** Lag allowances above this are ranked per request, not cached (`rank`). */
const maxCachedLagKey = 128;

/** A quorum's answers disagreed: each distinct answer with the signed relays of those who gave it. */
export interface Contradiction {
  method: string;
  params: readonly unknown[];
  sides: Array<{
    digest: string;
    majority: boolean;
    /** What this side answered: its result, or its error. */
    answer: { result?: unknown; error?: unknown };
    relays: SignedRelay[];
  }>;
}

/** What the gateway's ledger link tells and asks about one network. */
export interface NetworkLedger {
  /** The network's id in the DIN deployment. */
  networkId: number;
  /** The ledger epoch relays are counted in now. */
  epoch(): bigint | undefined;
  relaysThisEpoch(operator: Address): number;
  /** Keeps a quorum contradiction as evidence (and proves it on-chain when the ledger can check it). */
  contradiction(contradiction: Contradiction): void;
}

/** The chain check of a head poll reply (headPoll.ts), for callers of the network module. */
export { chainProblem, ledgerUpstreamId };

export interface SessionState {
  /** Highest block number this session has been told; `eth_blockNumber` and `latest` never go below it. */
  lastBlock: bigint;
  /** The upstream that served this session last (sticky primary). */
  primary: string | undefined;
}

export interface FilterRoute {
  upstreamId: string;
  upstreamFilterId: string;
  /** The criteria of a log filter (eth_newFilter), so eth_getFilterLogs is served as a capped eth_getLogs. */
  criteria?: Record<string, unknown> | undefined;
}

export interface NetworkOptions {
  config: NetworkConfig;
  routing: RoutingConfig;
  health: HealthConfig;
  cache: CacheConfig;
  metrics: GatewayMetrics;
  logger: Logger;
}

export class Network {
  readonly name: string;
  readonly chainId: number;
  /** Hash of block 0 every upstream must report, when the network names one. */
  readonly genesisHash: string | undefined;
  readonly config: NetworkConfig;
  readonly routing: RoutingConfig;
  /** Each cloud's share of the requests routed, and the cap on it. */
  readonly cloudShare: CloudShare;
  readonly upstreams: Upstream[];
  readonly cache: ResponseCache | undefined;
  readonly inflight = new InflightRequests<unknown>();
  /** Operator time each client may spend on expensive requests. */
  readonly costBudget: CostBudget;
  /** Sessions, by client (API key, or address where keys are off) and a hash of the session id. */
  readonly sessions: OwnedStore<SessionState>;
  /** Filters live on the upstream that created them (geth drops idle filters after 5 minutes). */
  readonly filters: OwnedStore<FilterRoute>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  private readonly byId: Map<string, Upstream>;
  private readonly healthConfig: HealthConfig;
  private headState: HeadView | undefined;
  /** Block hashes seen at recent heights, to notice reorgs. */
  private readonly recentHashes = new Map<bigint, string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly headListeners = new Set<() => void>();
  private readonly rankings = new Map<
    number,
    { at: number; version: number; membership: number; ranked: RankedUpstream[] }
  >();
  private headVersion = 0;
  /** Bumped when upstreams join, leave, or change on the ledger (jail, slash, stake). */
  private membershipVersion = 0;
  private polling: Promise<void> | undefined;
  /** Upstreams read from the ledger, by operator address. */
  private readonly fromLedger = new Map<Address, Upstream>();
  /** Set when the gateway follows a ledger. */
  ledger: NetworkLedger | undefined;

  constructor(options: NetworkOptions) {
    this.config = options.config;
    this.name = options.config.name;
    this.chainId = options.config.chainId;
    this.genesisHash = options.config.genesisHash;
    this.routing = options.routing;
    this.cloudShare = new CloudShare(options.routing.cloudShareCap, options.routing.cloudShareWindow);
    this.healthConfig = options.health;
    this.metrics = options.metrics;
    this.logger = options.logger.child({ network: this.name });
    this.costBudget = new CostBudget({
      msPerSecond: options.routing.costlyMsPerSecond,
      burstMs: options.routing.costlyBurstMs,
      maxInFlight: options.routing.costlyMaxInFlight,
      maxQueued: options.routing.costlyMaxQueued,
    });
    this.sessions = new OwnedStore({
      maxEntries: options.routing.maxSessions,
      maxPerOwner: options.routing.maxSessionsPerClient,
      ttlMs: 60 * 60_000,
    });
    this.filters = new OwnedStore({
      maxEntries: options.routing.maxFilters,
      maxPerOwner: options.routing.maxFiltersPerClient,
      ttlMs: 5 * 60_000,
      touchOnGet: true,
    });
    this.upstreams = options.config.upstreams.map((upstream) => new Upstream(upstream, options.health));
    this.byId = new Map(this.upstreams.map((upstream) => [upstream.id, upstream]));
    this.cache = options.cache.enabled
      ? new ResponseCache({
          maxBytes: options.cache.maxBytes,
          unfinalizedTtlMs: options.cache.unfinalizedTtlMs,
        })
      : undefined;
  }

  upstream(id: string): Upstream | undefined {
    return this.byId.get(id);
  }

  /** The tracked head; undefined until a first upstream has answered. */
  get head(): HeadView | undefined {
    return this.headState;
  }

  /** Starts polling heads; resolves after the first round so that routing starts informed. */
  async start(): Promise<void> {
    await this.pollHeads();
    const tick = () => {
      this.pollTimer = setTimeout(async () => {
        await this.pollHeads();
        if (this.pollTimer) tick();
      }, this.healthConfig.headPollMs);
      this.pollTimer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.polling;
    await Promise.all(this.upstreams.map((upstream) => upstream.close()));
  }

  /**
   * Brings the ledger-sourced upstreams in line with the registry: new operators are added, ones that
   * left are removed (their pools close once in-flight requests are answered), an operator whose endpoint
   * changed is replaced, and the others take the new stake, jail and slash state. Returns what changed.
   */
  applyLedgerOperators(
    operators: readonly DirectoryOperator[],
    hooks: RelayHooks,
  ): { added: string[]; removed: string[]; updated: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const updated: string[] = [];
    const median = medianStake(operators.filter((o) => !o.jailed).map((o) => o.allocatedStake));
    const seen = new Set<Address>();
    for (const operator of operators) {
      seen.add(operator.address);
      const state = {
        address: operator.address,
        networkId: operator.networkId,
        signer: operator.signer,
        stake: operator.allocatedStake,
        jailed: operator.jailed,
        queuedSlashes: operator.queuedSlashes,
        stakeFactor: stakeFactor(operator.allocatedStake, median),
      };
      let upstream = this.fromLedger.get(operator.address);
      if (upstream && upstream.url.href !== safeUrl(operator.endpoint)?.href) {
        this.removeUpstream(upstream);
        removed.push(upstream.id);
        upstream = undefined;
      }
      if (upstream) {
        const before = upstream.operator!;
        if (
          before.jailed !== state.jailed ||
          before.queuedSlashes !== state.queuedSlashes ||
          before.stake !== state.stake ||
          before.stakeFactor !== state.stakeFactor ||
          before.signer !== state.signer
        ) {
          upstream.bindOperator(state);
          this.membershipVersion++;
          updated.push(upstream.id);
        }
        continue;
      }
      const url = safeUrl(operator.endpoint);
      const id = ledgerUpstreamId(operator);
      if (!url || this.byId.has(id)) {
        this.logger.warn(
          { operator: operator.address, endpoint: operator.endpoint.slice(0, 200), id },
          url
            ? "ledger operator's id is taken by another upstream: skipped"
            : "ledger operator's endpoint is not an http(s) URL: skipped",
        );
        continue;
      }
      upstream = new Upstream(
        {
          id,
          url: url.href,
          cloud: operator.cloud || "unknown",
          region: operator.region || "unknown",
          priority: 0,
          weight: 1,
          methods: [],
          logsMaxRange: undefined,
        },
        this.healthConfig,
      );
      upstream.bindOperator(state, hooks);
      this.upstreams.push(upstream);
      this.byId.set(id, upstream);
      this.fromLedger.set(operator.address, upstream);
      this.membershipVersion++;
      added.push(id);
    }
    for (const [address, upstream] of [...this.fromLedger]) {
      if (seen.has(address)) continue;
      this.removeUpstream(upstream);
      removed.push(upstream.id);
    }
    if (added.length > 0 || removed.length > 0 || updated.length > 0) {
      this.logger.info({ added, removed, updated }, "operators updated from the ledger");
      // Newcomers need a head before they are routed to; the others' health is unchanged.
      if (added.length > 0) void this.pollHeads();
    }
    return { added, removed, updated };
  }

  private removeUpstream(upstream: Upstream): void {
    const index = this.upstreams.indexOf(upstream);
    if (index !== -1) this.upstreams.splice(index, 1);
    this.byId.delete(upstream.id);
    if (upstream.operator) this.fromLedger.delete(upstream.operator.address);
    this.membershipVersion++;
    void upstream.retire().catch((error: unknown) => {
      this.logger.warn({ err: error, upstream: upstream.id }, "upstream pool did not close cleanly");
    });
  }

  /** Polls every upstream's latest/safe/finalized head, then recomputes health and the network head. */
  pollHeads(): Promise<void> {
    this.polling ??= this.pollRound().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollRound(): Promise<void> {
    // A jailed operator gets no traffic at all, head polls included.
    const polled = await Promise.all(
      this.upstreams
        .filter((upstream) => upstream.operator?.jailed !== true)
        .map((upstream) =>
          pollUpstream(upstream, {
            healthConfig: this.healthConfig,
            genesisHash: this.genesisHash,
            checkChain: (polled, body) => this.checkChain(polled, body),
          }),
        ),
    );
    this.banInconsistent(polled);
    liftEndedQuarantines(this, this.upstreams);
    this.recomputeHead();
    for (const listener of [...this.headListeners]) listener();
  }

  /** Calls `listener` after every head poll round; returns the function that stops it. */
  onHead(listener: () => void): () => void {
    this.headListeners.add(listener);
    return () => this.headListeners.delete(listener);
  }

  /**
   * Takes an upstream serving another chain out of routing, and puts it back once it serves this one: a
   * misconfigured or malicious upstream must not answer for this network with another chain's data.
   */
  private checkChain(upstream: Upstream, body: unknown): void {
    const problem = chainProblem(body, this.chainId, this.genesisHash);
    const labels = { network: this.name, upstream: upstream.id };
    if (problem === undefined) {
      if (upstream.wrongChain !== undefined)
        this.logger.info({ upstream: upstream.id }, "upstream serves this network's chain again: routed");
      upstream.chainCheckAnswered(undefined);
      this.metrics.upstreamWrongChain.set(labels, 0);
      return;
    }
    if (upstream.wrongChain !== problem)
      this.logger.error(
        { upstream: upstream.id, network: this.name, chainId: this.chainId, problem },
        "upstream is not on this network's chain: not routed to",
      );
    upstream.chainCheckAnswered(problem);
    this.metrics.upstreamWrongChain.set(labels, 1);
  }

  /**
   * proxyd's rule — an upstream whose tags go out of order or whose finalized block goes backwards is
   * banned — applied only to a minority: when most operators report the same jump, the chain itself
   * moved (a deep reorg, a devnet revert) and banning everyone would take the network down.
   */
  private banInconsistent(polled: readonly PollResult[]): void {
    if (this.healthConfig.banMs <= 0) return;
    const answered = polled.filter((result) => result.answered);
    const violators = answered.filter((result) => result.violation !== undefined);
    if (violators.length === 0) return;
    if (violators.length * 2 > answered.length) {
      this.logger.warn(
        { upstreams: violators.length },
        "most operators' block tags moved back together: a chain reorg, no ban",
      );
      return;
    }
    for (const { upstream, violation } of violators) {
      upstream.ban(Date.now() + this.healthConfig.banMs);
      this.logger.warn({ upstream: upstream.id, violation }, "upstream banned: inconsistent block tags");
    }
  }

  /** Network head = p75 of the heads of upstreams that answer; monotonic except across a detected reorg. */
  recomputeHead(now = Date.now()): void {
    const fresh = this.upstreams.filter(
      (upstream) =>
        upstream.head !== undefined &&
        now - upstream.headUpdatedAt <= this.healthConfig.headPollMs * 3 &&
        upstream.bannedUntil <= now &&
        upstream.wrongChain === undefined &&
        upstream.breaker.state(now) !== "open",
    );
    // First pass: p75 over every answering upstream; then again without those far off it (a runaway head).
    let latest = p75(fresh.map((upstream) => upstream.head!.latest));
    if (latest !== undefined) {
      const limit = BigInt(this.healthConfig.unhealthyLagBlocks);
      const near = fresh.filter((upstream) => {
        const d = upstream.head!.latest - latest!;
        return (d < 0n ? -d : d) <= limit;
      });
      latest = p75(near.map((upstream) => upstream.head!.latest)) ?? latest;
      const safe = p75(
        near.flatMap((upstream) => (upstream.head!.safe !== undefined ? [upstream.head!.safe] : [])),
      );
      const finalized = p75(
        near.flatMap((upstream) =>
          upstream.head!.finalized !== undefined ? [upstream.head!.finalized] : [],
        ),
      );
      this.detectReorg(near.map((upstream) => upstream.head!));
      const previous = this.headState;
      const reorged = this.lastReorgAt === now;
      this.headState = {
        latest: previous && !reorged && previous.latest > latest ? previous.latest : latest,
        safe:
          previous?.safe !== undefined && !reorged && safe !== undefined && previous.safe > safe
            ? previous.safe
            : safe,
        finalized:
          previous?.finalized !== undefined &&
          !reorged &&
          finalized !== undefined &&
          previous.finalized > finalized
            ? previous.finalized
            : finalized,
      };
      this.metrics.networkHead.set({ network: this.name }, Number(this.headState.latest));
    }
    this.headVersion++;
    for (const upstream of this.upstreams) {
      const verdict = upstream.assess(this.headState?.latest, now);
      this.metrics.upstreamHealth.set(
        { network: this.name, upstream: upstream.id },
        verdict.state === "healthy" ? 2 : verdict.state === "warning" ? 1 : 0,
      );
      if (upstream.head) {
        this.metrics.upstreamHead.set(
          { network: this.name, upstream: upstream.id },
          Number(upstream.head.latest),
        );
      }
    }
  }

  private lastReorgAt = 0;
  /** Reorgs seen so far; subscribers compare it to notice one. */
  reorgs = 0;

  /**
   * A reorg is when the hash most operators report at a height changes. One operator alone (a liar, or
   * one briefly on a fork) never decides it: a height needs at least two operators agreeing.
   */
  private detectReorg(samples: readonly HeadSample[], now = Date.now()): void {
    const votes = new Map<bigint, Map<string, number>>();
    for (const sample of samples) {
      if (sample.latestHash === undefined) continue;
      const atHeight = votes.get(sample.latest) ?? new Map<string, number>();
      atHeight.set(sample.latestHash, (atHeight.get(sample.latestHash) ?? 0) + 1);
      votes.set(sample.latest, atHeight);
    }
    for (const [height, hashes] of votes) {
      const [hash, count] = [...hashes].sort((a, b) => b[1] - a[1])[0]!;
      if (count < 2 || count * 2 <= [...hashes.values()].reduce((sum, n) => sum + n, 0)) continue;
      const known = this.recentHashes.get(height);
      if (known !== undefined && known !== hash) {
        // Past finality the cache cannot tell what is affected: a finalized reorg drops everything.
        const final = this.headState?.finalized !== undefined && height <= this.headState.finalized;
        const dropped = final ? this.cache?.clear() : this.cache?.invalidateFrom(height);
        this.lastReorgAt = now;
        this.reorgs++;
        this.logger.warn({ block: height.toString(), final, dropped }, "reorg: cached answers dropped");
      }
      this.recentHashes.set(height, hash);
    }
    for (const block of this.recentHashes.keys()) {
      if (this.recentHashes.size <= 256) break;
      this.recentHashes.delete(block);
    }
  }

  /**
   * Upstreams in the order to try them for a request with the given constraints. The ranking is shared
   * by requests for a few milliseconds (ranking every request costs more than it changes), and redone at
   * once when an upstream's breaker or the head moves.
   */
  rank(context: SelectionContext = {}): RankedUpstream[] {
    const now = Date.now();
    if (context.eligible) {
      return rankUpstreams(this.views(now), { rivalFactor: this.routing.stickyRivalFactor, ...context });
    }
    const key = context.maxLagBlocks ?? -1;
    if (key > maxCachedLagKey) {
      // The allowance follows the block a client asks about: caching every one would let a client grow
      // this map a million entries wide. Reads that far back are rare; rank them afresh.
      return this.rankFresh(now, key, context.sticky);
    }
    const version = this.rankingVersion();
    let cached = this.rankings.get(key);
    if (
      !cached ||
      cached.version !== version ||
      cached.membership !== this.membershipVersion ||
      now - cached.at > rankingTtlMs
    ) {
      const ranked = rankUpstreams(
        this.views(now),
        context.maxLagBlocks === undefined ? {} : { maxLagBlocks: key },
      );
      cached = { at: now, version, membership: this.membershipVersion, ranked };
      this.rankings.set(key, cached);
    }
    return (
      context.sticky === undefined
        ? this.cloudShare.order(cached.ranked)
        : this.cloudShare.orderSticky(cached.ranked, context.sticky, this.routing.stickyRivalFactor)
    ) as RankedUpstream[];
  }

  private rankFresh(now: number, maxLagBlocks: number, sticky: string | undefined): RankedUpstream[] {
    const ranked = rankUpstreams(this.views(now), { maxLagBlocks });
    return (
      sticky === undefined
        ? this.cloudShare.order(ranked)
        : this.cloudShare.orderSticky(ranked, sticky, this.routing.stickyRivalFactor)
    ) as RankedUpstream[];
  }

  private views(now: number) {
    const head = this.headState?.latest;
    return this.upstreams.map((upstream) => upstream.view(head, now));
  }

  private rankingVersion(): number {
    let version = this.headVersion;
    for (const upstream of this.upstreams) version += upstream.changes;
    return version;
  }

  /**
   * The most gas one call may burn: the configured cap, lowered to the median block gas limit that
   * operators report (a median, so one operator reporting a tiny limit cannot starve everyone's calls).
   */
  callGasCap(): { cap: bigint; blockGasLimit: bigint | undefined } {
    // Heads change only in a poll round, upstreams only with the membership: the median is computed once
    // per change, not per request.
    const version = `${this.headVersion}:${this.membershipVersion}`;
    if (this.gasCapCache?.version === version) return this.gasCapCache.value;
    const value = this.computeCallGasCap();
    this.gasCapCache = { version, value };
    return value;
  }

  private gasCapCache:
    | { version: string; value: { cap: bigint; blockGasLimit: bigint | undefined } }
    | undefined;

  private computeCallGasCap(): { cap: bigint; blockGasLimit: bigint | undefined } {
    const configured = BigInt(this.config.callGasCap ?? this.routing.callGasCap);
    const limits = this.upstreams
      .map((upstream) => upstream.head?.gasLimit)
      .filter((limit): limit is bigint => limit !== undefined && limit > 0n)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const blockGasLimit = limits.length === 0 ? undefined : limits[Math.floor(limits.length / 2)];
    return {
      cap: blockGasLimit !== undefined && blockGasLimit < configured ? blockGasLimit : configured,
      blockGasLimit,
    };
  }

  /**
   * The session `sessionId` of `client` (an admitted API key, or the client's address where keys are
   * off), created on first use; undefined without a session id. Call only after admission: nothing is
   * kept for a request that is refused.
   */
  session(client: string, sessionId: string | undefined): SessionState | undefined {
    if (sessionId === undefined) return undefined;
    const key = fixedName(client, sessionId);
    let state = this.sessions.get(client, key);
    if (!state) {
      state = { lastBlock: 0n, primary: undefined };
      this.sessions.set(client, key, state);
    }
    return state;
  }
}

function safeUrl(endpoint: string): URL | undefined {
  try {
    const url = new URL(endpoint);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}
