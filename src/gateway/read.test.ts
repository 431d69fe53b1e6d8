import { describe, expect, it, vi } from "vitest";
import { InflightRequests, ResponseCache } from "./cache.js";
import { pinBlockParam } from "./consistency.js";
import type { Answer, RequestContext } from "./context.js";
import type { Network } from "./network.js";
import {
  cacheStage,
  inflightStage,
  quorumStage,
  type Read,
  type ReadHandler,
  readKey,
  signedStage,
} from "./read.js";

const head = { latest: 100n, safe: 90n, finalized: 80n };

/** The parts of a network the read stages touch: cache, in-flight sharing, head, cache metrics. */
function fakeNetwork(options: { cache?: boolean } = {}) {
  const counts = new Map<string, number>();
  const network = {
    name: "testnet",
    head,
    cache:
      options.cache === false ? undefined : new ResponseCache({ maxBytes: 1 << 20, unfinalizedTtlMs: 2_000 }),
    inflight: new InflightRequests<unknown>(),
    metrics: {
      hot: {
        cache: (_network: string, result: string) => ({
          inc: () => counts.set(result, (counts.get(result) ?? 0) + 1),
        }),
      },
    },
  };
  return { network: network as unknown as Network, counts, cache: network.cache };
}

function readOf(
  network: Network,
  method: string,
  params: unknown[],
  extra: Partial<RequestContext> = {},
): Read {
  const pinned = pinBlockParam(method, params, head);
  const context = { network, quorum: undefined, ...extra } as RequestContext;
  return { method, params: pinned.params, pinned, head, context, methodClass: "read", constraints: {} };
}

/** An inner stage that answers `value` when released, counting the calls it got. */
function gatedRoute(value: unknown) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const route = vi.fn<ReadHandler>(async () => {
    await gate;
    return { result: value };
  });
  return { route, release };
}

const balance = "0x2a";
const account = "0x00000000000000000000000000000000000000aa";

describe("read stages", () => {
  it("cache: a final answer is kept and the next identical read never reaches the operators", async () => {
    const { network, counts } = fakeNetwork();
    const route = vi.fn<ReadHandler>(async () => ({ result: balance }));
    const path = cacheStage(inflightStage(route));
    expect(await path(readOf(network, "eth_getBalance", [account, "0x50"]))).toEqual({ result: balance });
    expect(await path(readOf(network, "eth_getBalance", [account, "0x50"]))).toEqual({ result: balance });
    expect(route).toHaveBeenCalledTimes(1);
    expect(Object.fromEntries(counts)).toEqual({ miss: 1, hit: 1 });
  });

  it("cache: errors, nulls and pending reads are never kept", async () => {
    const { network, cache } = fakeNetwork();
    const answers: Answer[] = [{ error: { code: -32000, message: "execution reverted" } }, { result: null }];
    const route = vi.fn<ReadHandler>(async () => answers.shift() ?? { result: balance });
    const path = cacheStage(inflightStage(route));
    await path(readOf(network, "eth_getBalance", [account, "0x50"]));
    await path(readOf(network, "eth_getBalance", [account, "0x50"]));
    await path(readOf(network, "eth_getBalance", [account, "pending"]));
    await path(readOf(network, "eth_getBalance", [account, "pending"]));
    expect(route).toHaveBeenCalledTimes(4);
    expect(cache?.has(`eth_getBalance:${JSON.stringify([account, "pending"])}`)).toBe(false);
  });

  it("cache: a tag is pinned to its number, so `latest` and the head's number share one entry", async () => {
    const { network } = fakeNetwork();
    const route = vi.fn<ReadHandler>(async () => ({ result: balance }));
    const path = cacheStage(inflightStage(route));
    await path(readOf(network, "eth_getBalance", [account, "latest"]));
    await path(readOf(network, "eth_getBalance", [account, "0x64"]));
    expect(route).toHaveBeenCalledTimes(1);
  });

  it("inflight: identical reads running at once make one call; the joiners are counted as shared", async () => {
    const { network, counts, cache } = fakeNetwork();
    const { route, release } = gatedRoute(balance);
    const path = cacheStage(inflightStage(route));
    const reads = [1, 2, 3].map(() => readOf(network, "eth_getBalance", [account, "0x50"]));
    const pending = reads.map((read) => path(read));
    release();
    expect(await Promise.all(pending)).toEqual([1, 2, 3].map(() => ({ result: balance })));
    expect(route).toHaveBeenCalledTimes(1);
    expect(reads.map((read) => read.shared)).toEqual([false, true, true]);
    expect(Object.fromEntries(counts)).toEqual({ miss: 1, shared: 2 });
    expect(cache?.get(readKey(reads[0]!)!)).toBe(balance);
  });

  it("inflight: a failure reaches every joiner and is not remembered", async () => {
    const { network } = fakeNetwork({ cache: false });
    let fail = true;
    const route = vi.fn<ReadHandler>(async () => {
      await Promise.resolve();
      if (fail) throw new Error("every operator failed");
      return { result: balance };
    });
    const path = inflightStage(route);
    const both = [
      path(readOf(network, "eth_getCode", [account, "0x50"])),
      path(readOf(network, "eth_getCode", [account, "0x50"])),
    ];
    await expect(Promise.all(both)).rejects.toThrow("every operator failed");
    expect(route).toHaveBeenCalledTimes(1);
    fail = false;
    expect(await path(readOf(network, "eth_getCode", [account, "0x50"]))).toEqual({ result: balance });
  });

  it("inflight: reads of different blocks or accounts are never shared", async () => {
    const { network } = fakeNetwork({ cache: false });
    const { route, release } = gatedRoute(balance);
    const path = inflightStage(route);
    const pending = [
      path(readOf(network, "eth_getBalance", [account, "0x50"])),
      path(readOf(network, "eth_getBalance", [account, "0x51"])),
      path(readOf(network, "eth_getBalance", [account.replace("aa", "bb"), "0x50"])),
    ];
    release();
    await Promise.all(pending);
    expect(route).toHaveBeenCalledTimes(3);
  });

  it("quorum: only din-quorum above 1 leaves the path, and its answer is neither cached nor shared", async () => {
    const { network, cache } = fakeNetwork();
    const ask = vi.fn(async () => ({ result: "0x1" }));
    const route = vi.fn<ReadHandler>(async () => ({ result: balance }));
    const path = quorumStage(ask)(cacheStage(inflightStage(route)));
    expect(await path(readOf(network, "eth_getBalance", [account, "0x50"], { quorum: 3 }))).toEqual({
      result: "0x1",
    });
    expect(ask).toHaveBeenCalledWith("eth_getBalance", [account, "0x50"], expect.anything(), {});
    expect(cache?.has(`eth_getBalance:${JSON.stringify([account, "0x50"])}`)).toBe(false);
    // quorum 1 is an ordinary read
    expect(await path(readOf(network, "eth_getBalance", [account, "0x50"], { quorum: 1 }))).toEqual({
      result: balance,
    });
    expect(ask).toHaveBeenCalledTimes(1);
  });

  it("quorum: a cached answer does not stand in for a quorum a client asked for", async () => {
    const { network } = fakeNetwork();
    const ask = vi.fn(async () => ({ result: "0x1" }));
    const route = vi.fn<ReadHandler>(async () => ({ result: balance }));
    const path = quorumStage(ask)(cacheStage(inflightStage(route)));
    await path(readOf(network, "eth_getBalance", [account, "0x50"]));
    expect(await path(readOf(network, "eth_getBalance", [account, "0x50"], { quorum: 2 }))).toEqual({
      result: "0x1",
    });
    expect(ask).toHaveBeenCalledTimes(1);
  });

  it("signed: a din-sign read is answered by the signing path, never from the cache", async () => {
    const { network } = fakeNetwork();
    const sign = vi.fn(async () => ({ result: balance }));
    const route = vi.fn<ReadHandler>(async () => ({ result: balance }));
    const path = signedStage(sign)(cacheStage(inflightStage(route)));
    await path(readOf(network, "eth_getBalance", [account, "0x50"]));
    await path(readOf(network, "eth_getBalance", [account, "0x50"], { sign: true }));
    await path(readOf(network, "eth_getBalance", [account, "0x50"], { sign: true }));
    expect(sign).toHaveBeenCalledTimes(2);
    expect(route).toHaveBeenCalledTimes(1);
  });
});
