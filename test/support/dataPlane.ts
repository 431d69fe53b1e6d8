// A real data plane on 127.0.0.1 for tests: a Hardhat devnet mining by interval with traffic, five
// operator nodes (chaos control on) labelled with clouds and regions, and a gateway in front of them.
import pino from "pino";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { startTraffic, type Traffic } from "../../src/devnet/traffic.js";
import { type GatewayConfigInput, parseGatewayConfig } from "../../src/gateway/config.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import type { WebSocketOptions } from "../../src/gateway/ws.js";
import { type OperatorNode, startOperatorNode } from "../../src/operator/proxy.js";

export const operatorLayout = [
  { id: "aws-use1", cloud: "aws", region: "us-east-1" },
  { id: "aws-euw1", cloud: "aws", region: "eu-west-1" },
  { id: "gcp-usc1", cloud: "gcp", region: "us-central1" },
  { id: "hetzner-fsn1", cloud: "hetzner", region: "eu-central" },
  { id: "bare-ams", cloud: "bare-metal", region: "eu-west" },
] as const;

export interface DataPlane {
  chain: DevnetChain;
  traffic: Traffic;
  operators: Map<string, OperatorNode>;
  gateway: Gateway;
  rpcUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

export interface DataPlaneOptions {
  chainId?: number;
  blockTimeMs?: number;
  /** Overrides merged into the gateway configuration. */
  gateway?: Partial<Omit<GatewayConfigInput, "networks">>;
  network?: Record<string, unknown>;
  /** WebSocket limits of the gateway. */
  webSockets?: Partial<WebSocketOptions>;
  /** Per-operator overrides of the upstream entries (priority, weight, methods…). */
  upstreams?: Record<string, Record<string, unknown>>;
}

export async function startDataPlane(options: DataPlaneOptions = {}): Promise<DataPlane> {
  const chain = await startDevnetChain({
    name: "ethereum",
    chainId: options.chainId ?? 31337,
    blockTimeMs: options.blockTimeMs ?? 300,
  });
  const traffic = await startTraffic(chain, { transfersPerRound: 1, pingsPerRound: 2 });
  const operators = new Map<string, OperatorNode>();
  for (const layout of operatorLayout) {
    operators.set(
      layout.id,
      await startOperatorNode({
        id: layout.id,
        upstream: chain.url,
        chaos: true,
        labels: { cloud: layout.cloud, region: layout.region },
      }),
    );
  }
  const config = parseGatewayConfig({
    server: { host: "127.0.0.1", port: 0, logLevel: "silent", ...(options.gateway?.server ?? {}) },
    routing: { attemptTimeoutMs: 1_000, requestTimeoutMs: 8_000, ...(options.gateway?.routing ?? {}) },
    health: { headPollMs: 150, breakerCooldownMs: 500, banMs: 1_500, ...(options.gateway?.health ?? {}) },
    cache: options.gateway?.cache ?? {},
    networks: [
      {
        name: "ethereum",
        chainId: chain.chainId,
        upstreams: operatorLayout.map((layout) => ({
          id: layout.id,
          url: operators.get(layout.id)!.url,
          cloud: layout.cloud,
          region: layout.region,
          ...(options.upstreams?.[layout.id] ?? {}),
        })),
        ...(options.network ?? {}),
      },
    ],
  });
  const gateway = await startGateway(config, {
    logger: pino({ level: process.env.DIN_TEST_LOG ?? "silent" }),
    ...(options.webSockets ? { webSockets: options.webSockets } : {}),
  });
  return {
    chain,
    traffic,
    operators,
    gateway,
    rpcUrl: `${gateway.url}/v1/ethereum`,
    wsUrl: `${gateway.url.replace(/^http/, "ws")}/ws/v1/ethereum`,
    async close() {
      await gateway.close();
      await traffic.stop();
      await Promise.all([...operators.values()].map((operator) => operator.close()));
      await chain.close();
    },
  };
}

/** Posts a JSON-RPC body and returns the HTTP status and the decoded answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON-RPC answers field by field
): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

export const rpc = (method: string, params: unknown[] = [], id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
});

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
