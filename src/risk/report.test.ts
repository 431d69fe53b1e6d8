import { describe, expect, it } from "vitest";
import { dinUpNetworks } from "./dinUp.fixture.js";
import { fraction, ONE_HALF } from "./fraction.js";
import { amount, networkRisk, networkVerdicts, percent, securityVerdicts } from "./report.js";
import { securityCheck } from "./restaking.js";

describe("verdicts", () => {
  it("says what the din up shape means", () => {
    const lines = networkVerdicts(networkRisk(dinUpNetworks(false)[0]!));
    expect(lines[0]).toBe("aws holds 40% of ethereum's stake: one cloud can halt 2 of 5 operators");
    expect(lines).toContain(
      "ethereum's stake by cloud: 1 cloud holds more than a third, 2 clouds more than half; largest aws 40%; HHI 2,800 (highly concentrated)",
    );
    expect(lines).toContain(
      "worst cloud outage for ethereum is aws: it leaves 3 of 5 operators and 60% of its stake",
    );
    expect(lines.at(-1)).toBe(
      "no operator of ethereum declares who runs it: each counts as an entity of its own",
    );
  });

  it("has a line for an empty network and one without stake", () => {
    expect(networkVerdicts(networkRisk({ name: "base", operators: [] }))).toEqual([
      "base has no operators: nothing serves it",
    ]);
    const lines = networkVerdicts(
      networkRisk({
        name: "base",
        operators: [{ id: "a", address: "0x", cloud: "aws", region: "x", allocatedStake: 0n }],
      }),
    );
    expect(lines).toContain("base has no allocated stake: nothing backs its operators' answers");
    expect(lines).toContain("base runs entirely on aws: one cloud outage halts it");
  });

  it("reads the security check", () => {
    const token = 10n ** 18n;
    const ok = securityCheck({
      operators: [{ id: "a", stake: 2_200n * token }],
      sets: [{ id: "ethereum", threshold: ONE_HALF, profit: 1_000n * token, operators: ["a"] }],
    });
    expect(securityVerdicts(ok, { shock: fraction(1n, 1_000n) })).toEqual([
      "restaking slack γ = 10%: every attack costs at least 1.1× what it earns; a 0.1% shock can cost at most 1.1% of all stake",
    ]);
    const bad = securityCheck({
      operators: [{ id: "a", stake: 25n * token }],
      sets: [{ id: "ethereum", threshold: { num: 1n, den: 3n }, profit: 10n * token, operators: ["a"] }],
    });
    expect(securityVerdicts(bad)).toEqual([
      "restaking is not certified (γ = −16.7%): a shock of any size may cascade to all stake",
      "set ethereum is not certified: cost of corruption 8.3333 vs profit 10 (standalone slack −16.7%, with restaking −16.7%)",
    ]);
  });

  it("formats shares and amounts", () => {
    expect([percent(0.4), percent(1 / 3), percent(0.011), percent(0)]).toEqual([
      "40%",
      "33.3%",
      "1.1%",
      "0%",
    ]);
    expect([amount(25n * 10n ** 18n), amount(10n ** 14n), amount(1_234_567n, 0)]).toEqual([
      "25",
      "0.0001",
      "1,234,567",
    ]);
  });
});
