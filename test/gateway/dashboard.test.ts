// The dashboard of a gateway that follows no ledger: its upstreams on the network map with the health the
// gateway sees, the same map pushed on the live stream, and the ledger's views refused with a reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetworkMap } from "../../src/dashboard/types.js";
import { type DataPlane, startDataPlane } from "../support/dataPlane.js";

describe("the dashboard of a gateway without a ledger", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane();
  });

  afterAll(async () => {
    await plane?.close();
  });

  const operators = (map: NetworkMap) =>
    map.networks.flatMap((n) => n.clouds.flatMap((c) => c.regions.flatMap((r) => r.operators)));

  it("maps every upstream by cloud and region with the gateway's health", async () => {
    const map = (await (await fetch(`${plane.gateway.url}/dashboard/api/network`)).json()) as NetworkMap;
    expect(map.gateway).toBe(plane.gateway.url);
    expect(map.ledger).toBeNull();
    const shown = operators(map);
    expect(shown.map((o) => o.id).sort()).toEqual([...plane.operators.keys()].sort());
    for (const o of shown) {
      const cloud = map.networks[0]!.clouds.find((c) => c.cloud === o.cloud)!;
      expect(cloud.regions.find((r) => r.region === o.region)!.operators).toContainEqual(o);
      expect(["healthy", "degraded", "unhealthy"]).toContain(o.health);
    }
  });

  it("pushes the same map on the live stream", async () => {
    const controller = new AbortController();
    const response = await fetch(`${plane.gateway.url}/dashboard/api/events`, { signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    let text = "";
    while (!/event: map\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const map = JSON.parse(/event: map\ndata: (.*)\n\n/.exec(text)![1]!) as NetworkMap;
    expect(operators(map)).toHaveLength(plane.operators.size);
  });

  it("says the ledger's views need a ledger", async () => {
    for (const path of ["operators/anyone", "epochs", "risk", "governance"]) {
      const response = await fetch(`${plane.gateway.url}/dashboard/api/${path}`);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: string }).error).toMatch(/follows no DIN ledger/);
    }
  });
});
