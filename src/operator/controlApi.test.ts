// The chaos control's routes over a real listener, in front of a scripted source: reads are open, a change
// needs the token and a JSON body, a request for another host is refused, and a change that fails (the
// public port taken, say) is a 500 that says why and what the state is.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeServer, listen } from "../http/listen.js";
import type { ChaosState } from "./chaos.js";
import { type ControlSource, handleControl } from "./controlApi.js";
import { RequestCounts } from "./stats.js";

const token = "c".repeat(40);
let server: Server;
let base: string;
let state: ChaosState;
let failNext: string | undefined;
const counts = new RequestCounts();

const source: ControlSource = {
  id: "op-control",
  token,
  state: () => state,
  setChaos: async (next) => {
    if (failNext !== undefined) throw new Error(failNext);
    state = next;
  },
  stats: () => counts.snapshot(),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    handleControl(source, req, res).catch(() => res.destroy());
  });
  await listen(server, 0, "127.0.0.1");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  counts.count({ id: 1, method: "eth_chainId" }, "anyone");
});

afterAll(async () => {
  await closeServer(server);
});

beforeEach(() => {
  state = { mode: "ok" };
  failNext = undefined;
});

async function change(
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${base}/chaos`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body,
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe("chaos control routes", () => {
  it("reads the state, the stats and the health with GET", async () => {
    expect(await (await fetch(`${base}/chaos`)).json()).toEqual({ mode: "ok" });
    expect(await (await fetch(`${base}/stats`)).json()).toMatchObject({
      requests: 1,
      byMethod: { eth_chainId: 1 },
    });
    expect(await (await fetch(`${base}/healthz?x=1`)).json()).toEqual({ ok: true, id: "op-control" });
    const missing = await fetch(`${base}/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no such endpoint: GET /nothing" });
    const put = await fetch(`${base}/chaos`, { method: "PUT" });
    expect(put.status).toBe(405);
    await put.arrayBuffer();
  });

  it("applies a change with the token and a JSON body, and answers the new state", async () => {
    const done = await change(JSON.stringify({ mode: "slow", value: 50 }));
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ mode: "slow", value: 50 });
    expect(state).toEqual({ mode: "slow", value: 50 });
  });

  it("refuses a change without the token, as text/plain, too large, or not a chaos state", async () => {
    const noToken = await change(JSON.stringify({ mode: "down" }), { authorization: "Bearer wrong" });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get("www-authenticate")).toBe("Bearer");
    expect((await change("{}", { "content-type": "text/plain" })).status).toBe(415);
    const tooLarge = await change(JSON.stringify({ mode: "ok", pad: "x".repeat(70 * 1024) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("connection")).toBe("close");
    expect(await change("{mode")).toMatchObject({ status: 400, body: { error: "body is not valid JSON" } });
    const badMode = await change(JSON.stringify({ mode: "explode" }));
    expect(badMode.status).toBe(400);
    expect((badMode.body as { error: string }).error).toMatch(/mode/);
    expect(state).toEqual({ mode: "ok" });
  });

  it("answers 500 with the reason and the state in force when the change fails", async () => {
    failNext = "listen EADDRINUSE";
    const failed = await change(JSON.stringify({ mode: "ok" }));
    expect(failed).toMatchObject({
      status: 500,
      body: { error: "chaos change failed: listen EADDRINUSE", state: { mode: "ok" } },
    });
  });

  it("answers 403 to a request for another host", async () => {
    const { port } = new URL(base);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/chaos`, { headers: { host: `evil.example:${port}` } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
