// Arbitrary method names (every name objects inherit among them) and arbitrary params, as request bodies,
// through parseRequestBody → validateRequest → the credit table → admission with an in-memory limiter →
// usage counters and the per-request metric. Nothing throws, credits are always non-negative integers,
// and what grows with client input (usage rows, metric series, heap) stays bounded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DinError } from "../../rpc/errors.js";
import { type ParsedEntry, parseRequestBody } from "../../rpc/jsonrpc.js";
import { methodTable, validateRequest } from "../../rpc/methods.js";
import { createGatewayMetrics } from "../metrics.js";
import { KeyAdmission } from "./admission.js";
import { emptyAllowlists } from "./allowlist.js";
import { creditTable } from "./credits.js";
import { memoryLimiter } from "./limiter.js";
import type { KeyRegistry } from "./registry.js";
import type { ApiKeyRecord, KeyStore, UsageIncrement } from "./store.js";
import { UsageRecorder } from "./usage.js";

const inherited = [...Object.getOwnPropertyNames(Object.prototype), "__proto__", "prototype"];
const known = [...methodTable.keys()];

const methodName = fc.oneof(
  fc.constantFrom(...inherited),
  fc.constantFrom(...known),
  fc.constantFrom("debug_setHead", "debug_writeMemProfile", "hardhat_setBalance", "evm_mine", "unknown"),
  fc.stringMatching(/^(eth|debug|trace|txpool|admin|x)_[A-Za-z0-9_]{0,20}$/),
  fc.string({ maxLength: 130 }),
);

/** Params as JSON text: absent, arrays and objects of any JSON, and objects with `__proto__` members. */
const paramsText = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }).map((value) => JSON.stringify(value)),
  fc
    .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))
    .map((value) => JSON.stringify(value)),
  fc.constantFrom(
    '{"__proto__":{"method":"eth_sendTransaction"}}',
    '[{"to":"0x00000000000000000000000000000000000000aa","__proto__":{"to":"x"}}]',
    '["0x00000000000000000000000000000000000000aa",{"__proto__":null}]',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
);

const requestText = fc
  .record({ method: methodName, params: paramsText, id: fc.option(fc.nat(), { nil: undefined }) })
  .map(({ method, params, id }) => {
    const fields = [`"jsonrpc":"2.0"`, `"method":${JSON.stringify(method)}`];
    if (params !== undefined) fields.push(`"params":${params}`);
    if (id !== undefined) fields.push(`"id":${id}`);
    return `{${fields.join(",")}}`;
  });

/** Mostly full batches, so 2,000 bodies carry over 100,000 requests. */
const bodyText = fc.oneof(
  { arbitrary: requestText, weight: 1 },
  {
    arbitrary: fc
      .array(requestText, { minLength: 50, maxLength: 100 })
      .map((items) => `[${items.join(",")}]`),
    weight: 9,
  },
);

function keyRecord(key: string, creditsPerSecond: number | null): ApiKeyRecord {
  return {
    key,
    projectId: "project",
    name: "default",
    secretHash: null,
    secretRequired: false,
    jwtRequired: false,
    jwtPublicKeys: [],
    allowlists: emptyAllowlists,
    limits: { creditsPerSecond, creditsPerDay: null },
    createdAt: new Date(0),
    revokedAt: null,
    rotatedTo: null,
    version: 1,
  };
}

describe("admission of arbitrary method names and params", () => {
  it("never throws, charges non-negative integers and keeps usage rows, metric series and heap bounded", async () => {
    const now = 1_700_000_000_000;
    const keys = [keyRecord("limited", 10), keyRecord("unlimited", null)];
    const registry = {
      lookup: async (key: string) => keys.find((k) => k.key === key),
    } as unknown as KeyRegistry;
    const written: UsageIncrement[] = [];
    const store = { addUsage: async (rows: readonly UsageIncrement[]) => void written.push(...rows) };
    const usage = new UsageRecorder(store as unknown as KeyStore);
    const charged: number[] = [];
    const admission = new KeyAdmission(
      registry,
      memoryLimiter(() => now),
      creditTable(),
      usage,
      {
        refused: () => undefined,
        charged: (_network, credits) => charged.push(credits),
      },
    );
    const credits = creditTable();
    const metrics = createGatewayMetrics();
    let requests = 0;
    let round = 0;
    const gc = (globalThis as { gc?: () => void }).gc;
    const heapNow = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };

    const run = async (text: string) => {
      const parsed = parseRequestBody(text);
      if (!parsed.ok) {
        expect(parsed.error).toBeInstanceOf(DinError);
        return;
      }
      for (const entry of parsed.entries) {
        requests++;
        if (!entry.ok) continue;
        const refusal = validateRequest(entry.request);
        if (refusal !== undefined) expect(refusal).toBeInstanceOf(DinError);
        const weight = credits(entry.request.method);
        expect(Number.isSafeInteger(weight) && weight >= 0).toBe(true);
        metrics.hot.request("ethereum", entry.request.method, refusal ? "rejected" : "ok").inc();
      }
      const client = { network: "ethereum", apiKey: keys[round++ % keys.length]!.key };
      const admitted = await admission.admit(client, parsed.batch, parsed.entries as ParsedEntry[], now);
      if (admitted.ok) admitted.settle(admitted.entries.map(() => undefined));
      else expect(admitted.error.httpStatus).toBe(429);
    };

    // Warm up (JIT, prom-client children) before the heap is measured.
    for (const text of fc.sample(bodyText, { numRuns: 200, seed: 1 })) await run(text);
    const heapBefore = heapNow();
    await fc.assert(fc.asyncProperty(bodyText, run), { numRuns: 2_000, seed: 7 });
    await usage.flush();
    const heapAfter = heapNow();

    expect(requests).toBeGreaterThan(100_000);
    expect(charged.every((total) => Number.isSafeInteger(total) && total > 0)).toBe(true);
    // One hour, two keys: at most one row per known method, `unknown` and `refused`, per key.
    const rowIds = new Set(written.map((row) => `${row.key}\u0000${row.method}`));
    expect(rowIds.size).toBeLessThanOrEqual(keys.length * (known.length + 2));
    for (const row of written) {
      expect(row.method === "unknown" || row.method === "refused" || methodTable.has(row.method)).toBe(true);
      expect(Number.isSafeInteger(row.credits) && row.credits >= 0).toBe(true);
    }
    const series = (await metrics.requests.get()).values;
    expect(series.length).toBeLessThanOrEqual((known.length + 2) * 2);
    for (const { labels } of series) {
      const method = String(labels.method);
      expect(method === "unknown" || method === "invalid" || methodTable.has(method)).toBe(true);
    }
    // With --expose-gc the heap is measured after collection; 100,000 requests must not keep ~100 bytes each.
    if (gc) expect(heapAfter - heapBefore).toBeLessThan(10 * 1024 * 1024);
  }, 300_000);
});
