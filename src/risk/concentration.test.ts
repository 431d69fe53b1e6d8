import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  concentrationOf,
  groupWeights,
  hhi,
  nakamoto,
  stakeConcentration,
  trafficConcentration,
} from "./concentration.js";
import { dinUpNetworks } from "./dinUp.fixture.js";
import { ONE_HALF, ONE_THIRD } from "./fraction.js";
import type { NetworkOperator } from "./types.js";

const op = (
  id: string,
  cloud: string,
  stake: bigint,
  extra: Partial<NetworkOperator> = {},
): NetworkOperator => ({
  id,
  address: "0x0",
  cloud,
  region: "r",
  allocatedStake: stake,
  ...extra,
});

describe("concentration", () => {
  it("din up shape (5 operators, 2 on aws, equal stake): aws 40%, one cloud exceeds a third", () => {
    const ethereum = dinUpNetworks(false)[0]!;
    const byCloud = stakeConcentration(ethereum.operators, "cloud");
    expect(byCloud.largest).toMatchObject({ group: "aws", share: 0.4, operators: 2 });
    expect(byCloud.nakamotoThird).toBe(1);
    expect(byCloud.nakamotoHalf).toBe(2);
    expect(byCloud.hhiPoints).toBe(2_800); // 40² + 3 × 20²
    const byOperator = stakeConcentration(ethereum.operators, "operator");
    expect(byOperator.nakamotoThird).toBe(2);
    expect(byOperator.nakamotoHalf).toBe(3);
    expect(byOperator.hhiPoints).toBe(2_000);
    expect(byOperator.hhi).toBeCloseTo(0.2, 15);
    // No entity in the metadata: every operator its own entity, the same figures as per operator.
    expect(stakeConcentration(ethereum.operators, "entity").hhiPoints).toBe(2_000);
    expect(stakeConcentration(ethereum.operators, "region").nakamotoThird).toBe(2);
  });

  it("din up shape once the stakers have delegated", () => {
    const [ethereum, polygon] = dinUpNetworks(true);
    const byOperator = stakeConcentration(ethereum!.operators, "operator");
    expect(byOperator.largest).toMatchObject({ group: "ethereum-hetzner-eu-central", share: 0.4 });
    expect([byOperator.nakamotoThird, byOperator.nakamotoHalf, byOperator.hhiPoints]).toEqual([1, 2, 2_800]);
    expect(stakeConcentration(ethereum!.operators, "cloud").hhiPoints).toBe(3_400);
    const polygonCloud = stakeConcentration(polygon!.operators, "cloud");
    expect(polygonCloud.largest?.group).toBe("aws");
    expect(polygonCloud.largest?.share).toBeCloseTo(30 / 70, 12);
  });

  it("exceeding is strict: exactly a half or a third is not more", () => {
    const halves = groupWeights([
      { group: "a", weight: 1n },
      { group: "b", weight: 1n },
    ]);
    expect(nakamoto(halves, ONE_HALF)).toBe(2);
    expect(nakamoto(halves, ONE_THIRD)).toBe(1);
    const thirds = groupWeights(["a", "b", "c"].map((group) => ({ group, weight: 10n ** 18n })));
    expect(nakamoto(thirds, ONE_THIRD)).toBe(2);
    expect(nakamoto(thirds, { num: 1n, den: 1n })).toBeNull();
  });

  it("groups by entity when declared, and regions with their cloud", () => {
    const ops = [
      op("1", "aws", 10n, { entity: "acme" }),
      op("2", "gcp", 10n, { entity: "acme" }),
      op("3", "gcp", 20n),
    ];
    expect(stakeConcentration(ops, "entity").groups.map((g) => [g.group, g.weight])).toEqual([
      ["3", 20n],
      ["acme", 20n],
    ]);
    expect(stakeConcentration(ops, "region").groups.map((g) => g.group)).toEqual(["gcp/r", "aws/r"]);
  });

  it("orders equal groups by label and never throws on empty, zero or negative stake", () => {
    expect(
      groupWeights([
        { group: "b", weight: 5n },
        { group: "a", weight: 5n },
      ]).map((g) => g.group),
    ).toEqual(["a", "b"]);
    for (const ops of [[], [op("1", "aws", 0n)], [op("1", "aws", -5n)]]) {
      const c = stakeConcentration(ops, "cloud");
      expect([c.nakamotoThird, c.nakamotoHalf, c.hhi, c.hhiPoints, c.largest]).toEqual([
        null,
        null,
        null,
        null,
        null,
      ]);
    }
  });

  it("traffic: shares of what was reported; null when nothing was", () => {
    expect(trafficConcentration([op("1", "aws", 1n)], "cloud")).toBeNull();
    const traffic = trafficConcentration(
      [
        op("1", "aws", 1n, { servedShare: 0.5 }),
        op("2", "aws", 1n, { servedShare: 0.25 }),
        op("3", "gcp", 1n),
      ],
      "cloud",
    )!;
    expect(traffic.largest).toMatchObject({ group: "aws", share: 1 });
    expect(traffic.nakamotoHalf).toBe(1);
  });
});

const weights = fc.array(fc.bigInt({ min: 0n, max: 10n ** 24n }), { minLength: 1, maxLength: 12 });
const labelled = (ws: bigint[]) => ws.map((weight, i) => ({ group: `g${i}`, weight }));

describe("concentration properties", () => {
  it("Nakamoto and HHI do not depend on labels or order", () => {
    fc.assert(
      fc.property(weights, fc.integer(), (ws, seed) => {
        const a = concentrationOf(labelled(ws));
        const shuffled = ws
          .map((w, i) => ({ w, key: (i * 2_654_435_761 + seed) % 1_000_003 }))
          .sort((x, y) => x.key - y.key)
          .map(({ w }, i) => ({ group: `other-${(i * 7 + seed) % 97}-${i}`, weight: w }));
        const b = concentrationOf(shuffled);
        expect([b.nakamotoThird, b.nakamotoHalf, b.hhiPoints]).toEqual([
          a.nakamotoThird,
          a.nakamotoHalf,
          a.hhiPoints,
        ]);
        expect(b.largest?.weight).toBe(a.largest?.weight);
      }),
    );
  });

  it("moving weight to the largest holder never lowers HHI nor raises Nakamoto", () => {
    fc.assert(
      fc.property(weights, fc.nat(11), fc.bigInt({ min: 0n, max: 10n ** 24n }), (ws, from, amount) => {
        const before = concentrationOf(labelled(ws));
        if (before.largest === null) return;
        const largest = Number(before.largest.group.slice(1));
        const source = from % ws.length;
        if (source === largest) return;
        const moved = amount % (ws[source]! + 1n);
        const after = ws.map((w, i) => (i === source ? w - moved : i === largest ? w + moved : w));
        const next = concentrationOf(labelled(after));
        expect(hhi(next.groups, 10n ** 12n)!).toBeGreaterThanOrEqual(hhi(before.groups, 10n ** 12n)! - 1e-3);
        expect(next.nakamotoThird!).toBeLessThanOrEqual(before.nakamotoThird!);
        expect(next.nakamotoHalf!).toBeLessThanOrEqual(before.nakamotoHalf!);
      }),
    );
  });

  it("HHI lies between 1/groups and 1; Nakamoto(1/3) ≤ Nakamoto(1/2)", () => {
    fc.assert(
      fc.property(weights, (ws) => {
        const c = concentrationOf(labelled(ws));
        if (c.hhi === null) return;
        const holders = ws.filter((w) => w > 0n).length;
        expect(c.hhi).toBeGreaterThanOrEqual(1 / holders - 1e-12);
        expect(c.hhi).toBeLessThanOrEqual(1 + 1e-12);
        expect(c.nakamotoThird!).toBeLessThanOrEqual(c.nakamotoHalf!);
      }),
    );
  });
});
