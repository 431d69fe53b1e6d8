// `din chaos` changes a running network's faults with the control token `din up` wrote to the data dir;
// without it (or with another one) the operators refuse.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateControlToken, writeControlToken } from "../operator/controlToken.js";
import { type OperatorNode, startOperatorNode } from "../operator/proxy.js";
import { applyChaos } from "./chaos.js";
import { controlTokenFile, type NetworkState, writeNetworkState } from "./state.js";

let dataDir: string;
let node: OperatorNode;
const token = generateControlToken();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "din-chaos-"));
  // No request in this file reaches the upstream: only the chaos control is used.
  node = await startOperatorNode({
    id: "op-a",
    upstream: "http://127.0.0.1:1",
    chaos: true,
    controlToken: token,
  });
  const state: NetworkState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    gateway: "http://127.0.0.1:1",
    networks: [],
    operators: [
      {
        id: node.id,
        network: "ethereum",
        cloud: "aws",
        region: "us-east-1",
        url: node.url,
        controlUrl: node.controlUrl,
        address: `0x${"01".repeat(20)}`,
        signer: `0x${"02".repeat(20)}`,
      },
    ],
    ledger: { rpc: "http://127.0.0.1:1", chainId: 31337, deployment: "", rewards: "" },
    contracts: {},
    watchers: [],
    stakers: [],
  };
  writeNetworkState(dataDir, state);
});

afterAll(async () => {
  await node?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("din chaos", () => {
  it("fails with a clear message when the data dir holds no control token", async () => {
    await expect(applyChaos(dataDir, { cloud: "aws" }, { mode: "lie" })).rejects.toThrow(
      /no chaos control token/,
    );
    expect(node.state()).toEqual({ mode: "ok" });
  });

  it("changes faults with the token din up wrote, readable by its owner only", async () => {
    writeControlToken(controlTokenFile(dataDir), token);
    if (process.platform !== "win32") expect(statSync(controlTokenFile(dataDir)).mode & 0o777).toBe(0o600);
    const [change] = await applyChaos(dataDir, { cloud: "aws" }, { mode: "lie" });
    expect(change).toMatchObject({ operator: "op-a", state: { mode: "lie" } });
    expect(node.state()).toEqual({ mode: "lie" });
  });

  it("reports the operator's refusal when the token is not its own", async () => {
    writeControlToken(controlTokenFile(dataDir), generateControlToken());
    const [change] = await applyChaos(dataDir, { cloud: "aws" }, { mode: "ok" });
    expect(change?.error).toMatch(/authorization/);
    expect(node.state()).toEqual({ mode: "lie" });
  });
});
