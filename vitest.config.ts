import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Contracts are rebuilt when their sources changed; PostgreSQL and Redis start for the keys tests.
    globalSetup: ["test/ledger/globalSetup.ts", "test/keys/globalSetup.ts"],
  },
});
