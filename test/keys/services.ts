// Real Redis and PostgreSQL for tests, started as throwaway processes on free ports: Redis without
// persistence, PostgreSQL as a fresh cluster in a temp dir (as the `postgres` user when we are root,
// since initdb refuses to run as root). Missing binaries fail with the command that installs them.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const installHint =
  "PostgreSQL and Redis are needed by these tests: apt-get install -y postgresql redis-server";

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function findBinary(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function postgresBinDirs(): string[] {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return [...versions.map((version) => join(root, version, "bin")), "/usr/local/bin", "/usr/bin"];
}

export async function startRedis(): Promise<RunningService> {
  const binary = findBinary("redis-server", ["/usr/bin", "/usr/local/bin", "/usr/sbin"]);
  if (!binary) throw new Error(`redis-server not found. ${installHint}`);
  const port = await freePort();
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes("Ready to accept connections")) resolve();
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output.slice(-1000)}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

export async function startPostgres(): Promise<RunningService> {
  const dirs = postgresBinDirs();
  const initdb = findBinary("initdb", dirs);
  const pgCtl = findBinary("pg_ctl", dirs);
  if (!initdb || !pgCtl) throw new Error(`initdb/pg_ctl not found. ${installHint}`);
  const root = mkdtempSync(join(tmpdir(), "din-pg-"));
  chmodSync(root, 0o777);
  const dataDir = join(root, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  // initdb and postgres refuse to run as root: run them as the postgres user the package creates.
  const run = (binary: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", binary, ...args], { stdio: "pipe" })
      : execFileSync(binary, args, { stdio: "pipe" });
  try {
    run(initdb, ["-D", dataDir, "-U", "din", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    run(pgCtl, [
      "-D",
      dataDir,
      "-l",
      join(root, "postgres.log"),
      "-w",
      "-o",
      `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      "start",
    ]);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message;
    rmSync(root, { recursive: true, force: true });
    throw new Error(`PostgreSQL could not start: ${stderr.slice(-1000)}`);
  }
  return {
    url: `postgres://din@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server of `url`; returns its URL. */
export async function createDatabase(url: string, name: string): Promise<string> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
