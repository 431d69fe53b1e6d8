// WebSockets with keys on: the upgrade is authenticated like an HTTP request, messages are charged
// credits, and a key's sockets close when its daily quota is spent or it is revoked.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Gateway } from "../../src/gateway/server.js";
import { rpc } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { admin, createKey, startKeyedGateway } from "./keyedGateway.js";

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
    );
    socket.once("error", reject);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC answers read field by field
function call(socket: WebSocket, body: unknown): Promise<any> {
  return new Promise((resolve) => {
    socket.once("message", (data) => resolve(JSON.parse(data.toString())));
    socket.send(JSON.stringify(body));
  });
}

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve(-1);
    socket.once("close", (code) => resolve(code));
  });
}

describe("WebSockets with API keys", () => {
  let chain: HardhatServer;
  let gateway: Gateway;
  const dataDir = mkdtempSync(join(tmpdir(), "din-keys-ws-"));
  const wsUrl = (key?: string) =>
    `${gateway.url.replace(/^http/, "ws")}/ws/v1/ethereum${key === undefined ? "" : `/${key}`}`;

  beforeAll(async () => {
    chain = await startHardhatServer();
    gateway = await startKeyedGateway(chain.url, { dataDir });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses the upgrade without a key or with an unknown one (HTTP 401)", async () => {
    await expect(open(wsUrl())).rejects.toThrow(/HTTP 401/);
    await expect(open(wsUrl("0123456789abcdef0123456789abcdef"))).rejects.toThrow(/HTTP 401/);
  });

  it("refuses an upgrade from an origin outside the key's allowlist (HTTP 403)", async () => {
    const { key } = await createKey(gateway, { allowlists: { origins: ["https://app.example.com"] } });
    await expect(open(wsUrl(key))).rejects.toThrow(/HTTP 403/);
  });

  it("serves a keyed socket and counts its messages in usage", async () => {
    const { key } = await createKey(gateway);
    const socket = await open(wsUrl(key));
    expect((await call(socket, rpc("eth_chainId"))).result).toBe("0x7a69");
    socket.close();
    const usage = await admin(gateway, "GET", `/admin/usage?key=${key}&groupBy=method`);
    expect(usage.json.usage).toEqual([{ method: "eth_chainId", requests: 1, credits: 1, errors: 0 }]);
  });

  it("closes every socket of a key when its daily quota is spent (4402)", async () => {
    const { key } = await createKey(gateway, { limits: { creditsPerDay: 2 } });
    const first = await open(wsUrl(key));
    const second = await open(wsUrl(key));
    const firstClosed = closed(first);
    const secondClosed = closed(second);
    expect((await call(first, rpc("eth_chainId"))).result).toBe("0x7a69");
    expect((await call(first, rpc("eth_chainId"))).result).toBe("0x7a69");
    const refused = await call(first, rpc("eth_chainId"));
    expect(refused.error.data.rule).toBe("creditsPerDay");
    expect(await firstClosed).toBe(4402);
    expect(await secondClosed).toBe(4402);
  });

  it("closes a revoked key's sockets (4401)", async () => {
    const { key } = await createKey(gateway);
    const socket = await open(wsUrl(key));
    const socketClosed = closed(socket);
    await admin(gateway, "POST", `/admin/keys/${key}/revoke`);
    expect(await socketClosed).toBe(4401);
    await expect(open(wsUrl(key))).rejects.toThrow(/HTTP 401/);
  });
});
