/**
 * Contract events read once and then only what is new. A reader that asks for the same events every
 * second (the dashboard, `din status --watch`) would otherwise read the whole chain from block 0 every
 * time. Each query keeps the logs it has read up to a block and that block's hash; the next read asks only
 * for the blocks after it. When that block's hash has changed (a reorg, a devnet snapshot reverted) or the
 * block is gone, the query's logs are read again from the start, so a cached answer never holds a log the
 * chain no longer has.
 */
import type {
  Abi,
  ContractEventName,
  GetContractEventsParameters,
  GetContractEventsReturnType,
  Hash,
  PublicClient,
} from "viem";

type Query<abi extends Abi, eventName extends ContractEventName<abi>> = GetContractEventsParameters<
  abi,
  eventName,
  true
> & { abi: abi; eventName: eventName };

interface Entry {
  logs: unknown[];
  /** The last block read, and its hash when read. */
  through: { number: bigint; hash: Hash } | undefined;
  /** Reads of one query run one after the other. */
  tail: Promise<unknown>;
}

/** Keeps the events of one ledger (one client) between reads. */
export class EventLogCache {
  private readonly entries = new Map<string, Entry>();
  /** Block reads in flight, shared by the queries read together (they all ask for the same head). */
  private readonly blocks = new Map<string, Promise<{ number: bigint | null; hash: Hash | null }>>();

  /** The query's events from its `fromBlock` (0 when absent) to the head, reading only what is new. */
  read<const abi extends Abi, eventName extends ContractEventName<abi>>(
    client: PublicClient,
    query: Query<abi, eventName>,
  ): Promise<GetContractEventsReturnType<abi, eventName, true>> {
    const key = queryKey(query);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { logs: [], through: undefined, tail: Promise.resolve() };
      this.entries.set(key, entry);
    }
    const current = entry;
    const run = () => this.update(client, query, current);
    const result = current.tail.then(run, run);
    current.tail = result.catch(() => undefined);
    return result as Promise<GetContractEventsReturnType<abi, eventName, true>>;
  }

  /** Queries cached. */
  get size(): number {
    return this.entries.size;
  }

  private async update<const abi extends Abi, eventName extends ContractEventName<abi>>(
    client: PublicClient,
    query: Query<abi, eventName>,
    entry: Entry,
  ): Promise<unknown[]> {
    // The head first, then the logs up to it: a reorg in between changes the head's hash, seen next time.
    const head = await this.block(client, "latest");
    if (head.number === null || head.hash === null)
      throw new Error("the ledger's latest block has no number");
    if (entry.through && !(await this.stillCanonical(client, entry.through))) {
      entry.logs = [];
      entry.through = undefined;
    }
    const start = (entry.through?.number ?? (toBlockNumber(query.fromBlock) ?? 0n) - 1n) + 1n;
    if (start <= head.number) {
      const logs = await client.getContractEvents({
        ...query,
        fromBlock: start,
        toBlock: head.number,
        strict: true,
      } as GetContractEventsParameters<abi, eventName, true>);
      entry.logs = entry.logs.concat(logs);
    }
    if (!entry.through || head.number >= entry.through.number)
      entry.through = { number: head.number, hash: head.hash };
    return entry.logs.slice();
  }

  /** A block (by number, or the latest), read once for all the queries that ask while it is in flight. */
  private block(client: PublicClient, which: bigint | "latest") {
    const key = String(which);
    let read = this.blocks.get(key);
    if (!read) {
      read = (
        which === "latest" ? client.getBlock({ blockTag: "latest" }) : client.getBlock({ blockNumber: which })
      ).finally(() => this.blocks.delete(key));
      this.blocks.set(key, read);
    }
    return read;
  }

  private async stillCanonical(
    client: PublicClient,
    block: { number: bigint; hash: Hash },
  ): Promise<boolean> {
    try {
      return (await this.block(client, block.number)).hash === block.hash;
    } catch {
      return false; // gone: the chain is shorter than it was
    }
  }
}

function toBlockNumber(value: unknown): bigint | undefined {
  return typeof value === "bigint" ? value : undefined;
}

function queryKey(query: {
  address?: unknown;
  eventName?: unknown;
  args?: unknown;
  fromBlock?: unknown;
}): string {
  return JSON.stringify(
    [query.address, query.eventName, query.args ?? null, query.fromBlock ?? null],
    (_, v) => (typeof v === "bigint" ? v.toString() : v),
  );
}

/** The query's events: through `cache` when given, else read whole. */
export function readEvents<const abi extends Abi, eventName extends ContractEventName<abi>>(
  client: PublicClient,
  query: Query<abi, eventName>,
  cache?: EventLogCache,
): Promise<GetContractEventsReturnType<abi, eventName, true>> {
  if (cache) return cache.read(client, query);
  return client.getContractEvents({ ...query, strict: true } as GetContractEventsParameters<
    abi,
    eventName,
    true
  >);
}
