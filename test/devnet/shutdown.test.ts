// `din up` stops on SIGTERM under hostile load, and nothing it printed keeps listening: the gateway, the
// operators, the chains. The signal goes to the whole process group (as Ctrl-C or a container stop does),
// so the chains exit while the rest of the network is still closing.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/dataPlane.js";
import {
  exitOf,
  fireRequests,
  killGroup,
  openHostileSockets,
  refusesConnections,
} from "../support/stopping.js";

const bin = join(import.meta.dirname, "../../bin/din.mjs");

interface ReadyLine {
  gateway: string;
  networks: Array<{ name: string; rpc: string; ws: string; chain: string }>;
  operators: Array<{ id: string; url: string }>;
  ledger: { rpc: string };
}

describe("din up under hostile load", () => {
  let child: ChildProcess | undefined;
  let sockets: Socket[] = [];

  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    if (child && child.exitCode === null && child.signalCode === null) killGroup(child);
  });

  it("stops on SIGTERM with exit 0 and leaves none of its ports listening", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "din-up-stop-"));
    // Its own process group, so the signal reaches the chains too and a failure can kill them all.
    const started = spawn(
      process.execPath,
      [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--block-time", "500"],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    child = started;
    let stderr = "";
    started.stderr!.on("data", (chunk) => {
      stderr += chunk;
    });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      createInterface({ input: started.stdout! }).once("line", (line) =>
        resolve(JSON.parse(line) as ReadyLine),
      );
      started.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr.slice(-2000)}`)));
    });

    const [ethereum, polygon] = ready.networks;
    const requests = [];
    for (let i = 0; i < 200; i++) {
      // A new session per request (sticky routing state the gateway keeps), and methods nobody serves.
      const method = i % 3 === 0 ? `din_madeUp${i}` : i % 3 === 1 ? "eth_blockNumber" : "eth_chainId";
      requests.push({
        body: { jsonrpc: "2.0", id: i, method, params: [] },
        headers: { "din-session-id": `hostile-${i}-${Math.random().toString(36).slice(2)}` },
      });
    }
    for (let i = 0; i < 4; i++) {
      requests.push({
        body: {
          jsonrpc: "2.0",
          id: 1_000 + i,
          method: "eth_getLogs",
          params: [{ fromBlock: "0x0", toBlock: "latest" }],
        },
      });
    }
    fireRequests(ethereum!.rpc, requests);
    fireRequests(polygon!.rpc, requests.slice(0, 50));
    sockets = openHostileSockets(ready.gateway, {
      rpcPath: new URL(ethereum!.rpc).pathname,
      wsPath: new URL(ethereum!.ws).pathname,
    });
    // The load is in place: every hostile socket connected with its bytes sent, and the gateway holding
    // the WebSockets that never answer a close frame.
    await waitFor(
      () =>
        sockets.every(
          (socket) => !socket.connecting && socket.bytesWritten > 0 && socket.writableLength === 0,
        ),
      10_000,
      "the hostile sockets to be connected",
    );
    await waitFor(
      async () =>
        (await (await fetch(`${ready.gateway}/metrics`)).text()).includes(
          `din_ws_connections{network="${ethereum!.name}"} 3`,
        ),
      10_000,
      "the gateway to hold the three WebSockets",
    );

    const exited = exitOf(started, 60_000);
    process.kill(-started.pid!, "SIGTERM");
    const exit = await exited;
    console.info(`din up stopped in ${exit.ms} ms (exit ${exit.code ?? exit.signal})`);
    expect(exit.code, stderr.slice(-3000)).toBe(0);
    // A graceful stop finishes inside the deadline (10 s); the forced one would have exited 1.
    expect(exit.ms).toBeLessThan(10_000);

    const ports = [
      ready.gateway,
      ready.ledger.rpc,
      ...ready.networks.map((network) => network.chain),
      ...ready.operators.map((operator) => operator.url),
    ];
    const refused = await Promise.all(
      ports.map(async (url) => [url, await refusesConnections(url)] as const),
    );
    expect(refused.filter(([, refuses]) => !refuses)).toEqual([]);
  }, 120_000);
});
