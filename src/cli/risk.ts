// `din risk`: how concentrated each network's stake (and, when a gateway reports it, traffic) is per
// operator, cloud, region and entity, what the worst single-cloud and single-region outage leaves, and what
// that means in plain words. Reads the registry of a running `din up` (`--data-dir`) or of any deployment
// (`--rpc` + `--deployment`); traffic comes from the gateway's /healthz (relays per operator this epoch).
import { type Command, InvalidArgumentError } from "commander";
import { type Address, getAddress } from "viem";
import { readNetworkState } from "../devnet/state.js";
import type { HealthReport } from "../gateway/healthReport.js";
import { findNetwork } from "../ledger/din/directory.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import {
  type NetworkRiskReport,
  readNetworkRisks,
  type ServedRelays,
  servedRelaysOf,
} from "../ledger/din/riskInputs.js";
import { type SimulationReport, simulateOutage } from "../ledger/din/simulate.js";
import { parseProfit, parseShock, parseThreshold } from "../risk/assumptions.js";
import type { Concentration } from "../risk/concentration.js";
import { type Fraction, toNumber } from "../risk/fraction.js";
import type { Outage } from "../risk/outage.js";
import { amount, type NetworkRisk, percent } from "../risk/report.js";
import {
  type DeploymentSecurity,
  deploymentSecurity,
  deploymentSecurityVerdicts,
  type SecurityAssumptions,
} from "../risk/security.js";
import { GROUPINGS } from "../risk/types.js";
import { type LedgerFlags, openLedger, runLedgerCommand, withLedgerOptions } from "./ledger.js";

type RiskFlags = LedgerFlags &
  RiskAssumptionFlags & {
    network?: string;
    gateway?: string;
  };

/** Where the traffic figures came from: the gateway asked, and whether it answered. */
export type TrafficSource = { gateway: string; error?: string } | null;

export type RiskReport = {
  ledger: { rpc: string; chainId: number };
  traffic: TrafficSource;
  networks: NetworkRiskReport[];
  /** The restaking check over the networks shown, under the declared profits, threshold and shock. */
  security: DeploymentSecurity & { verdicts: string[] };
};

/** Adds `din risk` to the program. */
export function registerRiskCommand(program: Command): void {
  const risk = withLedgerOptions(
    withRiskAssumptionOptions(
      program
        .command("risk")
        .description(
          "how concentrated each network is by operator, cloud, region and entity (stake, and traffic when a gateway reports it), the worst cloud and region outage, and what it means",
        )
        .option("--network <name>", "only this network")
        .option(
          "--gateway <url>",
          "gateway whose /healthz gives the relays each operator served (default: a running din up's)",
        ),
    ),
    { key: false, dryRun: false },
  );
  risk.action(async (flags: RiskFlags) => {
    await runLedgerCommand(flags, () => riskReport(flags), formatRisk);
  });
  withLedgerOptions(
    risk
      .command("simulate")
      .description(
        "play an outage for some epochs on a fork of the ledger with the real contracts: the stake each operator and delegator would lose, the fees earned, the ceilings and the correlated-failure guard, and the risk figures before and after (the live ledger receives nothing)",
      )
      .option("--cloud <cloud>", "every operator on this cloud is down")
      .option("--region <region>", "every operator in this region is down")
      .option(
        "--operator <id|address>",
        "this operator is down (repeatable)",
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option("--chain-halt <network>", "the served chain halts: every operator of this network is down")
      .option("--epochs <n>", "epochs the outage lasts", parseEpochs, 1),
    { key: false, dryRun: false },
  ).action(async (_flags: SimulateFlags, command: Command) => {
    const flags = mergedFlags(command) as SimulateFlags;
    await runLedgerCommand(flags, () => simulateReport(flags), formatSimulation);
  });
}

/**
 * A subcommand's flags with those its parent parsed: `din risk` takes the same ledger flags, and commander
 * gives them to the parent wherever they stand on the line; a flag the subcommand got explicitly wins.
 */
function mergedFlags(command: Command): Record<string, unknown> {
  const own = command.opts();
  const parent = command.parent;
  const merged: Record<string, unknown> = { ...own };
  if (!parent) return merged;
  for (const [key, value] of Object.entries(parent.opts())) {
    if (command.getOptionValueSource(key) === "default" || !(key in own)) {
      if (parent.getOptionValueSource(key) !== "default" || !(key in own)) merged[key] = value;
    }
  }
  return merged;
}

/** A parser of src/risk/assumptions.ts as commander wants it: its message on a bad value. */
const option =
  <T>(parse: (text: string) => T) =>
  (value: string): T => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };

const parseProfitOption = (value: string, previous: Array<[string, bigint]> = []) => [
  ...previous,
  option(parseProfit)(value),
];

/** The flags of the restaking check's assumptions, as `din risk` and `din watcher run` take them. */
export type RiskAssumptionFlags = {
  profit?: Array<[string, bigint]>;
  threshold?: Fraction;
  shock?: Fraction;
};

/** Adds `--profit`, `--threshold` and `--shock` to `command`. */
export function withRiskAssumptionOptions(command: Command): Command {
  return command
    .option(
      "--profit <network=tokens>",
      "what corrupting a network is worth to an attacker, in stake tokens (repeatable): the restaking check weighs it against the stake",
      parseProfitOption,
    )
    .option(
      "--threshold <a/b>",
      "share of a network's stake that corrupts it (default 1/3: a two-thirds quorum)",
      option(parseThreshold),
    )
    .option(
      "--shock <percent>",
      "the sudden loss of stake the cascade bound is given for (default 1%)",
      option(parseShock),
    );
}

/** The assumptions the flags declare. */
export function riskAssumptions(flags: RiskAssumptionFlags): SecurityAssumptions {
  return {
    profits: new Map(flags.profit ?? []),
    ...(flags.threshold ? { threshold: flags.threshold } : {}),
    ...(flags.shock ? { shock: flags.shock } : {}),
  };
}

function parseEpochs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError("expected 1 to 100 epochs");
  return n;
}

type SimulateFlags = LedgerFlags & {
  cloud?: string;
  region?: string;
  operator?: string[];
  chainHalt?: string;
  epochs: number;
};

/** `din risk simulate`: the outage played on a fork of the ledger. */
export async function simulateReport(flags: SimulateFlags): Promise<SimulationReport> {
  if (
    flags.cloud === undefined &&
    flags.region === undefined &&
    flags.operator === undefined &&
    flags.chainHalt === undefined
  ) {
    throw new LedgerActionError("name the outage: --cloud, --region, --operator or --chain-halt");
  }
  const local = flags.rpc === undefined && flags.deployment === undefined;
  const ids = new Map<Address, string>();
  if (local) {
    try {
      for (const o of readNetworkState(flags.dataDir).operators ?? [])
        if (o.address) ids.set(getAddress(o.address), o.id);
    } catch (error) {
      throw new LedgerActionError(`${(error as Error).message}, or pass --rpc and --deployment`);
    }
  }
  const target = openLedger(flags);
  try {
    return await simulateOutage({
      rpc: target.rpc,
      deployment: target.deployment,
      selection: {
        ...(flags.cloud !== undefined ? { cloud: flags.cloud } : {}),
        ...(flags.region !== undefined ? { region: flags.region } : {}),
        ...(flags.operator !== undefined ? { operators: flags.operator } : {}),
        ...(flags.chainHalt !== undefined ? { chainHalt: flags.chainHalt } : {}),
      },
      epochs: flags.epochs,
      ids,
    });
  } catch (error) {
    if (
      error instanceof Error &&
      /^(unknown network|no registered operator|the ledger has no)/.test(error.message)
    )
      throw new LedgerActionError(error.message);
    throw error;
  }
}

/** The human report of a simulation. */
export function formatSimulation(r: SimulationReport): string {
  const what = [
    r.outage.cloud !== undefined ? `cloud ${r.outage.cloud}` : "",
    r.outage.region !== undefined ? `region ${r.outage.region}` : "",
    r.outage.operators?.length ? `operator ${r.outage.operators.join(", ")}` : "",
    r.outage.chainHalt !== undefined ? `${r.outage.chainHalt} halted` : "",
  ].filter(Boolean);
  const seen = new Set<bigint>();
  const played = r.epochs.filter((e) => !seen.has(e.epoch) && seen.add(e.epoch));
  const lines = [
    `simulated ${what.join(", ")} down for ${r.outage.epochs} epoch${r.outage.epochs === 1 ? "" : "s"} (blocks ${r.outage.fromBlock}–${r.outage.toBlock}) on a fork of ${r.ledger.rpc} at block ${r.ledger.forkBlock} (the live ledger received nothing)`,
    `epochs played, with the down operators' availability: ${played.map((e) => `${e.epoch} ${(e.downAvailabilityBps / 100).toFixed(2)}%`).join(", ")}`,
  ];
  for (const n of r.networks) {
    if (n.operatorsDown === 0 && n.stakeLost === 0n) continue;
    lines.push("");
    lines.push(
      `${n.name}: ${n.operatorsDown} operator${n.operatorsDown === 1 ? "" : "s"} down, ${amount(n.stakeLost)} of ${amount(n.stakeBefore)} allocated stake lost`,
    );
    const rows = [
      ["operator", "cloud", "region", "down", "stake before", "lost", "fees", "jailed", "slashes"],
    ];
    for (const o of r.operators.filter((o) => o.network === n.name)) {
      rows.push([
        o.id,
        o.cloud,
        o.region,
        o.down ? "yes" : "no",
        amount(o.allocatedStakeBefore),
        amount(o.stakeLost),
        amount(o.feesEarned),
        o.jailed ? "yes" : "no",
        `${o.slashesExecuted.length} executed${o.slashesHeld ? `, ${o.slashesHeld} held` : ""}`,
      ]);
    }
    lines.push(...table(rows).map((line) => `  ${line}`));
    const largest = (x: NetworkRisk) => x.stake.cloud.largest;
    const b = largest(n.riskBefore);
    const a = largest(n.riskAfter);
    lines.push(
      `  largest cloud by stake: ${b ? `${b.group} ${percent(b.share)}` : "–"} before, ${a ? `${a.group} ${percent(a.share)}` : "–"} after; Nakamoto (>1/3) by operator: ${nakamotoText(n.riskBefore.stake.operator.nakamotoThird)} → ${nakamotoText(n.riskAfter.stake.operator.nakamotoThird)}`,
    );
  }
  const losing = r.delegators.filter((x) => x.lost !== 0n);
  if (losing.length > 0) {
    lines.push("", "delegators losing withdrawable shares:");
    lines.push(
      ...table([
        ["staker", "operator", "before", "lost"],
        ...losing.map((x) => [x.staker, x.operator, amount(x.withdrawableBefore), amount(x.lost)]),
      ]).map((line) => `  ${line}`),
    );
  }
  lines.push("");
  lines.push(
    r.capped.length > 0
      ? `ceilings: ${r.capped.length} slash${r.capped.length === 1 ? "" : "es"} capped (SlashCapped)`
      : "ceilings: no slash capped",
  );
  lines.push(
    r.correlated.length > 0
      ? `correlated-failure guard: ${r.correlated.map((c) => `${c.network} epoch ${c.epoch}: ${Number(c.failedStakeBps) / 100}% of the judged stake failed, ${c.count} slash${c.count === 1n ? "" : "es"} held for governance`).join("; ")}`
      : "correlated-failure guard: not triggered",
  );
  return lines.join("\n");
}

/** The relays each operator answered this epoch, per network, as a gateway's /healthz reports them. */
export async function fetchServedRelays(gateway: string, timeoutMs = 5_000): Promise<ServedRelays> {
  const response = await fetch(new URL("/healthz", gateway), { signal: AbortSignal.timeout(timeoutMs) });
  // /healthz answers 503 with the same report when the network is down.
  const report = (await response.json()) as HealthReport;
  if (!Array.isArray(report?.networks)) throw new Error("its /healthz is not a gateway health report");
  return servedRelaysOf(report);
}

export async function riskReport(flags: RiskFlags): Promise<RiskReport> {
  const local = flags.rpc === undefined && flags.deployment === undefined;
  let state: ReturnType<typeof readNetworkState> | undefined;
  if (local) {
    try {
      state = readNetworkState(flags.dataDir);
    } catch (error) {
      throw new LedgerActionError(`${(error as Error).message}, or pass --rpc and --deployment`);
    }
  }
  const target = openLedger(flags);
  const { deployment } = target;
  let networks = deployment.networks;
  if (flags.network !== undefined) {
    try {
      networks = [findNetwork(deployment, flags.network)];
    } catch (error) {
      throw new LedgerActionError((error as Error).message);
    }
  }
  const ids = new Map<Address, string>();
  for (const o of state?.operators ?? []) if (o.address) ids.set(getAddress(o.address), o.id);

  const gateway = flags.gateway ?? state?.gateway;
  let traffic: TrafficSource = null;
  let served: ServedRelays | undefined;
  if (gateway !== undefined) {
    try {
      served = await fetchServedRelays(gateway);
      traffic = { gateway };
    } catch (error) {
      traffic = { gateway, error: (error as Error).message.slice(0, 200) };
    }
  }
  const reports = await readNetworkRisks(target.public, deployment, {
    networks,
    ids,
    ...(served ? { served } : {}),
    // Who runs each operator, from its public profile (fetched, bounded in time and size).
    entities: { fetchRemote: true, timeoutMs: 3_000 },
  });
  for (const [name] of flags.profit ?? []) {
    if (!reports.some((r) => r.name === name))
      throw new LedgerActionError(
        `--profit names ${name}, which is not among the networks shown (${reports.map((r) => r.name).join(", ")})`,
      );
  }
  const security = deploymentSecurity(reports, riskAssumptions(flags));
  return {
    ledger: { rpc: target.rpc, chainId: deployment.chainId },
    traffic,
    networks: reports,
    security: { ...security, verdicts: deploymentSecurityVerdicts(security) },
  };
}

const nakamotoText = (n: number | null) => (n === null ? "–" : String(n));
const hhiText = (points: number | null) =>
  points === null ? "–" : Math.round(points).toLocaleString("en-US");

function tableRows(basis: string, figures: Record<string, Concentration>): string[][] {
  return GROUPINGS.map((by) => {
    const c = figures[by] as Concentration;
    return [
      basis,
      by,
      c.largest ? c.largest.group : "–",
      c.largest ? percent(c.largest.share) : "–",
      nakamotoText(c.nakamotoThird),
      nakamotoText(c.nakamotoHalf),
      hhiText(c.hhiPoints),
    ];
  });
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

function outageText(outage: Outage | null): string {
  if (!outage) return "none (no operators)";
  const stake = outage.stakeShareLeft === null ? "" : `, ${percent(outage.stakeShareLeft)} of the stake`;
  const moved =
    outage.trafficShareMoved === null ? "" : `, ${percent(outage.trafficShareMoved)} of the traffic moves`;
  return `${outage.name}: leaves ${outage.operatorsLeft} of ${outage.operatorsTotal} operators${stake}${moved}`;
}

/** The human report: per network a table of the figures, the worst outages and the verdicts. */
export function formatRisk(report: RiskReport): string {
  const lines: string[] = [];
  if (report.traffic?.error)
    lines.push(`traffic: the gateway ${report.traffic.gateway} did not answer (${report.traffic.error})`);
  for (const network of report.networks) {
    const { risk } = network;
    if (lines.length > 0) lines.push("");
    const traffic = risk.traffic
      ? "; traffic: relays served this epoch"
      : report.traffic && !report.traffic.error
        ? "; traffic: none served this epoch"
        : "";
    lines.push(
      `${network.name}: ${risk.operators} operator${risk.operators === 1 ? "" : "s"}, ${amount(risk.stake.operator.total)} allocated stake${traffic}`,
    );
    const rows = [
      ["", "by", "largest", "share", ">1/3", ">1/2", "HHI"],
      ...tableRows("stake", risk.stake),
      ...(risk.traffic ? tableRows("traffic", risk.traffic) : []),
    ];
    lines.push(...table(rows).map((line) => `  ${line}`));
    lines.push(`  worst cloud outage:  ${outageText(risk.worstCloudOutage)}`);
    lines.push(`  worst region outage: ${outageText(risk.worstRegionOutage)}`);
    for (const verdict of network.verdicts) lines.push(`  - ${verdict}`);
  }
  if (report.networks.length === 0) lines.push("this deployment serves no network");
  else lines.push("", ...securityLines(report.security));
  return lines.join("\n");
}

const fractionText = (f: Fraction) => `${f.num}/${f.den}`;

/** The restaking check: per network its stake, cost and prize of corruption, slack, and the verdicts. */
function securityLines(security: RiskReport["security"]): string[] {
  const lines = [
    `restaking security (a network is corrupted by ${fractionText(security.threshold)} of its stake; stake allocated to one network is slashable by it alone):`,
  ];
  const rows = [["network", "stake", "cost of corruption", "profit", "slack", "certified"]];
  for (const n of security.networks) {
    rows.push([
      n.network,
      amount(n.stake),
      amount(n.costOfCorruption),
      n.profit === null ? "–" : amount(n.profit),
      n.slack === null ? "–" : percent(toNumber(n.slack)),
      n.certified === null ? "–" : n.certified ? "yes" : "no",
    ]);
  }
  lines.push(...table(rows).map((line) => `  ${line}`));
  for (const verdict of security.verdicts) lines.push(`  - ${verdict}`);
  if (security.check === null)
    lines.push("  (declare what corrupting a network is worth with --profit <network>=<tokens>)");
  return lines;
}
