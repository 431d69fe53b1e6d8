import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
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
async function serve(args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, "operator", "serve", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(([code]) => {
      throw new Error(`operator serve exited with ${code}`);
    }),
  ])) as [string];
  return { child, ready: JSON.parse(line) as Record<string, unknown> };
}

describe("din operator serve", () => {
  it("documents its options in --help", () => {
    const help = helpOf(["operator", "serve"]);
    for (const option of ["--upstream <url>", "--host", "--port", "--id", "--cloud", "--region", "--chaos"]) {
      expect(help).toContain(option);
    }
    expect(helpOf(["operator"])).toContain("serve");
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
