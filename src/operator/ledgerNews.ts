// What the ledger decides about this operator, as it happens: its registration and metadata, allocations,
// each epoch's verdict (the median of the watchers' reports and the reward multiplier), slashes queued,
// vetoed, held, executed, jail and ejection. The node follows the ledger's events for its own address and
// logs each one, so an operator hears of a slash from its own node, not from a stake that shrank.
import type { Logger } from "pino";
import type { Address, Hex, PublicClient } from "viem";
import {
  allocationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
} from "../ledger/artifacts/index.js";
import type { DinDeployment } from "../ledger/din/deploy.js";

export type NewsLevel = "info" | "warn" | "error";

export type LedgerNews = {
  block: bigint;
  transaction: Hex;
  kind:
    | "registered"
    | "deregistered"
    | "allocation"
    | "judged"
    | "slash-queued"
    | "slash-vetoed"
    | "slash-held"
    | "slash-executed"
    | "jailed"
    | "unjailed"
    | "ejected";
  network: string;
  level: NewsLevel;
  message: string;
};

const REASONS = ["none", "availability", "latency", "down", "wrong data"] as const;
const percentOfWad = (wad: bigint) => `${Number((wad * 1_000_000n) / 10n ** 18n) / 10_000}%`;

/** Every event about `operator` in the blocks `fromBlock`..`toBlock`, oldest first. */
export async function readLedgerNews(
  client: PublicClient,
  deployment: DinDeployment,
  operator: Address,
  fromBlock: bigint,
  toBlock: bigint,
): Promise<LedgerNews[]> {
  const a = deployment.addresses;
  const names = new Map(deployment.networks.map((n) => [n.id, n.name]));
  const name = (id: number | bigint) => names.get(Number(id)) ?? `network ${id}`;
  const range = { fromBlock, toBlock, strict: true } as const;
  const registry = { address: a.registry, abi: dinRegistryAbi } as const;
  const slasher = { address: a.slasher, abi: dinSlasherAbi } as const;
  const [metadata, deregistered, jailed, unjailed, ejected, allocations, judged, queued, executed, held] =
    await Promise.all([
      client.getContractEvents({
        ...registry,
        eventName: "OperatorMetadataSet",
        args: { operator },
        ...range,
      }),
      client.getContractEvents({
        ...registry,
        eventName: "OperatorDeregistered",
        args: { operator },
        ...range,
      }),
      client.getContractEvents({ ...registry, eventName: "OperatorJailed", args: { operator }, ...range }),
      client.getContractEvents({ ...registry, eventName: "OperatorUnjailed", args: { operator }, ...range }),
      client.getContractEvents({ ...registry, eventName: "OperatorEjected", args: { operator }, ...range }),
      client.getContractEvents({
        address: a.allocationManager,
        abi: allocationManagerAbi,
        eventName: "AllocationUpdated",
        args: { operator },
        ...range,
      }),
      client.getContractEvents({
        address: a.epochs,
        abi: dinEpochsAbi,
        eventName: "OperatorJudged",
        args: { operator },
        ...range,
      }),
      client.getContractEvents({ ...slasher, eventName: "SlashQueued", args: { operator }, ...range }),
      client.getContractEvents({ ...slasher, eventName: "SlashExecuted", args: { operator }, ...range }),
      client.getContractEvents({
        address: a.epochs,
        abi: dinEpochsAbi,
        eventName: "SlashHeld",
        args: { operator },
        ...range,
      }),
    ]);
  // A veto names only the slash: keep those of this operator's slashes (queued in this range or before).
  const vetoes = await client.getContractEvents({ ...slasher, eventName: "SlashVetoed", ...range });
  const mine = await Promise.all(
    vetoes.map(async (v) => {
      const slash = await client.readContract({
        ...slasher,
        functionName: "getQueuedSlash",
        args: [v.args.slashId],
      });
      return slash.operator.toLowerCase() === operator.toLowerCase()
        ? { event: v, network: slash.networkId }
        : undefined;
    }),
  );
  const at = (e: { blockNumber: bigint; transactionHash: Hex }) => ({
    block: e.blockNumber,
    transaction: e.transactionHash,
  });
  const news: LedgerNews[] = [
    ...metadata.map((e) => ({
      ...at(e),
      kind: "registered" as const,
      network: name(e.args.networkId),
      level: "info" as const,
      message: `registered on ${name(e.args.networkId)}: endpoint ${e.args.endpoint}, ${e.args.cloud}/${e.args.region}, signer ${e.args.signer}`,
    })),
    ...deregistered.map((e) => ({
      ...at(e),
      kind: "deregistered" as const,
      network: name(e.args.networkId),
      level: "warn" as const,
      message: `deregistered from ${name(e.args.networkId)}`,
    })),
    ...allocations
      .filter((e) => e.args.operatorSet.avs.toLowerCase() === a.registry.toLowerCase())
      .map((e) => ({
        ...at(e),
        kind: "allocation" as const,
        network: name(e.args.operatorSet.id),
        level: "info" as const,
        message: `allocation to ${name(e.args.operatorSet.id)} set to ${percentOfWad(e.args.magnitude)} of strategy ${e.args.strategy}, effective at block ${e.args.effectBlock}`,
      })),
    ...judged.map((e) => {
      const multiplier = Number(e.args.multiplierBps) / 100;
      return {
        ...at(e),
        kind: "judged" as const,
        network: name(e.args.networkId),
        level: (multiplier < 100 ? "warn" : "info") as NewsLevel,
        message: `epoch ${e.args.epoch} on ${name(e.args.networkId)} judged: availability ${Number(e.args.availabilityBps) / 100}%, p50 ${e.args.p50LatencyMs} ms, lag ${e.args.lagBlocks} blocks (the watchers' median); rewards at ${multiplier}%`,
      };
    }),
    ...queued.map((e) => ({
      ...at(e),
      kind: "slash-queued" as const,
      network: name(e.args.networkId),
      level: "warn" as const,
      message: `slash ${e.args.slashId} queued on ${name(e.args.networkId)}: ${percentOfWad(e.args.wad)} for ${REASONS[e.args.reason] ?? "an offence"}; the guardian may veto it within the veto window`,
    })),
    ...mine.flatMap((m) =>
      m
        ? [
            {
              ...at(m.event),
              kind: "slash-vetoed" as const,
              network: name(m.network),
              level: "info" as const,
              message: `slash ${m.event.args.slashId} on ${name(m.network)} vetoed by ${m.event.args.vetoer}`,
            },
          ]
        : [],
    ),
    ...held.map((e) => ({
      ...at(e),
      kind: "slash-held" as const,
      network: name(e.args.networkId),
      level: "warn" as const,
      message: `a slash of ${percentOfWad(e.args.wad)} for ${REASONS[e.args.reason] ?? "an offence"} in epoch ${e.args.epoch} on ${name(e.args.networkId)} is held for governance (a correlated failure)`,
    })),
    ...executed.map((e) => ({
      ...at(e),
      kind: "slash-executed" as const,
      network: name(e.args.networkId),
      level: "error" as const,
      message: `slash ${e.args.slashId} executed on ${name(e.args.networkId)}: ${percentOfWad(e.args.wad)} of the allocated stake is gone`,
    })),
    ...jailed.map((e) => ({
      ...at(e),
      kind: "jailed" as const,
      network: name(e.args.networkId),
      level: "error" as const,
      message: `jailed on ${name(e.args.networkId)} until block ${e.args.untilBlock}: no traffic, no rewards until then`,
    })),
    ...unjailed.map((e) => ({
      ...at(e),
      kind: "unjailed" as const,
      network: name(e.args.networkId),
      level: "info" as const,
      message: `released from jail on ${name(e.args.networkId)}`,
    })),
    ...ejected.map((e) => ({
      ...at(e),
      kind: "ejected" as const,
      network: name(e.args.networkId),
      level: "error" as const,
      message: `ejected from ${name(e.args.networkId)}: too many executed slashes; register again to serve it`,
    })),
  ];
  return news.sort((x, y) => (x.block < y.block ? -1 : x.block > y.block ? 1 : 0));
}

/** Follows the ledger from the block it starts at and hands each piece of news to `onNews`. */
export class LedgerNewsFollower {
  private from: bigint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      client: PublicClient;
      deployment: DinDeployment;
      operator: Address;
      intervalMs: number;
      onNews: (news: LedgerNews) => void;
      onError: (error: unknown) => void;
    },
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.poll()
        .catch((error: unknown) => this.options.onError(error))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs);
        });
    };
    tick();
  }

  /** Reads the news since the last poll (the first poll only sets where to start). */
  async poll(): Promise<void> {
    const head = await this.options.client.getBlockNumber({ cacheTime: 0 });
    if (this.from === undefined) {
      this.from = head + 1n;
      return;
    }
    if (head < this.from) return;
    const { client, deployment, operator } = this.options;
    for (const news of await readLedgerNews(client, deployment, operator, this.from, head))
      this.options.onNews(news);
    this.from = head + 1n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/**
 * Follows the ledger's news about `operator` into `log`: each piece at its own level, with the event's
 * kind, network, block and transaction; a poll that fails is a debug line (the next one tries again).
 */
export function ledgerNewsLogger(options: {
  client: PublicClient;
  deployment: DinDeployment;
  operator: Address;
  intervalMs: number;
  log: Logger;
}): LedgerNewsFollower {
  const { log, ...follow } = options;
  return new LedgerNewsFollower({
    ...follow,
    onNews: (news) =>
      log[news.level](
        { ledger: news.kind, network: news.network, block: news.block.toString(), tx: news.transaction },
        news.message,
      ),
    onError: (error) => log.debug({ err: (error as Error).message }, "ledger news not read this time"),
  });
}
