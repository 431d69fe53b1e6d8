// Names every JavaScript object inherits (`constructor`, `toString`, `__proto__`…) sent as JSON-RPC
// methods, through every stage that looks a method up: parsing, validation, the method table, the credit
// table, admission and the usage writer on a real PGlite. None may be found, cost `undefined` or NaN credits,
// skip the limiter, or poison a usage write.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcErrorCode } from "../../rpc/errors.js";
import { type JsonRpcRequest, type ParsedEntry, parseRequestBody } from "../../rpc/jsonrpc.js";
import { methodSpec, unknownMethodLabel, validateRequest } from "../../rpc/methods.js";
import { KeyAdmission } from "./admission.js";
import { emptyAllowlists } from "./allowlist.js";
import { creditTable, unknownMethodCredits } from "./credits.js";
import { openDatabase, type SqlDatabase } from "./database.js";
import { memoryLimiter } from "./limiter.js";
import { migrate } from "./migrations.js";
import type { KeyRegistry } from "./registry.js";
import { type ApiKeyRecord, KeyStore } from "./store.js";
import { refusedUsageLabel, UsageRecorder } from "./usage.js";

const inherited = [...Object.getOwnPropertyNames(Object.prototype), "__proto__", "prototype"];

const call = (method: string, id: number): JsonRpcRequest => ({ jsonrpc: "2.0", id, method, params: [] });

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

/** A registry of fixed keys: admission only ever looks keys up. */
function registryOf(records: ApiKeyRecord[]): KeyRegistry {
  const byKey = new Map(records.map((record) => [record.key, record]));
  return { lookup: async (key: string) => byKey.get(key) } as unknown as KeyRegistry;
}

function entriesOf(body: unknown): { batch: boolean; entries: ParsedEntry[] } {
  const parsed = parseRequestBody(JSON.stringify(body));
  if (!parsed.ok) throw parsed.error;
  return parsed;
}

describe("inherited object names as JSON-RPC methods", () => {
  let db: SqlDatabase;
  let store: KeyStore;

  beforeAll(async () => {
    db = await openDatabase({});
    await migrate(db);
    store = new KeyStore(db);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it("parse as requests that are refused as unknown methods (-32601)", () => {
    for (const name of inherited) {
      const parsed = entriesOf([call(name, 1), { jsonrpc: "2.0", method: name }]);
      expect(parsed.entries).toHaveLength(2);
      for (const entry of parsed.entries) {
        if (!entry.ok) throw new Error(`${name} did not parse`);
        expect(entry.request.method).toBe(name);
        expect(methodSpec(name)).toBeUndefined();
        expect(validateRequest(entry.request)?.code).toBe(RpcErrorCode.MethodNotFound);
      }
    }
  });

  it("cannot replace a request's fields through a __proto__ member", () => {
    const to = "0x00000000000000000000000000000000000000aa";
    const text = `{"jsonrpc":"2.0","id":1,"method":"eth_call","__proto__":{"method":"eth_sendTransaction"},"params":[{"to":"${to}","__proto__":{"to":"nope"}}]}`;
    const parsed = parseRequestBody(text);
    if (!parsed.ok || !parsed.entries[0]!.ok) throw new Error("did not parse");
    expect(parsed.entries[0]!.request.method).toBe("eth_call");
    expect(validateRequest(parsed.entries[0]!.request)).toBeUndefined();
    const missing = parseRequestBody(`{"jsonrpc":"2.0","id":1,"__proto__":{"method":"eth_chainId"}}`);
    if (!missing.ok) throw new Error("did not parse");
    expect(missing.entries[0]!.ok).toBe(false);
  });

  it("cost one credit each, whatever the configured weights", () => {
    const tables = [creditTable(), creditTable({ constructor: 0, toString: 999, "__*": 5, "eth_*": 3 })];
    for (const table of tables) {
      for (const name of inherited) {
        expect(table(name)).toBe(unknownMethodCredits);
      }
    }
  });

  it("are charged against the per-second limit: a 10 credits/s key gets one batch per second", async () => {
    const now = 1_700_000_000_000;
    const attacker = keyRecord("attacker", 10);
    const usage = new UsageRecorder(store);
    const admission = new KeyAdmission(
      registryOf([attacker]),
      memoryLimiter(() => now),
      creditTable(),
      usage,
    );
    const client = { network: "ethereum", apiKey: "attacker" };
    const statuses: number[] = [];
    for (let round = 0; round < 200; round++) {
      const name = round % 2 === 0 ? "constructor" : "toString";
      const body = entriesOf([...Array.from({ length: 99 }, (_, i) => call("eth_call", i)), call(name, 99)]);
      const admitted = await admission.admit(client, body.batch, body.entries, now);
      if (admitted.ok) {
        admitted.settle(admitted.entries.map(() => undefined));
        statuses.push(200);
      } else statuses.push(admitted.error.httpStatus);
    }
    // The first batch runs alone in an empty second (a request dearer than the budget may); no other does.
    expect(statuses[0]).toBe(200);
    expect(statuses.slice(1).every((status) => status === 429)).toBe(true);
    await usage.flush();
    const rows = await store.queryUsage({ key: "attacker", groupBy: ["method"] });
    expect(rows).toEqual([
      { method: "eth_call", requests: 99, credits: 198, errors: 0 },
      { method: refusedUsageLabel, requests: 199 * 100, credits: 0, errors: 199 * 100 },
      { method: unknownMethodLabel, requests: 1, credits: 1, errors: 0 },
    ]);
  });

  it("leave usage writes working for every key afterwards", async () => {
    const usage = new UsageRecorder(store);
    const now = Date.UTC(2030, 0, 1);
    const keys = ["victim-a", "victim-b"].map((key) => keyRecord(key, null));
    for (const name of inherited) {
      for (const key of keys) usage.record(key, "ethereum", name, creditTable()(name), true, now);
    }
    for (const key of keys) usage.record(key, "ethereum", "eth_chainId", 1, false, now);
    expect(usage.pendingRows).toBe(keys.length * 2);
    await usage.flush();
    expect(usage.pendingRows).toBe(0);
    const rows = await store.queryUsage({ from: new Date(now), groupBy: ["key", "method"] });
    expect(rows).toEqual([
      { key: "victim-a", method: "eth_chainId", requests: 1, credits: 1, errors: 0 },
      {
        key: "victim-a",
        method: unknownMethodLabel,
        requests: inherited.length,
        credits: inherited.length,
        errors: inherited.length,
      },
      { key: "victim-b", method: "eth_chainId", requests: 1, credits: 1, errors: 0 },
      {
        key: "victim-b",
        method: unknownMethodLabel,
        requests: inherited.length,
        credits: inherited.length,
        errors: inherited.length,
      },
    ]);
  });

  it("count credits that are not non-negative integers as none rather than fail a write", async () => {
    const usage = new UsageRecorder(store);
    const now = Date.UTC(2031, 0, 1);
    const key = keyRecord("careless", null);
    for (const credits of [Number.NaN, Number.POSITIVE_INFINITY, -1, 0.5]) {
      usage.record(key, "ethereum", "eth_call", credits, false, now);
    }
    await usage.flush();
    expect(usage.pendingRows).toBe(0);
    const rows = await store.queryUsage({ key: "careless", groupBy: ["method"] });
    expect(rows).toEqual([{ method: "eth_call", requests: 4, credits: 0, errors: 0 }]);
  });
});
