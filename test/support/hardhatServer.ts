// A real Hardhat chain served over HTTP on 127.0.0.1, for tests that need an execution client.

import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

/** The EIP-1193 surface of Hardhat's in-process provider that tests use. */
export interface HardhatProvider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export interface HardhatServer {
  /** HTTP JSON-RPC URL of the chain. */
  url: string;
  /** The in-process provider behind `url`: mine (`hardhat_mine`) or read without HTTP. */
  provider: HardhatProvider;
  close(): Promise<void>;
}

interface JsonRpcServerInstance {
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
}

// Hardhat 2 is CommonJS and reads hardhat.config.cjs from the working directory (the repo root under vitest).
const require = createRequire(import.meta.url);

/**
 * Serves the in-process Hardhat network (one chain per test process) on a free port. Several servers
 * started in one process share that chain.
 */
export async function startHardhatServer(): Promise<HardhatServer> {
  const hre = require("hardhat") as { network: { provider: HardhatProvider } };
  const { JsonRpcServer } = require("hardhat/internal/hardhat-network/jsonrpc/server.js") as {
    JsonRpcServer: new (config: {
      hostname: string;
      port: number;
      provider: HardhatProvider;
    }) => JsonRpcServerInstance;
  };
  const provider = hre.network.provider;
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, provider, close: () => server.close() };
}
