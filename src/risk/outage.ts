// What is left of a network when one cloud, or one region of a cloud, goes down: the operators that still
// serve (the gateway fails over to them) and the stake still behind them. Operators declare their cloud and
// region in their metadata, so one provider's incident takes out every operator that declared it at once.
import { ratio } from "./fraction.js";
import { groupOf, type NetworkOperator, servedWeight, stakeWeight } from "./types.js";

/** A failure domain: a whole cloud, or one region of a cloud. */
export type OutageDomain = "cloud" | "region";

export interface Outage {
  domain: OutageDomain;
  /** The cloud (`aws`) or region (`aws/us-east-1`) that is down. */
  name: string;
  operatorsDown: number;
  operatorsLeft: number;
  operatorsTotal: number;
  /** operatorsLeft / operatorsTotal. */
  operatorShareLeft: number;
  stakeLeft: bigint;
  /** stakeLeft / the network's stake; null when the network has no stake. */
  stakeShareLeft: number | null;
  /** Share of the served traffic that has to move to the operators left; null when none is reported. */
  trafficShareMoved: number | null;
}

/**
 * Worst first: fewest operators left, then least stake left, then label order. Operators come first
 * because they are what serves requests; stake breaks ties because it is what backs the answers.
 */
function worstFirst(a: Outage, b: Outage): number {
  if (a.operatorsLeft !== b.operatorsLeft) return a.operatorsLeft - b.operatorsLeft;
  if (a.stakeLeft !== b.stakeLeft) return a.stakeLeft < b.stakeLeft ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Every single-cloud (or single-region) outage of a network, worst first; none for an empty network. */
export function outages(operators: readonly NetworkOperator[], domain: OutageDomain): Outage[] {
  const totalStake = operators.reduce((sum, o) => sum + stakeWeight(o.allocatedStake), 0n);
  const reported = operators.some((o) => o.servedShare !== undefined);
  const totalServed = operators.reduce((sum, o) => sum + servedWeight(o.servedShare), 0n);
  const names = [...new Set(operators.map((o) => groupOf(o, domain)))];
  return names
    .map((name): Outage => {
      const left = operators.filter((o) => groupOf(o, domain) !== name);
      const stakeLeft = left.reduce((sum, o) => sum + stakeWeight(o.allocatedStake), 0n);
      const servedLeft = left.reduce((sum, o) => sum + servedWeight(o.servedShare), 0n);
      return {
        domain,
        name,
        operatorsDown: operators.length - left.length,
        operatorsLeft: left.length,
        operatorsTotal: operators.length,
        operatorShareLeft: left.length / operators.length,
        stakeLeft,
        stakeShareLeft: totalStake === 0n ? null : ratio(stakeLeft, totalStake),
        trafficShareMoved:
          !reported || totalServed === 0n ? null : ratio(totalServed - servedLeft, totalServed),
      };
    })
    .sort(worstFirst);
}

/** The single-cloud (or single-region) outage that leaves the least; null for an empty network. */
export function worstOutage(operators: readonly NetworkOperator[], domain: OutageDomain): Outage | null {
  return outages(operators, domain)[0] ?? null;
}
