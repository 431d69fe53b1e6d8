/**
 * Versioned schema migrations of the gateway database. They run on start, in one transaction under an
 * advisory lock, so several gateways starting together on one PostgreSQL apply each migration once.
 * Append new migrations; never edit one that has shipped.
 */
import type { SqlDatabase } from "./database.js";

export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "projects, api keys, hourly usage",
    statements: [
      `CREATE TABLE din_projects (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      // Every change to a key takes the next value, so gateways sync what changed since the last they saw.
      "CREATE SEQUENCE din_api_key_version",
      `CREATE TABLE din_api_keys (
        key text PRIMARY KEY,
        project_id text NOT NULL REFERENCES din_projects(id),
        name text NOT NULL,
        secret_hash text,
        secret_required boolean NOT NULL DEFAULT false,
        jwt_required boolean NOT NULL DEFAULT false,
        jwt_public_keys jsonb NOT NULL DEFAULT '[]',
        allowlists jsonb NOT NULL DEFAULT '{}',
        credits_per_second bigint,
        credits_per_day bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        rotated_to text,
        version bigint NOT NULL DEFAULT nextval('din_api_key_version')
      )`,
      "CREATE INDEX din_api_keys_version ON din_api_keys (version)",
      "CREATE INDEX din_api_keys_project ON din_api_keys (project_id)",
      `CREATE TABLE din_usage_hourly (
        key text NOT NULL,
        project_id text NOT NULL,
        network text NOT NULL,
        method text NOT NULL,
        hour timestamptz NOT NULL,
        requests bigint NOT NULL DEFAULT 0,
        credits bigint NOT NULL DEFAULT 0,
        errors bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key, network, method, hour)
      )`,
      "CREATE INDEX din_usage_hourly_project ON din_usage_hourly (project_id, hour)",
    ],
  },
];

/** Applies the migrations this database has not seen; returns the versions applied. */
export async function migrate(db: SqlDatabase, all: readonly Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    // Fixed lock id (arbitrary, "DIN" in ASCII): serialises concurrent starts on one PostgreSQL.
    await tx.query("SELECT pg_advisory_xact_lock(4475214)");
    await tx.query(`CREATE TABLE IF NOT EXISTS din_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>("SELECT version FROM din_schema_migrations");
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of [...all].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query("INSERT INTO din_schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
