import { describe, expect, it } from "vitest";
import { dinUpNetworks } from "./dinUp.fixture.js";
import { outages, worstOutage } from "./outage.js";
import type { NetworkOperator } from "./types.js";

describe("single-cloud and single-region outages", () => {
  it("din up shape: an aws outage leaves 3 of 5 operators and 60% of the stake", () => {
    const ethereum = dinUpNetworks(false)[0]!;
    expect(worstOutage(ethereum.operators, "cloud")).toMatchObject({
      name: "aws",
      operatorsDown: 2,
      operatorsLeft: 3,
      operatorsTotal: 5,
      operatorShareLeft: 0.6,
      stakeShareLeft: 0.6,
      trafficShareMoved: null,
    });
    // Every region holds one operator of equal stake: the tie goes to label order.
    expect(worstOutage(ethereum.operators, "region")).toMatchObject({
      name: "aws/eu-west-1",
      operatorsLeft: 4,
    });
    expect(outages(ethereum.operators, "cloud").map((o) => o.name)).toEqual([
      "aws",
      "bare-metal",
      "gcp",
      "hetzner",
    ]);
  });

  it("breaks an equal operator count by the stake left", () => {
    const [ethereum] = dinUpNetworks(true);
    const list = outages(ethereum!.operators, "region");
    expect(list[0]).toMatchObject({ name: "hetzner/eu-central", operatorsLeft: 4, stakeShareLeft: 0.6 });
  });

  it("counts the traffic that fails over, and a network on one cloud halts", () => {
    const ops: NetworkOperator[] = [
      { id: "a", address: "0x", cloud: "aws", region: "x", allocatedStake: 0n, servedShare: 0.75 },
      { id: "b", address: "0x", cloud: "aws", region: "y", allocatedStake: 0n, servedShare: 0.25 },
    ];
    expect(worstOutage(ops, "cloud")).toMatchObject({
      operatorsLeft: 0,
      stakeShareLeft: null,
      trafficShareMoved: 1,
    });
    expect(worstOutage(ops, "region")).toMatchObject({ name: "aws/x", trafficShareMoved: 0.75 });
    expect(worstOutage([], "cloud")).toBeNull();
  });
});
