// Anyone can sign a well-formed token with a fresh key. A flood of them must not turn into as many ledger
// reads and remembered answers: reads for unknown addresses are rate-limited per source, answers live in a
// bounded cache, identical lookups are made once.
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TOKEN_HEADER, createAccessToken } from "../ledger/din/auth.js";
import { createCallerAuthenticator } from "./auth.js";
import { CallerRoles } from "./callerRoles.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";
import { SourceRateLimiter } from "./sourceRateLimiter.js";

const ledgerChainId = 31337;
const operator = `0x${"0a".repeat(20)}` as Address;
const forgedCount = 2_000;

/** Tokens from `count` fresh keys, none of them registered. */
function forgedTokens(count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      createAccessToken(privateKeyToAccount(generatePrivateKey()), {
        role: "gateway",
        audience: operator,
        ledgerChainId,
      }),
    ),
  );
}

let forged: string[];

beforeAll(async () => {
  forged = await forgedTokens(forgedCount);
});

describe("forged operator tokens", () => {
  let node: OperatorNode;
  let ledgerReads = 0;

  beforeAll(async () => {
    node = await startOperatorNode({
      id: "flooded",
      upstream: "http://127.0.0.1:1",
      auth: {
        operator,
        ledgerChainId,
        isCaller: async () => {
          ledgerReads++;
          return false;
        },
        lookupsPerSecond: 2,
        lookupBurst: 10,
      },
    });
  });

  afterAll(async () => {
    await node?.close();
  });

  it("2,000 tokens from fresh addresses cost a bounded number of ledger reads; the rest get 429", async () => {
    const started = performance.now();
    const statuses = new Map<number, number>();
    const queue = [...forged];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let t = queue.pop(); t !== undefined; t = queue.pop()) {
          const response = await fetch(node.url, {
            method: "POST",
            headers: { "content-type": "application/json", [ACCESS_TOKEN_HEADER]: t },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
          });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    const seconds = Math.ceil((performance.now() - started) / 1000);
    // The burst, then two a second for as long as the flood lasted.
    expect(ledgerReads).toBeLessThanOrEqual(10 + 2 * seconds);
    expect(statuses.get(401)).toBe(ledgerReads);
    expect(statuses.get(429)).toBe(forgedCount - ledgerReads);
    expect(node.stats()).toMatchObject({ requests: 0, rateLimited: forgedCount - ledgerReads });
  });
});

describe("caller authenticator under a flood", () => {
  it("keeps at most maxCachedRoles answers and a bounded read rate, from however many sources", async () => {
    const started = performance.now();
    let reads = 0;
    const authenticate = createCallerAuthenticator({
      operator,
      ledgerChainId,
      isCaller: async () => {
        reads++;
        return false;
      },
      maxCachedRoles: 100,
      maxTrackedSources: 50,
    });
    for (const [index, t] of forged.entries()) {
      const verdict = await authenticate(t, `198.51.100.${index % 200}`);
      expect(verdict.ok).toBe(false);
      expect(authenticate.cachedRoles()).toBeLessThanOrEqual(100);
    }
    // Evicted sources start over with a full burst; the total rate (20 a second) holds regardless.
    const seconds = Math.ceil((performance.now() - started) / 1000);
    expect(reads).toBeLessThanOrEqual(20 + 20 * seconds);
  });

  it("checks the token before any ledger read", async () => {
    let reads = 0;
    const authenticate = createCallerAuthenticator({
      operator,
      ledgerChainId,
      isCaller: async () => {
        reads++;
        return true;
      },
    });
    const [t] = forged as [string];
    const [prefix, payload] = t.split(".");
    const badSignature = `${prefix}.${payload}.0x${"11".repeat(65)}`;
    for (const bad of [undefined, "garbage", badSignature, `${t}x`]) {
      expect((await authenticate(bad, "203.0.113.1")).ok).toBe(false);
    }
    expect(reads).toBe(0);
  });
});

describe("CallerRoles", () => {
  const address = `0x${"0b".repeat(20)}` as Address;
  const roles = (isCaller: (address: Address) => Promise<boolean>, now = Date.now) =>
    new CallerRoles({
      isCaller,
      maxEntries: 10,
      ttlMs: 1_000,
      maxConcurrentLookups: 64,
      limiter: new SourceRateLimiter({ perSecond: 1, burst: 1, maxSources: 10, now }),
      totalLimiter: new SourceRateLimiter({ perSecond: 100, burst: 100, maxSources: 1, now }),
      now,
    });

  it("makes concurrent identical lookups once", async () => {
    let reads = 0;
    let answer: (admitted: boolean) => void = () => {};
    const answered = new Promise<boolean>((resolve) => {
      answer = resolve;
    });
    const cache = roles(async () => {
      reads++;
      return answered;
    });
    // All twenty ask while the one read is still unanswered.
    const asked = Array.from({ length: 20 }, () => cache.check(address, "gateway", "a"));
    answer(true);
    const answers = await Promise.all(asked);
    expect(answers).toEqual(Array(20).fill("admitted"));
    expect(reads).toBe(1);
  });

  it("remembers refusals for the TTL, then asks again", async () => {
    let clock = 0;
    let reads = 0;
    const cache = roles(
      async () => {
        reads++;
        return false;
      },
      () => clock,
    );
    expect(await cache.check(address, "watcher", "a")).toBe("refused");
    expect(await cache.check(address, "watcher", "b")).toBe("refused");
    expect(reads).toBe(1);
    clock += 1_000;
    expect(await cache.check(address, "watcher", "a")).toBe("refused");
    expect(reads).toBe(2);
  });

  it("rate-limits reads of unknown addresses per source, but not an admitted caller's renewal", async () => {
    let clock = 0;
    const admitted = new Set<string>([address]);
    const cache = roles(
      async (who) => admitted.has(who),
      () => clock,
    );
    expect(await cache.check(address, "gateway", "flooder")).toBe("admitted");
    // The flooder's only token is spent: a stranger from it is not looked up.
    const stranger = `0x${"0c".repeat(20)}` as Address;
    expect(await cache.check(stranger, "gateway", "flooder")).toBe("rate-limited");
    clock += 1_000;
    // The admitted gateway's answer expired: renewing it costs the source nothing.
    expect(await cache.check(address, "gateway", "flooder")).toBe("admitted");
    expect(await cache.check(stranger, "gateway", "flooder")).toBe("refused");
  });

  it("does not remember a failed read", async () => {
    let fail = true;
    const cache = roles(async () => {
      if (fail) throw new Error("ledger down");
      return true;
    });
    await expect(cache.check(address, "gateway", "a")).rejects.toThrow(/ledger down/);
    fail = false;
    expect(cache.size).toBe(0);
  });
});
