/**
 * Request ids echoed byte for byte. JSON.parse turns a numeric id such as 123456789012345678901234567890
 * into a float, which JSON.stringify writes back as 1.2345678901234568e+29: a client matching answers to
 * requests by id would never find its answer. Numeric ids that are not safe integers (beyond 2^53, or
 * fractions) are replaced, while the request is served, by a placeholder string, and the placeholder by
 * the client's literal in the answer; safe integers are echoed as the same integer. The scan runs only
 * for bodies that have such an id.
 */
import { randomBytes } from "node:crypto";

/** Whether a parsed numeric id may have lost or changed digits. */
export function idNeedsLiteral(id: unknown): boolean {
  return typeof id === "number" && (!Number.isSafeInteger(id) || Object.is(id, -0));
}

/**
 * The source text of the `id` member of each request object of a body, in order (a single object: one
 * entry; a batch: one per element), undefined where there is none. Later duplicates win, as in JSON.parse.
 */
export function idLiterals(text: string, batch: boolean): Array<string | undefined> {
  const objectDepth = batch ? 2 : 1;
  const literals: Array<string | undefined> = [];
  let depth = 0;
  let index = 0;
  let expectingKey = false;
  let element = -1;
  const length = text.length;
  while (index < length) {
    const char = text[index]!;
    if (char === '"') {
      const end = stringEnd(text, index);
      if (depth === objectDepth && expectingKey) {
        const key = text.slice(index + 1, end);
        index = end + 1;
        while (index < length && text[index] !== ":") index++;
        index++;
        expectingKey = false;
        if (key === "id") {
          while (index < length && /\s/.test(text[index]!)) index++;
          const start = index;
          if (text[index] === '"') index = stringEnd(text, index) + 1;
          else while (index < length && !/[\s,}\]]/.test(text[index]!)) index++;
          literals[element] = text.slice(start, index);
        }
        continue;
      }
      index = end + 1;
      continue;
    }
    if (char === "{" || char === "[") {
      depth++;
      if (char === "{" && depth === objectDepth) {
        element++;
        literals[element] = undefined;
        expectingKey = true;
      }
    } else if (char === "}" || char === "]") {
      depth--;
    } else if (char === "," && depth === objectDepth) {
      expectingKey = true;
    } else if (batch && depth === 1 && char !== "," && !/\s/.test(char)) {
      // A batch element that is not an object still takes a place.
      element++;
      literals[element] = undefined;
      while (index + 1 < length && !/[\s,\]]/.test(text[index + 1]!)) index++;
    }
    index++;
  }
  return literals;
}

/** Index of the closing quote of the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\") index += 2;
    else if (char === '"') return index;
    else index++;
  }
  return text.length;
}

/** Placeholders and the literals they stand for, for one body. */
export class RawIds {
  private readonly nonce = randomBytes(8).toString("hex");
  private readonly literals = new Map<string, string>();

  /** A placeholder id standing for `literal`. */
  hold(literal: string): string {
    const placeholder = `din-raw-id:${this.nonce}:${this.literals.size}`;
    this.literals.set(placeholder, literal);
    return placeholder;
  }

  /** The serialized answer with each placeholder (a JSON string) replaced by the client's literal. */
  restore(serialized: string): string {
    let out = serialized;
    for (const [placeholder, literal] of this.literals) out = out.split(`"${placeholder}"`).join(literal);
    return out;
  }
}
