// `din watcher run` as an operator of the network runs it: a real child process against a ledger served
// over HTTP, found through a local network's data dir.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJson } from "../../src/ledger/din/deploy.js";
import type { WatcherState } from "../../src/watcher/state.js";
import { type DinFixture, deployDinFixture, WAD, WATCHER_SET } from "../din/fixture.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";

const bin = join(import.meta.dirname, "../../bin/din.mjs");
// Hardhat's default mnemonic, account 2: the fixture's first watcher.
const watcherKey = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, "watcher", "run", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const newline = stdout.indexOf("\n");
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr.slice(-2000)}`)));
  });
  // Tests that expect an exit never read the first line.
  firstLine.catch(() => {});
  return { child, firstLine, exited, stderr: () => stderr };
}

describe("din watcher run", () => {
  let f: DinFixture;
  let server: HardhatServer;
  let dir: string;

  beforeAll(async () => {
    f = await deployDinFixture();
    await f.stake(f.watchers[0] as `0x${string}`, 2n * WAD, WATCHER_SET);
    await f.registerForSet(f.watchers[0] as `0x${string}`, WATCHER_SET);
    server = await startHardhatServer();
    dir = mkdtempSync(join(tmpdir(), "din-watcher-cli-"));
    mkdirSync(join(dir, "ledger"), { recursive: true });
    mkdirSync(join(dir, "keys"), { recursive: true });
    writeFileSync(
      join(dir, "network.json"),
      JSON.stringify({ ledger: { rpc: server.url, chainId: f.ledger.chain.id } }),
    );
    writeFileSync(join(dir, "ledger", "deployment.json"), toJson(f.deployment));
    writeFileSync(join(dir, "keys", "watcher-1.key"), `${watcherKey}\n`, { mode: 0o600 });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints its address and state file once running, and saves its state when stopped", async () => {
    const watcher = run([
      "--data-dir",
      dir,
      "--key-file",
      join(dir, "keys", "watcher-1.key"),
      "--probe-interval-ms",
      "100",
      "--metrics-port",
      "0",
      "--profit",
      "ethereum=1",
    ]);
    const line = JSON.parse(await watcher.firstLine) as {
      address: string;
      stateFile: string;
      metricsUrl: string;
    };
    expect(line.address).toBe(f.watchers[0]);
    expect(line.stateFile).toBe(join(dir, "watchers", `${f.watchers[0]}.json`));
    // Its metrics: the ledger it follows and the restaking check under the declared profit.
    const metrics = await (await fetch(line.metricsUrl)).text();
    expect(metrics).toMatch(/^din_watcher_ledger_block \d+$/m);
    expect(metrics).toMatch(/^din_risk_profit_from_corruption_tokens\{network="ethereum"\} 1$/m);
    watcher.child.kill("SIGTERM");
    const code = await watcher.exited;
    expect(code, watcher.stderr().slice(-3000)).toBe(0);
    const state = JSON.parse(readFileSync(line.stateFile, "utf8")) as WatcherState;
    expect(state.watcher).toBe(f.watchers[0]);
    expect(state.registry).toBe(f.addresses.registry);
  });

  it("refuses a key file others can read, with a message and no stack trace", async () => {
    const loose = join(dir, "keys", "loose.key");
    writeFileSync(loose, `${watcherKey}\n`);
    chmodSync(loose, 0o644);
    const watcher = run(["--data-dir", dir, "--key-file", loose]);
    expect(await watcher.exited).toBe(1);
    expect(watcher.stderr()).toMatch(/readable by other users/);
    expect(watcher.stderr()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "watchers", "loose.json"))).toBe(false);
  });

  it("refuses a bad metrics port or assumption before it starts", async () => {
    for (const bad of [
      ["--metrics-port", "99999"],
      ["--profit", "ethereum"],
      ["--threshold", "1/1"],
    ]) {
      const watcher = run(["--data-dir", dir, "--key-file", join(dir, "keys", "watcher-1.key"), ...bad]);
      expect(await watcher.exited, bad.join(" ")).toBe(1);
      expect(watcher.stderr()).toMatch(/^error: option/);
      expect(watcher.stderr()).not.toMatch(/\n\s+at /);
    }
  });

  it("says how to find the ledger when there is no local network", async () => {
    const empty = mkdtempSync(join(tmpdir(), "din-watcher-empty-"));
    try {
      const watcher = run(["--data-dir", empty, "--key-env", "DIN_TEST_UNSET_KEY"]);
      expect(await watcher.exited).toBe(1);
      expect(watcher.stderr()).toMatch(/no local network state .*--ledger-rpc and --deployment/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
