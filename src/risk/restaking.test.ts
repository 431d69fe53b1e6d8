import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compare, type Fraction, fraction, INFINITY, ONE_HALF, ONE_THIRD } from "./fraction.js";
import {
  cascadeBound,
  exactSecurity,
  type RestakingGraph,
  securityCheck,
  totalStake,
  worstCascade,
} from "./restaking.js";

const set = (id: string, threshold: Fraction, profit: bigint, operators: string[]) => ({
  id,
  threshold,
  profit,
  operators,
});

describe("restaking security check", () => {
  it("worked example: slack 10% bounds a 0.1% shock to 1.1% of all stake", () => {
    // One set at a majority threshold: cost of corruption 1,100 against a profit of 1,000, so γ = 10%.
    const graph: RestakingGraph = {
      operators: [
        { id: "a", stake: 800n },
        { id: "b", stake: 700n },
        { id: "c", stake: 700n },
      ],
      sets: [set("s", ONE_HALF, 1_000n, ["a", "b", "c"])],
    };
    const check = securityCheck(graph);
    expect(check.slack).toEqual(fraction(1n, 10n));
    expect(check.certified).toBe(true);
    expect(check.sets[0]).toMatchObject({ stake: 2_200n, costOfCorruption: 1_100n, profit: 1_000n });
    expect(cascadeBound(check.slack, fraction(1n, 1_000n))).toEqual(fraction(11n, 1_000n));
    // 0.1% of 2,200 is 2.2: no operator is that small, and with none lost no attack pays.
    expect(worstCascade(graph, 2n)!.loss).toBe(0n);
  });

  it("reduces to α·σ(N(s)) ≥ (1 + γ)·π per set when stake is unique to each set", () => {
    const check = securityCheck({
      operators: [
        { id: "x1", stake: 30n },
        { id: "x2", stake: 30n },
        { id: "y1", stake: 60n },
      ],
      sets: [set("x", ONE_THIRD, 10n, ["x1", "x2"]), set("y", ONE_HALF, 40n, ["y1"])],
    });
    expect(check.sets.map((s) => [s.costOfCorruption, s.standaloneSlack, s.slack])).toEqual([
      [20n, fraction(1n, 1n), fraction(1n, 1n)],
      [30n, fraction(-1n, 4n), fraction(-1n, 4n)],
    ]);
    expect(check.slack).toEqual(fraction(-1n, 4n));
    expect(check.failingSets).toEqual(["y"]);
    expect(check.failingOperators).toEqual(["y1"]);
  });

  it("restaked stake adds the profits it is exposed to: two sets each fine alone fail together", () => {
    const graph: RestakingGraph = {
      operators: [
        { id: "a", stake: 50n },
        { id: "b", stake: 50n },
      ],
      sets: [set("p", ONE_HALF, 30n, ["a", "b"]), set("q", ONE_HALF, 30n, ["a", "b"])],
    };
    const check = securityCheck(graph);
    expect(check.sets.map((s) => s.standaloneSlack)).toEqual([fraction(2n, 3n), fraction(2n, 3n)]);
    expect(check.slack).toEqual(fraction(-1n, 6n)); // load 60/50
    expect(check.failingSets).toEqual(["p", "q"]);
    // One operator holds half of each: 50 at stake for 60 of profit.
    expect(exactSecurity(graph)).toMatchObject({
      secure: false,
      worst: { operators: ["a"], cost: 50n, profit: 60n },
    });
  });

  it("a slack of exactly 0 is not certified", () => {
    const check = securityCheck({
      operators: [{ id: "a", stake: 2n }],
      sets: [set("s", ONE_HALF, 1n, ["a"])],
    });
    expect(check.slack).toEqual(fraction(0n, 1n));
    expect(check.certified).toBe(false);
    expect(cascadeBound(check.slack, fraction(1n, 1_000n))).toEqual(fraction(1n, 1n));
  });

  it("finds the cascade a shock starts: losing a lets c alone corrupt the set", () => {
    const graph: RestakingGraph = {
      operators: [
        { id: "a", stake: 30n },
        { id: "b", stake: 30n },
        { id: "c", stake: 40n },
      ],
      sets: [set("x", ONE_HALF, 45n, ["a", "b", "c"])],
    };
    expect(securityCheck(graph).slack).toEqual(fraction(1n, 9n));
    expect(exactSecurity(graph)).toMatchObject({ secure: true, slack: fraction(1n, 3n) });
    const cascade = worstCascade(graph, 30n)!;
    expect(cascade.shock).toEqual(["a"]);
    expect(cascade.attacks).toEqual([{ operators: ["c"], sets: ["x"], cost: 40n, profit: 45n }]);
    expect(cascade.lossShare).toEqual(fraction(7n, 10n));
    expect(compare(cascade.lossShare, cascadeBound(fraction(1n, 9n), fraction(3n, 10n)))).toBeLessThanOrEqual(
      0,
    );
  });

  it("never throws on an empty graph, sets without stake or operators, or unknown operators", () => {
    expect(securityCheck({ operators: [], sets: [] })).toMatchObject({ slack: INFINITY, certified: true });
    const check = securityCheck({
      operators: [{ id: "a", stake: 0n }],
      sets: [
        set("s", ONE_THIRD, 5n, ["a", "ghost"]),
        set("t", ONE_THIRD, 5n, []),
        set("u", ONE_THIRD, 0n, []),
      ],
    });
    expect(check.failingSets).toEqual(["s", "t"]);
    expect(check.slack).toEqual(fraction(-1n, 1n));
    expect(exactSecurity({ operators: [], sets: [] })).toMatchObject({ secure: true, worst: null });
    expect(worstCascade({ operators: [], sets: [] }, 0n)).toMatchObject({ loss: 0n, attacks: [] });
  });

  it("enumerates only small graphs", () => {
    const many = (n: number): RestakingGraph => ({
      operators: Array.from({ length: n }, (_, i) => ({ id: `o${i}`, stake: 1n })),
      sets: [
        set(
          "s",
          ONE_THIRD,
          1n,
          Array.from({ length: n }, (_, i) => `o${i}`),
        ),
      ],
    });
    expect(exactSecurity(many(16))).not.toBeNull();
    expect(exactSecurity(many(17))).toBeNull();
    expect(worstCascade(many(9), 1n)).toBeNull();
    expect(securityCheck(many(1_000)).certified).toBe(true);
  });
});

const thresholds = [ONE_THIRD, ONE_HALF, fraction(2n, 3n), fraction(1n, 1n)];
const smallGraph: fc.Arbitrary<RestakingGraph> = fc
  .record({
    stakes: fc.array(fc.bigInt({ min: 0n, max: 100n }), { minLength: 1, maxLength: 6 }),
    sets: fc.array(
      fc.record({ threshold: fc.nat(3), profit: fc.bigInt({ min: 0n, max: 60n }), members: fc.nat(63) }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ stakes, sets }) => ({
    operators: stakes.map((stake, i) => ({ id: `o${i}`, stake })),
    sets: sets.map((s, j) =>
      set(
        `s${j}`,
        thresholds[s.threshold]!,
        s.profit,
        stakes.map((_, i) => `o${i}`).filter((_, i) => s.members & (1 << i)),
      ),
    ),
  }));

describe("restaking properties", () => {
  it("the polynomial condition never certifies more slack than exact enumeration finds", () => {
    fc.assert(
      fc.property(smallGraph, (graph) => {
        const exact = exactSecurity(graph)!;
        expect(compare(securityCheck(graph).slack, exact.slack)).toBeLessThanOrEqual(0);
        expect(exact.secure).toBe(compare(exact.slack, fraction(0n, 1n)) >= 0);
      }),
    );
  });

  it("the cascade bound is never below the worst loss enumeration finds", () => {
    fc.assert(
      fc.property(smallGraph, fc.bigInt({ min: 0n, max: 200n }), (graph, shockStake) => {
        const total = totalStake(graph);
        const shock = total === 0n ? fraction(0n, 1n) : fraction(shockStake, total);
        const cascade = worstCascade(graph, shockStake)!;
        for (const slack of [securityCheck(graph).slack, exactSecurity(graph)!.slack]) {
          expect(compare(cascade.lossShare, cascadeBound(slack, shock))).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
