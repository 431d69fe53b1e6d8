import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type ChainProcessHandle, parseChainArgs, spawnChainProcess } from "./chainProcess.js";

// The stand-alone entry runs runChainProcess the way `din devnet chain` does, without depending on the CLI.
const ENTRY = fileURLToPath(new URL("./chainProcessEntry.ts", import.meta.url));

function connectionError(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await response.json()) as { result?: unknown }).result;
}

describe("chain process", () => {
  it("prints its ready line, serves, and leaves nothing listening after SIGTERM", async () => {
    const handle: ChainProcessHandle = await spawnChainProcess({
      name: "polygon",
      chainId: 80002,
      blockTimeMs: 250,
      traffic: true,
      binPath: ENTRY,
      nodeArgs: ["--import", "tsx"],
    });
    try {
      expect(handle.info).toMatchObject({ name: "polygon", chainId: 80002 });
      expect(handle.info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(handle.info.wsUrl).toBe(handle.info.url.replace("http://", "ws://"));
      expect(handle.info.pingContract).toMatch(/^0x[0-9a-f]{40}$/i);
      expect(await rpc(handle.info.url, "eth_chainId")).toBe("0x13882");
      expect(await rpc(handle.info.url, "eth_getCode", [handle.info.pingContract, "latest"])).not.toBe("0x");
    } finally {
      await handle.stop();
    }
    expect(await handle.exited).toEqual({ code: 0, signal: null });
    expect(await connectionError(handle.info.url)).toBe("ECONNREFUSED");
  });

  it("rejects with the child's stderr when the child dies before it is ready", async () => {
    await expect(
      spawnChainProcess({
        name: "broken",
        chainId: -5,
        binPath: ENTRY,
        nodeArgs: ["--import", "tsx"],
      }),
    ).rejects.toThrow(/exited before it was ready \(code 1[\s\S]*--chain-id/);
  });

  it("parses the CLI flags, ignoring the verb positionals", () => {
    expect(
      parseChainArgs([
        "devnet",
        "chain",
        "--name",
        "ethereum",
        "--chain-id",
        "1337",
        "--block-time",
        "500",
        "--traffic",
      ]),
    ).toEqual({
      name: "ethereum",
      chainId: 1337,
      blockTimeMs: 500,
      port: 0,
      host: "127.0.0.1",
      traffic: true,
    });
    expect(() => parseChainArgs(["--chain-id", "1"])).toThrow(/--name/);
  });
});
