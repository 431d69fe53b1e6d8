// Gateways with keys on, in front of a real Hardhat chain, and a small client of their admin API.
import pino from "pino";
import { inject } from "vitest";
import { parseGatewayConfig } from "../../src/gateway/config.js";
import type { KeysConfig } from "../../src/gateway/keys/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { type RunningService, startPostgres, startRedis } from "./services.js";

export const adminToken = "keys-test-admin-token-0123456789";

export async function startKeyedGateway(upstreamUrl: string, keys: Partial<KeysConfig>): Promise<Gateway> {
  const config = parseGatewayConfig({
    server: { host: "127.0.0.1", port: 0, logLevel: "silent" },
    health: { headPollMs: 200 },
    keys: { enabled: true, adminToken, syncIntervalMs: 200, usageFlushIntervalMs: 200, ...keys },
    networks: [
      {
        name: "ethereum",
        chainId: 31337,
        upstreams: [
          { id: "node-a", url: upstreamUrl, cloud: "aws", region: "us-east-1" },
          { id: "node-b", url: upstreamUrl, cloud: "gcp", region: "europe-west1" },
        ],
      },
    ],
  });
  return startGateway(config, { logger: pino({ level: "silent" }) });
}

/** Calls the admin API of a gateway; `token: null` sends none. */
export async function admin(
  gateway: { url: string },
  method: string,
  path: string,
  body?: unknown,
  token: string | null = adminToken,
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Creates a project (once) and a key in it; returns the key and its secret if asked for one. */
export async function createKey(
  gateway: { url: string },
  settings: Record<string, unknown> = {},
  project = "tests",
): Promise<{ key: string; secret?: string }> {
  const existing = await admin(gateway, "GET", "/admin/projects");
  // biome-ignore lint/suspicious/noExplicitAny: JSON answer
  if (!existing.json.projects.some((p: any) => p.name === project)) {
    await admin(gateway, "POST", "/admin/projects", { name: project });
  }
  const created = await admin(gateway, "POST", "/admin/keys", { project, ...settings });
  if (created.status !== 201) throw new Error(`key not created: ${JSON.stringify(created.json)}`);
  return { key: created.json.key.key, ...(created.json.secret ? { secret: created.json.secret } : {}) };
}

/**
 * Redis and PostgreSQL URLs: from the keys globalSetup when it runs, else started here for this file.
 * A missing Redis is installed first when we are root, else fails the test with the command that installs it.
 */
export async function sharedServices(): Promise<{
  redisUrl: string;
  postgresUrl: string;
  stop(): Promise<void>;
}> {
  let provided: ReturnType<typeof inject<"keysServices">> | undefined;
  try {
    provided = inject("keysServices");
  } catch {
    provided = undefined;
  }
  if (provided && "redisUrl" in provided) return { ...provided, stop: async () => undefined };
  if (provided && "error" in provided) throw new Error(provided.error);
  const started: RunningService[] = [];
  try {
    const redis = await startRedis();
    started.push(redis);
    const postgres = await startPostgres();
    started.push(postgres);
    return {
      redisUrl: redis.url,
      postgresUrl: postgres.url,
      stop: async () => {
        await Promise.all(started.map((service) => service.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((service) => service.stop()));
    throw error;
  }
}
