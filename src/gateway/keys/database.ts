/**
 * The gateway's SQL database: embedded PGlite in a data directory by default, PostgreSQL when a URL is
 * given. Both speak the same SQL through one small interface, so every query and migration runs the same
 * code path on either.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

export interface SqlExecutor {
  /** Runs one statement with `$1…` parameters and returns its rows. */
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: "pglite" | "postgres";
  /** Runs `work` in one transaction; rolls back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection URL (`postgres://user:pass@host:5432/db`); when set, `dataDir` is ignored. */
  url?: string | undefined;
  /** Directory of the embedded PGlite database; `undefined` keeps it in memory (tests). */
  dataDir?: string | undefined;
  /** Connections of the PostgreSQL pool. @default 5 */
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<SqlDatabase> {
  return options.url ? openPostgres(options.url, options.poolSize ?? 5) : openPglite(options.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<SqlDatabase> {
  const { PGlite } = await import("@electric-sql/pglite");
  if (dataDir !== undefined) mkdirSync(resolve(dataDir), { recursive: true });
  const db = await PGlite.create(dataDir === undefined ? undefined : resolve(dataDir));
  return {
    kind: "pglite",
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await db.query<Row>(text, params as unknown[]);
      return result.rows;
    },
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>) {
      return db.transaction((tx) =>
        work({
          async query<Row>(text: string, params: readonly unknown[] = []) {
            return (await tx.query<Row>(text, params as unknown[])).rows;
          },
        }),
      );
    },
    async close() {
      await db.close();
    },
  };
}

async function openPostgres(url: string, poolSize: number): Promise<SqlDatabase> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not take the gateway down; the pool replaces it.
  pool.on("error", () => undefined);
  const client = await pool.connect().catch((error: Error) => {
    void pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${error.message}`);
  });
  client.release();
  return {
    kind: "postgres",
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await pool.query(text, params as unknown[]);
      return result.rows as Row[];
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>) {
      const connection = await pool.connect();
      try {
        await connection.query("BEGIN");
        const value = await work({
          async query<Row>(text: string, params: readonly unknown[] = []) {
            return (await connection.query(text, params as unknown[])).rows as Row[];
          },
        });
        await connection.query("COMMIT");
        return value;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** A URL safe to log: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}
