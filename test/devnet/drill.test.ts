// `din drill` on a running `din up`, as an operator of the network runs it: the same load to one aws
// operator alone and to the gateway while aws is down. The baseline fails during the outage, the gateway
// does not, and the report (Markdown with SVG charts, and JSON with the ledger's verdicts) is written.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DrillReport } from "../../src/devnet/drillReport.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");

describe("din drill", () => {
  let child: ChildProcess;
  const dataDir = mkdtempSync(join(tmpdir(), "din-drill-"));

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--block-time", "500"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", () => resolve());
      child.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr.slice(-2000)}`)));
    });
  }, 120_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("shows the baseline failing and the gateway not while aws is down, then the ledger's verdicts", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        bin,
        "drill",
        "--cloud",
        "aws",
        "--duration",
        "20s",
        "--rate",
        "50/s",
        "--verdict-wait",
        "45s",
        "--json",
        "--data-dir",
        dataDir,
      ],
      { timeout: 100_000 },
    );
    const report = JSON.parse(stdout) as DrillReport;
    const baseline = report.clients.find((c) => c.name === "baseline")!;
    const gateway = report.clients.find((c) => c.name === "gateway")!;
    expect(baseline.requests).toBeGreaterThan(900);
    expect(gateway.requests).toBe(baseline.requests);

    const during = (c: typeof baseline) =>
      c.windows.filter((w) => w.outage).reduce((sum, w) => sum + w.errors, 0);
    expect(during(baseline)).toBeGreaterThan(0);
    expect(gateway.errors, gateway.errorSamples.join("\n")).toBe(0);

    expect(existsSync(report.files!.markdown)).toBe(true);
    expect(existsSync(report.files!.json)).toBe(true);
    expect(report.files!.markdown).toContain(join(dataDir, "drills"));
    const markdown = readFileSync(report.files!.markdown, "utf8");
    expect(markdown).toContain("<svg");
    expect(markdown).toContain("The ledger's verdicts");

    // The verdicts on the outage's epochs, or a clear word that they were not finalized within the wait.
    expect(report.ledger).not.toBeNull();
    const ledger = report.ledger!;
    expect(ledger.outageEpochs.length).toBeGreaterThan(0);
    if (ledger.finalized) {
      expect(ledger.epochs.every((e) => e.finalized && e.judged.length > 0)).toBe(true);
      expect(ledger.epochs.flatMap((e) => e.judged).some((j) => j.cloud === "aws")).toBe(true);
    } else {
      expect(ledger.note).toMatch(/not every epoch the outage covered was finalized/);
      expect(markdown).toContain("not finalized within the wait");
    }
  }, 120_000);
});
