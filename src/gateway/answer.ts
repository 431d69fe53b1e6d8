/**
 * Answering a JSON-RPC body, whatever carried it (an HTTP POST, a WebSocket message): parse it strictly,
 * admit it (keys, credits), run each request through the pipeline, count it, and serialize the answers.
 * Never throws: a failure becomes the request's JSON-RPC error, and only an unexpected one is logged at
 * error level. The HTTP server (server.ts) and the WebSocket endpoint (ws.ts) both answer through here.
 */
import type { Logger } from "pino";
import { DinError, toDinError } from "../rpc/errors.js";
import {
  errorResponse,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type ParsedBody,
  type ParsedEntry,
  parseRequestBody,
  resultResponse,
} from "../rpc/jsonrpc.js";
import { labelForMethod, methodSpec } from "../rpc/methods.js";
import { cachedJson } from "./cache.js";
import { signedRelayHeaders } from "./clientRelay.js";
import type { GatewayConfig } from "./config.js";
import type { Answer, RequestContext } from "./context.js";
import { refusalReply } from "./keys/admission.js";
import type { GatewayMetrics } from "./metrics.js";
import { handleRequest } from "./pipeline.js";

/** Answered to web3_clientVersion. */
export const clientVersion = "OpenDIN/0.1.0";

/** What answering a body needs: the limits of the config, the metrics and the logger. */
export interface AnswerDeps {
  config: GatewayConfig;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** `{ din-upstream: id }` for each upstream id, shared by every answer it gave (see responseHeaders). */
const upstreamHeaderSets = new Map<string, Record<string, string>>();

function upstreamHeaders(id: string): Record<string, string> {
  let headers = upstreamHeaderSets.get(id);
  if (!headers) {
    // Upstream ids are few (configured, or the ledger's operators); the bound only guards against churn.
    if (upstreamHeaderSets.size >= 1024) upstreamHeaderSets.clear();
    headers = { "din-upstream": id };
    upstreamHeaderSets.set(id, headers);
  }
  return headers;
}

/** Parses a body and answers every request in it; undefined when there is nothing to send (notifications). */
export function answerBody(
  text: string,
  bytes: number,
  context: RequestContext,
  deps: AnswerDeps,
  handler: RequestHandler = handleRequest,
): Promise<{ status: number; body: string; headers?: Record<string, string> } | undefined> {
  const parsed = parseRequestBody(
    text,
    {
      maxBodyBytes: deps.config.server.maxBodyBytes,
      maxBatchSize: deps.config.server.maxBatchSize,
      maxParamsDepth: 32,
    },
    bytes,
  );
  if (!parsed.ok) {
    return Promise.resolve({
      status: parsed.error.httpStatus,
      body: JSON.stringify(errorResponse(null, parsed.error.toJsonRpc())),
    });
  }
  const output = answerParsed(parsed, context, deps, handler);
  const rawIds = parsed.rawIds;
  if (!rawIds) return output;
  // Ids a number cannot hold exactly go back to the client as the literals it sent.
  return output.then((answer) => {
    if (answer) answer.body = rawIds.restore(answer.body);
    return answer;
  });
}

async function answerParsed(
  parsed: Extract<ParsedBody, { ok: true }>,
  context: RequestContext,
  deps: AnswerDeps,
  handler: RequestHandler,
): Promise<{ status: number; body: string; headers?: Record<string, string> } | undefined> {
  let settle: ((answers: ReadonlyArray<JsonRpcResponse | undefined>) => void) | undefined;
  if (context.admit) {
    const admission = await context.admit(parsed);
    if (!admission.ok) return refusalReply(parsed, admission.error);
    parsed.entries = admission.entries;
    settle = admission.settle;
  }
  context.session ??= context.network.session(context.client, context.sessionId);
  if (!parsed.batch) {
    const entry = parsed.entries[0]!;
    context.answeredBy = undefined;
    context.signedRelay = undefined;
    const answer = await answerEntry(entry, context, deps, handler);
    settle?.([answer]);
    if (answer === undefined) return undefined;
    // Which operator answered (none for the cache and the gateway's own answers): clients can tell whom to
    // report a wrong answer about, and count where their traffic went.
    const body = serializeAnswer(answer);
    if (context.answeredBy === undefined) return { status: 200, body };
    const headers =
      context.signedRelay === undefined
        ? upstreamHeaders(context.answeredBy)
        : { "din-upstream": context.answeredBy, ...signedRelayHeaders(context.signedRelay) };
    return { status: 200, body, headers };
  }
  // A batch is never signed: a relay covers one request.
  context.sign = false;
  const answers = await Promise.all(
    parsed.entries.map((entry) => answerEntry(entry, context, deps, handler)),
  );
  settle?.(answers);
  const visible = answers.filter((answer): answer is JsonRpcResponse => answer !== undefined);
  if (visible.length === 0) return undefined;
  return { status: 200, body: `[${visible.map(serializeAnswer).join(",")}]` };
}

/** An answer's JSON; a cached object result is spliced in as the text it was cached as. */
function serializeAnswer(answer: JsonRpcResponse): string {
  const json = "result" in answer ? cachedJson(answer.result) : undefined;
  if (json === undefined) return JSON.stringify(answer);
  return `{"jsonrpc":"2.0","id":${JSON.stringify(answer.id)},"result":${json}}`;
}

/** Answers one request of a body; the WebSocket endpoint passes a handler that also serves subscriptions. */
export type RequestHandler = (request: JsonRpcRequest, context: RequestContext) => Promise<Answer>;

async function answerEntry(
  entry: ParsedEntry,
  context: RequestContext,
  deps: Pick<AnswerDeps, "metrics" | "logger">,
  handler: RequestHandler,
): Promise<JsonRpcResponse | undefined> {
  const { network } = context;
  if (!entry.ok) {
    deps.metrics.hot.request(network.name, "invalid", "rejected").inc();
    return errorResponse(entry.id, entry.error.toJsonRpc());
  }
  const { request, notification } = entry;
  const id: JsonRpcId = request.id ?? null;
  const spec = methodSpec(request.method);
  const methodLabel = labelForMethod(request.method); // never a made-up name: one series per known method
  const started = performance.now();
  let response: JsonRpcResponse;
  try {
    const answer = await handler(request, context);
    response = "result" in answer ? resultResponse(id, answer.result) : errorResponse(id, answer.error);
    deps.metrics.hot.request(network.name, methodLabel, "result" in answer ? "ok" : "error").inc();
  } catch (thrown) {
    const error = toDinError(thrown);
    if (!(thrown instanceof DinError))
      deps.logger.error({ err: thrown, method: request.method }, "unexpected failure");
    else if (error.code !== -32601 && error.code !== -32602) {
      deps.logger.warn({ method: request.method, error: error.message }, "request failed");
    }
    deps.metrics.hot.request(network.name, methodLabel, "rejected").inc();
    response = errorResponse(id, error.toJsonRpc());
  }
  deps.metrics.hot
    .duration(network.name, spec?.class ?? "unknown")
    .observe((performance.now() - started) / 1000);
  return notification ? undefined : response;
}
