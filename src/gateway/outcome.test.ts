import { describe, expect, it } from "vitest";
import { classifyReply, isFailure } from "./outcome.js";

const ok = (result: unknown) => ({ jsonrpc: "2.0", id: 1, result });
const err = (code: number, message: string) => ({ jsonrpc: "2.0", id: 1, error: { code, message } });

describe("classifyReply", () => {
  it("passes results through", () => {
    expect(classifyReply(200, ok("0x1"))).toEqual({ kind: "result", result: "0x1" });
    expect(classifyReply(200, ok(null))).toEqual({ kind: "result", result: null });
  });

  it("treats null as missing data only where data may exist elsewhere", () => {
    expect(classifyReply(200, ok(null), true)).toMatchObject({ kind: "retry", cause: "null" });
    expect(isFailure("null")).toBe(false);
  });

  it.each([
    [3, "execution reverted: not owner"],
    [-32000, "execution reverted"],
    [-32603, "Error: VM Exception while processing transaction: reverted with reason string 'no'"],
    [-32000, "insufficient funds for gas * price + value"],
    [-32000, "nonce too low"],
    [-32602, "invalid argument 0: hex string has length 3"],
  ])("never retries a deterministic answer: %i %s", (code, message) => {
    expect(classifyReply(200, err(code, message)).kind).toBe("error");
  });

  it.each([
    [429, ok("0x1"), "rate-limited", false],
    [503, err(-32002, "operator temporarily unavailable"), "http-status", true],
    [502, undefined, "http-status", true],
    [200, err(-32000, "header not found"), "missing-data", false],
    [200, err(-32000, "missing trie node abc"), "missing-data", false],
    [200, err(-32005, "rate limit exceeded"), "rate-limited", false],
    [200, err(-32601, "the method debug_x does not exist"), "not-served", false],
    [200, err(-32603, "internal error"), "upstream-error", true],
    [200, { foo: 1 }, "http-status", true],
  ])("retries elsewhere on HTTP %i %j, for a typed cause", (status, body, cause, failure) => {
    const outcome = classifyReply(status, body);
    expect(outcome).toMatchObject({ kind: "retry", cause });
    if (outcome.kind === "retry") expect(isFailure(outcome.cause)).toBe(failure);
  });
});
