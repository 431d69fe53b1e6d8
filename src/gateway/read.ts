/**
 * A read (head-dependent or historical) as a composition of stages, built once:
 * `quorum(signed(cache(inflight(route))))`. `readCall` pins the read to the session's head and runs it
 * through them. Each stage answers the read itself or hands it to the next:
 *   - quorum: `din-quorum: N` reads are answered by N agreeing operators (quorum.ts);
 *   - signed: `din-sign: 1` reads by one operator that signs its answer;
 *   - cache: a pinned read answered before is answered from memory, a new answer is kept as long as its
 *     block allows (consistency.ts `cacheVerdict`);
 *   - inflight: identical reads running at once share one call to the operators;
 *   - route: the call itself (calls.ts).
 */
import type { HeadView } from "../rpc/blockTag.js";
import { canonicalJson } from "../rpc/canonical.js";
import type { MethodClass } from "../rpc/methods.js";
import type { ResponseCache } from "./cache.js";
import { cappedParams, readConstraints, routeOnce, signedRead } from "./calls.js";
import { cacheVerdict, type PinnedParams, pinBlockParam } from "./consistency.js";
import { type Answer, type RequestContext, type RouteConstraints, sessionHead } from "./context.js";
import { quorumCall } from "./quorum.js";

/** One read on its way through the stages. */
export interface Read {
  method: string;
  /** Pinned to a block number where the method takes one (`pinned.params`). */
  params: readonly unknown[];
  pinned: PinnedParams;
  /** The session's head the read was pinned against. */
  head: HeadView;
  context: RequestContext;
  methodClass: MethodClass;
  /** How the read routes; computed when a stage first routes it (`readRouting`): a cache hit never does. */
  constraints?: RouteConstraints;
  /** Set by the inflight stage: this read joined an identical one already running. */
  shared?: boolean;
  /** Cache and in-flight key, computed once when a stage first needs it (`readKey`). */
  key?: string | undefined;
}

export type ReadHandler = (read: Read) => Promise<Answer>;
export type ReadStage = (next: ReadHandler) => ReadHandler;

/** The constraints `read` routes under, computed once when a stage first needs them. */
export function readRouting(read: Read): RouteConstraints {
  read.constraints ??= readConstraints(
    read.method,
    read.methodClass,
    read.pinned,
    read.head,
    read.context.network,
  );
  return read.constraints;
}

/** The key a pinned read is cached and shared under; undefined for a read that depends on the moment. */
export function readKey(read: Read): string | undefined {
  if (!read.pinned.pinnable) return undefined;
  read.key ??= `${read.method}:${canonicalJson(read.params)}`;
  return read.key;
}

type Ask = (
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints,
) => Promise<Answer>;

/** `din-quorum: N` (N > 1): the answer N operators agree on, never cached nor shared. */
export function quorumStage(ask: Ask = quorumCall): ReadStage {
  return (next) => (read) => {
    const quorum = read.context.quorum;
    if (quorum === undefined || quorum <= 1) return next(read);
    return ask(read.method, read.params, read.context, readRouting(read));
  };
}

/** `din-sign: 1`: one operator's signed answer, its relay left on the context; never cached nor shared. */
export function signedStage(ask: Ask = signedRead): ReadStage {
  return (next) => (read) =>
    read.context.sign ? ask(read.method, read.params, read.context, readRouting(read)) : next(read);
}

/**
 * Answers a pinned read from the network's cache; keeps what the inner stages answer when it may. A read
 * the cache cannot hold (`pending`, no cache) goes straight on, with no async frame of its own.
 */
export const cacheStage: ReadStage = (next) => (read) => {
  const { network } = read.context;
  const cache = network.cache;
  const key = cache ? readKey(read) : undefined;
  if (!cache || key === undefined) return next(read);
  const cached = cache.get(key);
  if (cached !== undefined) {
    network.metrics.hot.cache(network.name, "hit").inc();
    return Promise.resolve({ result: cached });
  }
  return answerAndKeep(next, read, cache, key);
};

async function answerAndKeep(
  next: ReadHandler,
  read: Read,
  cache: ResponseCache,
  key: string,
): Promise<Answer> {
  const { network } = read.context;
  const pending = next(read);
  network.metrics.hot.cache(network.name, read.shared ? "shared" : "miss").inc();
  const answer = await pending;
  // A read that joined another leaves the keeping to the one that made the call.
  if (!read.shared && "result" in answer) {
    const verdict = cacheVerdict(read.pinned, answer.result, network.head ?? read.head);
    if (verdict.cache) cache.set(key, answer.result, verdict);
  }
  return answer;
}

/** Identical pinned reads running at once share one call; `read.shared` says this one joined. */
export const inflightStage: ReadStage = (next) => (read) => {
  const key = readKey(read);
  if (key === undefined) return next(read);
  const { promise, shared } = read.context.network.inflight.run(key, () => next(read));
  read.shared = shared;
  return promise as Promise<Answer>;
};

/** The innermost stage: the call to the operators. */
export const routeRead: ReadHandler = (read) =>
  routeOnce(read.method, read.params, read.context, readRouting(read));

const readPath: ReadHandler = quorumStage()(signedStage()(cacheStage(inflightStage(routeRead))));

/** A read pinned to the session's head and answered through the read stages. */
export function readCall(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  methodClass: MethodClass,
): Promise<Answer> {
  const { network } = context;
  const head = sessionHead(context);
  const pinned = pinBlockParam(method, cappedParams(method, params, network), head);
  const session = context.session;
  if (session && pinned.blockNumber !== undefined && pinned.blockNumber <= head.latest) {
    // What a session has read at `latest` it must not see undone by a later eth_blockNumber.
    if (pinned.blockNumber > session.lastBlock) session.lastBlock = pinned.blockNumber;
  }
  return readPath({
    method,
    params: pinned.params,
    pinned,
    head,
    context,
    methodClass,
  });
}
