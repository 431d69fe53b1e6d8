/** Writes a benchmark's section of docs/performance.md, keeping every other section as it is. */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

/** Replaces the section that starts with `heading` (a `## ` line) by `section`, or appends it. */
export function writePerformanceSection(heading: string, section: string): void {
  const file = resolve(import.meta.dirname, "../docs/performance.md");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Performance\n";
  }
  const start = text.indexOf(`${heading}\n`);
  if (start === -1) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  const next = text.indexOf("\n## ", start + heading.length);
  const rest = next === -1 ? "" : text.slice(next + 1);
  writeFileSync(file, `${text.slice(0, start)}${section}${rest ? `\n${rest}` : ""}`);
}
