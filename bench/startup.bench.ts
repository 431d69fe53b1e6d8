// Time from `din up` to its ready line: two devnet chains, the contracts deployed and every operator,
// staker, watcher and the gateway registered on the ledger, the gateway serving. Runs `din up --json` as
// `npm start` does (a fresh data dir each run), three times, and reports each phase from the logs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { writePerformanceSection } from "./docs.js";

const bin = join(import.meta.dirname, "../bin/din.mjs");
const runs = Number(process.env.RUNS ?? 3);

type Run = { readyMs: number; chainsMs: number; ledgerMs: number };

async function once(): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), "din-startup-"));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--log-level", "info"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const marks: Record<string, number> = {};
  createInterface({ input: child.stderr! }).on("line", (line) => {
    try {
      const msg = (JSON.parse(line) as { msg?: string }).msg;
      if (msg && marks[msg] === undefined) marks[msg] = performance.now() - started;
    } catch {
      // not a log line
    }
  });
  const readyMs = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", () => resolve(performance.now() - started));
    child.once("exit", (code) => reject(new Error(`din up exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
  return {
    readyMs,
    chainsMs: marks["devnet chains ready"] ?? Number.NaN,
    ledgerMs: marks["ledger deployed and operators staked"] ?? Number.NaN,
  };
}

const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const run = await once();
  results.push(run);
  console.log(
    `run ${i + 1}: chains ${(run.chainsMs / 1000).toFixed(1)} s, ledger ${(run.ledgerMs / 1000).toFixed(1)} s, ready ${(run.readyMs / 1000).toFixed(1)} s`,
  );
}
const sorted = results.map((r) => r.readyMs).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
const rows = results
  .map(
    (r, i) =>
      `| ${i + 1} | ${(r.chainsMs / 1000).toFixed(1)} s | ${(r.ledgerMs / 1000).toFixed(1)} s | ${(r.readyMs / 1000).toFixed(1)} s |`,
  )
  .join("\n");
writePerformanceSection(
  "## Startup: `npm start` to the ready line",
  `## Startup: \`npm start\` to the ready line

\`npm run bench:startup\` runs \`din up --json\` on a fresh data dir ${runs} times (this machine: 2 shared cores).
Phases: both devnet chains listening; the DIN contracts deployed and 10 operators, 4 stakers, 3 watchers and
the gateway registered and staked on the ledger; the ready line (gateway serving, watchers probing).

| run | chains ready | ledger ready | ready line |
|---|---|---|---|
${rows}

Median: **${(median / 1000).toFixed(1)} s** (load average at the end: ${(await import("node:os")).loadavg()[0]?.toFixed(1)}).
`,
);
console.log(`median ready ${(median / 1000).toFixed(1)} s`);
