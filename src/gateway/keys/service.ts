/**
 * Keys as one service of the gateway: the database (migrated on start), the key registry, the credit
 * limiter (memory or Redis), the usage recorder, the admission stage and the admin API, started and
 * stopped together. A clean stop writes every pending usage counter.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { createAdminHandler } from "./admin.js";
import { type AdmitBody, type ClientCredentials, KeyAdmission } from "./admission.js";
import type { KeysConfig } from "./config.js";
import { creditTable } from "./credits.js";
import { openDatabase, type SqlDatabase } from "./database.js";
import { type CreditLimiter, memoryLimiter, redisLimiter } from "./limiter.js";
import { migrate } from "./migrations.js";
import { connectRedis, type RedisLink } from "./redis.js";
import { KeyRegistry } from "./registry.js";
import { KeyStore } from "./store.js";
import { UsageRecorder } from "./usage.js";

export interface KeyService {
  store: KeyStore;
  registry: KeyRegistry;
  admission: KeyAdmission;
  usage: UsageRecorder;
  /** The admission hook of one client request, for `answerBody`. */
  admitter(client: ClientCredentials): AdmitBody;
  /** Serves `/admin/…`. */
  admin(request: IncomingMessage, response: ServerResponse, path: string): Promise<void>;
  close(): Promise<void>;
}

export async function startKeyService(
  config: KeysConfig,
  options: {
    logger: Logger;
    /** Prometheus registry for the keys' metrics (the gateway's, served on /metrics). */
    registry?: Registry | undefined;
  },
): Promise<KeyService> {
  const { logger } = options;
  const registers = options.registry ? [options.registry] : [];
  const refusals = new Counter({
    name: "din_key_refusals_total",
    help: "Requests refused by the admission stage, by the rule that refused (apiKey, secret, jwt, origins, userAgents, methods, contracts, creditsPerSecond, creditsPerDay)",
    labelNames: ["rule"] as const,
    registers,
  });
  const credits = new Counter({
    name: "din_key_credits_total",
    help: "Credits charged to API keys, by network",
    labelNames: ["network"] as const,
    registers,
  });
  const flushes = new Counter({
    name: "din_usage_flushes_total",
    help: "Writes of usage counters to the database, by result (ok, failed)",
    labelNames: ["result"] as const,
    registers,
  });
  const adminToken = readAdminToken(config);
  if (adminToken === undefined) {
    logger.warn(
      "keys are on but the admin API is off: set keys.adminToken, keys.adminTokenFile or DIN_ADMIN_TOKEN",
    );
  }
  let db: SqlDatabase | undefined;
  let redis: RedisLink | undefined;
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ applied, database: db.kind }, "gateway database migrated");
    if (config.redisUrl !== undefined) redis = await connectRedis(config.redisUrl, logger);
  } catch (error) {
    await redis?.close();
    await db?.close().catch(() => undefined);
    throw error;
  }
  const store = new KeyStore(db);
  const registry = new KeyRegistry(store, { syncIntervalMs: config.syncIntervalMs, redis, logger });
  await registry.start();
  const limiter: CreditLimiter = redis ? redisLimiter(redis.commands, { logger }) : memoryLimiter();
  const usage = new UsageRecorder(store, {
    flushIntervalMs: config.usageFlushIntervalMs,
    logger,
    onFlush: (ok) => flushes.inc({ result: ok ? "ok" : "failed" }),
  });
  usage.start();
  const admission = new KeyAdmission(registry, limiter, creditTable(config.credits), usage, {
    refused: (rule) => refusals.inc({ rule }),
    charged: (network, amount) => credits.inc({ network }, amount),
  });
  const admin = createAdminHandler({
    store,
    registry,
    usage,
    adminToken,
    defaultLimits: config.defaultLimits,
    logger,
  });
  let closed: Promise<void> | undefined;
  return {
    store,
    registry,
    admission,
    usage,
    admitter: (client) => admission.admitter(client),
    admin,
    close() {
      closed ??= (async () => {
        registry.stop();
        await usage.close();
        await limiter.close();
        await redis?.close();
        await db.close();
      })();
      return closed;
    },
  };
}

function readAdminToken(config: KeysConfig): string | undefined {
  if (config.adminToken !== undefined) return config.adminToken;
  if (config.adminTokenFile !== undefined) {
    let token: string;
    try {
      token = readFileSync(config.adminTokenFile, "utf8").split("\n")[0]!.trim();
    } catch (error) {
      throw new Error(
        `cannot read keys.adminTokenFile ${config.adminTokenFile}: ${(error as Error).message}`,
      );
    }
    if (token.length < 16)
      throw new Error(`the admin token in ${config.adminTokenFile} is shorter than 16 characters`);
    return token;
  }
  const fromEnv = process.env.DIN_ADMIN_TOKEN;
  return fromEnv !== undefined && fromEnv.length >= 16 ? fromEnv : undefined;
}
