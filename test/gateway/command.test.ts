// `din gateway --config din.yaml`: a gateway in front of plain RPC URLs, no chain of ours needed.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, rpc } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");

async function startGatewayProcess(config: string, extra: string[] = []) {
  const child = spawn(process.execPath, [bin, "gateway", "--config", config, "--port", "0", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return { child, ready: JSON.parse(line) as { gateway: string; workers?: number } };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("din gateway", () => {
  let chain: HardhatServer;
  let config: string;

  beforeAll(async () => {
    chain = await startHardhatServer();
    const dir = mkdtempSync(join(tmpdir(), "din-gateway-"));
    config = join(dir, "din.yaml");
    writeFileSync(
      config,
      [
        "server:",
        "  logLevel: warn",
        "networks:",
        "  - name: local",
        "    chainId: 31337",
        "    upstreams:",
        `      - { id: node-a, url: "${chain.url}", cloud: aws, region: us-east-1 }`,
        `      - { id: node-b, url: "${chain.url}", cloud: gcp, region: europe-west1 }`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await chain?.close();
  });

  it("serves the networks of a YAML config and stops on SIGTERM", async () => {
    const { child, ready } = await startGatewayProcess(config);
    const { json } = await post(
      `${ready.gateway}/v1/local`,
      rpc("eth_getBalance", ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "latest"]),
    );
    expect(json.error).toBeUndefined();
    expect(BigInt(json.result)).toBeGreaterThan(0n);
    expect(await stop(child)).toBe(0);
  });

  it("shares the port among worker processes", async () => {
    const { child, ready } = await startGatewayProcess(config, ["--workers", "2"]);
    expect(ready.workers).toBe(2);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(`${ready.gateway}/v1/local`, rpc("eth_chainId", [], i))),
    );
    expect(answers.every((answer) => answer.json.result === "0x7a69")).toBe(true);
    expect(await stop(child)).toBe(0);
  });

  it("refuses an invalid config naming the bad key, without a stack trace", async () => {
    const bad = join(mkdtempSync(join(tmpdir(), "din-gateway-")), "bad.yaml");
    writeFileSync(bad, "networks:\n  - name: local\n    chainId: abc\n    upstreams: []\n");
    const failure = (await run(process.execPath, [bin, "gateway", "--config", bad]).catch(
      (error) => error,
    )) as {
      code: number;
      stderr: string;
    };
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/networks\[0\]\.chainId/);
    expect(failure.stderr).toMatch(/networks\[0\]\.upstreams/);
    expect(failure.stderr).not.toMatch(/\n\s+at /);
  });

  it("documents every command with --help", async () => {
    for (const command of [
      [],
      ["up"],
      ["gateway"],
      ["operator", "serve"],
      ["chaos"],
      ["status"],
      ["devnet", "chain"],
    ]) {
      const { stdout } = await run(process.execPath, [bin, ...command, "--help"]);
      expect(stdout).toMatch(/Usage: din/);
    }
  });
});
