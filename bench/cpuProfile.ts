/** Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists the functions with the most self time. */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface HotSpot {
  sharePercent: number;
  name: string;
  location: string;
}

/** A profile frame's file, from the project's root (src/, bench/, node_modules/); empty for V8's own. */
export function sourceOf(frame: { url: string }): string {
  return frame.url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, "$1/");
}

export function hotSpots(file: string, count = 15): HotSpot[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[] };
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, HotSpot & { hits: number }>();
  for (const node of profile.nodes) {
    const { functionName, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    const where = sourceOf(node.callFrame);
    const location = where ? `${where}:${lineNumber + 1}` : "";
    const key = `${name}@${location}`;
    const entry = byFunction.get(key) ?? { hits: 0, sharePercent: 0, name, location };
    entry.hits += node.hitCount ?? 0;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, count)
    .map(({ hits, name, location }) => ({ sharePercent: (hits / total) * 100, name, location }));
}
