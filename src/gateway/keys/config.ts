/**
 * The `keys` section of the gateway configuration. Off by default: a gateway without it serves
 * `/v1/<network>` to anyone, as before. Every default lives here, next to its option.
 */
import { z } from "zod";
import { maxMethodCredits } from "./credits.js";

const limit = z.number().int().min(0, "must be 0 or more (null = unlimited)").nullable();

export const keyLimitsSchema = z
  .object({
    /** Credits per second; null = unlimited. @default null */
    creditsPerSecond: limit.default(null),
    /** Credits per UTC day; null = unlimited. @default null */
    creditsPerDay: limit.default(null),
  })
  .strict();

export const keysConfigSchema = z
  .object({
    /** Require an API key on `/v1/<network>/<apiKey>`; off keeps `/v1/<network>` open. @default false */
    enabled: z.boolean().default(false),
    /** PostgreSQL URL (`--database-url`); when absent, embedded PGlite in `dataDir`. */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "a postgres:// or postgresql:// URL")
      .optional(),
    /** Directory of the embedded PGlite database (one gateway process owns it). @default ".din/gateway-db" */
    dataDir: z.string().min(1).default(".din/gateway-db"),
    /** Redis URL (`--redis-url`): limits and quotas shared by every gateway on it. */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, "a redis:// or rediss:// URL")
      .optional(),
    /** Bearer token of the admin API (`/admin/…`); also `adminTokenFile` or env DIN_ADMIN_TOKEN. */
    adminToken: z.string().min(16, "at least 16 characters").optional(),
    /** File holding the admin token (first line). */
    adminTokenFile: z.string().min(1).optional(),
    /** How often each gateway re-reads changed keys (revocations reach it within this). @default 1000 */
    syncIntervalMs: z.number().int().min(50).default(1_000),
    /** How often usage counters are written to the database. @default 5000 */
    usageFlushIntervalMs: z.number().int().min(50).default(5_000),
    /** Credit weight overrides by method or `prefix_*`, integers 0–1,000,000 (docs/keys.md lists the defaults). @default {} */
    credits: z
      .record(
        z.string().regex(/^[A-Za-z0-9_]+\*?$/, "a method name or a prefix ending in *"),
        z.number().int().min(0).max(maxMethodCredits),
      )
      .default({}),
    /** Limits of keys created without explicit ones. @default unlimited */
    defaultLimits: keyLimitsSchema.default({}),
  })
  .strict();

export type KeysConfig = z.output<typeof keysConfigSchema>;
