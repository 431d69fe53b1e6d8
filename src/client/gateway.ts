/**
 * JSON-RPC over HTTP to an OpenDIN gateway, with the headers a verifying client needs: `din-sign: 1` to be
 * handed the operator's signed relay, `din-quorum: N` to have N operators answer, and the answer's
 * `din-upstream`, `din-operator`, `din-signature` and `din-relay`. Uses the platform's `fetch`.
 */
import type { Address, Hex } from "viem";
import { DinTransportError } from "./errors.js";

export type RpcAnswer = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

/** A signed relay as the gateway hands it on (checked by the verifier, never trusted as is). */
export interface SignedHeaders {
  operator: Address | undefined;
  signature: string;
  /** The `din-relay` header: the relay's JSON. */
  relay: string;
}

export interface GatewayReply {
  answer: RpcAnswer;
  /** The gateway's id of the operator endpoint that answered (`din-upstream`). */
  upstream: string | undefined;
  /** Present when a signature was asked for and the gateway handed one on. */
  signed: SignedHeaders | undefined;
}

export interface GatewayClientOptions {
  /** Extra headers on every request (an `authorization`, say). */
  headers?: Record<string, string>;
  /** Per-request time limit (ms). @default 30000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Largest answer read from a gateway (bytes); a hostile one must not exhaust memory. */
const maxAnswerBytes = 64 * 1024 * 1024;

export class GatewayClient {
  private id = 0;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    readonly url: string,
    private readonly options: GatewayClientOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async call(
    method: string,
    params: readonly unknown[],
    ask: { sign?: boolean; quorum?: number } = {},
  ): Promise<GatewayReply> {
    const headers: Record<string, string> = { "content-type": "application/json", ...this.options.headers };
    if (ask.sign) headers["din-sign"] = "1";
    if (ask.quorum !== undefined && ask.quorum > 1) headers["din-quorum"] = String(ask.quorum);
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params });
    let response: Response;
    try {
      response = await this.fetch(this.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DinTransportError(`${method}: gateway not reached: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (text.length > maxAnswerBytes)
      throw new DinTransportError(`${method}: answer too large`, response.status);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DinTransportError(
        `${method}: gateway answered HTTP ${response.status} with no JSON-RPC answer`,
        response.status,
      );
    }
    if (typeof json !== "object" || json === null || !("result" in json || "error" in json)) {
      throw new DinTransportError(`${method}: gateway answered no result and no error`, response.status);
    }
    const answer =
      "error" in json
        ? { error: (json as { error: { code: number; message: string } }).error }
        : {
            result: (json as { result: unknown }).result,
          };
    const signature = response.headers.get("din-signature");
    const relay = response.headers.get("din-relay");
    return {
      answer,
      upstream: response.headers.get("din-upstream") ?? undefined,
      signed:
        signature !== null && relay !== null
          ? {
              operator: (response.headers.get("din-operator") ?? undefined) as Address | undefined,
              signature,
              relay,
            }
          : undefined,
    };
  }
}

/** Hex quantity of a bigint, as JSON-RPC writes block numbers. */
export function quantity(value: bigint): Hex {
  return `0x${value.toString(16)}`;
}
