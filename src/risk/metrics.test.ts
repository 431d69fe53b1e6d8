import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { riskAssumptionsSchema } from "./assumptions.js";
import { dinUpNetworks } from "./dinUp.fixture.js";
import { createRiskGauges, OTHER_LABEL } from "./metrics.js";
import type { NetworkOperator } from "./types.js";

async function series(registry: Registry, name: string) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number }>;
}

const value = async (registry: Registry, name: string, labels: Record<string, string>) =>
  (await series(registry, name)).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;

describe("din_risk_* gauges", () => {
  it("export the restaking check under a config's declared profits", async () => {
    const registry = new Registry();
    const security = riskAssumptionsSchema.parse({
      threshold: "1/2",
      shock: "1%",
      profitFromCorruption: { ethereum: "20" },
    });
    const gauges = createRiskGauges(registry, { security });
    gauges.update(dinUpNetworks(true));
    // 50 tokens allocated to each network: half of it is what corrupting either costs.
    expect(await value(registry, "din_risk_cost_of_corruption_tokens", { network: "ethereum" })).toBe(25);
    expect(await value(registry, "din_risk_cost_of_corruption_tokens", { network: "polygon" })).toBe(35);
    expect(await value(registry, "din_risk_profit_from_corruption_tokens", { network: "ethereum" })).toBe(20);
    expect(await value(registry, "din_risk_profit_from_corruption_tokens", { network: "polygon" })).toBe(
      undefined,
    );
    expect(await value(registry, "din_risk_security_slack", { network: "ethereum" })).toBe(0.25);
    expect(await value(registry, "din_risk_restaking_slack", { threshold: "1/2" })).toBe(0.25);
    expect(await value(registry, "din_risk_cascade_bound", { shock: "0.01" })).toBeCloseTo(0.05, 12);

    // Without declared profits only the cost of corruption is exported.
    const plain = new Registry();
    createRiskGauges(plain).update(dinUpNetworks(false));
    expect(await value(plain, "din_risk_cost_of_corruption_tokens", { network: "ethereum" })).toBeCloseTo(
      25 / 3,
      12,
    );
    expect(await series(plain, "din_risk_restaking_slack")).toEqual([]);
    expect(await series(plain, "din_risk_security_slack")).toEqual([]);
  });

  it("refuse a config whose assumptions do not parse, saying why", () => {
    expect(() => riskAssumptionsSchema.parse({ threshold: "2/1" })).toThrow(/between 0 and 1/);
    expect(() => riskAssumptionsSchema.parse({ shock: "200%" })).toThrow(/at most 100%/);
    expect(() => riskAssumptionsSchema.parse({ profitFromCorruption: { ethereum: "-1" } })).toThrow(
      /decimal number of tokens/,
    );
    expect(() => riskAssumptionsSchema.parse({ profit: {} })).toThrow(/Unrecognized key/);
  });

  it("export the figures of docs/risk.md for the din up networks", async () => {
    const registry = new Registry();
    const gauges = createRiskGauges(registry);
    gauges.update(dinUpNetworks(true));
    const eth = { network: "ethereum" };
    expect(await value(registry, "din_risk_operators", eth)).toBe(5);
    expect(
      await value(registry, "din_risk_nakamoto", {
        ...eth,
        group: "cloud",
        threshold: "1/3",
        basis: "stake",
      }),
    ).toBe(1);
    expect(
      await value(registry, "din_risk_nakamoto", {
        ...eth,
        group: "cloud",
        threshold: "1/2",
        basis: "stake",
      }),
    ).toBe(2);
    expect(await value(registry, "din_risk_hhi", { ...eth, group: "cloud", basis: "stake" })).toBeCloseTo(
      0.34,
      12,
    );
    expect(
      await value(registry, "din_risk_largest_share", {
        ...eth,
        group: "cloud",
        basis: "stake",
        name: "aws",
      }),
    ).toBeCloseTo(0.4, 12);
    expect(
      await value(registry, "din_risk_outage_capacity_left", { ...eth, kind: "cloud", name: "aws" }),
    ).toBe(0.6);
    expect(
      await value(registry, "din_risk_outage_stake_left", {
        ...eth,
        kind: "region",
        name: "hetzner/eu-central",
      }),
    ).toBeCloseTo(0.6, 12);
    expect(
      await value(registry, "din_risk_outage_capacity_left", {
        network: "polygon",
        kind: "cloud",
        name: "bare-metal",
      }),
    ).toBe(0.8);
    // No served shares: no traffic series.
    expect((await series(registry, "din_risk_hhi")).some((s) => s.labels.basis === "traffic")).toBe(false);
  });

  it("replace every series on refresh: a largest group that changed leaves no stale series", async () => {
    const registry = new Registry();
    const gauges = createRiskGauges(registry);
    gauges.update(dinUpNetworks(true));
    const before = await series(registry, "din_risk_largest_share");
    expect(before.some((s) => s.labels.name === "ethereum-hetzner-eu-central")).toBe(true);
    gauges.update(dinUpNetworks(true).filter((n) => n.name === "polygon"));
    const after = await series(registry, "din_risk_largest_share");
    expect(after.every((s) => s.labels.network === "polygon")).toBe(true);
    expect(await series(registry, "din_risk_operators")).toHaveLength(1);
    gauges.update([]);
    expect(await series(registry, "din_risk_nakamoto")).toHaveLength(0);
  });

  it("export traffic figures when operators report served shares", async () => {
    const registry = new Registry();
    const [eth] = dinUpNetworks(false);
    const operators = eth!.operators.map((o, i) => ({ ...o, servedShare: i === 0 ? 0.7 : 0.075 }));
    createRiskGauges(registry).update([{ name: "ethereum", operators }]);
    expect(
      await value(registry, "din_risk_largest_share", {
        network: "ethereum",
        group: "cloud",
        basis: "traffic",
        name: "aws",
      }),
    ).toBeCloseTo(0.775, 9);
  });

  it("bound the names taken from metadata: at most maxNames per network and kind, the rest folded, each cut", async () => {
    const registry = new Registry();
    const operators: NetworkOperator[] = Array.from({ length: 200 }, (_, i) => ({
      id: `op-${i}`,
      address: `0x${i.toString(16).padStart(40, "0")}`,
      cloud: `cloud-${i}-${"x".repeat(500)}`,
      region: `r-${i}`,
      allocatedStake: BigInt(i + 1) * 10n ** 18n,
    }));
    createRiskGauges(registry, { maxNames: 8, maxNameLength: 40 }).update([{ name: "ethereum", operators }]);
    for (const kind of ["cloud", "region"]) {
      const names = (await series(registry, "din_risk_outage_capacity_left"))
        .filter((s) => s.labels.kind === kind)
        .map((s) => String(s.labels.name));
      expect(names.length).toBeLessThanOrEqual(9);
      expect(names).toContain(OTHER_LABEL);
      expect(names.every((n) => n.length <= 40)).toBe(true);
    }
    // The worst outage (the largest stake's cloud) is kept by name.
    const worst = (await series(registry, "din_risk_outage_stake_left")).find(
      (s) => s.labels.kind === "cloud" && String(s.labels.name).startsWith("cloud-199-"),
    );
    expect(worst?.value).toBeCloseTo(1 - 200 / ((200 * 201) / 2), 12);
    const largest = await series(registry, "din_risk_largest_share");
    expect(largest.every((s) => String(s.labels.name).length <= 40)).toBe(true);
  });
});
