import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RpcErrorCode } from "./errors.js";
import { exceedsDepth, parseRequestBody } from "./jsonrpc.js";

const limits = { maxBodyBytes: 1_048_576, maxBatchSize: 100, maxParamsDepth: 32 };

describe("parseRequestBody", () => {
  it("accepts a single request with ids of every legal type", () => {
    for (const id of [1, 0, -7, 1.5, "abc", "", null]) {
      const parsed = parseRequestBody(
        JSON.stringify({ jsonrpc: "2.0", id, method: "eth_blockNumber" }),
        limits,
      );
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.batch).toBe(false);
      const entry = parsed.entries[0]!;
      // A fractional id is held as its literal, to be echoed byte for byte (rawIds.test.ts).
      if (id === 1.5)
        expect(parsed.rawIds?.restore(JSON.stringify(entry.ok && entry.request.id))).toBe("1.5");
      else expect(entry.ok && entry.request.id).toBe(id);
      expect(entry.ok && entry.notification).toBe(false);
    }
  });

  it("marks a request without id as a notification", () => {
    const parsed = parseRequestBody('{"jsonrpc":"2.0","method":"eth_chainId"}', limits);
    expect(parsed.ok && parsed.entries[0]).toMatchObject({ ok: true, notification: true });
  });

  it("answers malformed JSON with -32700", () => {
    const parsed = parseRequestBody('{"jsonrpc":"2.0",', limits);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error.code).toBe(RpcErrorCode.ParseError);
  });

  it("answers things that are not requests with -32600, keeping a valid id", () => {
    const cases: Array<[string, unknown]> = [
      ["1", null],
      ['"hello"', null],
      ['{"jsonrpc":"1.0","id":4,"method":"eth_chainId"}', 4],
      ['{"jsonrpc":"2.0","id":5}', 5],
      ['{"jsonrpc":"2.0","id":6,"method":12}', 6],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}', null],
      ['{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":"x"}', 7],
    ];
    for (const [body, id] of cases) {
      const parsed = parseRequestBody(body, limits);
      expect(parsed.ok).toBe(true);
      const entry = parsed.ok ? parsed.entries[0]! : undefined;
      expect(entry?.ok).toBe(false);
      if (entry && !entry.ok) {
        expect(entry.error.code).toBe(RpcErrorCode.InvalidRequest);
        expect(entry.id).toBe(id);
      }
    }
  });

  it("parses batches entry by entry, so one bad entry does not spoil the others", () => {
    const parsed = parseRequestBody(
      '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}, 42, {"jsonrpc":"2.0","id":3,"method":"eth_blockNumber"}]',
      limits,
    );
    expect(parsed.ok && parsed.batch).toBe(true);
    expect(parsed.ok && parsed.entries.map((e) => e.ok)).toEqual([true, false, true]);
  });

  it("refuses an empty batch and a batch over the limit", () => {
    const empty = parseRequestBody("[]", limits);
    expect(!empty.ok && empty.error.code).toBe(RpcErrorCode.InvalidRequest);
    const big = JSON.stringify(
      Array.from({ length: 101 }, (_, id) => ({ jsonrpc: "2.0", id, method: "eth_chainId" })),
    );
    const parsed = parseRequestBody(big, limits);
    expect(!parsed.ok && parsed.error.code).toBe(RpcErrorCode.LimitExceeded);
    expect(!parsed.ok && parsed.error.shortMessage).toContain("100");
  });

  it("refuses a body over the size limit with HTTP 413", () => {
    const parsed = parseRequestBody(`{"x":"${"a".repeat(2000)}"}`, { ...limits, maxBodyBytes: 1000 });
    expect(!parsed.ok && parsed.error.httpStatus).toBe(413);
  });

  it("survives deeply nested input without blowing the stack", () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    const parsed = parseRequestBody(deep, limits);
    const entry = parsed.ok ? parsed.entries[0] : undefined;
    expect(entry && !entry.ok && entry.error.code).toBe(RpcErrorCode.InvalidParams);
  });

  it("never throws, whatever the input (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const parsed = parseRequestBody(text, limits);
          if (parsed.ok) {
            for (const entry of parsed.entries) {
              if (!entry.ok) expect([-32600, -32602]).toContain(entry.error.code);
            }
          } else {
            expect([-32700, -32600, -32005]).toContain(parsed.error.code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("round-trips any valid request (property)", () => {
    const request = fc.record({
      jsonrpc: fc.constant("2.0" as const),
      id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      method: fc.string({ minLength: 1, maxLength: 40 }),
      params: fc.array(fc.jsonValue({ maxDepth: 5 })),
    });
    fc.assert(
      fc.property(request, (req) => {
        const parsed = parseRequestBody(JSON.stringify(req), limits);
        expect(parsed.ok && parsed.entries[0]?.ok).toBe(true);
        expect(parsed.ok && parsed.entries[0]?.ok && parsed.entries[0].request.method).toBe(req.method);
      }),
      { numRuns: 300 },
    );
  });
});

describe("exceedsDepth", () => {
  it("counts nesting of arrays and objects", () => {
    expect(exceedsDepth([1, [2, [3]]], 3)).toBe(false);
    expect(exceedsDepth([1, [2, [3]]], 2)).toBe(true);
    expect(exceedsDepth({ a: { b: { c: {} } } }, 3)).toBe(true);
    expect(exceedsDepth("flat", 1)).toBe(false);
  });
});
