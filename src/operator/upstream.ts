// The operator node's connection to its execution client: a keep-alive pool that forwards request bodies
// as they are, one call at a time when a call must be read back (the chaos faults), the node's own health
// probes, and the head the limits and the lag fault need.
import { Pool } from "undici";
import { fromQuantity } from "../rpc/blockTag.js";
import { type Answer, operatorUnavailable, rpcError } from "./answers.js";
import { isRecord } from "./chaos.js";
import type { UpstreamHeadInfo } from "./upstreamHead.js";

// A health probe that takes longer than this finds the execution client not answering.
const probeTimeoutMs = 5_000;

export interface UpstreamOptions {
  /** Time allowed for the execution client to answer a request, in ms. */
  timeoutMs: number;
  /** Keep-alive connections kept open to it. */
  connections: number;
}

export class Upstream {
  readonly timeoutMs: number;
  private readonly pool: Pool;
  private readonly path: string;

  constructor(url: string, options: UpstreamOptions) {
    const upstream = new URL(url);
    this.path = `${upstream.pathname}${upstream.search}`;
    this.timeoutMs = options.timeoutMs;
    this.pool = new Pool(upstream.origin, {
      connections: options.connections,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /** Sends a JSON-RPC body and returns the answer as it came, status and bytes. */
  async send(body: Buffer | string, timeoutMs = this.timeoutMs): Promise<Answer> {
    const response = await this.pool.request({
      method: "POST",
      path: this.path,
      headers: { "content-type": "application/json" },
      body,
      // undici's own timeouts are per read; this one bounds the whole exchange.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = Buffer.from(await response.body.arrayBuffer());
    return { status: response.statusCode, body: answer };
  }

  /** Forwards one call and returns the parsed response (undefined for a notification). */
  async call(call: unknown): Promise<unknown> {
    const answer = await this.send(JSON.stringify(call));
    const id = isRecord(call) ? (call.id ?? null) : null;
    const text = answer.body?.toString("utf8") ?? "";
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return rpcError(id, operatorUnavailable("execution client sent an unreadable answer").toJsonRpc());
    }
  }

  /**
   * A call of the node's own to the execution client (a health probe): past any injected fault, within 5 s
   * at most. Its result, or a throw when there is none.
   */
  async probe(method: string, params: unknown[]): Promise<unknown> {
    const answer = await this.send(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      Math.min(this.timeoutMs, probeTimeoutMs),
    );
    if (answer.status !== 200 || answer.body === undefined) throw new Error(`HTTP ${answer.status}`);
    const response: unknown = JSON.parse(answer.body.toString("utf8"));
    if (!isRecord(response) || !("result" in response)) throw new Error(`${method} answered no result`);
    return response.result;
  }

  /** The execution client's latest block number and gas limit (cached by the caller's `UpstreamHead`). */
  async readHead(): Promise<UpstreamHeadInfo> {
    const response = await this.call({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getBlockByNumber",
      params: ["latest", false],
    });
    const block = isRecord(response) && isRecord(response.result) ? response.result : undefined;
    const number = fromQuantity(block?.number);
    const gasLimit = fromQuantity(block?.gasLimit);
    if (number === undefined || gasLimit === undefined) {
      throw new Error("execution client did not report its head");
    }
    return { number, gasLimit };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
