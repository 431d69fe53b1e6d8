// The report of a `din drill`: what it measured and what the ledger decided (the JSON it writes as is), the
// Markdown version with the charts inline, the files in `<data-dir>/drills/`, and the short summary the CLI
// prints.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChaosChange } from "./chaos.js";
import { drillCharts } from "./drillCharts.js";

export interface DrillWindow {
  index: number;
  /** Start, ms from the start of the load. */
  startMs: number;
  /** Whether the cloud was down for any part of the window. */
  outage: boolean;
  requests: number;
  errors: number;
  /** Answered without error / sent; null when nothing was sent. */
  availability: number | null;
  /** Latency of the requests answered without error, ms; null when none was. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ClientSummary {
  name: "baseline" | "gateway";
  url: string;
  requests: number;
  errors: number;
  availability: number | null;
  errorSamples: string[];
  windows: DrillWindow[];
}

export interface OperatorVerdict {
  operator: string;
  id: string;
  cloud: string;
  availabilityBps: number;
  p50LatencyMs: number;
  lagBlocks: number;
  multiplierBps: number;
  /** Judged below the SLA: no reward (multiplier 0). */
  down: boolean;
  /** Paid for the epoch (multiplier above 0). */
  paid: boolean;
}

export interface EpochVerdict {
  network: string;
  epoch: string;
  finalized: boolean;
  reports?: number;
  /** Fees paid to the operators (token units). */
  paid?: string;
  carried?: string;
  judged: OperatorVerdict[];
  heldForGovernance: Array<{ reason: string; failedStake: string; operators: string[] }>;
}

export interface DrillSlash {
  id: string;
  operator: string;
  idOf: string;
  network: string;
  reason: string;
  /** Share of the operator's allocated stake. */
  percent: string;
  /** That share of the stake it has allocated to the network now (token units): what the slash takes. */
  amount: string;
  status: string;
  queuedAt: number;
}

export interface DrillReport {
  startedAt: string;
  cloud: string;
  durationMs: number;
  ratePerSecond: number;
  windowMs: number;
  timeline: { warmupMs: number; downAtMs: number; okAtMs: number; endMs: number };
  /** How the baseline reaches its provider. */
  baseline: { operator: string; network: string; url: string; admission: string };
  chaos: { down: ChaosChange[]; ok: ChaosChange[] };
  clients: ClientSummary[];
  ledger: {
    /** Ledger epochs the outage covered. */
    outageEpochs: string[];
    outageBlocks: { from: string; to: string };
    /** Every covered epoch of every network was finalized within the wait. */
    finalized: boolean;
    note: string;
    epochs: EpochVerdict[];
    slashes: DrillSlash[];
  } | null;
  files?: { markdown: string; json: string };
}

const pct = (n: number | null, digits = 2) => (n === null ? "–" : `${(n * 100).toFixed(digits)}%`);
const ms = (n: number | null) => (n === null ? "–" : `${n.toFixed(1)} ms`);
const bps = (n: number) => `${(n / 100).toFixed(2)}%`;

export function drillMarkdown(report: DrillReport): string {
  const charts = drillCharts(report);
  const [baseline, gateway] = report.clients as [ClientSummary, ClientSummary];
  const t = report.timeline;
  const lines = [
    `# din drill: ${report.cloud} down — ${report.startedAt}`,
    "",
    `Open-loop load of ${report.ratePerSecond} reads/s for ${report.durationMs / 1000}s, the same requests to two clients side by side:`,
    "",
    `- **baseline**: a single provider, ${report.baseline.admission} (${report.baseline.url}).`,
    `- **gateway**: the gateway's keyed RPC URL for ${report.baseline.network} (${gateway.url}).`,
    "",
    `Timeline: warm-up 0–${t.downAtMs / 1000}s; \`din chaos --cloud ${report.cloud} --mode down\` at ${t.downAtMs / 1000}s (${report.chaos.down.filter((c) => !c.error).length} operators); \`--mode ok\` at ${t.okAtMs / 1000}s; end at ${t.endMs / 1000}s.`,
    "",
    "| client | requests | errors | availability |",
    "|---|---:|---:|---:|",
    ...report.clients.map((c) => `| ${c.name} | ${c.requests} | ${c.errors} | ${pct(c.availability, 3)} |`),
    "",
    `## Per ${report.windowMs / 1000}-second window`,
    "",
    "Latency is over the requests answered without error; a window marked ▼ overlaps the outage.",
    "",
    "| window | | baseline req | err | avail | p50 | p99 | gateway req | err | avail | p50 | p99 |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...baseline.windows.map((b, i) => {
      const g = gateway.windows[i]!;
      return `| ${b.startMs / 1000}–${(b.startMs + report.windowMs) / 1000}s | ${b.outage ? "▼" : ""} | ${b.requests} | ${b.errors} | ${pct(b.availability)} | ${ms(b.p50Ms)} | ${ms(b.p99Ms)} | ${g.requests} | ${g.errors} | ${pct(g.availability)} | ${ms(g.p50Ms)} | ${ms(g.p99Ms)} |`;
    }),
    "",
    charts.availability,
    "",
    charts.p99,
    "",
  ];
  for (const c of report.clients) {
    if (c.errorSamples.length === 0) continue;
    lines.push(
      `Errors the ${c.name} saw (samples):`,
      "",
      ...c.errorSamples.map((s) => `- \`${s.replace(/`/g, "'")}\``),
      "",
    );
  }
  lines.push("## The ledger's verdicts", "");
  const l = report.ledger;
  if (!l) {
    lines.push("No ledger verdicts: the network has no ledger, or the outage's epochs could not be read.");
    return lines.join("\n");
  }
  lines.push(
    `The outage covered ledger blocks ${l.outageBlocks.from}–${l.outageBlocks.to}, epoch(s) ${l.outageEpochs.join(", ")}: ${l.note}.`,
    "",
  );
  for (const e of l.epochs) {
    lines.push(
      `### ${e.network}, epoch ${e.epoch}: ${e.finalized ? `finalized (${e.reports} reports, paid ${e.paid}, carried ${e.carried})` : "not finalized within the wait"}`,
      "",
    );
    if (e.judged.length > 0) {
      lines.push(
        "| operator | cloud | availability | p50 | lag | multiplier | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
        ...e.judged.map(
          (j) =>
            `| ${j.id} | ${j.cloud} | ${bps(j.availabilityBps)} | ${j.p50LatencyMs} ms | ${j.lagBlocks} | ${bps(j.multiplierBps)} | ${j.down ? "**judged down: not paid**" : "paid"} |`,
        ),
        "",
      );
    }
    for (const h of e.heldForGovernance) {
      lines.push(
        `- ${h.reason}: ${h.failedStake} of the stake failed at once; slashes held for governance: ${h.operators.join(", ")}`,
      );
    }
    if (e.heldForGovernance.length > 0) lines.push("");
  }
  lines.push("### Slashes since the outage began", "");
  if (l.slashes.length === 0) lines.push("None queued (yet).");
  else {
    lines.push(
      "| # | operator | network | reason | share of allocated stake | status | queued at block |",
      "|---:|---|---|---|---:|---|---:|",
      ...l.slashes.map(
        (s) =>
          `| ${s.id} | ${s.idOf} | ${s.network} | ${s.reason} | ${s.percent} | ${s.status} | ${s.queuedAt} |`,
      ),
    );
  }
  lines.push("");
  return lines.join("\n");
}

/** Writes `<data-dir>/drills/<timestamp>.md` and `.json`; returns their paths. */
export function writeDrillReport(dataDir: string, report: DrillReport): { markdown: string; json: string } {
  const dir = join(resolve(dataDir), "drills");
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const files = { markdown: join(dir, `${stamp}.md`), json: join(dir, `${stamp}.json`) };
  report.files = files;
  writeFileSync(files.markdown, drillMarkdown(report));
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}

/** The short summary the CLI prints. */
export function formatDrill(report: DrillReport): string {
  const lines = report.clients.map(
    (c) =>
      `${c.name.padEnd(9)} ${String(c.requests).padStart(6)} requests ${String(c.errors).padStart(6)} errors  availability ${pct(c.availability, 3)}`,
  );
  if (report.ledger) {
    lines.push(report.ledger.note);
    for (const e of report.ledger.epochs) {
      const down = e.judged.filter((j) => j.down).map((j) => j.id);
      lines.push(
        `  ${e.network} epoch ${e.epoch}: ${e.finalized ? `judged down: ${down.join(", ") || "none"}; paid ${e.paid}` : "not finalized"}`,
      );
    }
    lines.push(
      `  slashes since the outage: ${report.ledger.slashes.map((s) => `${s.idOf} ${s.reason} ${s.percent} (≈${s.amount}) ${s.status}`).join(", ") || "none"}`,
    );
  }
  if (report.files) lines.push(`report: ${report.files.markdown}`, `        ${report.files.json}`);
  return lines.join("\n");
}
