// `din keys` and `din usage` against a running `din up`, found through --data-dir, as a developer uses them.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, rpc } from "../support/dataPlane.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");

interface ReadyLine {
  gateway: string;
  networks: Array<{ name: string; rpc: string; ws: string }>;
}

function startUp(dataDir: string): Promise<{ child: ChildProcess; ready: ReadyLine }> {
  const child = spawn(
    process.execPath,
    // No demo traffic: the usage this file counts is its own requests'.
    [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--block-time", "500", "--traffic", "off"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve({ child, ready: JSON.parse(line) as ReadyLine }),
    );
    child.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr.slice(-2000)}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

describe("din keys and din usage on a running din up", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "din-keys-cli-"));
  let child: ChildProcess;
  let ready: ReadyLine;
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, read field by field
  const din = async (...args: string[]): Promise<any> => {
    const { stdout } = await run(process.execPath, [bin, ...args, "--data-dir", dataDir, "--json"]);
    return JSON.parse(stdout);
  };
  const fails = (...args: string[]) =>
    run(process.execPath, [bin, ...args, "--data-dir", dataDir]).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );

  beforeAll(async () => {
    ({ child, ready } = await startUp(dataDir));
  }, 120_000);

  afterAll(async () => {
    if (child) await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("puts a keyed URL in the ready line and refuses /v1/<network> without a key", async () => {
    const key = /\/v1\/ethereum\/([0-9a-f]{32})$/.exec(ready.networks[0]!.rpc)?.[1];
    expect(key).toBeDefined();
    expect(ready.networks[0]!.ws).toMatch(new RegExp(`/ws/v1/ethereum/${key}$`));
    expect((await post(ready.networks[0]!.rpc, rpc("eth_chainId"))).json.result).toBe("0x7a69");
    const bare = await post(`${ready.gateway}/v1/ethereum`, rpc("eth_chainId"));
    expect(bare.status).toBe(401);
    expect(statSync(join(dataDir, "admin-token")).mode & 0o777).toBe(0o600);
  });

  it("creates, lists, shows, rotates and revokes keys, and reports their usage", async () => {
    const created = await din("keys", "create", "--project", "shop", "--credits-per-day", "500", "--secret");
    expect(created.key).toMatchObject({ status: "active", hasSecret: true, limits: { creditsPerDay: 500 } });
    expect(created.secret).toBeDefined();
    const key = created.key.key as string;
    const endpoint = `${ready.gateway}/v1/ethereum/${key}`;
    for (let i = 0; i < 3; i++) expect((await post(endpoint, rpc("eth_chainId"))).status).toBe(200);

    const listed = await din("keys", "list", "--project", "shop");
    expect(listed.keys.map((k: { key: string }) => k.key)).toEqual([key]);
    // The text: names in full, every column starting where its header starts.
    const listText = (await run(process.execPath, [bin, "keys", "list", "--data-dir", dataDir])).stdout;
    const [header, ...rows] = listText.trimEnd().split("\n");
    for (const row of rows)
      expect(row.slice(header!.indexOf("status"))).toMatch(/^(active|expiring|revoked) /);
    expect(rows.find((row) => row.startsWith(key))).toMatch(new RegExp(`^${key}\\s+shop\\s`));
    expect((await din("keys", "show", key)).key.key).toBe(key);
    // The text names the project by the name it was created with (its id in parentheses).
    const shown = (await run(process.execPath, [bin, "keys", "show", key, "--data-dir", dataDir])).stdout;
    expect(shown).toMatch(/^project {4}shop \(\S+\)$/m);

    const usage = await din("usage", "--key", key, "--group-by", "method");
    expect(usage.usage).toEqual([{ method: "eth_chainId", requests: 3, credits: 3, errors: 0 }]);
    // The text: every column starts where its header starts.
    const table = (
      await run(process.execPath, [
        bin,
        "usage",
        "--key",
        key,
        "--group-by",
        "key,method",
        "--data-dir",
        dataDir,
      ])
    ).stdout.split("\n");
    const column = (line: string, word: string) => line.indexOf(word);
    expect(column(table[1]!, "eth_chainId")).toBe(column(table[0]!, "method"));
    expect(table[1]!.indexOf(" 3 ") + 2).toBeLessThanOrEqual(
      table[0]!.indexOf("requests") + "requests".length,
    );

    const rotated = await din("keys", "rotate", key);
    expect(rotated.previous.status).toBe("revoked");
    expect(rotated.secret).toBeDefined();
    expect((await post(endpoint, rpc("eth_chainId"))).status).toBe(401);
    const fresh = rotated.key.key as string;
    expect((await post(`${ready.gateway}/v1/ethereum/${fresh}`, rpc("eth_chainId"))).status).toBe(200);
    expect((await din("keys", "revoke", fresh)).key.status).toBe("revoked");
    expect((await post(`${ready.gateway}/v1/ethereum/${fresh}`, rpc("eth_chainId"))).status).toBe(401);
  });

  it("refuses bad input with a clear message and exit code, creating nothing", async () => {
    const before = (await din("keys", "list")).keys.length;
    const badContract = await fails("keys", "create", "--allow-contract", "0x1234");
    expect(badContract.code).toBe(1);
    expect(badContract.stderr).toMatch(/allowlists\.contracts\[0\]: a 20-byte hex address/);
    const negative = await fails("keys", "create", "--credits-per-second", "-5");
    expect(negative.code).not.toBe(0);
    expect(negative.stderr).toMatch(/expected an integer ≥ 0/);
    const unknown = await fails("keys", "revoke", "ffffffffffffffffffffffffffffffff");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no API key "ffffffffffffffffffffffffffffffff"/);
    expect((await din("keys", "list")).keys.length).toBe(before);
  });

  it("documents every keys command with --help", async () => {
    for (const command of [["keys"], ["keys", "create"], ["usage"]]) {
      const { stdout } = await run(process.execPath, [bin, ...command, "--help"]);
      expect(stdout).toMatch(/Usage: din/);
    }
  });

  it("keeps the devnet key and the usage across a restart on the same data dir", async () => {
    const rpcUrl = ready.networks[0]!.rpc;
    await post(rpcUrl, rpc("eth_chainId"));
    const key = /\/([0-9a-f]{32})$/.exec(rpcUrl)![1]!;
    const before = (await din("usage", "--key", key, "--group-by", "key")).totals.requests;
    expect(await stop(child)).toBe(0);
    ({ child, ready } = await startUp(dataDir));
    expect(ready.networks[0]!.rpc).toBe(rpcUrl.replace(/:\d+\//, `:${new URL(ready.gateway).port}/`));
    const after = await din("usage", "--key", key, "--group-by", "key");
    expect(after.totals.requests).toBe(before);
  }, 120_000);
});
