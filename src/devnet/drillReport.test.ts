// The drill report: the Markdown and JSON files written to `<data-dir>/drills/`, each epoch's verdicts in
// them (who was judged down and not paid, slashes held for governance, slashes queued), and the CLI summary.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DrillReport,
  type DrillWindow,
  drillMarkdown,
  formatDrill,
  writeDrillReport,
} from "./drillReport.js";

const window = (index: number, outage: boolean, availability: number): DrillWindow => ({
  index,
  startMs: index * 5_000,
  outage,
  requests: 250,
  errors: Math.round(250 * (1 - availability)),
  availability,
  p50Ms: 3.25,
  p99Ms: 9.5,
});

function sampleReport(): DrillReport {
  return {
    startedAt: "2026-01-02T03:04:05.678Z",
    cloud: "aws",
    durationMs: 20_000,
    ratePerSecond: 50,
    windowMs: 5_000,
    timeline: { warmupMs: 5_000, downAtMs: 5_000, okAtMs: 15_000, endMs: 20_000 },
    baseline: {
      operator: "aws-1",
      network: "ethereum",
      url: "http://127.0.0.1:9001",
      admission: "direct to aws-1's node",
    },
    chaos: {
      down: [{ operator: "aws-1", network: "ethereum", cloud: "aws", region: "us", state: { mode: "down" } }],
      ok: [{ operator: "aws-1", network: "ethereum", cloud: "aws", region: "us", state: { mode: "ok" } }],
    },
    clients: [
      {
        name: "baseline",
        url: "http://127.0.0.1:9001",
        requests: 1000,
        errors: 500,
        availability: 0.5,
        errorSamples: ["TypeError: fetch `failed`"],
        windows: [window(0, false, 1), window(1, true, 0), window(2, true, 0), window(3, false, 1)],
      },
      {
        name: "gateway",
        url: "http://127.0.0.1:8545/v1/abcdef…/ethereum",
        requests: 1000,
        errors: 0,
        availability: 1,
        errorSamples: [],
        windows: [window(0, false, 1), window(1, true, 1), window(2, true, 1), window(3, false, 1)],
      },
    ],
    ledger: {
      outageEpochs: ["7", "8"],
      outageBlocks: { from: "100", to: "140" },
      finalized: false,
      note: "not every epoch the outage covered was finalized within 45s",
      epochs: [
        {
          network: "ethereum",
          epoch: "7",
          finalized: true,
          reports: 3,
          paid: "12.5",
          carried: "0.0",
          judged: [
            {
              operator: "0xa",
              id: "aws-1",
              cloud: "aws",
              availabilityBps: 4_000,
              p50LatencyMs: 4,
              lagBlocks: 0,
              multiplierBps: 0,
              down: true,
              paid: false,
            },
            {
              operator: "0xb",
              id: "gcp-1",
              cloud: "gcp",
              availabilityBps: 10_000,
              p50LatencyMs: 3,
              lagBlocks: 0,
              multiplierBps: 10_000,
              down: false,
              paid: true,
            },
          ],
          heldForGovernance: [{ reason: "availability", failedStake: "40%", operators: ["aws-1", "aws-2"] }],
        },
        { network: "ethereum", epoch: "8", finalized: false, judged: [], heldForGovernance: [] },
      ],
      slashes: [
        {
          id: "3",
          operator: "0xa",
          idOf: "aws-1",
          network: "ethereum",
          reason: "availability",
          percent: "1.5%",
          amount: "15.000000",
          status: "queued",
          queuedAt: 120,
        },
      ],
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("writeDrillReport", () => {
  it("writes the Markdown and the JSON under drills/, named by the start time, and records them", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "din-drill-report-"));
    dirs.push(dataDir);
    const report = sampleReport();
    const files = writeDrillReport(dataDir, report);
    expect(files).toEqual({
      markdown: join(dataDir, "drills", "2026-01-02T03-04-05-678Z.md"),
      json: join(dataDir, "drills", "2026-01-02T03-04-05-678Z.json"),
    });
    expect(readdirSync(join(dataDir, "drills")).sort()).toEqual([
      "2026-01-02T03-04-05-678Z.json",
      "2026-01-02T03-04-05-678Z.md",
    ]);
    expect(report.files).toEqual(files);
    const json = JSON.parse(readFileSync(files.json, "utf8")) as DrillReport;
    expect(json).toEqual(report);
    expect(json.ledger?.epochs.map((e) => [e.epoch, e.finalized])).toEqual([
      ["7", true],
      ["8", false],
    ]);
    expect(readFileSync(files.markdown, "utf8")).toBe(drillMarkdown(report));
  });
});

describe("drillMarkdown", () => {
  it("holds the totals, a row per window, both charts and each epoch's verdicts", () => {
    const markdown = drillMarkdown(sampleReport());
    expect(markdown).toContain("# din drill: aws down — 2026-01-02T03:04:05.678Z");
    expect(markdown).toContain("| baseline | 1000 | 500 | 50.000% |");
    expect(markdown).toContain("| gateway | 1000 | 0 | 100.000% |");
    expect(markdown).toContain("(1 operators)");
    expect(markdown.match(/^\| \d+–\d+s \|/gm)).toHaveLength(4);
    expect(markdown).toContain("| 5–10s | ▼ | 250 | 250 | 0.00% |");
    expect(markdown.match(/<svg /g)).toHaveLength(2);
    // Backticks in an error sample cannot end its code span.
    expect(markdown).toContain("- `TypeError: fetch 'failed'`");
    expect(markdown).toContain("epoch(s) 7, 8: not every epoch the outage covered was finalized within 45s.");
    expect(markdown).toContain("### ethereum, epoch 7: finalized (3 reports, paid 12.5, carried 0.0)");
    expect(markdown).toContain("| aws-1 | aws | 40.00% | 4 ms | 0 | 0.00% | **judged down: not paid** |");
    expect(markdown).toContain("| gcp-1 | gcp | 100.00% | 3 ms | 0 | 100.00% | paid |");
    expect(markdown).toContain(
      "- availability: 40% of the stake failed at once; slashes held for governance: aws-1, aws-2",
    );
    expect(markdown).toContain("### ethereum, epoch 8: not finalized within the wait");
    expect(markdown).toContain("| 3 | aws-1 | ethereum | availability | 1.5% | queued | 120 |");
  });

  it("says so when there are no ledger verdicts or no slashes", () => {
    const noLedger = drillMarkdown({ ...sampleReport(), ledger: null });
    expect(noLedger).toContain("No ledger verdicts");
    expect(noLedger).not.toContain("### Slashes");
    const report = sampleReport();
    report.ledger!.slashes = [];
    expect(drillMarkdown(report)).toContain("None queued (yet).");
  });
});

describe("formatDrill", () => {
  it("prints each client's totals, each epoch's verdict, the slashes and the files", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "din-drill-report-"));
    dirs.push(dataDir);
    const report = sampleReport();
    const files = writeDrillReport(dataDir, report);
    expect(existsSync(files.markdown)).toBe(true);
    expect(formatDrill(report).split("\n")).toEqual([
      "baseline    1000 requests    500 errors  availability 50.000%",
      "gateway     1000 requests      0 errors  availability 100.000%",
      "not every epoch the outage covered was finalized within 45s",
      "  ethereum epoch 7: judged down: aws-1; paid 12.5",
      "  ethereum epoch 8: not finalized",
      "  slashes since the outage: aws-1 availability 1.5% (≈15.000000) queued",
      `report: ${files.markdown}`,
      `        ${files.json}`,
    ]);
  });
});
