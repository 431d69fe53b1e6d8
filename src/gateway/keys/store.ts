/**
 * Projects, API keys and hourly usage in SQL (PGlite or PostgreSQL, same statements). The API key itself
 * is a public identifier (it travels in URLs); its optional secret is stored only as a SHA-256 hash —
 * secrets are 32 random bytes, so a fast hash is as strong as a slow one and keeps verification cheap.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Allowlists, emptyAllowlists } from "./allowlist.js";
import type { SqlDatabase, SqlExecutor } from "./database.js";

export interface Project {
  id: string;
  name: string;
  createdAt: Date;
}

export interface JwtPublicKey {
  /** Matched against the token's `kid` header when the token has one. */
  id: string;
  /** PEM of an RSA or EC (P-256) public key. */
  pem: string;
}

export interface KeyLimits {
  /** Credits per second; null = unlimited. */
  creditsPerSecond: number | null;
  /** Credits per UTC day; null = unlimited. */
  creditsPerDay: number | null;
}

export interface ApiKeyRecord {
  key: string;
  projectId: string;
  name: string;
  /** `sha256:<hex>` of the secret, or null when the key has none. */
  secretHash: string | null;
  /** Refuse requests that do not carry the secret. */
  secretRequired: boolean;
  /** Refuse requests without a valid JWT signed by one of `jwtPublicKeys` (the secret also admits). */
  jwtRequired: boolean;
  jwtPublicKeys: JwtPublicKey[];
  allowlists: Allowlists;
  limits: KeyLimits;
  createdAt: Date;
  /** When the key stops working (a rotation may set it in the future); null while active. */
  revokedAt: Date | null;
  /** The key that replaced this one by rotation. */
  rotatedTo: string | null;
  version: number;
}

export interface NewKey {
  projectId: string;
  name: string;
  /** Issue a secret (returned once, stored hashed). @default false */
  withSecret?: boolean;
  secretRequired?: boolean;
  jwtRequired?: boolean;
  jwtPublicKeys?: JwtPublicKey[];
  allowlists?: Allowlists;
  limits: KeyLimits;
}

export type KeyChanges = Partial<
  Pick<ApiKeyRecord, "name" | "secretRequired" | "jwtRequired" | "jwtPublicKeys" | "allowlists">
> & { limits?: Partial<KeyLimits> };

export interface UsageIncrement {
  key: string;
  projectId: string;
  network: string;
  method: string;
  /** Start of the UTC hour. */
  hour: Date;
  requests: number;
  credits: number;
  errors: number;
}

export interface UsageQuery {
  key?: string | undefined;
  projectId?: string | undefined;
  network?: string | undefined;
  method?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Dimensions to keep; the others are summed over. @default ["key","network","method","hour"] */
  groupBy?: readonly UsageDimension[] | undefined;
}

export type UsageDimension = "key" | "project" | "network" | "method" | "hour" | "day";

export interface UsageRow {
  key?: string;
  project?: string;
  network?: string;
  method?: string;
  hour?: string;
  day?: string;
  requests: number;
  credits: number;
  errors: number;
}

interface KeyRow {
  key: string;
  project_id: string;
  name: string;
  secret_hash: string | null;
  secret_required: boolean;
  jwt_required: boolean;
  jwt_public_keys: JwtPublicKey[] | string;
  allowlists: Partial<Allowlists> | string;
  credits_per_second: number | string | null;
  credits_per_day: number | string | null;
  created_at: Date | string;
  revoked_at: Date | string | null;
  rotated_to: string | null;
  version: number | string;
}

const keyColumns =
  "key, project_id, name, secret_hash, secret_required, jwt_required, jwt_public_keys, allowlists, credits_per_second, credits_per_day, created_at, revoked_at, rotated_to, version";

export class KeyStore {
  constructor(readonly db: SqlDatabase) {}

  async createProject(name: string): Promise<Project> {
    const id = `p_${randomBytes(8).toString("hex")}`;
    const rows = await this.db.query<{ id: string; name: string; created_at: Date | string }>(
      "INSERT INTO din_projects (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
      [id, name],
    );
    return toProject(rows[0]!);
  }

  async listProjects(): Promise<Project[]> {
    const rows = await this.db.query<{ id: string; name: string; created_at: Date | string }>(
      "SELECT id, name, created_at FROM din_projects ORDER BY created_at, id",
    );
    return rows.map(toProject);
  }

  /** A project by id or by name. */
  async findProject(idOrName: string): Promise<Project | undefined> {
    const rows = await this.db.query<{ id: string; name: string; created_at: Date | string }>(
      "SELECT id, name, created_at FROM din_projects WHERE id = $1 OR name = $1 LIMIT 1",
      [idOrName],
    );
    return rows[0] ? toProject(rows[0]) : undefined;
  }

  /** Creates a key; the secret, when one is issued, is returned here and never again. */
  async createKey(input: NewKey): Promise<{ record: ApiKeyRecord; secret: string | undefined }> {
    return this.db.transaction((tx) => insertKey(tx, input));
  }

  async getKey(key: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.db.query<KeyRow>(`SELECT ${keyColumns} FROM din_api_keys WHERE key = $1`, [key]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async listKeys(projectId?: string): Promise<ApiKeyRecord[]> {
    const rows = projectId
      ? await this.db.query<KeyRow>(
          `SELECT ${keyColumns} FROM din_api_keys WHERE project_id = $1 ORDER BY created_at, key`,
          [projectId],
        )
      : await this.db.query<KeyRow>(`SELECT ${keyColumns} FROM din_api_keys ORDER BY created_at, key`);
    return rows.map(toRecord);
  }

  async updateKey(key: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<KeyRow>(
        `SELECT ${keyColumns} FROM din_api_keys WHERE key = $1 FOR UPDATE`,
        [key],
      );
      if (!rows[0]) return undefined;
      const current = toRecord(rows[0]);
      const limits = { ...current.limits, ...changes.limits };
      const updated = await tx.query<KeyRow>(
        `UPDATE din_api_keys SET name = $2, secret_required = $3, jwt_required = $4, jwt_public_keys = $5,
           allowlists = $6, credits_per_second = $7, credits_per_day = $8, version = nextval('din_api_key_version')
         WHERE key = $1 RETURNING ${keyColumns}`,
        [
          key,
          changes.name ?? current.name,
          changes.secretRequired ?? current.secretRequired,
          changes.jwtRequired ?? current.jwtRequired,
          JSON.stringify(changes.jwtPublicKeys ?? current.jwtPublicKeys),
          JSON.stringify(changes.allowlists ?? current.allowlists),
          limits.creditsPerSecond,
          limits.creditsPerDay,
        ],
      );
      return toRecord(updated[0]!);
    });
  }

  /** Revokes a key now (or keeps an earlier revocation); undefined when there is no such key. */
  async revokeKey(key: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.db.query<KeyRow>(
      `UPDATE din_api_keys SET revoked_at = LEAST(COALESCE(revoked_at, now()), now()),
         version = nextval('din_api_key_version')
       WHERE key = $1 RETURNING ${keyColumns}`,
      [key],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Replaces a key by a new one with the same project, settings and (when it had one) a new secret; the
   * old key keeps working for `graceSeconds` so deployed clients can be switched over.
   */
  async rotateKey(
    key: string,
    graceSeconds = 0,
  ): Promise<{ record: ApiKeyRecord; secret: string | undefined; previous: ApiKeyRecord } | undefined> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<KeyRow>(
        `SELECT ${keyColumns} FROM din_api_keys WHERE key = $1 FOR UPDATE`,
        [key],
      );
      if (!rows[0]) return undefined;
      const old = toRecord(rows[0]);
      if (old.revokedAt !== null && old.revokedAt.getTime() <= Date.now()) {
        throw new KeyStateError(`key ${key} is revoked; a revoked key cannot be rotated`);
      }
      const created = await insertKey(tx, {
        projectId: old.projectId,
        name: old.name,
        withSecret: old.secretHash !== null,
        secretRequired: old.secretRequired,
        jwtRequired: old.jwtRequired,
        jwtPublicKeys: old.jwtPublicKeys,
        allowlists: old.allowlists,
        limits: old.limits,
      });
      const previous = await tx.query<KeyRow>(
        `UPDATE din_api_keys SET revoked_at = now() + make_interval(secs => $2), rotated_to = $3,
           version = nextval('din_api_key_version')
         WHERE key = $1 RETURNING ${keyColumns}`,
        [key, graceSeconds, created.record.key],
      );
      return { ...created, previous: toRecord(previous[0]!) };
    });
  }

  /** Keys changed after `version` (a little overlap is re-read: concurrent writers may commit out of order). */
  async keysChangedSince(version: number): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query<KeyRow>(
      `SELECT ${keyColumns} FROM din_api_keys WHERE version > $1 ORDER BY version`,
      [Math.max(0, version - 64)],
    );
    return rows.map(toRecord);
  }

  /** Adds usage counters, creating rows as needed. Increments must be unique per (key, network, method, hour). */
  async addUsage(increments: readonly UsageIncrement[]): Promise<void> {
    for (let start = 0; start < increments.length; start += 500) {
      const chunk = increments.slice(start, start + 500);
      const values: string[] = [];
      const params: unknown[] = [];
      for (const row of chunk) {
        const base = params.length;
        values.push(
          `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, $${base + 8})`,
        );
        params.push(
          row.key,
          row.projectId,
          row.network,
          row.method,
          row.hour.toISOString(),
          row.requests,
          row.credits,
          row.errors,
        );
      }
      await this.db.query(
        `INSERT INTO din_usage_hourly (key, project_id, network, method, hour, requests, credits, errors)
         VALUES ${values.join(", ")}
         ON CONFLICT (key, network, method, hour) DO UPDATE SET
           requests = din_usage_hourly.requests + EXCLUDED.requests,
           credits = din_usage_hourly.credits + EXCLUDED.credits,
           errors = din_usage_hourly.errors + EXCLUDED.errors`,
        params,
      );
    }
  }

  async queryUsage(query: UsageQuery): Promise<UsageRow[]> {
    const groupBy = query.groupBy ?? ["key", "network", "method", "hour"];
    const dimensions: Record<UsageDimension, string> = {
      key: "key",
      project: "project_id",
      network: "network",
      method: "method",
      hour: "to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')",
      day: "to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    };
    const where: string[] = [];
    const params: unknown[] = [];
    const filter = (column: string, operator: string, value: unknown) => {
      params.push(value);
      where.push(`${column} ${operator} $${params.length}`);
    };
    if (query.key !== undefined) filter("key", "=", query.key);
    if (query.projectId !== undefined) filter("project_id", "=", query.projectId);
    if (query.network !== undefined) filter("network", "=", query.network);
    if (query.method !== undefined) filter("method", "=", query.method);
    if (query.from !== undefined) filter("hour", ">=", query.from.toISOString());
    if (query.to !== undefined) filter("hour", "<", query.to.toISOString());
    const selected = groupBy.map((dimension) => `${dimensions[dimension]} AS "${dimension}"`);
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT ${[...selected, "SUM(requests)::float8 AS requests", "SUM(credits)::float8 AS credits", "SUM(errors)::float8 AS errors"].join(", ")}
       FROM din_usage_hourly ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ${groupBy.length ? `GROUP BY ${groupBy.map((_, index) => index + 1).join(", ")} ORDER BY ${groupBy.map((_, index) => index + 1).join(", ")}` : ""}`,
      params,
    );
    return rows
      .filter((row) => row.requests !== null)
      .map((row) => {
        const out: UsageRow = {
          requests: Number(row.requests),
          credits: Number(row.credits),
          errors: Number(row.errors),
        };
        for (const dimension of groupBy) out[dimension] = String(row[dimension]);
        return out;
      });
  }
}

/** A key operation that the key's state forbids (rotating a revoked key). */
export class KeyStateError extends Error {
  override name = "KeyStateError";
}

async function insertKey(
  tx: SqlExecutor,
  input: NewKey,
): Promise<{ record: ApiKeyRecord; secret: string | undefined }> {
  const key = randomBytes(16).toString("hex");
  const secret = input.withSecret ? randomBytes(32).toString("base64url") : undefined;
  const rows = await tx.query<KeyRow>(
    `INSERT INTO din_api_keys (key, project_id, name, secret_hash, secret_required, jwt_required,
       jwt_public_keys, allowlists, credits_per_second, credits_per_day)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${keyColumns}`,
    [
      key,
      input.projectId,
      input.name,
      secret === undefined ? null : hashSecret(secret),
      input.secretRequired ?? false,
      input.jwtRequired ?? false,
      JSON.stringify(input.jwtPublicKeys ?? []),
      JSON.stringify(input.allowlists ?? emptyAllowlists),
      input.limits.creditsPerSecond,
      input.limits.creditsPerDay,
    ],
  );
  return { record: toRecord(rows[0]!), secret };
}

export function hashSecret(secret: string): string {
  return `sha256:${createHash("sha256").update(secret).digest("hex")}`;
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, secretHash: string | null): boolean {
  if (secretHash === null) return false;
  const presented = Buffer.from(hashSecret(secret));
  const stored = Buffer.from(secretHash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function toProject(row: { id: string; name: string; created_at: Date | string }): Project {
  return { id: row.id, name: row.name, createdAt: new Date(row.created_at) };
}

function toRecord(row: KeyRow): ApiKeyRecord {
  const allowlists = (typeof row.allowlists === "string" ? JSON.parse(row.allowlists) : row.allowlists) as
    | Partial<Allowlists>
    | undefined;
  return {
    key: row.key,
    projectId: row.project_id,
    name: row.name,
    secretHash: row.secret_hash,
    secretRequired: row.secret_required,
    jwtRequired: row.jwt_required,
    jwtPublicKeys: (typeof row.jwt_public_keys === "string"
      ? JSON.parse(row.jwt_public_keys)
      : row.jwt_public_keys) as JwtPublicKey[],
    allowlists: { ...emptyAllowlists, ...allowlists },
    limits: {
      creditsPerSecond: row.credits_per_second === null ? null : Number(row.credits_per_second),
      creditsPerDay: row.credits_per_day === null ? null : Number(row.credits_per_day),
    },
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    rotatedTo: row.rotated_to,
    version: Number(row.version),
  };
}
