import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { errorResponse, parseRequestBody, resultResponse } from "./jsonrpc.js";
import { idLiterals } from "./rawIds.js";

/** Serializes answers to every entry as a server would, restoring held ids. */
function answer(text: string): string {
  const parsed = parseRequestBody(text);
  if (!parsed.ok) throw new Error("unparsable");
  const responses = parsed.entries.map((entry) =>
    entry.ok
      ? resultResponse(entry.request.id ?? null, "0x1")
      : errorResponse(entry.id, { code: -32600, message: "x" }),
  );
  const body = JSON.stringify(parsed.batch ? responses : responses[0]);
  return parsed.rawIds ? parsed.rawIds.restore(body) : body;
}

describe("request ids echoed byte for byte", () => {
  it("answers a 39-digit numeric id with the same digits, not 1.2345678901234568e+38", () => {
    const id = "123456789012345678901234567890123456789";
    const out = answer(`{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`);
    expect(out).toContain(`"id":${id}`);
  });

  it("keeps every id of a batch in its place, also after invalid entries and nested ids in params", () => {
    const text = `[ 7, {"jsonrpc":"2.0","method":"eth_call","params":[{"id":99999999999999999999}],"id":-0},
      {"id" : 1.50000000000000000001 ,"jsonrpc":"2.0","method":"eth_chainId"}, {"jsonrpc":"2.0","id":"s","method":"x"}]`;
    expect(idLiterals(text, true)).toEqual([undefined, "-0", "1.50000000000000000001", '"s"']);
    const out = JSON.parse(answer(text).replace(/:(-?[0-9][0-9.eE+-]*)/g, ':"$1"'));
    expect(out.map((entry: { id: unknown }) => entry.id)).toEqual([
      null,
      "-0",
      "1.50000000000000000001",
      "s",
    ]);
  });

  it("echoes any integer id exactly (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }), fc.boolean(), (id, batch) => {
        const request = `{"jsonrpc":"2.0","method":"eth_chainId","params":[{"id":1}],"id":${id}}`;
        const out = answer(batch ? `[${request},${request}]` : request);
        expect(out.split(`"id":${id}`).length - 1).toBe(batch ? 2 : 1);
      }),
    );
  });

  it("leaves safe ids alone and costs nothing for them", () => {
    const parsed = parseRequestBody('{"jsonrpc":"2.0","id":42,"method":"eth_chainId"}');
    expect(parsed.ok && parsed.rawIds).toBeFalsy();
  });
});
