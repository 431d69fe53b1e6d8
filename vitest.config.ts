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
  "test/devnet/client.test.ts",
  "test/devnet/journeys.test.ts",
  "test/dashboard/dashboard.test.ts",
  "test/watcher/watcher.test.ts",
];

// A test's timeout guards against a hang, never measures speed: tests that drive the CLI spawn a dozen
// processes of a few seconds each, which on a loaded 2-core machine takes minutes.
const common = {
  testTimeout: 180_000,
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
          // Redis and Chromium are installed when missing (as root); contracts are rebuilt when their
          // sources changed; PostgreSQL and Redis start for the keys tests.
          globalSetup: [
            "test/support/systemPackages.ts",
            "test/ledger/globalSetup.ts",
            "test/keys/globalSetup.ts",
          ],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...common,
          name: "network",
          include: wholeNetwork,
          // The dashboard's browser test loads the page built from the current sources in Chromium.
          globalSetup: [
            "test/support/systemPackages.ts",
            "test/ledger/globalSetup.ts",
            "test/dashboard/globalSetup.ts",
          ],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
