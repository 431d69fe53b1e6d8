/**
 * Head polling: one batch per upstream and round asks for its finalized, safe and latest blocks (ascending,
 * so a block mined meanwhile can only raise later tags), plus — at start, after a failure and every
 * chainCheckMs — which chain it serves. The network (network.ts) combines the rounds into its head.
 */
import { fromQuantity } from "../rpc/blockTag.js";
import type { HealthConfig } from "./config.js";
import { type HeadSample, tagViolation } from "./health.js";
import { retry } from "./outcome.js";
import type { Upstream } from "./upstream.js";

/** What one upstream's poll said. */
export interface PollResult {
  upstream: Upstream;
  answered: boolean;
  violation: string | undefined;
}

export async function pollUpstream(
  upstream: Upstream,
  options: {
    healthConfig: HealthConfig;
    genesisHash: string | undefined;
    checkChain(upstream: Upstream, body: unknown): void;
  },
): Promise<PollResult> {
  // Ascending: a block mined while the node answers the batch can only raise the later tags, so the
  // answer never looks out of order when it is not.
  const calls: unknown[] = ["finalized", "safe", "latest"].map((tag, index) => ({
    jsonrpc: "2.0",
    id: index + 1,
    method: "eth_getBlockByNumber",
    params: [tag, false],
  }));
  // Which chain it serves, asked in the same batch until it has answered: at start, again after a failure
  // (a node that comes back may be another node) and every chainCheckMs.
  if (Date.now() - upstream.chainCheckedAt > options.healthConfig.chainCheckMs) upstream.recheckChain();
  if (!upstream.chainChecked) calls.push(...chainCheckCalls(options.genesisHash !== undefined));
  const body = JSON.stringify(calls);
  const now = Date.now();
  const started = performance.now();
  upstream.breaker.onAttempt(now);
  try {
    const reply = await upstream.send(body, { timeoutMs: Math.max(1_000, options.healthConfig.headPollMs) });
    const sample = parseHeadReply(reply.body);
    if (!sample) {
      upstream.record(
        reply.status === 429 ? retry("rate-limited", "HTTP 429") : retry("http-status", "bad head reply"),
        0,
      );
      upstream.recheckChain();
      return { upstream, answered: false, violation: undefined };
    }
    upstream.record({ kind: "result", result: null }, performance.now() - started);
    if (!upstream.chainChecked) options.checkChain(upstream, reply.body);
    const violation = tagViolation(upstream.head, sample);
    upstream.observeHead(sample);
    return { upstream, answered: true, violation };
  } catch (error) {
    upstream.record(retry("transport", String(error)), 0);
    upstream.recheckChain();
    return { upstream, answered: false, violation: undefined };
  }
}

/** Ids of the chain check's calls in a head poll batch (after the three block tags). */
const CHAIN_ID_CALL = 4;
const GENESIS_CALL = 5;

function chainCheckCalls(genesis: boolean): unknown[] {
  const calls: unknown[] = [{ jsonrpc: "2.0", id: CHAIN_ID_CALL, method: "eth_chainId", params: [] }];
  if (genesis)
    calls.push({ jsonrpc: "2.0", id: GENESIS_CALL, method: "eth_getBlockByNumber", params: ["0x0", false] });
  return calls;
}

/**
 * What is wrong with the chain a head poll's batch reply says the upstream serves: another chain id, no
 * chain id at all, or another genesis block. Undefined when it is the network's chain.
 */
export function chainProblem(body: unknown, chainId: number, genesisHash?: string): string | undefined {
  const items = Array.isArray(body) ? body : [];
  const result = (id: number) =>
    (
      items.find((item) => typeof item === "object" && item !== null && item.id === id) as
        | { result?: unknown }
        | undefined
    )?.result;
  const reported = fromQuantity(result(CHAIN_ID_CALL));
  if (reported === undefined) return "did not say which chain it serves (no eth_chainId answer)";
  if (reported !== BigInt(chainId)) return `serves chain ${reported}, not ${chainId}`;
  if (genesisHash === undefined) return undefined;
  const genesis = result(GENESIS_CALL) as { hash?: unknown } | undefined;
  const hash = typeof genesis?.hash === "string" ? genesis.hash.toLowerCase() : undefined;
  if (hash === undefined) return "did not say which genesis block it has";
  return hash === genesisHash ? undefined : `has genesis block ${hash}, not ${genesisHash}`;
}

/** Reads the reply to the head poll batch; undefined when `latest` is missing or malformed. */
export function parseHeadReply(body: unknown): HeadSample | undefined {
  if (!Array.isArray(body)) return undefined;
  const byId = new Map<unknown, unknown>();
  for (const item of body) {
    if (typeof item === "object" && item !== null) byId.set((item as { id?: unknown }).id, item);
  }
  const block = (index: number) => {
    const item = byId.get(index + 1) as
      | { result?: { number?: unknown; hash?: unknown; gasLimit?: unknown } }
      | undefined;
    return item?.result && typeof item.result === "object" ? item.result : undefined;
  };
  const latest = block(2);
  const latestNumber = fromQuantity(latest?.number);
  if (latestNumber === undefined) return undefined;
  return {
    latest: latestNumber,
    latestHash: typeof latest?.hash === "string" ? latest.hash : undefined,
    safe: fromQuantity(block(1)?.number),
    finalized: fromQuantity(block(0)?.number),
    gasLimit: fromQuantity(latest?.gasLimit),
  };
}
