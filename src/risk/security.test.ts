import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dinUpNetworks } from "./dinUp.fixture.js";
import { compare, fraction, ONE_HALF, toNumber } from "./fraction.js";
import { deploymentSecurity, deploymentSecurityVerdicts, restakingGraph } from "./security.js";
import type { NetworkSnapshot } from "./types.js";

const TOKEN = 10n ** 18n;

describe("deployment security", () => {
  it("says what corrupting each din up network costs when no profit is declared", () => {
    const security = deploymentSecurity(dinUpNetworks(false));
    // Five operators allocating 5 tokens each: a third of 25 tokens, rounded up to the wei.
    expect(security.networks.map((n) => n.costOfCorruption)).toEqual([
      (25n * TOKEN + 2n) / 3n,
      (25n * TOKEN + 2n) / 3n,
    ]);
    expect(security.stake).toBe(50n * TOKEN);
    expect(security.check).toBeNull();
    expect(security.cascadeBound).toBeNull();
    expect(security.networks.every((n) => n.certified === null && n.exact === null)).toBe(true);
    expect(deploymentSecurityVerdicts(security)[0]).toBe(
      "corrupting ethereum takes 1/3 of its stake, 8.3333: it is secure for any prize worth less than that (no profit from corruption declared)",
    );
  });

  it("certifies a network whose prize is below its cost, and bounds the cascade by (1 + 1/γ)·ψ", () => {
    const networks = dinUpNetworks(true);
    // Ethereum with the delegations: 50 tokens allocated; at a majority threshold corrupting it costs 25,
    // and a prize of 20 leaves γ = 25%.
    const security = deploymentSecurity(networks, {
      profits: new Map([["ethereum", 20n * TOKEN]]),
      threshold: ONE_HALF,
    });
    const ethereum = security.networks[0]!;
    expect(ethereum.stake).toBe(50n * TOKEN);
    expect(ethereum.costOfCorruption).toBe(25n * TOKEN);
    expect(ethereum.slack).toEqual(fraction(1n, 4n));
    expect(ethereum.certified).toBe(true);
    expect(ethereum.exact!.secure).toBe(true);
    expect(security.networks[1]!.profit).toBeNull();
    expect(security.check!.slack).toEqual(fraction(1n, 4n));
    // (1 + 4) · 1% = 5%.
    expect(security.cascadeBound).toEqual(fraction(1n, 20n));
    expect(deploymentSecurityVerdicts(security)).toContain(
      "restaking slack γ = 25%: a shock of 1% of all stake can cost at most 5% of it",
    );
  });

  it("shows the profitable attack on a network whose prize exceeds a third of its stake", () => {
    // A prize of 30 tokens against a cost of corruption of a third of 50.
    const security = deploymentSecurity(dinUpNetworks(true), {
      profits: new Map([["ethereum", 30n * TOKEN]]),
      threshold: fraction(1n, 3n),
    });
    const ethereum = security.networks[0]!;
    expect(ethereum.certified).toBe(false);
    expect(ethereum.exact!.secure).toBe(false);
    // The cheapest coalition holding a third costs 20 tokens (hetzner alone, or aws us-east-1 with one of
    // the 5-token operators) and earns 30.
    expect(ethereum.exact!.worst).toMatchObject({ cost: 20n * TOKEN, profit: 30n * TOKEN });
    expect(security.check!.certified).toBe(false);
    expect(security.cascadeBound).toEqual(fraction(1n, 1n));
    const lines = deploymentSecurityVerdicts(security);
    expect(lines[0]).toMatch(
      /^ethereum is not certified: corrupting it costs 16.6667, no more than the 30 it would earn/,
    );
    expect(lines.at(-1)).toMatch(/^restaking is not certified/);
  });

  it("keeps each network's allocations apart: an operator's stake in one set cannot be slashed by another", () => {
    const networks = dinUpNetworks(false);
    // The same address serving both networks still makes two nodes.
    const shared: NetworkSnapshot[] = networks.map((n) => ({
      ...n,
      operators: n.operators.map((o, i) => (i === 0 ? { ...o, address: "0xshared" } : o)),
    }));
    const graph = restakingGraph(shared);
    expect(graph.operators.filter((o) => o.id.endsWith("/0xshared"))).toHaveLength(2);
    expect(graph.sets.map((s) => s.operators.filter((id) => id.endsWith("/0xshared")))).toEqual([
      ["ethereum/0xshared"],
      ["polygon/0xshared"],
    ]);
  });

  it("γ is the least standalone slack of the declared networks, and no cascade exceeds the bound", () => {
    const stakes = fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(stakes, fc.bigInt({ min: 1n, max: 800n })), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 50 }),
        (specs, majority, shockPercent) => {
          const networks: NetworkSnapshot[] = specs.map(([list], n) => ({
            name: `n${n}`,
            operators: list.map((stake, i) => ({
              id: `o${i}`,
              address: `0x${n}${i}`,
              cloud: "c",
              region: "r",
              allocatedStake: stake,
            })),
          }));
          const threshold = majority ? ONE_HALF : fraction(1n, 3n);
          const shock = fraction(BigInt(shockPercent), 100n);
          const profits = new Map(specs.map(([, profit], n) => [`n${n}`, profit]));
          const security = deploymentSecurity(networks, { threshold, profits, shock });
          const least = security.networks.map((n) => n.slack!).reduce((a, b) => (compare(a, b) <= 0 ? a : b));
          // The per-operator condition's γ uses α·σ, not the rounded-up cost: compare against that.
          const exactLeast = specs
            .map(([list, profit]) => {
              const stake = list.reduce((sum, s) => sum + s, 0n);
              return fraction(threshold.num * stake - threshold.den * profit, threshold.den * profit);
            })
            .reduce((a, b) => (compare(a, b) <= 0 ? a : b));
          expect(compare(security.check!.slack, exactLeast)).toBe(0);
          expect(compare(least, fraction(-1n, 1n))).toBeGreaterThanOrEqual(0);
          if (security.check!.certified && security.stake > 0n) {
            for (const n of security.networks) {
              if (!n.cascade) continue;
              const share = fraction(n.cascade.loss, security.stake);
              expect(toNumber(share)).toBeLessThanOrEqual(toNumber(security.cascadeBound!) + 1e-12);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
