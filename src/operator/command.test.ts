import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { type Address, getAddress } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DinFixture, deployDinFixture, ETHEREUM, GATEWAY_SET, WAD } from "../../test/din/fixture.js";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { ACCESS_TOKEN_HEADER, createAccessToken } from "../ledger/din/auth.js";
import { toJson } from "../ledger/din/deploy.js";
import { registerOperatorCommand } from "./command.js";

const fixture = fileURLToPath(new URL("./fixtures/operatorCli.ts", import.meta.url));

let chain: HardhatServer;

beforeAll(async () => {
  chain = await startHardhatServer();
});

afterAll(async () => {
  await chain?.close();
});

function helpOf(args: string[]): string {
  const program = new Command("din").exitOverride();
  let output = "";
  program.configureOutput({ writeOut: (text) => (output += text), writeErr: (text) => (output += text) });
  registerOperatorCommand(program);
  try {
    program.parse(["node", "din", ...args, "--help"]);
  } catch {
    // exitOverride turns --help's exit into an exception; the text is what matters.
  }
  return output;
}

/** Starts the command in a child process and waits for its one stdout line. */
async function serve(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; ready: Record<string, unknown>; stderr: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, "operator", "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(([code]) => {
      throw new Error(`operator serve exited with ${code}: ${stderr}`);
    }),
  ])) as [string];
  return { child, ready: JSON.parse(line) as Record<string, unknown>, stderr: () => stderr };
}

/** Runs the command expecting it to refuse to start; resolves with its stderr. */
async function refusal(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, "operator", "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = await once(child, "exit");
  expect(code).not.toBe(0);
  return stderr;
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

describe("din operator serve", () => {
  it("documents its options in --help", () => {
    const help = helpOf(["operator", "serve"]);
    for (const option of [
      "--upstream <url>",
      "--host",
      "--port",
      "--id",
      "--cloud",
      "--region",
      "--chaos",
      "--ledger-rpc <url>",
      "--deployment <file>",
      "--data-dir <dir>",
      "--network <name>",
      "--operator-address <address>",
      "--signer-key-file <file>",
      "--signer-key-env <name>",
      "--no-auth",
      "--control-token-file <file>",
      "--gas-cap <gas>",
      "--max-log-range <blocks>",
      "--upstream-timeout-ms <ms>",
      "--headers-timeout-ms <ms>",
      "--node-api-host <host>",
      "--node-api-port <port>",
      "--no-node-api",
      "--latency-budget-ms <ms>",
      "--max-head-age <seconds>",
    ]) {
      expect(help).toContain(option);
    }
    expect(helpOf(["operator"])).toContain("serve");
  });

  it("logs JSON off a terminal and readable lines with --log-format pretty, stdout untouched", async () => {
    const json = await serve(["--upstream", chain.url, "--id", "op-json"]);
    const pretty = await serve(["--upstream", chain.url, "--id", "op-pretty", "--log-format", "pretty"]);
    for (const run of [json, pretty]) {
      const exited = once(run.child, "exit");
      run.child.kill("SIGTERM");
      await exited;
    }
    // Not a terminal: one JSON object per line.
    const first = json
      .stderr()
      .split("\n")
      .find((line) => line.includes("operator node listening"))!;
    expect(JSON.parse(first)).toMatchObject({ msg: "operator node listening", operator: "op-json" });
    // Asked for: a line a person reads, with the level and the message, no JSON braces.
    const line = pretty
      .stderr()
      .split("\n")
      .find((l) => l.includes("operator node listening"))!;
    expect(line).toMatch(/INFO.*operator node listening/);
    expect(line.trimStart().startsWith("{")).toBe(false);
    expect(pretty.ready).toMatchObject({ id: "op-pretty" });
  });

  it("prints one JSON line when listening, serves JSON-RPC, and stops cleanly on SIGTERM", async () => {
    const { child, ready } = await serve([
      "--upstream",
      chain.url,
      "--id",
      "op-cli",
      "--cloud",
      "aws",
      "--chaos",
      "--control-token-file",
      join(mkdtempSync(join(tmpdir(), "din-op-")), "control.token"),
    ]);
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    expect(ready).toMatchObject({ id: "op-cli", url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(ready.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const response = await fetch(ready.url as string, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }),
    });
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: 1, result: "0x7a69" });

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stdout).toBe("");
    await expect(fetch(ready.url as string)).rejects.toThrow();
  });

  it("guards --chaos with the token in --control-token-file, and refuses --chaos without one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "din-op-"));
    const tokenFile = join(dir, "control.token");
    const { child, ready } = await serve([
      "--upstream",
      chain.url,
      "--chaos",
      "--control-token-file",
      tokenFile,
    ]);
    try {
      const token = readFileSync(tokenFile, "utf8").trim();
      const change = (authorization: string) =>
        fetch(`${ready.controlUrl}/chaos`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization },
          body: JSON.stringify({ mode: "lie" }),
        });
      expect((await change("Bearer wrong")).status).toBe(401);
      expect((await change(`Bearer ${token}`)).status).toBe(200);
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await refusal(["--upstream", chain.url, "--chaos"])).toMatch(/--chaos needs --control-token-file/);
  });

  it("applies --gas-cap and --max-log-range in front of the execution client", async () => {
    const { child, ready } = await serve([
      "--upstream",
      chain.url,
      "--gas-cap",
      "100000",
      "--max-log-range",
      "2",
    ]);
    try {
      const rpc = async (method: string, params: unknown[]) => {
        const response = await fetch(ready.url as string, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        });
        return (await response.json()) as { error?: { code: number; message: string } };
      };
      // JUMPDEST PUSH1 0 JUMP: out of gas at the cap.
      expect((await rpc("eth_call", [{ data: "0x5b600056", gas: "0x1c9c380" }])).error?.message).toMatch(
        /gas/i,
      );
      expect((await rpc("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x2" }])).error?.code).toBe(-32005);
    } finally {
      await stop(child);
    }
  });

  it("serves the AVS node API and metrics on their own port, printed in the ready line", async () => {
    const { child, ready } = await serve(["--upstream", chain.url, "--id", "op-api"]);
    try {
      expect(ready.nodeApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ready.nodeApiUrl).not.toBe(ready.url);
      expect(ready.metricsUrl).toBe(`${ready.nodeApiUrl}/metrics`);
      const spec = await fetch(`${ready.nodeApiUrl}/eigen/node/spec-version`);
      expect(await spec.json()).toEqual({ spec_version: "v0.0.1" });
      const node = await fetch(`${ready.nodeApiUrl}/eigen/node`);
      expect(await node.json()).toMatchObject({ node_name: "op-api", spec_version: "v0.0.1" });
      expect(await (await fetch(ready.metricsUrl as string)).text()).toContain(
        "# TYPE eigen_performance_score gauge",
      );
    } finally {
      await stop(child);
    }
    const off = await serve(["--upstream", chain.url, "--no-node-api"]);
    try {
      expect(off.ready).toMatchObject({ nodeApiUrl: null, metricsUrl: null });
    } finally {
      await stop(off.child);
    }
  });

  it("rejects a missing or malformed upstream with a clear message", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fixture, "operator", "serve", "--upstream", "nope"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/--upstream <url>.*expected an http\(s\) URL/);
  });
});

describe("din operator serve with a ledger", () => {
  let f: DinFixture;
  let dir: string;
  let operator: Address;
  const signerKey = generatePrivateKey();
  const signer = privateKeyToAccount(signerKey);
  let gateway: PrivateKeyAccount;
  let chainId: number;
  const call = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };

  beforeAll(async () => {
    f = await deployDinFixture();
    chainId = f.ledger.chain.id;
    operator = f.operators[0];
    await f.stake(operator, 10n * WAD, ETHEREUM);
    f.addSignerKey(signer);
    await f.registerForSet(
      operator,
      ETHEREUM,
      f.encodeMetadata(f.metadata(operator, { signer: signer.address })),
    );
    gateway = privateKeyToAccount(generatePrivateKey());
    await f.ledger.fund(gateway.address);
    await f.ledger.write(f.deployer, {
      ...f.registry,
      functionName: "setGateway",
      args: [gateway.address, true],
    });
    await f.stake(gateway.address, 2n * WAD, GATEWAY_SET);
    await f.registerForSet(gateway.address, GATEWAY_SET);
    // A local network's data dir as `din up` leaves it: the ledger's RPC, its deployment and keys.
    dir = mkdtempSync(join(tmpdir(), "din-operator-"));
    mkdirSync(join(dir, "ledger"));
    mkdirSync(join(dir, "keys"));
    writeFileSync(join(dir, "ledger", "deployment.json"), `${toJson(f.deployment)}\n`);
    writeFileSync(join(dir, "network.json"), JSON.stringify({ ledger: { rpc: chain.url, chainId } }));
    writeFileSync(join(dir, "keys", "op.signer.key"), `${generatePrivateKey()}\n`, { mode: 0o600 });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves only admitted callers and signs with the registered key, from a data dir", async () => {
    const { child, ready, stderr } = await serve(
      [
        "--upstream",
        chain.url,
        "--data-dir",
        dir,
        "--network",
        "ethereum",
        "--operator-address",
        operator.toLowerCase(),
        "--signer-key-env",
        "TEST_SIGNER_KEY",
      ],
      { ...process.env, TEST_SIGNER_KEY: signerKey },
    );
    try {
      expect(ready).toMatchObject({ address: operator, signer: signer.address, auth: true });
      const anonymous = await fetch(ready.url as string, { method: "POST", body: JSON.stringify(call) });
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { message: string } }).error.message).toBe(
        "unauthorized: missing din-auth header",
      );
      const token = await createAccessToken(gateway, {
        role: "gateway",
        audience: operator,
        ledgerChainId: chainId,
      });
      const served = await fetch(ready.url as string, {
        method: "POST",
        headers: { "content-type": "application/json", [ACCESS_TOKEN_HEADER]: token, "din-sign": "1" },
        body: JSON.stringify(call),
      });
      expect(served.status).toBe(200);
      expect(await served.json()).toEqual({ jsonrpc: "2.0", id: 1, result: `0x${chainId.toString(16)}` });
      expect(served.headers.get("din-operator")).toBe(signer.address);
      expect(stderr()).not.toMatch(/not registered|names signer/);
    } finally {
      await stop(child);
    }
  });

  it("warns when the registry names another signer, and when auth is turned off", async () => {
    const { child, ready, stderr } = await serve([
      "--upstream",
      chain.url,
      "--ledger-rpc",
      chain.url,
      "--deployment",
      join(dir, "ledger", "deployment.json"),
      "--network",
      "ethereum",
      "--operator-address",
      operator,
      "--signer-key-file",
      join(dir, "keys", "op.signer.key"),
      "--no-auth",
    ]);
    try {
      expect(ready).toMatchObject({ address: operator, auth: false });
      expect(getAddress(ready.signer as string)).not.toBe(signer.address);
      expect(stderr()).toContain(`the registry names signer ${signer.address}`);
      expect(stderr()).toContain("authentication is off");
      const open = await fetch(ready.url as string, { method: "POST", body: JSON.stringify(call) });
      expect(open.status).toBe(200);
    } finally {
      await stop(child);
    }
  });

  it("refuses to start without what signing and authentication need, saying what is missing", async () => {
    const deployment = join(dir, "ledger", "deployment.json");
    expect(
      await refusal(["--upstream", chain.url, "--ledger-rpc", chain.url, "--deployment", deployment]),
    ).toMatch(/needs --operator-address/);
    expect(
      await refusal(["--upstream", chain.url, "--signer-key-file", join(dir, "keys", "op.signer.key")]),
    ).toMatch(/relay signing needs the ledger/);
    expect(
      await refusal(["--upstream", chain.url, "--data-dir", dir, "--network", "solana", "--no-auth"]),
    ).toMatch(/unknown network "solana"; this deployment serves: ethereum, polygon/);
  });
});
