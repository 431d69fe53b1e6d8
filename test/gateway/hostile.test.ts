// Hostile clients, as an attacker would try them, against a real devnet behind recording proxies: each
// request's cost is bounded before it reaches an operator, an expensive request is not retried across
// operators, and nothing a client sends makes the gateway remember more than its bounds.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, requestDevnet, startDevnetChain } from "../../src/devnet/chain.js";
import { parseGatewayConfig } from "../../src/gateway/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { post, rpc, waitFor } from "../support/dataPlane.js";
import { type RecordingProxy, startRecordingProxy } from "../support/recordingProxy.js";

const layout = [
  { id: "aws-1", cloud: "aws", region: "us-east-1" },
  { id: "gcp-1", cloud: "gcp", region: "us-central1" },
  { id: "hetzner-1", cloud: "hetzner", region: "eu-central" },
] as const;

const adminToken = "hostile-test-admin-token-0123456789";
/** An infinite loop (JUMPDEST PUSH1 0 JUMP): burns whatever gas it is given. */
const gasBomb = { data: "0x5b600056", gas: "0x1c9c380" };
const callGasCap = 1_000_000;
/** Each attempt's time, and the delay of an operator made slow on purpose: well past it. */
const attemptTimeoutMs = 2_500;
const slowMs = 2 * attemptTimeoutMs;

describe("hostile clients", () => {
  let chain: DevnetChain;
  let proxies: RecordingProxy[];
  let gateway: Gateway;
  let keyed: Gateway;
  let dataDir: string;
  let url: string;

  const callsOf = (method: string) =>
    proxies.flatMap((proxy) => proxy.calls.filter((call) => call.method === method));
  const healthy = async () => {
    const health = await (await fetch(`${gateway.url}/healthz`)).json();
    return health.networks[0].upstreams.every(
      (upstream: { health: string }) => upstream.health !== "unhealthy",
    );
  };

  beforeAll(async () => {
    chain = await startDevnetChain({ name: "ethereum", chainId: 31337, blockTimeMs: 200 });
    proxies = await Promise.all(layout.map(() => startRecordingProxy(chain.url)));
    const networks = [
      {
        name: "ethereum",
        chainId: 31337,
        logsMaxRange: 5,
        logsMaxTotalRange: 50,
        upstreams: layout.map((entry, index) => ({ ...entry, url: proxies[index]!.url })),
      },
    ];
    gateway = await startGateway(
      parseGatewayConfig({
        server: { host: "127.0.0.1", port: 0, logLevel: "silent" },
        routing: {
          // Long enough that a loaded machine never turns the capped gas bomb into an attempt timeout,
          // whose failover to a second operator is right but is not what the gas test measures.
          attemptTimeoutMs,
          requestTimeoutMs: 4 * slowMs,
          hedge: false,
          callGasCap,
          maxSessions: 1_000,
          maxSessionsPerClient: 100,
          maxFiltersPerClient: 3,
        },
        health: { headPollMs: 100 },
        networks,
      }),
      { logger: pino({ level: "silent" }) },
    );
    dataDir = mkdtempSync(join(tmpdir(), "din-hostile-"));
    keyed = await startGateway(
      parseGatewayConfig({
        server: { host: "127.0.0.1", port: 0, logLevel: "silent" },
        health: { headPollMs: 200 },
        routing: { maxFiltersPerClient: 3 },
        keys: { enabled: true, adminToken, dataDir, syncIntervalMs: 200, usageFlushIntervalMs: 200 },
        networks,
      }),
      { logger: pino({ level: "silent" }) },
    );
    url = `${gateway.url}/v1/ethereum`;
    await waitFor(async () => {
      const { json } = await post(url, rpc("eth_blockNumber"));
      return Number(json.result ?? 0) >= 8 && (await healthy());
    });
  });

  afterAll(async () => {
    await keyed?.close();
    await gateway?.close();
    await Promise.all((proxies ?? []).map((proxy) => proxy.close()));
    await chain?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe("block ranges", () => {
    it("refuses eth_getLogs from pending to 0xffffffff at once, without asking any operator", async () => {
      const before = callsOf("eth_getLogs").length;
      const { json } = await post(url, rpc("eth_getLogs", [{ fromBlock: "pending", toBlock: "0xffffffff" }]));
      expect(json.error.code).toBe(-32005);
      expect(json.error.message).toMatch(/exceeds the limit of 50 blocks/);
      expect(callsOf("eth_getLogs").length).toBe(before);
    });

    it.each([
      ["earliest", "latest"],
      ["earliest", "pending"],
      ["earliest", "finalized"],
      ["safe", "0xffffff"],
    ])("caps a range from %s to %s like a range of numbers", async (fromBlock, toBlock) => {
      const { json } = await post(url, rpc("eth_getLogs", [{ fromBlock, toBlock }]));
      const head = Number((await post(url, rpc("eth_blockNumber"))).json.result);
      if (head >= 50 || toBlock === "0xffffff") expect(json.error?.code).toBe(-32005);
      else expect(Array.isArray(json.result)).toBe(true);
    });

    it("sends operators only numbered chunks within their range limit", async () => {
      proxies.forEach((proxy) => {
        proxy.calls.length = 0;
      });
      // An address of its own, so the answer cannot come from the cache of an earlier test's request.
      const address = `0x${randomBytes(20).toString("hex")}`;
      const { json } = await post(
        url,
        rpc("eth_getLogs", [{ fromBlock: "pending", toBlock: "pending", address }]),
      );
      expect(Array.isArray(json.result)).toBe(true);
      const sent = callsOf("eth_getLogs").map((call) => (call.params as Array<Record<string, string>>)[0]!);
      expect(sent.length).toBeGreaterThan(0);
      for (const filter of sent) {
        expect(filter.fromBlock).toMatch(/^0x[0-9a-f]+$/);
        expect(filter.toBlock).toMatch(/^0x[0-9a-f]+$/);
        expect(BigInt(filter.toBlock!) - BigInt(filter.fromBlock!) + 1n).toBeLessThanOrEqual(5n);
      }
    });

    it("refuses a block hash as a range bound instead of passing it through", async () => {
      const block = (await post(url, rpc("eth_getBlockByNumber", ["0x1", false]))).json.result;
      const { json } = await post(
        url,
        rpc("eth_getLogs", [{ fromBlock: { blockHash: block.hash }, toBlock: "0xffffffff" }]),
      );
      expect(json.error.code).toBe(-32602);
    });

    it("refuses a log filter whose range is over the cap, and serves eth_getFilterLogs in capped chunks", async () => {
      const refused = await post(
        url,
        rpc("eth_newFilter", [{ fromBlock: "earliest", toBlock: "0xffffffff" }]),
      );
      expect(refused.json.error.code).toBe(-32005);
      const created = await post(url, rpc("eth_newFilter", [{ fromBlock: "latest" }]));
      expect(created.json.result).toMatch(/^0x/);
      proxies.forEach((proxy) => {
        proxy.calls.length = 0;
      });
      const logs = await post(url, rpc("eth_getFilterLogs", [created.json.result]));
      expect(Array.isArray(logs.json.result)).toBe(true);
      expect(callsOf("eth_getFilterLogs")).toHaveLength(0);
      for (const call of callsOf("eth_getLogs")) {
        expect((call.params as Array<Record<string, string>>)[0]!.fromBlock).toMatch(/^0x/);
      }
    });
  });

  describe("gas", () => {
    it("runs a gas bomb with the network's gas cap, once, and the operators stay healthy", async () => {
      proxies.forEach((proxy) => {
        proxy.calls.length = 0;
      });
      const { json } = await post(url, rpc("eth_call", [gasBomb, "latest"]));
      expect(json.error?.message).toMatch(/out of gas|ran out/i);
      const sent = callsOf("eth_call");
      expect(sent).toHaveLength(1);
      expect((sent[0]!.params as Array<Record<string, string>>)[0]!.gas).toBe(`0x${callGasCap.toString(16)}`);
      expect(await healthy()).toBe(true);
    });

    it("serves a full batch of 100 calls, queued behind the client's expensive-request places", async () => {
      const batch = Array.from({ length: 100 }, (_, id) =>
        rpc("eth_call", [{ to: "0x00000000000000000000000000000000000000aa" }, "latest"], id),
      );
      const { json } = await post(url, batch);
      expect(json).toHaveLength(100);
      for (const answer of json) expect(answer.error).toBeUndefined();
    });

    it("gives a call without gas the cap, not the node's default", async () => {
      proxies.forEach((proxy) => {
        proxy.calls.length = 0;
      });
      await post(url, rpc("eth_estimateGas", [{ to: "0x00000000000000000000000000000000000000aa" }]));
      const sent = callsOf("eth_estimateGas");
      expect((sent[0]!.params as Array<Record<string, string>>)[0]!.gas).toBe(`0x${callGasCap.toString(16)}`);
    });

    it("answers a call that outlasts its attempt on an operator still serving others, and tries no other", async () => {
      const marker = "0xfeedface";
      for (const proxy of proxies) {
        proxy.calls.length = 0;
        proxy.delay = (call) =>
          call.method === "eth_call" && JSON.stringify(call.params).includes(marker) ? slowMs : undefined;
      }
      try {
        const { json } = await post(
          url,
          rpc("eth_call", [{ to: "0x00000000000000000000000000000000000000aa", data: marker }, "latest"]),
        );
        expect(json.error.code).toBe(-32000);
        expect(json.error.message).toMatch(/execution aborted/);
        expect(callsOf("eth_call")).toHaveLength(1);
        expect(await healthy()).toBe(true);
      } finally {
        for (const proxy of proxies) proxy.delay = () => undefined;
      }
    });

    it("still fails over when the operator itself is slow (answers nothing at all)", async () => {
      const slow = proxies[0]!;
      slow.delay = () => slowMs;
      try {
        const answers = await Promise.all(
          Array.from({ length: 6 }, (_, index) =>
            post(
              url,
              rpc("eth_call", [{ to: "0x00000000000000000000000000000000000000aa" }, "latest"], index),
              {
                "din-session-id": `slow-${index}`,
              },
            ),
          ),
        );
        for (const { json } of answers) expect(json.error).toBeUndefined();
      } finally {
        slow.delay = () => undefined;
      }
    });
  });

  it("echoes a 39-digit numeric id byte for byte, in a single request and in a batch", async () => {
    const id = "123456789012345678901234567890123456789";
    const request = `{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`;
    for (const body of [request, `[${request},${request}]`]) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      expect(text.split(`"id":${id}`).length - 1).toBe(body === request ? 1 : 2);
    }
  });

  describe("sockets", () => {
    const upgradeRequest = (port: number, path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

    it("answers paths that are not valid percent-encoding with an error, over HTTP, WebSocket and admin", async () => {
      // decodeURIComponent throws on these: once, one such request took the gateway down.
      for (const bad of ["%E0%A4%A", "%zz", "%"]) {
        const response = await fetch(`${gateway.url}/v1/${bad}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(rpc("eth_chainId")),
        });
        expect(response.status).toBe(404);
        expect((await response.json()).error.message).toMatch(/unknown network/i);
        const socket = connect(gateway.port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write(upgradeRequest(gateway.port, `/ws/v1/${bad}`));
        const reply = await new Promise<string>((resolve) =>
          socket.once("data", (data) => resolve(String(data))),
        );
        expect(reply).toMatch(/^HTTP\/1\.1 404/);
        socket.destroy();
        const admin = await fetch(`${keyed.url}/admin/projects/${bad}`, {
          headers: { authorization: `Bearer ${adminToken}` },
        });
        expect(admin.status).toBe(400);
      }
      const { json } = await post(url, rpc("eth_chainId"));
      expect(json.result).toBe("0x7a69");
    });

    it("survives clients that reset refused WebSocket upgrades", async () => {
      for (let index = 0; index < 20; index++) {
        const socket = connect(gateway.port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write(upgradeRequest(gateway.port, "/ws/v1/no-such-network"));
        socket.resetAndDestroy();
      }
      const { json } = await post(url, rpc("eth_chainId"));
      expect(json.result).toBe("0x7a69");
    });

    it("closes although a refused upgrade's client never reads nor closes", async () => {
      const extra = await startGateway(
        parseGatewayConfig({
          server: { host: "127.0.0.1", port: 0, logLevel: "silent" },
          networks: [{ name: "ethereum", chainId: 31337, upstreams: [{ id: "a", url: proxies[0]!.url }] }],
        }),
        { logger: pino({ level: "silent" }) },
      );
      const socket = connect(extra.port, "127.0.0.1");
      socket.pause(); // never reads
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(upgradeRequest(extra.port, "/ws/v1/no-such-network"));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Before, this close never resolved: the half-open socket held the server (the test timed out).
      const closed = await Promise.race([
        extra.close().then(() => "closed"),
        new Promise((resolve) => setTimeout(() => resolve("still open after 10 s"), 10_000)),
      ]);
      expect(closed).toBe("closed");
      socket.destroy();
    });
  });

  describe("state clients make the gateway keep", () => {
    it("keeps one client's sessions within its share however many 12 KB ids it sends", async () => {
      const id = "s".repeat(12_000);
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            post(url, rpc("eth_blockNumber"), { "din-session-id": `${id}-${round}-${index}` }),
          ),
        );
      }
      const sessions = gateway.networks.get("ethereum")!.sessions;
      expect(sessions.size).toBeLessThanOrEqual(100);
    });

    it("keeps its routing cache bounded whatever old blocks clients ask about", async () => {
      await requestDevnet(chain.provider, "hardhat_mine", ["0x400"]);
      await waitFor(async () => Number((await post(url, rpc("eth_blockNumber"))).json.result) > 1_000);
      for (let start = 0; start < 600; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            post(
              url,
              rpc("eth_getBalance", [
                "0x00000000000000000000000000000000000000aa",
                `0x${(start + index).toString(16)}`,
              ]),
            ),
          ),
        );
      }
      const rankings = (gateway.networks.get("ethereum") as unknown as { rankings: Map<number, unknown> })
        .rankings;
      expect(rankings.size).toBeLessThanOrEqual(130);
    });

    it("creates no session, and reads no body, for a request with a wrong API key", async () => {
      const sessions = keyed.networks.get("ethereum")!.sessions;
      const before = sessions.size;
      const huge = JSON.stringify(rpc("eth_call", [{ data: `0x${"00".repeat(400_000)}` }, "latest"]));
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          post(`${keyed.url}/v1/ethereum/wrong-key-${index}`, huge, { "din-session-id": `flood-${index}` }),
        ),
      );
      for (const { status } of answers) expect(status).toBe(401);
      expect(sessions.size).toBe(before);
    });

    it("binds a filter to the key that made it and limits filters per key", async () => {
      const createKey = async () => {
        await fetch(`${keyed.url}/admin/projects`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "hostile" }),
        });
        const created = await fetch(`${keyed.url}/admin/keys`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ project: "hostile" }),
        });
        return ((await created.json()) as { key: { key: string } }).key.key;
      };
      const alice = await createKey();
      const mallory = await createKey();
      const aliceUrl = `${keyed.url}/v1/ethereum/${alice}`;
      const malloryUrl = `${keyed.url}/v1/ethereum/${mallory}`;
      await waitFor(async () => (await post(aliceUrl, rpc("eth_blockNumber"))).status === 200);
      await waitFor(async () => (await post(malloryUrl, rpc("eth_blockNumber"))).status === 200);
      const filter = (await post(aliceUrl, rpc("eth_newBlockFilter"))).json.result as string;
      expect(filter).toMatch(/^0x/);
      const stolen = await post(malloryUrl, rpc("eth_getFilterChanges", [filter]));
      expect(stolen.json.error.message).toMatch(/filter not found/);
      expect((await post(malloryUrl, rpc("eth_uninstallFilter", [filter]))).json.result).toBe(false);
      expect(Array.isArray((await post(aliceUrl, rpc("eth_getFilterChanges", [filter]))).json.result)).toBe(
        true,
      );
      for (let index = 0; index < 10; index++) await post(malloryUrl, rpc("eth_newBlockFilter"));
      const filters = keyed.networks.get("ethereum")!.filters;
      expect(filters.size).toBeLessThanOrEqual(4);
      expect(Array.isArray((await post(aliceUrl, rpc("eth_getFilterChanges", [filter]))).json.result)).toBe(
        true,
      );
    });
  });
});
