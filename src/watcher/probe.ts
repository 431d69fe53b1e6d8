// One probe of one operator: a signed eth_getBlockByNumber over a keep-alive pool, checked end to end.
// OK means HTTP 200, a block in the result, and a relay signature that recovers to the operator's
// registered signer over exactly what was sent and received — all within the timeout. The signed answer
// is kept: if it contradicts the other operators it is evidence.
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { type Address, getAddress, type Hex, isAddress } from "viem";
import { ACCESS_TOKEN_HEADER, type AccessTokenCache } from "../ledger/din/auth.js";
import { type Relay, type RelayJson, relayFromJson, verifyRelay } from "../ledger/din/relay.js";
import { fromQuantity, isHash32, toQuantity } from "../rpc/blockTag.js";

/** Who is probed, as the registry describes it. */
export type ProbeTarget = {
  /** The operator's ledger address. */
  operator: Address;
  endpoint: string;
  /** The key its relays must be signed with. */
  signer: Address;
  /** Chain id of the network served (every relay must name it). */
  chainId: bigint;
};

/** A block an operator claimed, with its signed relay. */
export type SignedBlock = {
  blockNumber: bigint;
  blockHash: Hex;
  relay: Relay;
  signature: Hex;
  /** The EIP-712 digest of the relay (what the DinSlasher marks as used). */
  digest: Hex;
  /** The block's beneficiary, when the answer names one: an account whose state the watcher cross-checks. */
  miner?: Address;
};

/** A call's result with the relay that vouches for it. */
type SignedResult = { result: unknown; relay: Relay; signature: Hex; digest: Hex };

/** A signed answer to any call, checked. */
export type SignedAnswer =
  | ({ ok: true; latencyMs: number } & SignedResult)
  | { ok: false; latencyMs: number; reason: string };

/** What one probe found. */
export type ProbeResult =
  | { ok: true; latencyMs: number; block: SignedBlock }
  | { ok: false; latencyMs: number; reason: string };

/** Options of {@link Prober}. */
export type ProberOptions = {
  tokens: AccessTokenCache;
  ledgerChainId: number;
  /** The DinSlasher: the EIP-712 domain relays are signed in. */
  slasher: Address;
  /** A probe slower than this fails. @default 2000 */
  timeoutMs?: number;
};

const defaultTimeoutMs = 2000;
const maxAnswerBytes = 256 * 1024;

/** Probes operators over one undici Pool per endpoint origin. */
export class Prober {
  private readonly pools = new Map<string, Pool>();
  private readonly timeoutMs: number;
  private requestId = 0;

  constructor(private readonly options: ProberOptions) {
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** Asks `target` for the block at `height` ("latest" when undefined) and checks the signed answer. */
  async probe(target: ProbeTarget, height?: bigint): Promise<ProbeResult> {
    const answer = await this.call(target, "eth_getBlockByNumber", [
      height === undefined ? "latest" : toQuantity(height),
      false,
    ]);
    if (!answer.ok) return answer;
    const { latencyMs, result, relay, signature, digest } = answer;
    const block = result && typeof result === "object" ? (result as Record<string, unknown>) : undefined;
    const blockNumber = block ? fromQuantity(block.number) : undefined;
    const blockHash = block?.hash;
    if (blockNumber === undefined || !isHash32(blockHash))
      return { ok: false, latencyMs, reason: "result is not a block" };
    if (relay.blockNumber !== blockNumber || relay.blockHash.toLowerCase() !== blockHash.toLowerCase()) {
      return { ok: false, latencyMs, reason: "relay claims another block than the answer" };
    }
    const miner =
      typeof block?.miner === "string" && isAddress(block.miner) ? getAddress(block.miner) : undefined;
    return {
      ok: true,
      latencyMs,
      block: {
        blockNumber,
        blockHash: blockHash as Hex,
        relay,
        signature,
        digest,
        ...(miner ? { miner } : {}),
      },
    };
  }

  /**
   * Sends `method(params)` to `target` asking for a signed relay, and checks the answer: HTTP 200 within the
   * timeout, a JSON-RPC result (an error is a failed probe), and a relay over exactly this request and this
   * result, on the network's chain, recovering to the operator's registered signer.
   */
  async call(target: ProbeTarget, method: string, params: readonly unknown[]): Promise<SignedAnswer> {
    let url: URL;
    try {
      url = new URL(target.endpoint);
    } catch {
      return { ok: false, latencyMs: 0, reason: `endpoint is not a URL: ${target.endpoint}` };
    }
    let token: string;
    try {
      token = await this.options.tokens.get(target.operator);
    } catch (error) {
      return { ok: false, latencyMs: 0, reason: `cannot sign an access token: ${(error as Error).message}` };
    }
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++this.requestId, method, params });
    const started = performance.now();
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const response = await this.pool(url.origin).request({
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { "content-type": "application/json", [ACCESS_TOKEN_HEADER]: token, "din-sign": "1" },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.statusCode;
      headers = response.headers;
      text = await response.body.text();
    } catch (error) {
      const latencyMs = performance.now() - started;
      const reason =
        (error as Error).name === "TimeoutError" || (error as Error).name === "AbortError"
          ? `no answer within ${this.timeoutMs} ms`
          : `request failed: ${(error as Error).message}`;
      return { ok: false, latencyMs, reason };
    }
    const latencyMs = performance.now() - started;
    if (latencyMs > this.timeoutMs)
      return { ok: false, latencyMs, reason: `answered after ${this.timeoutMs} ms` };
    if (status !== 200) return { ok: false, latencyMs, reason: `HTTP ${status}` };
    if (text.length > maxAnswerBytes) return { ok: false, latencyMs, reason: "answer too large" };
    const checked = this.check(target, method, params, text, headers);
    return "reason" in checked
      ? { ok: false, latencyMs, reason: checked.reason }
      : { ok: true, latencyMs, ...checked };
  }

  /** Closes the pools of endpoints not in `keep` (operators that left). */
  async prune(keep: ReadonlySet<string>): Promise<void> {
    const origins = new Set<string>();
    for (const endpoint of keep) {
      try {
        origins.add(new URL(endpoint).origin);
      } catch {
        // not a URL: it never got a pool
      }
    }
    const closing: Promise<void>[] = [];
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      closing.push(pool.close().catch(() => {}));
    }
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => {})));
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 4,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        connectTimeout: this.timeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private check(
    target: ProbeTarget,
    method: string,
    params: readonly unknown[],
    text: string,
    headers: Record<string, string | string[] | undefined>,
  ): SignedResult | { reason: string } {
    let response: { result?: unknown; error?: unknown };
    try {
      response = JSON.parse(text) as { result?: unknown; error?: unknown };
    } catch {
      return { reason: "answer is not JSON" };
    }
    if (typeof response !== "object" || response === null)
      return { reason: "answer is not a JSON-RPC response" };
    if ("error" in response && response.error !== undefined) {
      return { reason: `JSON-RPC error: ${JSON.stringify(response.error).slice(0, 200)}` };
    }
    if (!("result" in response)) return { reason: "answer is not a JSON-RPC response" };
    const relayHeader = header(headers, "din-relay");
    const signature = header(headers, "din-signature");
    if (!relayHeader || !signature) {
      return {
        reason: `unsigned answer${header(headers, "din-sign-error") ? `: ${header(headers, "din-sign-error")}` : ""}`,
      };
    }
    const relay = parseRelay(relayHeader);
    if (!relay) return { reason: "malformed din-relay header" };
    const verdict = verifyRelay(
      relay,
      signature,
      {
        method,
        params,
        response: { result: response.result },
        chainId: target.chainId,
        signer: target.signer,
        now: BigInt(Math.floor(Date.now() / 1000)),
      },
      this.options,
    );
    if (!verdict.ok) return { reason: verdict.reason };
    const digest = verdict.digest;
    return { result: response.result, relay, signature: signature as Hex, digest };
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The relay of a `din-relay` header (numbers as decimal strings), or undefined when malformed. */
export function parseRelay(text: string): Relay | undefined {
  try {
    return relayFromJson(JSON.parse(text) as RelayJson);
  } catch {
    return undefined;
  }
}
