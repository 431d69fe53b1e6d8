// The JSON the dashboard's API answers, view by view: the page is built from these and a script reads the
// same. Token amounts are decimal strings in token units, block numbers and epochs decimal strings; this
// file imports nothing so that the page can share it.

/** Health as the gateway sees it now; `unobserved` when the dashboard has no gateway to ask. */
export type HealthState = "healthy" | "degraded" | "unhealthy" | "jailed" | "absent" | "unobserved";

export type LedgerClock = { block: string; epoch: string; epochEndsAt: string };

export type MapOperator = {
  id: string;
  address: string | null;
  network: string;
  cloud: string;
  region: string;
  health: HealthState;
  reasons: string[];
  lagBlocks: number | null;
  latencyMs: number | null;
  /** Share of the network's relays it answered this epoch (0..1), when the gateway counts relays. */
  trafficShare: number | null;
  relaysThisEpoch: number | null;
  stake: string | null;
  allocated: string | null;
  jailed: boolean;
  jailedUntil: string | null;
  slashes: { queued: number; vetoed: number; executed: number } | null;
};

export type NetworkMap = {
  gateway: string | null;
  /** The gateway's overall verdict, or null without a gateway. */
  status: "ok" | "degraded" | "down" | null;
  ledger: LedgerClock | null;
  networks: Array<{
    name: string;
    chainId: number;
    head: { latest: string | null; safe: string | null; finalized: string | null };
    clouds: Array<{
      cloud: string;
      /** Share of the last requests routed to this cloud, when measured. */
      share: number | null;
      regions: Array<{ region: string; operators: MapOperator[] }>;
    }>;
  }>;
};

export type WatcherReport = {
  watcher: string;
  availabilityBps: number;
  p50LatencyMs: number;
  lagBlocks: number;
};

export type ScorecardEpoch = {
  epoch: string;
  /** The median finalize judged by, null while the epoch is not finalized. */
  median: { availabilityBps: number; p50LatencyMs: number; lagBlocks: number; multiplierBps: number } | null;
  watchers: WatcherReport[];
  /** Relays gateways reported it served in the epoch. */
  relays: string;
};

export type SlashView = {
  id: string;
  network: string;
  reason: string;
  percent: string;
  status: "queued" | "vetoed" | "executed";
  queuedAt: string;
  vetoWindowEndsAt: string;
  /** What the slash rests on: the epoch's median and watchers' reports, or a signed relay. */
  evidence: {
    epoch: string | null;
    median: ScorecardEpoch["median"];
    watchers: WatcherReport[];
    relayDigest: string | null;
  };
  transactions: { queued: string | null; vetoed: string | null; executed: string | null };
};

export type OperatorMembership = {
  network: string;
  networkId: number;
  operator: MapOperator;
  /** Rewards escrowed for it and its delegators, fee token units. */
  rewards: string;
  /** The operator's share of rewards on this network (EigenLayer's operator-set split), percent. */
  commission: string | null;
  scorecard: ScorecardEpoch[];
  rejoin: string | null;
};

export type OperatorPage = {
  id: string;
  address: string;
  ledger: LedgerClock | null;
  networks: OperatorMembership[];
  slashes: SlashView[];
  fraudProofs: Array<{
    network: string;
    blockNumber: string;
    provenAt: string;
    relayDigest: string;
    transaction: string | null;
  }>;
  delegators: Array<{ staker: string; shares: string }>;
};

export type EpochEntry = {
  network: string;
  epoch: string;
  reports: number;
  paid: string;
  carried: string;
  finalizedAt: string | null;
  transaction: string | null;
  judged: Array<{
    id: string;
    address: string;
    availabilityBps: number;
    p50LatencyMs: number;
    lagBlocks: number;
    multiplierBps: number;
  }>;
  slashesQueued: Array<{ id: string; operator: string; reason: string; percent: string }>;
  heldForGovernance: Array<{ reason: string; failedStake: string; operators: string[] }>;
};

export type EpochsView = { ledger: LedgerClock | null; epochs: EpochEntry[] };

export type ShareRow = { group: string; stake: string; share: number };

export type RiskView = {
  ledger: LedgerClock | null;
  networks: Array<{
    name: string;
    operators: number;
    totalStake: string;
    /** Stake by operator, cloud, region and entity, largest first. */
    stakeBy: Record<"operator" | "cloud" | "region" | "entity", ShareRow[]>;
    figures: Array<{
      basis: "stake" | "traffic";
      by: string;
      largest: string | null;
      largestShare: number | null;
      nakamotoThird: number | null;
      nakamotoHalf: number | null;
      hhi: number | null;
    }>;
    worstCloudOutage: {
      name: string;
      operatorsDown: number;
      operatorsTotal: number;
      stakeShare: number;
    } | null;
    worstRegionOutage: {
      name: string;
      operatorsDown: number;
      operatorsTotal: number;
      stakeShare: number;
    } | null;
    verdicts: string[];
  }>;
  /** The restaking security verdict, or why there is none yet. */
  restaking: { verdicts: string[] } | { unavailable: string };
  drill: DrillSummary | null;
  /** Why there is no drill report, when there is none. */
  drillNote: string | null;
};

export type DrillSummary = {
  file: string;
  startedAt: string;
  target: string;
  clients: Array<{
    name: string;
    requests: number;
    errors: number;
    windows: Array<{ startMs: number; availability: number | null; p99Ms: number | null; outage: boolean }>;
  }>;
  verdicts: string[];
};

export type GovernanceView = {
  ledger: LedgerClock | null;
  parameters: Array<{ group: string; name: string; value: string }>;
  proposals: Array<{
    id: string;
    proposer: string;
    description: string;
    state: string;
    voteStart: string;
    voteEnd: string;
    votes: { for: string; against: string; abstain: string };
  }>;
  guardianQueue: Array<{
    id: string;
    operator: string;
    operatorId: string;
    network: string;
    reason: string;
    percent: string;
    queuedAt: string;
    vetoWindowEndsAt: string;
    /** Blocks left to veto it; 0 once executable. */
    blocksLeft: number;
  }>;
  pauses: Array<{ contract: string; paused: boolean; pausedUntil: string }>;
};

/** What the live stream pushes: the network map, and the ledger clock other views refresh on. */
export type LiveUpdate = { map: NetworkMap };

/** Every error the API answers. */
export type ApiError = { error: string };
