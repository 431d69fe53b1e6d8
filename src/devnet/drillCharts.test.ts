// The drill report's SVG charts: one point per window with a value, a line broken where a window has none,
// the outage shaded window by window, labels escaped, and both charts drawn from a report.
import { describe, expect, it } from "vitest";
import { drillCharts, svgLineChart } from "./drillCharts.js";
import type { ClientSummary, DrillReport, DrillWindow } from "./drillReport.js";

const count = (svg: string, pattern: RegExp) => svg.match(new RegExp(pattern, "g"))?.length ?? 0;

describe("svgLineChart", () => {
  it("draws a point per value, a polyline per unbroken run, and a tick per window", () => {
    const svg = svgLineChart({
      title: "Availability",
      unit: "%",
      yMin: 0,
      yMax: 1,
      windowSeconds: 5,
      outage: [false, true, true, false, false],
      series: [
        { name: "a", color: "#111111", values: [1, 0.5, null, 0.9, 1] },
        { name: "b", color: "#222222", values: [1, 1, 1, 1, 1] },
      ],
    });
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.endsWith("</svg>")).toBe(true);
    expect(count(svg, /<circle [^>]*fill="#111111"/)).toBe(4);
    expect(count(svg, /<circle [^>]*fill="#222222"/)).toBe(5);
    // The null breaks a's line in two runs of two; b's is one run.
    expect(count(svg, /<polyline [^>]*stroke="#111111"/)).toBe(2);
    expect(count(svg, /<polyline [^>]*stroke="#222222"/)).toBe(1);
    expect(count(svg, /fill="#f8d7da"/)).toBe(2);
    for (const tick of ["0s", "5s", "10s", "15s", "20s"]) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain(">100%</text>");
    expect(svg).toContain(">0%</text>");
  });

  it("draws a single window in the middle, and a lone point without a line", () => {
    const svg = svgLineChart({
      title: "one",
      unit: "ms",
      windowSeconds: 5,
      outage: [false],
      series: [{ name: "only", color: "#333333", values: [12] }],
    });
    expect(count(svg, /<circle /)).toBe(1);
    expect(count(svg, /<polyline /)).toBe(0);
    // 640 wide, 64 left and 16 right: the middle of the plot.
    expect(svg).toContain('cx="344.0"');
  });

  it("escapes the title and the series names", () => {
    const svg = svgLineChart({
      title: "p99 <script>alert(1)</script> & more",
      unit: "ms",
      windowSeconds: 5,
      outage: [],
      series: [{ name: "baseline (<op> & co)", color: "#444444", values: [1, 2] }],
    });
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("p99 &lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
    expect(svg).toContain("baseline (&lt;op&gt; &amp; co)");
  });

  it("keeps a value above yMax on the top edge", () => {
    const svg = svgLineChart({
      title: "t",
      unit: "ms",
      yMin: 0,
      yMax: 10,
      windowSeconds: 5,
      outage: [false, false],
      series: [{ name: "s", color: "#555555", values: [5, 1_000] }],
    });
    // The plot's top is y = 32.
    expect(svg).toContain('cy="32.0"');
  });
});

function windows(values: Array<{ availability: number | null; p99Ms: number | null }>): DrillWindow[] {
  return values.map((v, index) => ({
    index,
    startMs: index * 5_000,
    outage: index === 1,
    requests: 10,
    errors: 0,
    availability: v.availability,
    p50Ms: v.p99Ms,
    p99Ms: v.p99Ms,
  }));
}

function client(name: "baseline" | "gateway", w: DrillWindow[]): ClientSummary {
  return { name, url: "http://x", requests: 30, errors: 0, availability: 1, errorSamples: [], windows: w };
}

describe("drillCharts", () => {
  it("draws availability and p99 for the baseline and the gateway from a report's windows", () => {
    const report = {
      windowMs: 5_000,
      baseline: { operator: "aws-1 <east>", network: "ethereum", url: "http://x", admission: "" },
      clients: [
        client(
          "baseline",
          windows([
            { availability: 1, p99Ms: 10 },
            { availability: 0, p99Ms: null },
            { availability: 1, p99Ms: 12 },
          ]),
        ),
        client(
          "gateway",
          windows([
            { availability: 1, p99Ms: 20 },
            { availability: 1, p99Ms: 25 },
            { availability: 1, p99Ms: 22 },
          ]),
        ),
      ],
    } as unknown as DrillReport;
    const charts = drillCharts(report);
    expect(charts.availability).toContain("Availability per window");
    expect(charts.p99).toContain("p99 latency per window");
    expect(count(charts.availability, /<circle /)).toBe(6);
    // The baseline answered nothing in the outage window: no p99 there.
    expect(count(charts.p99, /<circle /)).toBe(5);
    for (const svg of [charts.availability, charts.p99]) {
      expect(count(svg, /fill="#f8d7da"/)).toBe(1);
      expect(svg).toContain("baseline (aws-1 &lt;east&gt;)");
      expect(svg).toContain(">10s</text>");
    }
  });
});
