import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resultText } from "./rawResult.js";

describe("the source text of a reply's result", () => {
  it("finds a block's text where the node put it, with its spacing and big numbers as sent", () => {
    const block = '{ "number" : "0x10", "transactions": [ {"value": 123456789012345678901234567890} ] }';
    expect(resultText(`{"jsonrpc":"2.0","id":7,"result":${block}}`)).toBe(block);
    expect(resultText(`{\n  "result": ${block},\n  "id": 7, "jsonrpc": "2.0"\n}\n`)).toBe(block);
    expect(resultText('{"jsonrpc":"2.0","id":1,"result":[]}')).toBe("[]");
    expect(resultText('{"jsonrpc":"2.0","id":1,"result":null}')).toBe("null");
    expect(resultText('{"jsonrpc":"2.0","id":1,"result":-1.5e3 }')).toBe("-1.5e3");
  });

  it("is not fooled by strings that look like keys, escaped quotes or brackets inside strings", () => {
    const result = '{"a":"\\"result\\":[1]","b":"\\\\","c":"}]{["}';
    const text = `{"jsonrpc":"2.0","note":"\\"result\\":{\\"x\\":1}","id":1,"result":${result}}`;
    expect(resultText(text)).toBe(result);
    expect(JSON.parse(resultText(text)!)).toEqual(JSON.parse(text).result);
  });

  it("gives up where JSON.parse may read another result: duplicates, escaped keys", () => {
    // JSON.parse keeps the last duplicate, and "res\u0075lt" is the key "result".
    expect(resultText('{"jsonrpc":"2.0","id":1,"result":{"a":1},"result":{"a":2}}')).toBeUndefined();
    expect(resultText('{"jsonrpc":"2.0","id":1,"result":{"a":1},"res\\u0075lt":{"a":2}}')).toBeUndefined();
    expect(resultText('{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"x"}}')).toBeUndefined();
    expect(resultText('[{"result":1}]')).toBeUndefined();
    expect(resultText("{}")).toBeUndefined();
  });

  it("reads back exactly the result JSON.parse reads, whatever the reply (property)", () => {
    const key = fc.constantFrom("jsonrpc", "id", "result", "error", "x", 'a"b', "\\");
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.jsonValue()), { maxLength: 6 }),
        fc.constantFrom(undefined, 2),
        (members, indent) => {
          const text = `{${members
            .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value, null, indent)}`)
            .join(indent ? " ,\n " : ",")}}`;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const found = resultText(text);
          const results = members.filter(([name]) => name === "result").length;
          const escapedKey = members.some(([name]) => JSON.stringify(name).includes("\\"));
          if (results !== 1) expect(found).toBeUndefined();
          // Keys written with escapes make it give up; otherwise it always finds the one result.
          else if (!escapedKey) expect(JSON.parse(found!)).toEqual(parsed.result);
          if (found !== undefined) expect(JSON.parse(found)).toEqual(parsed.result);
        },
      ),
      { numRuns: 500 },
    );
  });
});
