// The node API service on its own, with a scripted execution client: it serves the AVS node API and the
// metrics at the URL it reports, probes in the background until stopped, counts what the public path tells
// it (served, failed, refused, injected faults not sent upstream), and fails to start on a taken port.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { closeServer, listen } from "../http/listen.js";
import { NodeApiService } from "./nodeApiService.js";

const probes: string[] = [];
const probe = async (method: string): Promise<unknown> => {
  probes.push(method);
  if (method === "eth_syncing") return false;
  if (method === "web3_clientVersion") return "HardhatNetwork/2.22.0/@nomicfoundation/edr/0.6.4";
  if (method === "eth_getBlockByNumber")
    return { number: "0x2a", timestamp: `0x${Math.floor(Date.now() / 1000).toString(16)}` };
  throw new Error(`unexpected probe ${method}`);
};

const services: NodeApiService[] = [];
function service(port = 0): NodeApiService {
  const api = new NodeApiService(
    { port, version: "9.9.9", probeIntervalMs: 20 },
    {
      id: "op-api",
      probe,
      relaySigner: undefined,
      listenerLimits: {},
      log: pino({ level: "silent" }),
      onError: (res) => res.destroy(),
    },
  );
  services.push(api);
  return api;
}

afterEach(async () => {
  await Promise.all(services.splice(0).map((api) => api.stop()));
  probes.length = 0;
});

async function poll(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("NodeApiService", () => {
  it("serves the node API at its URL and finds the execution client Up once probed", async () => {
    const url = await service().start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/eigen/node`)).json()).toEqual({
      node_name: "op-api",
      spec_version: "v0.0.1",
      node_version: "9.9.9",
    });
    await poll(
      async () => (await fetch(`${url}/eigen/node/services/execution-client/health`)).status === 200,
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('din_operator_service_up{service="execution-client"} 1');
    expect(metrics).toContain("din_operator_execution_client_head 42");
  });

  it("counts the calls the public path reports: served, failed, refused, and only real forwards upstream", async () => {
    const api = service();
    const url = await api.start();
    await poll(async () => probes.includes("web3_clientVersion"));
    api.observe(
      { forwarded: ["eth_chainId", "eth_chainId"], refused: ["unknown"], failed: false },
      { status: 200, body: "[]" },
      12,
    );
    api.observe({ forwarded: ["eth_call"], refused: [], failed: false }, { status: 502, body: "{}" }, 30);
    api.observe(
      { forwarded: ["eth_getLogs"], refused: [], failed: true, injected: true },
      { status: 503, body: "{}" },
      1,
    );
    api.metrics.refused("too_large");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('din_operator_calls_total{method="eth_chainId",outcome="served"} 2');
    expect(metrics).toContain('din_operator_calls_total{method="unknown",outcome="refused"} 1');
    expect(metrics).toContain('din_operator_calls_total{method="eth_call",outcome="failed"} 1');
    expect(metrics).toContain('din_operator_calls_total{method="eth_getLogs",outcome="failed"} 1');
    expect(metrics).toMatch(/eigen_rpc_request_total\{method="eth_chainId",client_version="[^"]+"\} 2/);
    expect(metrics).toMatch(/eigen_rpc_request_total\{method="eth_call",client_version="[^"]+"\} 1/);
    // An injected failure never reached the execution client.
    expect(metrics).not.toMatch(/eigen_rpc_request_total\{method="eth_getLogs"/);
    expect(metrics).toContain('din_operator_refusals_total{reason="too_large"} 1');
  });

  it("probes every interval until stopped, then closes its listener", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    try {
      const rounds = () => probes.filter((method) => method === "eth_syncing").length;
      const api = service();
      const url = await api.start();
      // The first round runs at start; the client version is read at its end.
      await poll(async () => probes.includes("web3_clientVersion"));
      expect(rounds()).toBe(1);
      await vi.advanceTimersByTimeAsync(20);
      expect(rounds()).toBe(2);
      await api.stop();
      await vi.advanceTimersByTimeAsync(200);
      expect(rounds()).toBe(2);
      await expect(fetch(`${url}/eigen/node`)).rejects.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it("rejects start when its port is taken, without probing", async () => {
    const squatter = createServer();
    await listen(squatter, 0, "127.0.0.1");
    try {
      const { port } = squatter.address() as AddressInfo;
      await expect(service(port).start()).rejects.toThrow(/EADDRINUSE/);
      expect(probes).toEqual([]);
    } finally {
      await closeServer(squatter);
    }
  });
});
