/**
 * The source text of a JSON-RPC reply's `result`, so that an answer passed on unchanged is written as the
 * bytes the operator sent instead of being serialized again (a block or a receipt list costs more to
 * stringify than to scan). Runs only on text JSON.parse has accepted: the scan skips values, it does not
 * validate them. Whenever the text could mean something other than what the scan reads — a key written
 * with escapes, `result` twice (JSON.parse keeps the last one) — it answers undefined and the caller
 * serializes the parsed value as before.
 */

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const colon = 0x3a;

/** The text of the top-level `result` member of `text` (valid JSON); undefined when not sure. */
export function resultText(text: string): string | undefined {
  let index = skipSpace(text, 0);
  if (text.charCodeAt(index) !== openBrace) return undefined;
  index = skipSpace(text, index + 1);
  let found: string | undefined;
  while (index < text.length && text.charCodeAt(index) === quote) {
    const keyEnd = stringEnd(text, index);
    if (keyEnd < 0) return undefined;
    const key = text.slice(index + 1, keyEnd);
    if (key.includes("\\")) return undefined; // an escaped key may spell "result"
    index = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(index) !== colon) return undefined;
    const valueStart = skipSpace(text, index + 1);
    const valueEnd = valueEndAt(text, valueStart);
    if (valueEnd < 0) return undefined;
    if (key === "result") {
      if (found !== undefined) return undefined; // a duplicate: JSON.parse kept the last one
      found = text.slice(valueStart, valueEnd);
    }
    index = skipSpace(text, valueEnd);
    const next = text.charCodeAt(index);
    if (next === closeBrace) return found;
    if (next !== comma) return undefined;
    index = skipSpace(text, index + 1);
  }
  return text.charCodeAt(index) === closeBrace ? found : undefined;
}

function skipSpace(text: string, index: number): number {
  for (;;) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return index;
    index++;
  }
}

/** Index of the closing quote of the string opening at `start`; -1 when it never closes. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  for (;;) {
    const close = text.indexOf('"', index);
    if (close < 0) return -1;
    // A quote preceded by an odd number of backslashes is escaped.
    let slashes = 0;
    while (text.charCodeAt(close - 1 - slashes) === backslash) slashes++;
    if (slashes % 2 === 0) return close;
    index = close + 1;
  }
}

/** Index just past the value starting at `start`; -1 when the text ends first. */
function valueEndAt(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === quote) {
    const end = stringEnd(text, start);
    return end < 0 ? -1 : end + 1;
  }
  if (first !== openBrace && first !== openBracket) {
    // A number, true, false or null: it ends at the next delimiter.
    let index = start;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === comma || code === closeBrace || code === closeBracket || code <= 0x20) break;
      index++;
    }
    return index;
  }
  let depth = 0;
  let index = start;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === quote) {
      const end = stringEnd(text, index);
      if (end < 0) return -1;
      index = end + 1;
      continue;
    }
    if (code === openBrace || code === openBracket) depth++;
    else if (code === closeBrace || code === closeBracket) {
      depth--;
      if (depth === 0) return index + 1;
    }
    index++;
  }
  return -1;
}
