// A `din up` of its own in a fresh data dir, with `din` bound to it: whole-network tests start one, drive
// it with the CLI as a person would (parsing `--json`) and stop it.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import type { NetworkState } from "../../src/devnet/state.js";
import type { StatusReport } from "../../src/devnet/status.js";

const run = promisify(execFile);
export const bin = join(import.meta.dirname, "../../bin/din.mjs");

export interface LocalNetworkOptions {
  /** Block time of the devnets. @default 500 */
  blockTimeMs?: number;
  /** `din up --traffic`: "off" when a test measures the gateway's traffic itself. @default "on" */
  traffic?: "on" | "off";
  /** Prefix of the temporary data dir. @default "din-net-" */
  prefix?: string;
}

export type LocalNetwork = ReturnType<typeof localNetwork>;

export function localNetwork(options: LocalNetworkOptions = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), options.prefix ?? "din-net-"));
  const blockTimeMs = options.blockTimeMs ?? 500;
  const net = {
    dataDir,
    blockTimeMs,
    child: undefined as ChildProcess | undefined,
    state: undefined as unknown as NetworkState,
    /** `din <args> --data-dir <dataDir>`'s stdout; rejects on a non-zero exit. */
    din: async (...args: string[]) =>
      (await run(process.execPath, [bin, ...args, "--data-dir", dataDir], { maxBuffer: 16 * 1024 * 1024 }))
        .stdout,
    /** `din <args> --json --data-dir <dataDir>`, parsed. */
    json: async <T = unknown>(...args: string[]): Promise<T> =>
      JSON.parse(await net.din(...args, "--json")) as T,
    status: async (...args: string[]) =>
      JSON.parse(await net.din("status", "--json", ...args)) as StatusReport,
    async start() {
      const child = spawn(
        process.execPath,
        [
          bin,
          "up",
          "--json",
          "--port",
          "0",
          "--data-dir",
          dataDir,
          "--block-time",
          String(blockTimeMs),
          ...(options.traffic ? ["--traffic", options.traffic] : []),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      net.child = child;
      let stderr = "";
      child.stderr!.on("data", (chunk) => {
        stderr = (stderr + chunk).slice(-20_000);
      });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", () => resolve());
        child.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr.slice(-2000)}`)));
      });
      net.state = JSON.parse(readFileSync(join(dataDir, "network.json"), "utf8")) as NetworkState;
    },
    async stop() {
      const child = net.child;
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return net;
}
