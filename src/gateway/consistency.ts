/**
 * Read consistency (DESIGN.md): block tags are resolved against the network head the gateway tracks, so
 * every upstream answers about the same block and answers can be cached by number. Pure functions.
 */
import {
  type BlockRef,
  fromQuantity,
  type HeadView,
  isFinalized,
  parseBlockRef,
  resolveBlockNumber,
  toQuantity,
} from "../rpc/blockTag.js";
import { InvalidParamsError, LimitExceededError } from "../rpc/errors.js";
import { methodSpec } from "../rpc/methods.js";

export interface PinnedParams {
  params: unknown[];
  /** The block the request is about, when it names one by number or tag. */
  blockNumber: bigint | undefined;
  /** The request names a block by hash (EIP-1898): its answer never changes. */
  byHash: boolean;
  /** `pending` or anything that cannot be pinned: never cached. */
  pinnable: boolean;
}

/**
 * Replaces the block parameter's tag by the number it means at `head` (with `latest` raised to the
 * session's floor), adding it when the method's block parameter is optional and absent.
 */
export function pinBlockParam(method: string, params: readonly unknown[], head: HeadView): PinnedParams {
  const spec = methodSpec(method);
  const copy = [...params];
  if (method === "eth_getLogs") return pinnedLogFilter(copy);
  const index = spec?.blockParam;
  if (index === undefined) return { params: copy, blockNumber: undefined, byHash: false, pinnable: true };
  if (copy[index] === undefined) {
    // Only trailing optional params may be absent; fill the gap so positions stay right.
    while (copy.length < index) copy.push(null);
    copy[index] = "latest";
  }
  const ref = parseBlockRef(copy[index]);
  if (!ref) return { params: copy, blockNumber: undefined, byHash: false, pinnable: false };
  if (ref.kind === "hash") return { params: copy, blockNumber: undefined, byHash: true, pinnable: true };
  const number = resolveBlockNumber(ref, head);
  if (number === undefined) return { params: copy, blockNumber: undefined, byHash: false, pinnable: false };
  if (ref.kind === "tag") copy[index] = toQuantity(number);
  return { params: copy, blockNumber: number, byHash: false, pinnable: true };
}

/**
 * A log filter is about its `toBlock` (a reorg at or below it changes the answer); callers resolve its
 * tags first. A `blockHash` filter never changes.
 */
function pinnedLogFilter(params: unknown[]): PinnedParams {
  const filter = params[0] as Record<string, unknown> | undefined;
  if (filter?.blockHash !== undefined)
    return { params, blockNumber: undefined, byHash: true, pinnable: true };
  const from = fromQuantity(filter?.fromBlock);
  const to = fromQuantity(filter?.toBlock);
  if (from === undefined || to === undefined)
    return { params, blockNumber: undefined, byHash: false, pinnable: false };
  return { params, blockNumber: to, byHash: false, pinnable: true };
}

/** The block a by-hash answer (block, transaction, receipt) belongs to, read from the answer. */
export function blockOfResult(result: unknown): bigint | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const object = result as Record<string, unknown>;
  return fromQuantity(object.blockNumber) ?? fromQuantity(object.number);
}

/**
 * How an answer may be cached: final answers forever, others briefly (dropped on reorg), `null` and
 * unpinnable requests never.
 */
export function cacheVerdict(
  pinned: PinnedParams,
  result: unknown,
  head: HeadView,
): { cache: false } | { cache: true; final: boolean; blockNumber: bigint | undefined } {
  if (!pinned.pinnable || result === null || result === undefined) return { cache: false };
  const block = pinned.blockNumber ?? blockOfResult(result);
  if (block === undefined)
    return pinned.byHash ? { cache: true, final: true, blockNumber: undefined } : { cache: false };
  return { cache: true, final: isFinalized(block, head), blockNumber: block };
}

/**
 * Resolves a `fromBlock`/`toBlock` of a log filter to a number (`latest` when absent). Every tag has a
 * number, so no range escapes the gateway's caps: `pending` is the tracked head (pending blocks hold no
 * logs a node serves), `earliest` is 0. A tag the head does not track, or a block hash (which belongs in
 * the filter's `blockHash`), is refused rather than passed through unbounded.
 */
export function resolveFilterBlock(value: unknown, head: HeadView): bigint {
  const ref: BlockRef | undefined =
    value === undefined ? { kind: "tag", tag: "latest" } : parseBlockRef(value);
  if (!ref) throw new InvalidParamsError("fromBlock/toBlock must be a block number or tag");
  if (ref.kind === "hash") {
    throw new InvalidParamsError(
      'a log range is given by block numbers or tags; use "blockHash" for one block',
    );
  }
  if (ref.kind === "tag" && ref.tag === "pending") return head.latest;
  const number = resolveBlockNumber(ref, head);
  if (number === undefined) {
    throw new InvalidParamsError(`this network does not report a "${(ref as { tag?: string }).tag}" block`);
  }
  return number;
}

/** A log filter's inclusive block range at `head`, refused when reversed or longer than `maxSpan`. */
export function resolveLogRange(
  filter: Record<string, unknown>,
  head: HeadView,
  maxSpan: number,
): { from: bigint; to: bigint } {
  const from = resolveFilterBlock(filter.fromBlock, head);
  const to = resolveFilterBlock(filter.toBlock, head);
  if (from > to) throw new InvalidParamsError(`fromBlock ${from} is after toBlock ${to}`);
  const span = to - from + 1n;
  if (span > BigInt(maxSpan)) {
    throw new LimitExceededError(
      `eth_getLogs over ${span} blocks exceeds the limit of ${maxSpan} blocks; query a smaller range`,
    );
  }
  return { from, to };
}
