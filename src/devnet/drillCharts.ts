// The SVG charts of a `din drill` report: availability and p99 latency per window for the baseline and the
// gateway, the outage shaded. Inline SVG in the Markdown report: no dependency, nothing fetched to view it.
import type { ClientSummary, DrillReport } from "./drillReport.js";

export interface Series {
  name: string;
  color: string;
  values: Array<number | null>;
}

/**
 * A line chart as inline SVG: one polyline per series over the windows, the outage shaded, axes with a
 * few ticks. No dependency, nothing fetched to view it.
 */
export function svgLineChart(options: {
  title: string;
  unit: string;
  series: Series[];
  outage: boolean[];
  windowSeconds: number;
  yMin?: number;
  yMax?: number;
}): string {
  const width = 640;
  const height = 260;
  const left = 64;
  const right = 16;
  const top = 32;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = Math.max(1, ...options.series.map((s) => s.values.length));
  const all = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const yMin = options.yMin ?? Math.min(0, ...all);
  let yMax = options.yMax ?? Math.max(1, ...all) * 1.1;
  if (yMax <= yMin) yMax = yMin + 1;
  const x = (i: number) => left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">${esc(options.title)}</text>`,
  ];
  // The outage, shaded.
  const step = n === 1 ? plotW : plotW / (n - 1);
  options.outage.forEach((down, i) => {
    if (!down) return;
    const x0 = Math.max(left, x(i) - step / 2);
    const x1 = Math.min(left + plotW, x(i) + step / 2);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${top}" width="${(x1 - x0).toFixed(1)}" height="${plotH}" fill="#f8d7da"/>`,
    );
  });
  for (let t = 0; t <= 4; t++) {
    const v = yMin + ((yMax - yMin) * t) / 4;
    const label =
      options.unit === "%" ? `${(v * 100).toFixed(0)}%` : `${v.toFixed(v < 10 ? 1 : 0)} ${options.unit}`;
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(label)}</text>`,
    );
  }
  for (let i = 0; i < n; i++) {
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${i * options.windowSeconds}s</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`,
  );
  options.series.forEach((series, s) => {
    // A window without a value breaks the line.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1)
        parts.push(
          `<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${run.join(" ")}"/>`,
        );
      run = [];
    };
    series.values.forEach((v, i) => {
      if (v === null) {
        flush();
        return;
      }
      const point = `${x(i).toFixed(1)},${y(Math.min(v, yMax)).toFixed(1)}`;
      run.push(point);
      parts.push(
        `<circle cx="${x(i).toFixed(1)}" cy="${y(Math.min(v, yMax)).toFixed(1)}" r="3" fill="${series.color}"/>`,
      );
    });
    flush();
    const lx = left + plotW - 150;
    const ly = top + 4 + s * 16;
    parts.push(
      `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${series.color}"/>`,
      `<text x="${lx + 14}" y="${ly + 9}">${esc(series.name)}</text>`,
    );
  });
  parts.push(
    `<text x="${left + plotW}" y="${height - 6}" text-anchor="end" fill="#a33">shaded: cloud down</text>`,
    "</svg>",
  );
  return parts.join("\n");
}

export function drillCharts(report: DrillReport): { availability: string; p99: string } {
  const [baseline, gateway] = report.clients as [ClientSummary, ClientSummary];
  const outage = baseline.windows.map((w) => w.outage);
  const windowSeconds = report.windowMs / 1000;
  return {
    availability: svgLineChart({
      title: "Availability per window",
      unit: "%",
      yMin: 0,
      yMax: 1,
      outage,
      windowSeconds,
      series: [
        {
          name: `baseline (${report.baseline.operator})`,
          color: "#d9534f",
          values: baseline.windows.map((w) => w.availability),
        },
        { name: "gateway", color: "#0275d8", values: gateway.windows.map((w) => w.availability) },
      ],
    }),
    p99: svgLineChart({
      title: "p99 latency per window (answered requests)",
      unit: "ms",
      yMin: 0,
      outage,
      windowSeconds,
      series: [
        {
          name: `baseline (${report.baseline.operator})`,
          color: "#d9534f",
          values: baseline.windows.map((w) => w.p99Ms),
        },
        { name: "gateway", color: "#0275d8", values: gateway.windows.map((w) => w.p99Ms) },
      ],
    }),
  };
}
