import { defineConfig } from "vitest/config";

/**
 * Whole-network scenarios (and the watcher's own) measure what watchers see over real epochs (availability, p50 latency): on a
 * 2-core machine shared with the rest of the suite they would measure the suite instead. They run on their
 * own, one file at a time, after every other test file has finished.
 */
const wholeNetwork = [
  "test/devnet/network.test.ts",
  "test/devnet/drill.test.ts",
  "test/devnet/risk.test.ts",
  "test/devnet/journeys.test.ts",
  "test/dashboard/dashboard.test.ts",
  "test/watcher/watcher.test.ts",
];

const common = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: "forks",
} as const;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...common,
          name: "suite",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["**/node_modules/**", ...wholeNetwork],
          // Contracts are rebuilt when their sources changed; PostgreSQL and Redis start for the keys tests.
          globalSetup: ["test/ledger/globalSetup.ts", "test/keys/globalSetup.ts"],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...common,
          name: "network",
          include: wholeNetwork,
          // The dashboard's browser test loads the page built from the current sources.
          globalSetup: ["test/ledger/globalSetup.ts", "test/dashboard/globalSetup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
