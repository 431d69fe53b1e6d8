// `din gateway` with keys from YAML, --database-url and --redis-url, managed remotely with
// `din keys --gateway … --admin-token-file …`; bad flags and bad keys configuration refused clearly.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, rpc, sleep } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { sharedServices } from "./keyedGateway.js";
import { createDatabase } from "./services.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");

describe("din gateway with keys", () => {
  let services: Awaited<ReturnType<typeof sharedServices>>;
  let chain: HardhatServer;
  let child: ChildProcess | undefined;
  // Every gateway process a test starts, stopped at the end even when the test fails midway.
  const started: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), "din-keys-command-"));
  const tokenFile = join(dir, "admin-token");
  const config = join(dir, "din.yaml");

  beforeAll(async () => {
    services = await sharedServices();
    chain = await startHardhatServer();
    writeFileSync(tokenFile, "command-test-admin-token-0123456789\n", { mode: 0o600 });
    writeFileSync(
      config,
      [
        "server: { logLevel: warn }",
        `keys: { enabled: true, adminTokenFile: "${tokenFile}", credits: { eth_chainId: 3 } }`,
        "networks:",
        "  - name: local",
        "    chainId: 31337",
        `    upstreams: [{ id: node-a, url: "${chain.url}", cloud: aws, region: us-east-1 }]`,
        "",
      ].join("\n"),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      started
        .filter((process_) => process_.exitCode === null && process_.signalCode === null)
        .map((process_) => {
          const exited = new Promise((resolve) => process_.once("exit", resolve));
          process_.kill("SIGTERM");
          return exited;
        }),
    );
    await chain?.close();
    await services?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs on PostgreSQL and Redis from flags, managed with din keys --gateway", async () => {
    const databaseUrl = await createDatabase(services.postgresUrl, `din_command_${process.pid}`);
    child = spawn(
      process.execPath,
      [
        bin,
        "gateway",
        "--config",
        config,
        "--port",
        "0",
        "--database-url",
        databaseUrl,
        "--redis-url",
        services.redisUrl,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    started.push(child);
    const { gateway } = await new Promise<{ gateway: string }>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
      child!.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
    });
    expect((await post(`${gateway}/v1/local`, rpc("eth_chainId"))).status).toBe(401);
    const remote = ["--gateway", gateway, "--admin-token-file", tokenFile, "--json"];
    const { stdout } = await run(process.execPath, [bin, "keys", "create", "--project", "cli", ...remote]);
    const key = JSON.parse(stdout).key.key as string;
    expect((await post(`${gateway}/v1/local/${key}`, rpc("eth_chainId"))).json.result).toBe("0x7a69");
    const usage = JSON.parse(
      (await run(process.execPath, [bin, "usage", "--key", key, "--group-by", "method", ...remote])).stdout,
    );
    expect(usage.usage).toEqual([{ method: "eth_chainId", requests: 1, credits: 3, errors: 0 }]);
    await run(process.execPath, [bin, "keys", "update", key, "--allow-method", "eth_blockNumber", ...remote]);
    const refused = await post(`${gateway}/v1/local/${key}`, rpc("eth_chainId"));
    expect(refused.json.error.data.rule).toBe("methods");
    const updated = JSON.parse(
      (
        await run(process.execPath, [
          bin,
          "keys",
          "update",
          key,
          "--clear-allowlists",
          "--credits-per-day",
          "5",
          ...remote,
        ])
      ).stdout,
    );
    expect(updated.key).toMatchObject({ allowlists: { methods: [] }, limits: { creditsPerDay: 5 } });
    expect((await post(`${gateway}/v1/local/${key}`, rpc("eth_chainId"))).status).toBe(402); // 3 + 3 > 5
    const wrongToken = await run(process.execPath, [bin, "keys", "list", "--gateway", gateway, "--json"], {
      env: { ...process.env, DIN_ADMIN_TOKEN: "not-the-admin-token-at-all" },
    }).catch((error: { code: number; stderr: string }) => error);
    expect((wrongToken as { code: number }).code).toBe(1);
    expect((wrongToken as { stderr: string }).stderr).toMatch(/wrong admin token/);
  });

  it("loses at most the last flush interval of usage when killed, and nothing of what was flushed", async () => {
    const crashConfig = join(dir, "crash.yaml");
    writeFileSync(
      crashConfig,
      [
        "server: { logLevel: warn }",
        `keys: { enabled: true, adminTokenFile: "${tokenFile}", dataDir: "${join(dir, "pglite")}", usageFlushIntervalMs: 100 }`,
        "networks:",
        "  - name: local",
        "    chainId: 31337",
        `    upstreams: [{ id: node-a, url: "${chain.url}" }]`,
        "",
      ].join("\n"),
    );
    const start = async () => {
      const process_ = spawn(process.execPath, [bin, "gateway", "--config", crashConfig, "--port", "0"], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      started.push(process_);
      const { gateway } = await new Promise<{ gateway: string }>((resolve, reject) => {
        createInterface({ input: process_.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
        process_.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
      });
      return { process_, gateway };
    };
    const first = await start();
    const remote = ["--gateway", first.gateway, "--admin-token-file", tokenFile, "--json"];
    const { stdout } = await run(process.execPath, [bin, "keys", "create", "--project", "crash", ...remote]);
    const key = JSON.parse(stdout).key.key as string;
    for (let i = 0; i < 5; i++) await post(`${first.gateway}/v1/local/${key}`, rpc("eth_chainId"));
    await sleep(1_000); // ten flush intervals: the five requests are written
    const killed = new Promise((resolve) => first.process_.once("exit", resolve));
    first.process_.kill("SIGKILL");
    await killed;
    const second = await start();
    try {
      const usage = JSON.parse(
        (
          await run(process.execPath, [
            bin,
            "usage",
            "--key",
            key,
            "--group-by",
            "key",
            "--gateway",
            second.gateway,
            "--admin-token-file",
            tokenFile,
            "--json",
          ])
        ).stdout,
      );
      expect(usage.totals.requests).toBe(5);
    } finally {
      const exited = new Promise((resolve) => second.process_.once("exit", resolve));
      second.process_.kill("SIGTERM");
      await exited;
    }
  });

  it("refuses a bad --database-url, a bad keys section and an embedded database with workers", async () => {
    const badUrl = await run(process.execPath, [
      bin,
      "gateway",
      "--config",
      config,
      "--database-url",
      "mysql://x",
    ]).catch((error: { code: number; stderr: string }) => error);
    expect((badUrl as { stderr: string }).stderr).toMatch(/expected a postgres:\/\/ URL/);
    const badKeys = join(dir, "bad.yaml");
    writeFileSync(
      badKeys,
      [
        "keys: { enabled: true, credits: { eth_call: -1 }, defaultLimits: { creditsPerDay: -5 } }",
        "networks: [{ name: local, chainId: 1, upstreams: [{ id: a, url: 'http://127.0.0.1:1' }] }]",
      ].join("\n"),
    );
    const invalid = await run(process.execPath, [bin, "gateway", "--config", badKeys]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((invalid as { code: number }).code).toBe(2);
    expect((invalid as { stderr: string }).stderr).toMatch(/keys\.credits\.eth_call/);
    expect((invalid as { stderr: string }).stderr).toMatch(
      /keys\.defaultLimits\.creditsPerDay: must be 0 or more/,
    );
    const workers = await run(process.execPath, [bin, "gateway", "--config", config, "--workers", "2"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect((workers as { code: number }).code).toBe(2);
    expect((workers as { stderr: string }).stderr).toMatch(/embedded database has one owner process/);
  });
});
