// The key store on a real embedded PGlite: migrations, keys, rotation, revocation, usage counters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type SqlDatabase } from "./database.js";
import { migrate, migrations } from "./migrations.js";
import { KeyRegistry } from "./registry.js";
import { KeyStateError, KeyStore, secretMatches } from "./store.js";
import { UsageRecorder } from "./usage.js";

describe("key store on PGlite", () => {
  let db: SqlDatabase;
  let store: KeyStore;
  const unlimited = { creditsPerSecond: null, creditsPerDay: null };

  beforeAll(async () => {
    db = await openDatabase({});
    store = new KeyStore(db);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
  });

  it("applies every migration once, however often it runs", async () => {
    expect(await migrate(db)).toEqual(migrations.map((migration) => migration.version));
    expect(await migrate(db)).toEqual([]);
    const rows = await db.query<{ version: number }>("SELECT version FROM din_schema_migrations");
    expect(rows.map((row) => Number(row.version))).toEqual(migrations.map((migration) => migration.version));
  });

  it("stores a key's secret only as a hash", async () => {
    const project = await store.createProject("secrets");
    const { record, secret } = await store.createKey({
      projectId: project.id,
      name: "backend",
      withSecret: true,
      limits: unlimited,
    });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify(await db.query("SELECT * FROM din_api_keys"));
    expect(dump).not.toContain(secret);
    expect(secretMatches(secret!, record.secretHash)).toBe(true);
    expect(secretMatches(`${secret}x`, record.secretHash)).toBe(false);
  });

  it("bumps a key's version on every change so gateways can sync what changed", async () => {
    const project = await store.createProject("versions");
    const { record } = await store.createKey({ projectId: project.id, name: "a", limits: unlimited });
    const updated = await store.updateKey(record.key, { limits: { creditsPerSecond: 10 } });
    expect(updated!.version).toBeGreaterThan(record.version);
    expect(updated!.limits).toEqual({ creditsPerSecond: 10, creditsPerDay: null });
    const revoked = await store.revokeKey(record.key);
    expect(revoked!.version).toBeGreaterThan(updated!.version);
    expect(revoked!.revokedAt).not.toBeNull();
    const changed = await store.keysChangedSince(updated!.version);
    expect(changed.map((key) => key.key)).toContain(record.key);
  });

  it("rotates a key: same settings, new key and secret, the old one expiring after the grace period", async () => {
    const project = await store.createProject("rotation");
    const { record } = await store.createKey({
      projectId: project.id,
      name: "web",
      withSecret: true,
      allowlists: { contracts: [], origins: ["app.example.com"], userAgents: [], methods: [] },
      limits: { creditsPerSecond: 5, creditsPerDay: 100 },
    });
    const rotated = await store.rotateKey(record.key, 3600);
    expect(rotated!.record.key).not.toBe(record.key);
    expect(rotated!.record.allowlists.origins).toEqual(["app.example.com"]);
    expect(rotated!.record.limits).toEqual(record.limits);
    expect(rotated!.secret).toBeDefined();
    expect(rotated!.previous.rotatedTo).toBe(rotated!.record.key);
    expect(rotated!.previous.revokedAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    await store.revokeKey(rotated!.record.key);
    await expect(store.rotateKey(rotated!.record.key)).rejects.toBeInstanceOf(KeyStateError);
  });

  it("finds a key created elsewhere a moment ago, even right after a sync, with one query for many misses", async () => {
    const registry = new KeyRegistry(store, { syncIntervalMs: 60_000, missSyncMs: 200 });
    await registry.start();
    try {
      const project = await store.createProject("registry");
      const { record } = await store.createKey({ projectId: project.id, name: "late", limits: unlimited });
      await registry.sync(); // a sync has just run: the miss must wait for the next, not refuse
      const other = await store.createKey({ projectId: project.id, name: "later", limits: unlimited });
      expect(registry.get(other.record.key)).toBeUndefined();
      let queries = 0;
      const counted = store.keysChangedSince.bind(store);
      store.keysChangedSince = (version) => {
        queries++;
        return counted(version);
      };
      const found = await Promise.all([
        registry.lookup(other.record.key),
        registry.lookup("0123456789abcdef0123456789abcdef"),
        registry.lookup("fedcba9876543210fedcba9876543210"),
      ]);
      store.keysChangedSince = counted;
      expect(found[0]?.key).toBe(other.record.key);
      expect(found.slice(1)).toEqual([undefined, undefined]);
      expect(queries).toBe(1);
      expect(registry.get(record.key)?.name).toBe("late");
    } finally {
      registry.stop();
    }
  });

  it("adds usage counters per key, network, method and hour, across flushes", async () => {
    const project = await store.createProject("usage");
    const { record } = await store.createKey({ projectId: project.id, name: "u", limits: unlimited });
    const usage = new UsageRecorder(store);
    const hour = Date.UTC(2026, 0, 1, 10, 0, 0);
    usage.record(record, "ethereum", "eth_call", 2, false, hour + 1_000);
    usage.record(record, "ethereum", "eth_call", 2, true, hour + 2_000);
    usage.record(record, "ethereum", "eth_madeUp", 1, true, hour + 3_000);
    await usage.flush();
    usage.record(record, "ethereum", "eth_call", 2, false, hour + 4_000);
    usage.record(record, "polygon", "eth_call", 2, false, hour + 3_600_000);
    await usage.close();
    const rows = await store.queryUsage({ key: record.key });
    expect(rows).toEqual([
      {
        key: record.key,
        network: "ethereum",
        method: "eth_call",
        hour: "2026-01-01T10:00:00Z",
        requests: 3,
        credits: 6,
        errors: 1,
      },
      {
        key: record.key,
        network: "ethereum",
        method: "unknown",
        hour: "2026-01-01T10:00:00Z",
        requests: 1,
        credits: 1,
        errors: 1,
      },
      {
        key: record.key,
        network: "polygon",
        method: "eth_call",
        hour: "2026-01-01T11:00:00Z",
        requests: 1,
        credits: 2,
        errors: 0,
      },
    ]);
    const byDay = await store.queryUsage({ projectId: project.id, groupBy: ["project", "day"] });
    expect(byDay).toEqual([{ project: project.id, day: "2026-01-01", requests: 5, credits: 9, errors: 2 }]);
  });
});
