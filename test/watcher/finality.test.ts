import { describe, expect, it } from "vitest";
import { FinalHeights, provableDepth } from "../../src/watcher/finality.js";

/** A chain of `head + 1` blocks, block n at 1000 + 12 n seconds; counts the timestamps read. */
function chain(delay: bigint | (() => Promise<bigint>)) {
  const reads: bigint[] = [];
  const heights = new FinalHeights({
    readDelay: typeof delay === "bigint" ? async () => delay : delay,
    blockTime: async (n) => {
      reads.push(n);
      return 1000n + 12n * n;
    },
    marginSeconds: 60n,
  });
  return { heights, reads };
}

describe("final heights of the ledger's chain", () => {
  it("finds the highest block whose timestamp + finalityDelay + margin is past, within blockhash()'s reach", async () => {
    const { heights } = chain(900n);
    // Block 500 is at 7000: final from 7000 + 900 + 60 = 7960.
    expect(await heights.finalHeight(600n, 7960n)).toBe(500n);
    expect(await heights.finalHeight(600n, 7959n)).toBe(499n);
    expect(await heights.finalHeight(600n, 100_000n)).toBe(600n);
    // Nothing in [head − provableDepth, head] is final yet (block 400 is at 5800).
    expect(await heights.finalHeight(600n, 5800n + 959n)).toBeUndefined();
    expect(await heights.finalHeight(600n, 5800n + 960n)).toBe(400n);
  });

  it("draws provable samples from [head − provableDepth, final height] only", async () => {
    const { heights } = chain(900n);
    const head = 600n;
    const now = 7960n;
    expect(await heights.sample(head, now, () => 0)).toBe(head - provableDepth);
    expect(await heights.sample(head, now, () => 0.999_999)).toBe(500n);
    for (let i = 0; i < 50; i++) {
      const h = await heights.sample(head, now);
      expect(h).toBeGreaterThanOrEqual(head - provableDepth);
      expect(h).toBeLessThanOrEqual(500n);
    }
    expect(await heights.sample(head, 6000n)).toBeUndefined();
  });

  it("reads few timestamps, and remembers those of final blocks", async () => {
    const { heights, reads } = chain(900n);
    await heights.finalHeight(600n, 7960n);
    expect(reads.length).toBeLessThanOrEqual(12);
    const first = reads.length;
    await heights.finalHeight(600n, 7960n);
    // Only blocks not yet final are read again.
    expect(reads.slice(first).every((n) => n > 500n)).toBe(true);
  });

  it("with no finality delay every block is final; an unreadable delay is read again next time", async () => {
    expect(await chain(0n).heights.finalHeight(10n, 1000n + 120n + 60n)).toBe(10n);
    let calls = 0;
    const { heights } = chain(async () => {
      calls++;
      if (calls === 1) throw new Error("ledger down");
      return 12n;
    });
    expect(await heights.finalityDelay()).toBeUndefined();
    expect(await heights.finalHeight(10n, 2000n)).toBe(10n);
    expect(await heights.finalityDelay()).toBe(12n);
    expect(calls).toBe(2);
  });
});
