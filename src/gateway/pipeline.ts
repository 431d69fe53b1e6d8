/**
 * The request pipeline for one JSON-RPC request on one network, in order:
 * validate → method policy (local, head, heavy, stateful, broadcast, nonce, logs) → consistency (pin
 * block tags) → cache → quorum or route → remember (session, cache).
 * Returns the client's answer; never throws anything but a `DinError`.
 */
import { keccak256 } from "viem";
import type { HeadView } from "../rpc/blockTag.js";
import { toQuantity } from "../rpc/blockTag.js";
import { canonicalJson } from "../rpc/canonical.js";
import { MethodNotSupportedError, UpstreamUnavailableError } from "../rpc/errors.js";
import { type JsonRpcErrorBody, type JsonRpcRequest, positionalParams } from "../rpc/jsonrpc.js";
import { type MethodClass, methodSpec, subscriptionOverHttpError, validateRequest } from "../rpc/methods.js";
import { broadcastTransaction } from "./broadcast.js";
import { cacheVerdict, type PinnedParams, pinBlockParam } from "./consistency.js";
import type { SignedRelay } from "./evidence.js";
import { handleFilterRequest } from "./filters.js";
import { capCallGas, isCallMethod } from "./gasCap.js";
import type { AdmitBody } from "./keys/admission.js";
import { getLogs } from "./logs.js";
import type { Network, SessionState } from "./network.js";
import { highestNonce } from "./nonce.js";
import { type QuorumMode, quorumCall } from "./quorum.js";
import { type RouteResult, route } from "./route.js";

export type Answer = { result: unknown } | { error: JsonRpcErrorBody };

export interface RequestContext {
  network: Network;
  /**
   * Sticky primary and monotonic head of `sessionId`; opened by `answerBody` once the body is admitted,
   * so a refused request makes the gateway remember nothing.
   */
  session?: SessionState | undefined;
  /** Who the request's state belongs to: the API key, or the client's address where keys are off. */
  client: string;
  /** `din-session-id` header, else the API key (its default session); undefined: no session. */
  sessionId: string | undefined;
  /** `din-quorum: N`: N distinct upstreams must agree. */
  quorum: number | undefined;
  /** `din-quorum-mode`: `answer` (default: N agreeing suffice, more are asked) or `strict` (all N asked). */
  quorumMode?: QuorumMode | undefined;
  /** Absolute deadline of the client request. */
  deadline: number;
  transport: "http" | "ws";
  /** Client version string answered to web3_clientVersion. */
  clientVersion: string;
  /** Admission stage (API key → allowlists → credits) run on a body before its requests; absent = keys off. */
  admit?: AdmitBody | undefined;
  /** The upstream that answered the last call routed for this request (a single request's din-upstream header). */
  answeredBy?: string | undefined;
  /** `din-sign: 1` on a single request: a read is answered by an operator that signed it (clientRelay.ts). */
  sign?: boolean | undefined;
  /** The checked relay of a signed read, handed to the client. */
  signedRelay?: SignedRelay | undefined;
}

export async function handleRequest(request: JsonRpcRequest, context: RequestContext): Promise<Answer> {
  const invalid = validateRequest(request);
  if (invalid) throw invalid;
  const spec = methodSpec(request.method)!;
  if (!isCostly(request.method, spec.class)) return dispatch(request, spec.class, context);
  // Expensive requests are paid for in operator time, per client (costBudget.ts).
  const end = await context.network.costBudget.begin(context.client, context.deadline);
  try {
    return await dispatch(request, spec.class, context);
  } finally {
    end();
  }
}

/** Requests whose cost the client chooses: calls (gas), log ranges, filters' logs, traces. */
function isCostly(method: string, methodClass: MethodClass): boolean {
  return (
    methodClass === "logs" ||
    methodClass === "heavy" ||
    isCallMethod(method) ||
    method === "eth_getFilterLogs"
  );
}

async function dispatch(
  request: JsonRpcRequest,
  methodClass: MethodClass,
  context: RequestContext,
): Promise<Answer> {
  const params = positionalParams(request);
  switch (methodClass) {
    case "local":
      return { result: answerLocally(request.method, params, context) };
    case "head":
      return { result: toQuantity(observeHead(context)) };
    case "subscription":
      if (context.transport === "http") throw subscriptionOverHttpError(request.method);
      throw new MethodNotSupportedError(request.method, "subscriptions are served by the WebSocket endpoint");
    case "heavy":
      return heavyCall(request, context);
    case "stateful":
      return handleFilterRequest(request.method, params, context);
    case "broadcast":
      return broadcastTransaction(params[0] as string, context);
    case "logs":
      return getLogs(params[0] as Record<string, unknown>, context);
    case "nonce":
      if (params[1] === "pending") return highestNonce(params, context);
      return readCall(request.method, params, context, methodClass);
    case "read":
    case "historical":
      return readCall(request.method, params, context, methodClass);
    case "forbidden":
      // validateRequest refuses forbidden methods; kept for exhaustiveness
      throw validateRequest(request)!;
  }
}

/** The head as this session may see it: the network head, never below what the session was told. */
export function sessionHead(context: RequestContext): HeadView {
  const head = context.network.head;
  if (!head) throw new UpstreamUnavailableError("no operator has reported a head yet");
  const floor = context.session?.lastBlock ?? 0n;
  return floor > head.latest ? { ...head, latest: floor } : head;
}

function observeHead(context: RequestContext): bigint {
  const head = sessionHead(context);
  if (context.session) context.session.lastBlock = head.latest;
  return head.latest;
}

function answerLocally(method: string, params: readonly unknown[], context: RequestContext): unknown {
  switch (method) {
    case "eth_chainId":
      return toQuantity(context.network.chainId);
    case "net_version":
      return String(context.network.chainId);
    case "net_listening":
      return true;
    case "eth_syncing":
      return false; // only synced operators are routed to
    case "eth_accounts":
      return []; // the gateway holds no keys
    case "web3_clientVersion":
      return context.clientVersion;
    case "web3_sha3":
      return keccak256(params[0] as `0x${string}`);
    default:
      throw new MethodNotSupportedError(method, "no local answer");
  }
}

/**
 * A read (head-dependent or historical): pinned to the session's head, served from cache when known,
 * deduplicated while in flight, verified by a quorum when asked.
 */
export async function readCall(
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
  if (context.quorum !== undefined && context.quorum > 1) {
    return quorumCall(
      method,
      pinned.params,
      context,
      readConstraints(method, methodClass, pinned, head, network),
    );
  }
  if (context.sign) {
    return signedRead(
      method,
      pinned.params,
      context,
      readConstraints(method, methodClass, pinned, head, network),
    );
  }
  const cache = network.cache;
  const key = pinned.pinnable ? `${method}:${canonicalJson(pinned.params)}` : undefined;
  if (cache && key !== undefined) {
    const cached = cache.get(key);
    if (cached !== undefined) {
      network.metrics.hot.cache(network.name, "hit").inc();
      return { result: cached };
    }
  }
  const compute = async (): Promise<Answer> => {
    const answer = await routeOnce(
      method,
      pinned.params,
      context,
      readConstraints(method, methodClass, pinned, head, network),
    );
    if (cache && key !== undefined && "result" in answer) {
      const verdict = cacheVerdict(pinned, answer.result, network.head ?? head);
      if (verdict.cache) cache.set(key, answer.result, verdict);
    }
    return answer;
  };
  if (key === undefined) return compute();
  const { promise, shared } = network.inflight.run(key, compute);
  if (cache) network.metrics.hot.cache(network.name, shared ? "shared" : "miss").inc();
  return (await promise) as Answer;
}

export interface RouteConstraints {
  /** Upstreams more than this many blocks behind are a last resort. */
  maxLagBlocks?: number | undefined;
  /** `null` may mean "not seen yet" (by-hash reads). */
  nullIsMissing?: boolean;
  hedge?: boolean;
  timeoutMs?: number;
  eligible?: (upstream: { id: string }) => boolean;
  /**
   * The request's own cost may exceed an attempt's time (calls, log ranges, traces): a timeout on an
   * operator that kept answering others meanwhile is the request's fault, answered and not retried.
   */
  costly?: boolean;
  /** Ask the operator to sign its answer (ledger-sourced upstreams only). */
  sign?: boolean;
}

/**
 * A read about block N goes first to upstreams whose head has reached N (within the read lag allowance);
 * a head-dependent read without a block (gas price) to upstreams near the head; by-hash reads anywhere.
 */
export function readConstraints(
  method: string,
  methodClass: MethodClass,
  pinned: PinnedParams,
  head: HeadView,
  network: Network,
): RouteConstraints {
  const allowance = network.routing.readMaxLagBlocks;
  let maxLagBlocks: number | undefined;
  if (pinned.blockNumber !== undefined) {
    const behind = head.latest - pinned.blockNumber;
    maxLagBlocks = behind > 1_000_000n ? undefined : Math.max(0, Number(behind)) + allowance;
  } else if (methodClass === "read" || methodClass === "nonce") {
    maxLagBlocks = allowance;
  }
  return {
    maxLagBlocks,
    nullIsMissing: methodClass === "historical",
    hedge: true,
    costly: methodClass === "logs" || isCallMethod(method),
  };
}

/** Call-like params with their gas lowered to the network's cap. */
function cappedParams(method: string, params: readonly unknown[], network: Network): readonly unknown[] {
  if (!isCallMethod(method)) return params;
  const { cap, blockGasLimit } = network.callGasCap();
  return capCallGas(method, params, cap, blockGasLimit !== undefined);
}

/** Routes one call with the network's defaults; remembers the session's primary. */
export async function routeOnce(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints = {},
): Promise<Answer> {
  const result = await routeWithin(method, params, context, constraints);
  return result.kind === "result" ? { result: result.result } : { error: result.error };
}

/** Like `routeOnce`, telling which upstream answered. */
export async function routeWithin(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints = {},
): Promise<RouteResult> {
  const { network } = context;
  const ranked = network.rank({
    ...(constraints.maxLagBlocks !== undefined ? { maxLagBlocks: constraints.maxLagBlocks } : {}),
    sticky: context.session?.primary,
    ...(constraints.eligible ? { eligible: constraints.eligible } : {}),
  });
  const result: RouteResult = await route(network, {
    method,
    params,
    ranked,
    deadline: context.deadline,
    attemptTimeoutMs: constraints.timeoutMs ?? network.routing.attemptTimeoutMs,
    maxAttempts: network.routing.maxAttempts,
    hedge: (constraints.hedge ?? false) && network.routing.hedge,
    nullIsMissing: constraints.nullIsMissing ?? false,
    costly: constraints.costly ?? false,
    sign: constraints.sign ?? false,
  });
  if (context.session) context.session.primary = result.upstream;
  context.answeredBy = result.upstream;
  return result;
}

async function heavyCall(request: JsonRpcRequest, context: RequestContext): Promise<Answer> {
  const declaring = new Set(
    context.network.upstreams.filter((upstream) => upstream.declares(request.method)).map((u) => u.id),
  );
  if (declaring.size === 0) {
    throw new MethodNotSupportedError(request.method, `no operator of ${context.network.name} serves it`);
  }
  const { network } = context;
  const deadline = Math.max(context.deadline, Date.now() + network.routing.heavyTimeoutMs);
  return routeOnce(
    request.method,
    cappedParams(request.method, positionalParams(request), network),
    { ...context, deadline },
    {
      eligible: (upstream) => declaring.has(upstream.id),
      timeoutMs: network.routing.heavyTimeoutMs,
      hedge: false,
      costly: true,
    },
  );
}

/** A read answered by one operator that signed it; the checked relay is left on `context.signedRelay`. */
export async function signedRead(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints,
): Promise<Answer> {
  const { network } = context;
  if (!network.upstreams.some((upstream) => upstream.operator !== undefined)) {
    throw new UpstreamUnavailableError("no operator of this network signs relays (none is from the ledger)");
  }
  const result = await routeWithin(method, params, context, {
    ...constraints,
    // A hedge's loser would be cancelled after signing; one operator at a time keeps the relay its answer's.
    hedge: false,
    eligible: (upstream) => network.upstream(upstream.id)?.operator !== undefined,
    sign: true,
  });
  context.signedRelay = result.relay as SignedRelay | undefined;
  return result.kind === "result" ? { result: result.result } : { error: result.error };
}
