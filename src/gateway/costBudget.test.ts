import { afterEach, describe, expect, it, vi } from "vitest";
import { CostBudget } from "./costBudget.js";

const far = () => Date.now() + 60_000;

describe("operator time a client may spend on expensive requests", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refuses a client's gas bombs once they used its burst, and lets it back as the bucket drains", async () => {
    vi.useFakeTimers();
    const budget = new CostBudget({ msPerSecond: 250, burstMs: 2_000, maxInFlight: 4 });
    for (let index = 0; index < 2; index++) {
      const end = await budget.begin("attacker", far());
      vi.advanceTimersByTime(1_500);
      end();
    }
    await expect(budget.begin("attacker", far())).rejects.toThrow(/retry in \d+ ms/);
    // 3,000 ms charged, 375 drained during the second call: 2,625 of debt, 625 over the burst, 2.5 s at 250 ms/s.
    vi.advanceTimersByTime(2_400);
    await expect(budget.begin("attacker", far())).rejects.toThrow(/Limit exceeded/);
    vi.advanceTimersByTime(200);
    await expect(budget.begin("attacker", far())).resolves.toBeTypeOf("function");
  });

  it("never counts one client's spending against another", async () => {
    vi.useFakeTimers();
    const budget = new CostBudget({ msPerSecond: 100, burstMs: 100, maxInFlight: 1 });
    const end = await budget.begin("attacker", far());
    vi.advanceTimersByTime(10_000);
    end();
    await expect(budget.begin("attacker", far())).rejects.toThrow();
    await expect(budget.begin("dapp", far())).resolves.toBeTypeOf("function");
  });

  it("serves a client's batch of calls one at a time instead of refusing them", async () => {
    const budget = new CostBudget({ msPerSecond: 1_000, burstMs: 60_000, maxInFlight: 1 });
    const order: number[] = [];
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, async (_, index) => {
        const end = await budget.begin("dapp", far());
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(index);
        running--;
        end();
      }),
    );
    expect(order).toHaveLength(10);
    expect(most).toBe(1);
  });

  it("refuses what does not fit the queue, and a wait past the request's deadline", async () => {
    const budget = new CostBudget({ msPerSecond: 1_000, burstMs: 60_000, maxInFlight: 1, maxQueued: 2 });
    const end = await budget.begin("c", far());
    const waiting = [budget.begin("c", far()), budget.begin("c", far())];
    await expect(budget.begin("c", far())).rejects.toThrow(/waiting/);
    await expect(budget.begin("other", Date.now())).resolves.toBeTypeOf("function");
    end();
    const second = await waiting[0]!;
    second();
    (await waiting[1]!)();
    const hold = await budget.begin("c", far());
    await expect(budget.begin("c", Date.now() + 5)).rejects.toThrow(/whole request time/);
    hold();
    await expect(budget.begin("c", far())).resolves.toBeTypeOf("function");
  });

  it("charges quick calls almost nothing: a dApp's forty 5 ms reads a second stay within budget", async () => {
    vi.useFakeTimers();
    const budget = new CostBudget({ msPerSecond: 250, burstMs: 2_000, maxInFlight: 8 });
    for (let index = 0; index < 2_000; index++) {
      const end = await budget.begin("dapp", far());
      vi.advanceTimersByTime(5);
      end();
      vi.advanceTimersByTime(20);
    }
    expect(budget.debtOf("dapp")).toBeLessThan(2_000);
  });

  it("remembers a bounded number of clients", async () => {
    const budget = new CostBudget({ msPerSecond: 1, burstMs: 1, maxInFlight: 1, maxClients: 100 });
    for (let index = 0; index < 10_000; index++) (await budget.begin(`client-${index}`, far()))();
    expect(budget.size).toBe(100);
  });
});
