/**
 * eth_getLogs over ranges larger than an operator accepts: the range is resolved against the session's
 * head whatever its tags (so no range reaches an operator unbounded), refused beyond the gateway's total
 * limit (-32005, as the anchors answer), split into chunks each operator accepts, fetched (cached chunk
 * by chunk) and merged in block order.
 */
import { toQuantity } from "../rpc/blockTag.js";
import { resolveLogRange } from "./consistency.js";
import { type Answer, type RequestContext, sessionHead } from "./context.js";
import { readCall } from "./read.js";

/** Chunks fetched at once for one request. */
const chunkConcurrency = 4;

export async function getLogs(filter: Record<string, unknown>, context: RequestContext): Promise<Answer> {
  if (filter.blockHash !== undefined) return readCall("eth_getLogs", [filter], context, "logs");
  const network = context.network;
  const { from, to } = resolveLogRange(filter, sessionHead(context), network.config.logsMaxTotalRange);
  const chunks = splitRange(from, to, BigInt(chunkSizeOf(context)));
  const results: unknown[][] = new Array(chunks.length);
  let failure: Answer | undefined;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length && !failure) {
      const index = next++;
      const [chunkFrom, chunkTo] = chunks[index]!;
      const answer = await readCall(
        "eth_getLogs",
        [{ ...filter, fromBlock: toQuantity(chunkFrom), toBlock: toQuantity(chunkTo) }],
        context,
        "logs",
      );
      if ("error" in answer) failure ??= answer;
      else if (!Array.isArray(answer.result))
        failure ??= { error: { code: -32603, message: "operator answered eth_getLogs with a non-array" } };
      else results[index] = answer.result;
    }
  };
  await Promise.all(Array.from({ length: Math.min(chunkConcurrency, chunks.length) }, worker));
  if (failure) return failure;
  return { result: results.flat() };
}

/** The largest range every upstream accepts. */
function chunkSizeOf(context: RequestContext): number {
  const network = context.network;
  let size = network.config.logsMaxRange;
  for (const upstream of network.upstreams) {
    if (upstream.logsMaxRange !== undefined && upstream.logsMaxRange < size) size = upstream.logsMaxRange;
  }
  return size;
}

/** Inclusive ranges of at most `size` blocks covering [from, to], in order. */
export function splitRange(from: bigint, to: bigint, size: bigint): Array<[bigint, bigint]> {
  const ranges: Array<[bigint, bigint]> = [];
  for (let start = from; start <= to; start += size) {
    const end = start + size - 1n;
    ranges.push([start, end < to ? end : to]);
  }
  return ranges;
}
