// Routing against concentration on a real data plane (five operators on four clouds, aws's two weighted
// to be everyone's first choice): over 10,000 requests aws serves at most a third (± 2%) while the other
// clouds are healthy, the gateway reports each cloud's share, and when the other clouds go down the cap
// gives way: clients see no error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DataPlane, operatorLayout, post, rpc, startDataPlane } from "../support/dataPlane.js";

describe("the cloud share cap", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({
      gateway: { routing: { hedge: false }, cache: { enabled: false } },
      upstreams: { "aws-use1": { weight: 1000 }, "aws-euw1": { weight: 1000 } },
    });
  });
  afterAll(async () => {
    await plane?.close();
  });

  const served = (): Map<string, number> =>
    new Map(
      operatorLayout.map((o) => [o.id, plane.operators.get(o.id)!.stats().byMethod.eth_getBalance ?? 0]),
    );
  /** Sends `count` balance reads, `concurrency` at a time; returns how many were errors. */
  async function send(count: number, concurrency = 16): Promise<number> {
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next < count) {
        const id = next++;
        // A distinct account per request: identical reads in flight would be answered by one upstream call.
        const account = `0x${(0xd1n * 2n ** 152n + BigInt(id)).toString(16).padStart(40, "0")}`;
        const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [account, "latest"], id));
        if (json.error || typeof json.result !== "string") errors++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return errors;
  }

  it("keeps aws at a third of 10,000 requests while the other clouds are healthy, and reports the shares", async () => {
    const before = served();
    expect(await send(10_000)).toBe(0);
    const after = served();
    const delta = (id: string) => (after.get(id) ?? 0) - (before.get(id) ?? 0);
    const total = operatorLayout.reduce((sum, o) => sum + delta(o.id), 0);
    const aws = delta("aws-use1") + delta("aws-euw1");
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(aws / total).toBeLessThanOrEqual(1 / 3 + 0.02);
    expect(aws / total).toBeGreaterThanOrEqual(1 / 3 - 0.02);
    const report = await fetch(`${plane.gateway.url}/healthz`).then((response) => response.json());
    const clouds = report.networks[0].clouds;
    expect(clouds.cap).toBeCloseTo(1 / 3);
    expect(clouds.measured).toBe(1000);
    const awsShare = clouds.shares.find((s: { cloud: string }) => s.cloud === "aws").share;
    expect(awsShare).toBeLessThanOrEqual(1 / 3 + 0.02);
  }, 120_000);

  it("gives way when the other clouds are down: aws serves everything and no client sees an error", async () => {
    const others = operatorLayout.filter((o) => o.cloud !== "aws");
    for (const o of others) await plane.operators.get(o.id)!.setChaos({ mode: "down" });
    try {
      const before = served();
      expect(await send(300, 8)).toBe(0);
      const after = served();
      const aws = ["aws-use1", "aws-euw1"].reduce(
        (sum, id) => sum + (after.get(id) ?? 0) - (before.get(id) ?? 0),
        0,
      );
      expect(aws).toBeGreaterThanOrEqual(300);
    } finally {
      for (const o of others) await plane.operators.get(o.id)!.setChaos({ mode: "ok" });
    }
  }, 60_000);
});
