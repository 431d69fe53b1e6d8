// Two gateways on one Redis and one PostgreSQL act as one service: one per-second limit, one daily
// quota, one revocation, one usage table. Redis and PostgreSQL are real (test/keys/globalSetup.ts).
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/gateway/server.js";
import { post, rpc, sleep, waitFor } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { admin, createKey, sharedServices, startKeyedGateway } from "./keyedGateway.js";
import { createDatabase } from "./services.js";

describe("two gateways on one Redis and one PostgreSQL", () => {
  let services: Awaited<ReturnType<typeof sharedServices>>;
  let chain: HardhatServer;
  let gateways: Gateway[] = [];
  let redis: Redis;
  const url = (gateway: Gateway, key: string) => `${gateway.url}/v1/ethereum/${key}`;

  beforeAll(async () => {
    services = await sharedServices();
    const databaseUrl = await createDatabase(services.postgresUrl, `din_shared_${process.pid}`);
    chain = await startHardhatServer();
    // Started together: the migrations' advisory lock lets only one of them create the schema.
    gateways = await Promise.all(
      [0, 1].map(() =>
        startKeyedGateway(chain.url, { databaseUrl, redisUrl: services.redisUrl, syncIntervalMs: 5_000 }),
      ),
    );
    redis = new Redis(services.redisUrl);
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await chain?.close();
    await services?.stop();
  });

  it("serves a key created on one gateway from the other at once", async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const { key } = await createKey(a);
    expect((await post(url(b, key), rpc("eth_chainId"))).json.result).toBe("0x7a69");
  });

  it("enforces one per-second limit across both gateways", async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const limit = 20;
    const { key } = await createKey(a, { limits: { creditsPerSecond: limit } });
    await post(url(b, key), rpc("eth_chainId")); // both gateways know the key before the burst
    const redisSecond = async () => Number((await redis.time())[0]);
    for (let round = 0; round < 5; round++) {
      // Start just after a second boundary of Redis's clock (the limiter's clock) so the burst fits in one window.
      const start = await redisSecond();
      while ((await redisSecond()) === start) await sleep(5);
      const window = await redisSecond();
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          post(url(i % 2 === 0 ? a : b, key), rpc("eth_chainId", [], i)).then(({ status }) => status),
        ),
      );
      if ((await redisSecond()) !== window) continue; // the burst straddled two windows: measure again
      const accepted = statuses.filter((status) => status === 200).length;
      expect(accepted).toBe(limit); // each gateway alone would have let 2 × 20 through
      expect(statuses.filter((status) => status === 429)).toHaveLength(60 - limit);
      return;
    }
    throw new Error("no burst fitted in one second in 5 rounds");
  });

  it("enforces one daily quota across both gateways", async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const { key } = await createKey(a, { limits: { creditsPerDay: 30 } });
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) {
      statuses.push((await post(url(i % 2 === 0 ? a : b, key), rpc("eth_chainId"))).status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(30);
    expect(statuses.slice(30).every((status) => status === 402)).toBe(true);
  });

  it("refuses a key revoked on one gateway on both, within seconds", async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const { key } = await createKey(a);
    expect((await post(url(a, key), rpc("eth_chainId"))).status).toBe(200);
    expect((await post(url(b, key), rpc("eth_chainId"))).status).toBe(200);
    await admin(b, "POST", `/admin/keys/${key}/revoke`);
    // Each gateway syncs only every 5 s here: the Redis notification is what makes this quick.
    for (const gateway of [a, b]) {
      await waitFor(
        async () => (await post(url(gateway, key), rpc("eth_chainId"))).status === 401,
        3_000,
        "the revoked key to be refused",
      );
    }
  });

  it("adds both gateways' usage into one table", async () => {
    const [a, b] = gateways as [Gateway, Gateway];
    const { key } = await createKey(a);
    for (let i = 0; i < 6; i++) await post(url(i < 2 ? a : b, key), rpc("eth_chainId"));
    await Promise.all(gateways.map((gateway) => gateway.keys!.usage.flush()));
    const usage = await admin(a, "GET", `/admin/usage?key=${key}&groupBy=key,network`);
    expect(usage.json.usage).toEqual([{ key, network: "ethereum", requests: 6, credits: 6, errors: 0 }]);
  });
});
