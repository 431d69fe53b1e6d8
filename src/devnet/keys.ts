// API keys of the local network: `din up` runs its gateway with keys on, an admin token in the data
// dir (mode 0600, read by `din keys` and `din usage`), and one project "devnet" with a key whose URL it
// prints. The key is reused across restarts on the same data dir, so a wallet configured once keeps working.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { KeysConfig } from "../gateway/keys/config.js";
import type { Gateway } from "../gateway/server.js";

export const devnetProject = "devnet";
export const devnetKeyName = "din up";

export function adminTokenFile(dataDir: string): string {
  return join(resolve(dataDir), "admin-token");
}

/** The admin token of a data dir, created (0600) on first use. */
export function ensureAdminToken(dataDir: string): string {
  const file = adminTokenFile(dataDir);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  }
  mkdirSync(resolve(dataDir), { recursive: true });
  const token = randomBytes(32).toString("hex");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The keys section of the local gateway's configuration. */
export function devnetKeysConfig(dataDir: string): Partial<KeysConfig> {
  ensureAdminToken(dataDir);
  return {
    enabled: true,
    dataDir: join(resolve(dataDir), "gateway-db"),
    adminTokenFile: adminTokenFile(dataDir),
    usageFlushIntervalMs: 2_000,
  };
}

/** The devnet project's key, created on the first `din up` of a data dir. */
export async function ensureDevnetKey(gateway: Gateway): Promise<string> {
  const keys = gateway.keys;
  if (!keys) throw new Error("the local gateway runs without keys");
  const project =
    (await keys.store.findProject(devnetProject)) ?? (await keys.store.createProject(devnetProject));
  const now = Date.now();
  const existing = (await keys.store.listKeys(project.id)).find(
    (record) =>
      record.name === devnetKeyName && (record.revokedAt === null || record.revokedAt.getTime() > now),
  );
  if (existing) return existing.key;
  const { record } = await keys.store.createKey({
    projectId: project.id,
    name: devnetKeyName,
    limits: { creditsPerSecond: null, creditsPerDay: null },
  });
  await keys.registry.changed();
  return record.key;
}
