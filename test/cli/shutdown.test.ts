// A stop always finishes: a real process using installShutdown, stopped with real signals.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../support/dataPlane.js";

const fixture = join(import.meta.dirname, "fixtures/stoppable.ts");

interface Started {
  process: ChildProcess;
  child: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; ms: number }>;
}

const started: Started[] = [];

async function start(mode: "graceful" | "hang", env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  let signalledAt = 0;
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    signalledAt ||= Date.now();
    return kill(signal);
  };
  const exited = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.once("exit", (code) => resolve({ code, ms: Date.now() - signalledAt })),
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`fixture exited (${code}): ${stderr}`)));
  });
  const run = {
    process: child,
    child: (JSON.parse(line) as { child: number }).child,
    stderr: () => stderr,
    exited,
  };
  started.push(run);
  return run;
}

/** Running (a zombie — killed, not yet reaped by its new parent — counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return true;
  }
}

async function diesSoon(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !isAlive(pid);
}

afterEach(() => {
  for (const run of started.splice(0)) {
    run.process.kill("SIGKILL");
    if (isAlive(run.child)) process.kill(run.child, "SIGKILL");
  }
});

describe("a process stopped through installShutdown", () => {
  it("exits 0 on SIGTERM once every close finished", async () => {
    const run = await start("graceful");
    run.process.kill("SIGTERM");
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(run.stderr()).toMatch(/"msg":"stopped"/);
  });

  it("exits 1 within the deadline when a close never resolves, naming it and killing its child", async () => {
    const run = await start("hang", { DIN_SHUTDOWN_TIMEOUT_MS: "500" });
    run.process.kill("SIGTERM");
    const { code, ms } = await run.exited;
    expect(code).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(5_000);
    expect(run.stderr()).toMatch(/forcing the stop: still closing after 500 ms/);
    expect(run.stderr()).toMatch(/"hung":\["stuck component"\]/);
    expect(await diesSoon(run.child)).toBe(true);
  });

  it("forces the stop at once on a second SIGTERM", async () => {
    const run = await start("hang", { DIN_SHUTDOWN_TIMEOUT_MS: "60000" });
    run.process.kill("SIGTERM");
    await waitFor(() => run.stderr().includes('"msg":"stopping"'), 10_000, "the stop to begin");
    expect(run.process.exitCode).toBeNull();
    run.process.kill("SIGTERM");
    const { code, ms } = await run.exited;
    expect(code).toBe(1);
    expect(ms).toBeLessThan(5_000);
    expect(run.stderr()).toMatch(/second SIGTERM while stopping/);
    expect(await diesSoon(run.child)).toBe(true);
  });

  it("refuses to start with a DIN_SHUTDOWN_TIMEOUT_MS that is not a number of milliseconds", async () => {
    await expect(start("graceful", { DIN_SHUTDOWN_TIMEOUT_MS: "ten seconds" })).rejects.toThrow(
      /DIN_SHUTDOWN_TIMEOUT_MS must be a positive integer/,
    );
  });
});
