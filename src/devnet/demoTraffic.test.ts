import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEMO_SESSIONS, startDemoTraffic } from "./demoTraffic.js";

/** A stand-in gateway: /healthz names three healthy operators (one jailed) and records what each read carried. */
async function fakeGateway(): Promise<{ server: Server; url: string; reads: Array<Record<string, string>> }> {
  const reads: Array<Record<string, string>> = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url === "/healthz") {
      const upstreams = [
        { health: "ok" },
        { health: "ok" },
        { health: "warning" },
        { health: "ok", jailed: true },
      ];
      response.end(JSON.stringify({ networks: [{ name: "ethereum", upstreams }] }));
      return;
    }
    request.resume();
    request.on("end", () => {
      reads.push({
        session: String(request.headers["din-session-id"] ?? ""),
        quorum: String(request.headers["din-quorum"] ?? ""),
      });
      response.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { number: "0x1" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reads };
}

describe("demo traffic", () => {
  let server: Server | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it("reads from every session and once with a quorum of the routable operators each round", async () => {
    const gateway = await fakeGateway();
    server = gateway.server;
    // The rounds' timer is fake; the reads over HTTP are real (advancing lets them run between timers).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const fetches = vi.spyOn(globalThis, "fetch");
    const traffic = startDemoTraffic({
      gateway: gateway.url,
      networks: [{ name: "ethereum", rpc: `${gateway.url}/v1/ethereum/key` }],
      intervalMs: 10,
    });
    const deadline = Date.now() + 30_000;
    while (gateway.reads.filter((r) => r.quorum).length < 2 && Date.now() < deadline) {
      await vi.advanceTimersByTimeAsync(10);
    }
    await traffic.stop();
    const sessions = new Set(gateway.reads.filter((r) => r.session).map((r) => r.session));
    expect(sessions.size).toBe(DEMO_SESSIONS);
    // Three healthy, unjailed operators: the quorum read asks all three.
    expect(new Set(gateway.reads.filter((r) => r.quorum).map((r) => r.quorum))).toEqual(new Set(["3"]));
    // Stopped: five more intervals start no round (a round's first step is a fetch of /healthz).
    const after = gateway.reads.length;
    const asked = fetches.mock.calls.length;
    await vi.advanceTimersByTimeAsync(50);
    expect(fetches.mock.calls.length).toBe(asked);
    expect(gateway.reads.length).toBe(after);
  });
});
