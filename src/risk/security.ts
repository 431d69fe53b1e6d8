// The restaking security check over a deployment's networks as the registry holds them. Each network is an
// operator set; an operator's stake in it is the stake it allocated to that set, which only that set can
// slash (unique stake). So every (network, operator) allocation is a node of its own, each set stands
// alone, and the check per set reduces to αₛ·σ(N(s)) ≥ (1 + γ)·πₛ. What corrupting a network is worth (πₛ)
// is not on the ledger: whoever asks declares it (`din risk --profit`, the gateway's `risk` config). With
// none declared, the figures still say what corrupting each network costs, which is the prize it is safe for.
import { compare, type Fraction, fraction, INFINITY, ONE_THIRD, toNumber } from "./fraction.js";
import { amount, percent } from "./report.js";
import {
  type Cascade,
  cascadeBound,
  type ExactSecurity,
  exactSecurity,
  type RestakingGraph,
  type SecurityCheck,
  securityCheck,
  totalStake,
  worstCascade,
} from "./restaking.js";
import { type NetworkSnapshot, stakeWeight } from "./types.js";

export interface SecurityAssumptions {
  /** αₛ for every network: the share of its stake that corrupts it. @default 1/3 */
  threshold?: Fraction;
  /** πₛ by network name, in the stake's smallest unit; a network left out declares no profit. */
  profits?: ReadonlyMap<string, bigint>;
  /** ψ: the shock the cascade bound is given for, as a share of all stake. @default 1/100 */
  shock?: Fraction;
}

export interface NetworkSecurity {
  network: string;
  /** σ(N(s)): the stake allocated to the network's set. */
  stake: bigint;
  /** ⌈α·σ(N(s))⌉: what an attacker must hold, and lose, to corrupt the network. */
  costOfCorruption: bigint;
  /** πₛ as declared; null when nobody declared one. */
  profit: bigint | null;
  /** cost / profit − 1 (null without a declared profit). */
  slack: Fraction | null;
  /** Whether the condition certifies the network (null without a declared profit). */
  certified: boolean | null;
  /** Every coalition of its operators tried (null above the enumeration limit or without a profit). */
  exact: ExactSecurity | null;
  /**
   * The worst cascade a shock of ψ of all stake can start inside this network, every attack enumerated
   * (null above the enumeration limit or without a profit).
   */
  cascade: Cascade | null;
}

export interface DeploymentSecurity {
  threshold: Fraction;
  shock: Fraction;
  /** All allocated stake, every network's. */
  stake: bigint;
  networks: NetworkSecurity[];
  /** The condition over the networks that declare a profit; null when none does. */
  check: SecurityCheck | null;
  /** (1 + 1/γ)·ψ: the most of all stake a shock of ψ can cost; null when no profit is declared. */
  cascadeBound: Fraction | null;
}

/** Node id of a network's allocation by one operator: unique stake makes it a node of its own. */
const nodeId = (network: string, operator: string) => `${network}/${operator}`;

/** The restaking graph of the networks: one set per network, one node per allocation. */
export function restakingGraph(
  networks: readonly NetworkSnapshot[],
  assumptions: SecurityAssumptions = {},
): RestakingGraph {
  const threshold = assumptions.threshold ?? ONE_THIRD;
  return {
    operators: networks.flatMap((n) =>
      n.operators.map((o) => ({ id: nodeId(n.name, o.address), stake: stakeWeight(o.allocatedStake) })),
    ),
    sets: networks.map((n) => ({
      id: n.name,
      threshold,
      profit: stakeWeight(assumptions.profits?.get(n.name) ?? 0n),
      operators: n.operators.map((o) => nodeId(n.name, o.address)),
    })),
  };
}

/** The restaking figures of a deployment's networks under `assumptions`. */
export function deploymentSecurity(
  networks: readonly NetworkSnapshot[],
  assumptions: SecurityAssumptions = {},
): DeploymentSecurity {
  const threshold = assumptions.threshold ?? ONE_THIRD;
  const shock = assumptions.shock ?? fraction(1n, 100n);
  const graph = restakingGraph(networks, { ...assumptions, threshold });
  const all = totalStake(graph);
  const declared = networks.filter((n) => assumptions.profits?.has(n.name));
  // Sets without a declared profit weigh nothing in the condition; their cost of corruption still counts.
  const full = securityCheck(graph);
  const check = declared.length > 0 ? full : null;
  const shockStake = (all * shock.num) / (shock.den === 0n ? 1n : shock.den);
  return {
    threshold,
    shock,
    stake: all,
    networks: networks.map((n, index): NetworkSecurity => {
      const set = full.sets[index]!;
      const profit = assumptions.profits?.get(n.name);
      // The set alone: its operators secure nothing else, so enumerating them is exact for it.
      const own = graph.sets[index]!;
      const members = new Set(own.operators);
      const alone: RestakingGraph = {
        operators: graph.operators.filter((o) => members.has(o.id)),
        sets: [own],
      };
      return {
        network: n.name,
        stake: set.stake,
        costOfCorruption: set.costOfCorruption,
        profit: profit === undefined ? null : stakeWeight(profit),
        slack: profit === undefined ? null : set.standaloneSlack,
        certified: profit === undefined ? null : !set.fails,
        exact: profit === undefined ? null : exactSecurity(alone),
        cascade: profit === undefined ? null : worstCascade(alone, shockStake),
      };
    }),
    check,
    cascadeBound: check ? cascadeBound(check.slack, shock) : null,
  };
}

/** What the figures mean, one line per network and one for the deployment. Amounts in `decimals`. */
export function deploymentSecurityVerdicts(security: DeploymentSecurity, decimals = 18): string[] {
  const lines: string[] = [];
  const alpha = `${security.threshold.num}/${security.threshold.den}`;
  for (const n of security.networks) {
    const cost = amount(n.costOfCorruption, decimals);
    if (n.profit === null) {
      lines.push(
        `corrupting ${n.network} takes ${alpha} of its stake, ${cost}: it is secure for any prize worth less than that (no profit from corruption declared)`,
      );
    } else if (n.certified) {
      lines.push(
        `${n.network} is certified: corrupting it costs ${cost}, ${percent(toNumber(n.slack!))} more than the ${amount(n.profit, decimals)} it would earn`,
      );
    } else {
      const head = `${n.network} is not certified: corrupting it costs ${cost}, no more than the ${amount(n.profit, decimals)} it would earn`;
      const worst = n.exact?.worst;
      if (n.exact === null)
        lines.push(`${head}; a coalition holding ${alpha} of its stake may profit from lying`);
      else if (n.exact.secure || !worst)
        lines.push(
          `${head}; yet every coalition able to corrupt it, tried one by one, would lose at least what it earns`,
        );
      else
        lines.push(
          `${head}: ${worst.operators.length} operator${worst.operators.length === 1 ? "" : "s"} holding ${amount(worst.cost, decimals)} would earn ${amount(worst.profit, decimals)} by lying together`,
        );
    }
    if (n.cascade && n.cascade.attacks.length > 0) {
      lines.push(
        `after a shock of ${percent(toNumber(security.shock))} of all stake, attacks on ${n.network} could cost it ${amount(n.cascade.loss, decimals)} in all, ${percent(toNumber(n.cascade.lossShare))} of its stake`,
      );
    }
  }
  if (security.check && security.cascadeBound) {
    const gamma = security.check.slack;
    const shock = percent(toNumber(security.shock));
    lines.push(
      compare(gamma, fraction(0n, 1n)) > 0
        ? `restaking slack γ = ${compare(gamma, INFINITY) === 0 ? "∞" : percent(toNumber(gamma))}: a shock of ${shock} of all stake can cost at most ${percent(toNumber(security.cascadeBound))} of it`
        : `restaking is not certified (γ = ${percent(toNumber(gamma))}): a shock of ${shock} may cascade to all stake`,
    );
  }
  return lines;
}
