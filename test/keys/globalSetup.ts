// vitest globalSetup: one Redis and one PostgreSQL for every test file that needs them, stopped at the
// end (see services.ts for where their binaries come from). When they cannot start, the reason is provided
// instead of URLs, so the tests that need them fail saying why, and every other test still runs.
import type { TestProject } from "vitest/node";
import { type RunningService, startPostgres, startRedis } from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    keysServices: { redisUrl: string; postgresUrl: string } | { error: string };
  }
}

let running: RunningService[] = [];

export async function setup(project: TestProject): Promise<void> {
  try {
    const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    running = [redis, postgres];
    project.provide("keysServices", { redisUrl: redis.url, postgresUrl: postgres.url });
  } catch (error) {
    project.provide("keysServices", { error: (error as Error).message });
  }
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((service) => service.stop()));
  running = [];
}
