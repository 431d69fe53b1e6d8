/**
 * Canonical JSON: object keys sorted, no whitespace. Equal values give equal strings, so it keys caches,
 * compares answers across operators and is what relay hashes are taken over.
 */
import { InvalidParamsError } from "./errors.js";

/** Deepest nesting accepted; answers from hostile operators must not overflow the stack. @default 64 */
export const maxCanonicalDepth = 64;

export function canonicalJson(value: unknown, maxDepth = maxCanonicalDepth): string {
  return write(value, 0, maxDepth);
}

function write(value: unknown, depth: number, maxDepth: number): string {
  if (value === null || typeof value !== "object") {
    // undefined inside arrays becomes null, as JSON.stringify does
    return value === undefined ? "null" : JSON.stringify(value);
  }
  if (depth >= maxDepth) throw new InvalidParamsError(`value nested deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      out += write(value[i], depth + 1, maxDepth);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ",";
    out += `${JSON.stringify(key)}:${write(object[key], depth + 1, maxDepth)}`;
  }
  return `${out}}`;
}
