/**
 * What every stage of one JSON-RPC request shares: the request's context (network, session, client,
 * deadline, headers that shape it), the answer it settles on, and the session's view of the head.
 * Leaf module of the request path: the pipeline and every method handler import it, it imports none of them.
 */
import type { HeadView } from "../rpc/blockTag.js";
import { UpstreamUnavailableError } from "../rpc/errors.js";
import type { JsonRpcErrorBody } from "../rpc/jsonrpc.js";
import type { SignedRelay } from "./evidence.js";
import type { AdmitBody } from "./keys/admission.js";
import type { Network, SessionState } from "./network.js";
import type { QuorumMode } from "./quorum.js";

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

/** The head as this session may see it: the network head, never below what the session was told. */
export function sessionHead(context: RequestContext): HeadView {
  const head = context.network.head;
  if (!head) throw new UpstreamUnavailableError("no operator has reported a head yet");
  const floor = context.session?.lastBlock ?? 0n;
  return floor > head.latest ? { ...head, latest: floor } : head;
}

/** The session's head, remembered as told: a later answer never shows an earlier block. */
export function observeHead(context: RequestContext): bigint {
  const head = sessionHead(context);
  if (context.session) context.session.lastBlock = head.latest;
  return head.latest;
}
