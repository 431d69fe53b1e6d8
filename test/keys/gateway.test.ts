// One gateway with keys on an embedded PGlite, in front of a real Hardhat chain: what a developer who
// signed up sees — keys, secrets, JWTs, allowlists, credits, usage — and what the admin API refuses.
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/gateway/server.js";
import { post, rpc, waitFor } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { admin, adminToken, createKey, startKeyedGateway } from "./keyedGateway.js";

const token = "0x1111111111111111111111111111111111111111";
const other = "0x3333333333333333333333333333333333333333";

describe("gateway with API keys (PGlite)", () => {
  let chain: HardhatServer;
  let gateway: Gateway;
  const dataDir = mkdtempSync(join(tmpdir(), "din-keys-"));
  const url = (key: string) => `${gateway.url}/v1/ethereum/${key}`;

  beforeAll(async () => {
    chain = await startHardhatServer();
    gateway = await startKeyedGateway(chain.url, { dataDir });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses /v1/<network> without a key, and unknown keys, with 401 naming the rule", async () => {
    const bare = await post(`${gateway.url}/v1/ethereum`, rpc("eth_chainId"));
    expect(bare.status).toBe(401);
    expect(bare.json.error.data.rule).toBe("apiKey");
    expect(bare.json.error.message).toMatch(/requires an API key/);
    const unknown = await post(url("0123456789abcdef0123456789abcdef"), rpc("eth_chainId", [], 7));
    expect(unknown.status).toBe(401);
    // Refused before the body is read, so the answer cannot carry the request's id.
    expect(unknown.json).toMatchObject({ id: null, error: { message: "Unauthorized: unknown API key" } });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/din_key_refusals_total\{rule="apiKey"\} 2/);
  });

  it("serves a key's requests and counts them per method in usage", async () => {
    const { key } = await createKey(gateway);
    expect((await post(url(key), rpc("eth_chainId"))).json.result).toBe("0x7a69");
    expect((await post(url(key), rpc("eth_blockNumber"))).json.result).toMatch(/^0x/);
    const batch = await post(url(key), [rpc("eth_chainId", [], 1), rpc("eth_call", [{ to: token }], 2)]);
    expect(batch.status).toBe(200);
    const usage = await admin(gateway, "GET", `/admin/usage?key=${key}&groupBy=method`);
    expect(usage.status).toBe(200);
    expect(usage.json.usage).toEqual([
      { method: "eth_blockNumber", requests: 1, credits: 1, errors: 0 },
      { method: "eth_call", requests: 1, credits: 2, errors: 0 },
      { method: "eth_chainId", requests: 2, credits: 2, errors: 0 },
    ]);
  });

  it("checks a key's secret: a wrong one is refused, a required one must be sent", async () => {
    const { key, secret } = await createKey(gateway, { secret: true, secretRequired: true });
    const basic = (value: string) => ({
      authorization: `Basic ${Buffer.from(`:${value}`).toString("base64")}`,
    });
    const without = await post(url(key), rpc("eth_chainId"));
    expect(without.status).toBe(401);
    expect(without.json.error.data.rule).toBe("secret");
    expect((await post(url(key), rpc("eth_chainId"), basic("wrong"))).status).toBe(401);
    expect((await post(url(key), rpc("eth_chainId"), basic(secret!))).json.result).toBe("0x7a69");
  });

  it("requires a valid JWT when the key says so", async () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
    const { key } = await createKey(gateway, { jwtRequired: true, jwtPublicKeys: [{ id: "app", pem }] });
    const jwt = (payload: Record<string, unknown>) => {
      const head = Buffer.from(JSON.stringify({ alg: "ES256", kid: "app" })).toString("base64url");
      const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
      const signature = sign("sha256", Buffer.from(`${head}.${body}`), {
        key: pair.privateKey,
        dsaEncoding: "ieee-p1363",
      });
      return `${head}.${body}.${signature.toString("base64url")}`;
    };
    const exp = Math.floor(Date.now() / 1000) + 600;
    const none = await post(url(key), rpc("eth_chainId"));
    expect(none.status).toBe(401);
    expect(none.json.error.data.rule).toBe("jwt");
    const expired = await post(url(key), rpc("eth_chainId"), { authorization: `Bearer ${jwt({ exp: 1 })}` });
    expect(expired.json.error.message).toMatch(/expired/);
    const good = await post(url(key), rpc("eth_chainId"), {
      authorization: `Bearer ${jwt({ exp, aud: key })}`,
    });
    expect(good.json.result).toBe("0x7a69");
  });

  it("refuses exactly what the allowlists refuse, saying which rule; the secret bypasses them", async () => {
    const { key, secret } = await createKey(gateway, {
      secret: true,
      allowlists: {
        origins: ["https://app.example.com"],
        userAgents: ["MyWallet"],
        methods: ["eth_chainId", "eth_call", "eth_getBalance"],
        contracts: [token],
      },
    });
    const client = { origin: "https://app.example.com", "user-agent": "MyWallet/1.0" };
    expect((await post(url(key), rpc("eth_chainId"), client)).json.result).toBe("0x7a69");
    expect((await post(url(key), rpc("eth_call", [{ to: token }]), client)).json.result).toBe("0x");

    const wrongOrigin = await post(url(key), rpc("eth_chainId"), {
      ...client,
      origin: "https://evil.example",
    });
    expect(wrongOrigin.status).toBe(403);
    expect(wrongOrigin.json.error.data.rule).toBe("origins");
    const wrongAgent = await post(url(key), rpc("eth_chainId"), { ...client, "user-agent": "curl/8.0" });
    expect(wrongAgent.json.error.data.rule).toBe("userAgents");
    const wrongMethod = await post(url(key), rpc("eth_blockNumber"), client);
    expect(wrongMethod.status).toBe(403);
    expect(wrongMethod.json.error.data.rule).toBe("methods");
    const wrongContract = await post(url(key), rpc("eth_getBalance", [other, "latest"]), client);
    expect(wrongContract.json.error).toMatchObject({ data: { rule: "contracts" } });
    expect(wrongContract.json.error.message).toContain(other);

    // In a batch, only the refused entries are refused.
    const batch = await post(
      url(key),
      [rpc("eth_chainId", [], 1), rpc("eth_blockNumber", [], 2), rpc("eth_call", [{ to: other }], 3)],
      client,
    );
    expect(batch.status).toBe(200);
    expect(batch.json[0].result).toBe("0x7a69");
    expect(batch.json[1].error.data.rule).toBe("methods");
    expect(batch.json[2].error.data.rule).toBe("contracts");

    const withSecret = { authorization: `Basic ${Buffer.from(`:${secret}`).toString("base64")}` };
    expect((await post(url(key), rpc("eth_blockNumber"), withSecret)).json.result).toMatch(/^0x/);
  });

  it("answers 429 with Retry-After past the credits per second", async () => {
    const { key } = await createKey(gateway, { limits: { creditsPerSecond: 5 } });
    let refused: Response | undefined;
    // A burst of 5 credits fills the second; the next request is refused unless the second just rolled over.
    for (let attempt = 0; attempt < 5 && !refused; attempt++) {
      await post(
        url(key),
        [1, 2, 3, 4, 5].map((id) => rpc("eth_chainId", [], id)),
      );
      const response = await fetch(url(key), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(rpc("eth_chainId")),
      });
      if (response.status === 429) refused = response;
    }
    expect(refused).toBeDefined();
    expect(refused!.headers.get("retry-after")).toBe("1");
    const json = await refused!.json();
    expect(json.error).toMatchObject({
      code: -32005,
      data: { rule: "creditsPerSecond", retryAfterSeconds: 1 },
    });
  });

  it("answers 402 once the daily quota is spent, until 00:00 UTC", async () => {
    const { key } = await createKey(gateway, { limits: { creditsPerDay: 3 } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(url(key), rpc("eth_chainId"))).status);
    expect(statuses).toEqual([200, 200, 200, 402, 402]);
    const response = await fetch(url(key), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(rpc("eth_chainId")),
    });
    const json = await response.json();
    expect(json.error.data.rule).toBe("creditsPerDay");
    const resetsAt = new Date(json.error.data.resetsAt);
    expect(resetsAt.getUTCHours()).toBe(0);
    expect(resetsAt.getUTCMinutes()).toBe(0);
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(Math.abs(retryAfter - (resetsAt.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    const usage = await admin(gateway, "GET", `/admin/usage?key=${key}&groupBy=key`);
    expect(usage.json.usage[0]).toMatchObject({ requests: 6, credits: 3, errors: 3 });
  });

  it("revokes a key within seconds and rotates one with a grace period", async () => {
    const { key } = await createKey(gateway);
    expect((await post(url(key), rpc("eth_chainId"))).status).toBe(200);
    const revoked = await admin(gateway, "POST", `/admin/keys/${key}/revoke`);
    expect(revoked.json.key.status).toBe("revoked");
    const refused = await post(url(key), rpc("eth_chainId"));
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toMatch(/revoked/);

    const { key: old } = await createKey(gateway, { limits: { creditsPerDay: 1000 } });
    const rotated = await admin(gateway, "POST", `/admin/keys/${old}/rotate`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(201);
    expect(rotated.json.key.limits.creditsPerDay).toBe(1000);
    expect(rotated.json.previous).toMatchObject({ status: "expiring", rotatedTo: rotated.json.key.key });
    expect((await post(url(old), rpc("eth_chainId"))).status).toBe(200);
    expect((await post(url(rotated.json.key.key), rpc("eth_chainId"))).status).toBe(200);
    const again = await admin(gateway, "POST", `/admin/keys/${rotated.json.key.key}/rotate`);
    expect(again.json.previous.status).toBe("revoked");
    expect((await post(url(rotated.json.key.key), rpc("eth_chainId"))).status).toBe(401);
  });

  it("refuses bad admin input with a clear 4xx and changes nothing", async () => {
    const { key } = await createKey(gateway, { limits: { creditsPerSecond: 10 } });
    const before = await admin(gateway, "GET", `/admin/keys/${key}`);
    const keysBefore = (await admin(gateway, "GET", "/admin/keys")).json.keys.length;

    const unknown = await admin(gateway, "POST", "/admin/keys/ffffffffffffffffffffffffffffffff/revoke");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("unknown_key");
    const malformed = await admin(gateway, "PATCH", `/admin/keys/${key}`, {
      allowlists: { contracts: ["0x1234"], origins: ["not a host!"] },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.problems).toEqual([
      "allowlists.contracts[0]: a 20-byte hex address",
      expect.stringMatching(/^allowlists\.origins\[0\]: an origin such as/),
    ]);
    const negative = await admin(gateway, "PATCH", `/admin/keys/${key}`, {
      limits: { creditsPerSecond: -5 },
    });
    expect(negative.status).toBe(400);
    expect(negative.json.error.problems).toEqual([
      "limits.creditsPerSecond: must be 0 or more (null = unlimited)",
    ]);
    const negativeCreate = await admin(gateway, "POST", "/admin/keys", {
      project: "tests",
      limits: { creditsPerDay: -1 },
    });
    expect(negativeCreate.status).toBe(400);
    const noProject = await admin(gateway, "POST", "/admin/keys", { project: "nope" });
    expect(noProject.status).toBe(404);
    const unknownField = await admin(gateway, "PATCH", `/admin/keys/${key}`, { colour: "red" });
    expect(unknownField.status).toBe(400);
    const notJson = await admin(gateway, "POST", "/admin/keys", "{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe("invalid_json");
    const noToken = await admin(gateway, "GET", "/admin/keys", undefined, null);
    expect(noToken.status).toBe(401);
    const wrongToken = await admin(gateway, "POST", `/admin/keys/${key}/revoke`, undefined, "x".repeat(32));
    expect(wrongToken.status).toBe(401);

    expect(await admin(gateway, "GET", `/admin/keys/${key}`)).toEqual(before);
    expect((await admin(gateway, "GET", "/admin/keys")).json.keys.length).toBe(keysBefore);
    expect((await post(url(key), rpc("eth_chainId"))).status).toBe(200);
  });

  it("answers admin bodies over 256 KiB with 413 and a JSON error, not a reset connection", async () => {
    const large = await admin(gateway, "POST", "/admin/projects", { name: "x".repeat(300 * 1024) });
    expect(large.status).toBe(413);
    expect(large.json.error).toMatchObject({ code: "too_large", message: expect.stringMatching(/262144/) });
    // Without a Content-Length (chunked), the limit is found while reading.
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await fetch(`${gateway.url}/admin/projects`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe("too_large");
    // The connection was not reset: the admin API keeps answering.
    expect((await admin(gateway, "GET", "/admin/projects")).status).toBe(200);
  });

  it("keeps keys and usage across a restart of the gateway", async () => {
    const { key } = await createKey(gateway, {}, "restart");
    for (let i = 0; i < 4; i++) await post(url(key), rpc("eth_chainId"));
    await gateway.close(); // a clean stop writes every pending counter
    gateway = await startKeyedGateway(chain.url, { dataDir, usageFlushIntervalMs: 60_000 });
    const usage = await waitFor(async () => {
      const answer = await admin(gateway, "GET", `/admin/usage?project=restart&groupBy=key`);
      return answer.status === 200 ? answer.json : undefined;
    });
    expect(usage.usage).toEqual([{ key, requests: 4, credits: 4, errors: 0 }]);
    expect((await post(url(key), rpc("eth_chainId"))).json.result).toBe("0x7a69");
  });
});
