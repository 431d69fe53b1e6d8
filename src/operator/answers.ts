/**
 * What an operator node sends back, and the helpers that build it: the node's own answers (refusals,
 * unavailability), the JSON-RPC envelopes, and the trace of what became of a request's calls.
 */
import type { ServerResponse } from "node:http";
import { DinError, type JsonRpcErrorObject, RpcErrorCode } from "../rpc/errors.js";
import { isRecord } from "./chaos.js";

/** What goes back to the client: the single response path (`respond`). */
export interface Answer {
  status: number;
  /** JSON text, or undefined for an empty body (a lone notification). */
  body: string | Buffer | undefined;
  closeConnection?: boolean;
  /** Extra headers (a signed relay's). */
  headers?: Record<string, string>;
  /** Answered by the node itself (a refusal), not by the execution client: there is nothing to sign. */
  local?: boolean;
}

/** What became of a request's calls, for the metrics and the performance score. */
export interface RequestTrace {
  /** Method labels of the calls that passed the policy and the limits (sent on, or failed by a fault). */
  forwarded: string[];
  /** Method labels of the calls the node refused itself. */
  refused: string[];
  /** No answer came from the execution client (unreachable, timed out, or an injected failure). */
  failed: boolean;
  /** The failure was injected (chaos): nothing went to the execution client. */
  injected?: boolean;
}

/**
 * What a client sees when the operator cannot answer (injected 503s, an unreachable execution client):
 * "resource unavailable", which the gateway treats as retryable on another operator.
 */
export const operatorUnavailable = (reason: string) => new DinError(RpcErrorCode.ResourceUnavailable, reason);

/** The answer with the refusals added: a lone refused request is answered by them, a batch gets both. */
export function withRefusals(payload: unknown, answer: Answer | undefined, refusals: unknown[]): Answer {
  if (refusals.length === 0) return answer ?? { status: 204, body: undefined };
  if (!Array.isArray(payload)) return { ...json(200, refusals[0]), local: true };
  if (answer === undefined || answer.body === undefined) return json(200, refusals);
  let served: unknown;
  try {
    served = JSON.parse(answer.body.toString("utf8"));
  } catch {
    served = rpcError(null, operatorUnavailable("execution client sent an unreadable answer").toJsonRpc());
  }
  return {
    status: answer.status,
    body: JSON.stringify([...(Array.isArray(served) ? served : [served]), ...refusals]),
  };
}

export function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value) };
}

export function rpcResult(id: unknown, result: unknown): unknown {
  return { jsonrpc: "2.0", id: id ?? null, result };
}

export function rpcError(id: unknown, error: JsonRpcErrorObject): unknown {
  return { jsonrpc: "2.0", id: id ?? null, error };
}

/** An error for a request that could not be read, so it has no id. */
export function errorAnswer(status: number, error: DinError): Answer {
  return json(status, rpcError(null, error.toJsonRpc()));
}

/** The same error for every call of a request, keeping each call's id (batches get one per call). */
export function errorsFor(payload: unknown, status: number, error: DinError): Answer {
  const body = error.toJsonRpc();
  if (!Array.isArray(payload)) return json(status, rpcError(isRecord(payload) ? payload.id : null, body));
  return json(
    status,
    payload.map((call) => rpcError(isRecord(call) ? call.id : null, body)),
  );
}

/**
 * The one place responses leave the operator node (its public listener and its chaos control). A signed
 * relay (`din-sign: 1`) arrives here as the answer's `din-operator` and `din-signature` headers.
 */
export function respond(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const headers: Record<string, string | number> = {};
  if (answer.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(answer.body);
  }
  if (answer.closeConnection === true) headers.connection = "close";
  if (answer.headers) Object.assign(headers, answer.headers);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
