// One read shared by every caller for its max age, and a failed read not kept: the next caller reads again.
import { afterEach, describe, expect, it, vi } from "vitest";
import { reused } from "./source.js";

describe("reused", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("shares one read among callers within its max age, then reads again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    let reads = 0;
    const read = reused(async () => ++reads, 50);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    expect(await read()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(await read()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await read()).toBe(2);
  });

  it("does not keep a failed read", async () => {
    let reads = 0;
    const read = reused(async () => {
      reads++;
      if (reads === 1) throw new Error("ledger unreachable");
      return reads;
    }, 10_000);
    await expect(read()).rejects.toThrow("ledger unreachable");
    expect(await read()).toBe(2);
  });
});
