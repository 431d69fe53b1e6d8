// `din status` as text: operators by name (their devnet id; an operator the devnet did not start is known
// by its address), the address only on demand (`--addresses`; `--json` always has it), amounts with their
// tokens, newest first.
import { pct, type StatusReport } from "./status.js";

export interface StatusTextOptions {
  /** Print each operator's address beside its name. @default false */
  addresses?: boolean;
}

export function formatStatus(report: StatusReport, options: StatusTextOptions = {}): string {
  const named = operatorNamer(report, options);
  const units = report.units ?? { stake: "tokens", fee: "fee tokens" };
  const lines = [`gateway ${report.gateway}: ${report.status}`];
  if (report.ledger) {
    lines.push(
      `ledger ${report.ledger.rpc} (chainId ${report.ledger.chainId}) block ${report.ledger.block}, epoch ${report.ledger.epoch} ends at block ${report.ledger.epochEndsAt}; stake in ${units.stake}, rewards in ${units.fee}`,
    );
  }
  for (const network of report.networks) {
    lines.push(
      "",
      `${network.name} (chainId ${network.chainId})  head ${network.head.latest ?? "?"}  safe ${network.head.safe ?? "?"}  finalized ${network.head.finalized ?? "?"}`,
    );
    if (network.operators.length > 0) {
      const rows = [
        [
          "operator",
          ...(options.addresses ? ["address"] : []),
          "cloud",
          "region",
          "health",
          "lag",
          "stake",
          "alloc",
          "last epoch avail/p50/lag",
          "rewards",
          "slashes q/v/x",
          "jailed",
        ],
        ...network.operators.map((o) => [
          shortId(o.id),
          ...(options.addresses ? [o.address] : []),
          o.cloud,
          o.region,
          o.health,
          String(o.lagBlocks ?? "-"),
          Number(o.stake).toFixed(2),
          Number(o.allocated).toFixed(2),
          o.lastEpoch
            ? `#${o.lastEpoch.epoch} ${pct(o.lastEpoch.availabilityBps)}/${o.lastEpoch.p50LatencyMs}ms/${o.lastEpoch.lagBlocks}`
            : "-",
          `${Number(o.rewards).toFixed(4)} ${units.fee}`,
          `${o.slashes.queued}/${o.slashes.vetoed}/${o.slashes.executed}`,
          `${o.jailed ? `until block ${o.jailedUntil}` : "no"}${o.reasons.length > 0 ? `  (${o.reasons.join("; ")})` : ""}`,
        ]),
      ];
      lines.push(...alignColumns(rows).map((line) => `  ${line}`));
      const clouds = network.clouds;
      if (clouds && clouds.measured > 0) {
        lines.push(
          `  traffic by cloud (last ${clouds.measured} requests, cap ${Math.round(clouds.cap * 100)}% per cloud while others are healthy): ${clouds.shares.map((s) => `${s.cloud} ${(s.share * 100).toFixed(1)}%`).join(", ")}`,
        );
      }
      const rejoins = network.operators.filter((o) => o.rejoin);
      if (rejoins.length > 0) {
        lines.push("  ejected; each registers again (once its jail is over) with:");
        for (const o of rejoins) lines.push(`    ${o.rejoin}`);
      }
      continue;
    }
    lines.push(
      ...alignColumns([
        ["operator", "cloud", "region", "health", "head", "lag", "latency", "reasons"],
        ...network.upstreams.map((u) => [
          u.id,
          u.cloud,
          u.region,
          u.health,
          u.head ?? "-",
          String(u.lagBlocks ?? "-"),
          `${u.latencyMs} ms`,
          u.reasons.join("; "),
        ]),
      ]).map((line) => `  ${line}`),
    );
  }
  if (report.slashes.length > 0) {
    lines.push("", "slashes (newest first):");
    const slashes = [...report.slashes].sort((a, b) => Number(BigInt(b.id) - BigInt(a.id)));
    lines.push(
      ...alignColumns(
        slashes.map((s) => [
          `#${s.id}`,
          s.network,
          named(s.operator),
          s.reason,
          s.percent,
          `${s.status} (queued at block ${s.queuedAt})`,
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  if (report.fraudProofs.length > 0) {
    lines.push(
      "",
      "fraud proofs (wrong data, slashed at once with the operator's own signature; newest first):",
    );
    for (const p of [...report.fraudProofs].reverse()) {
      lines.push(
        `  ${p.network.padEnd(9)} ${named(p.operator)} signed a wrong hash of block ${p.blockNumber} (proven at block ${p.provenAt})`,
      );
    }
  }
  if (report.epochs) {
    lines.push("", "epochs (newest first):");
    for (const e of [...report.epochs].reverse()) {
      lines.push(
        `  ${e.network.padEnd(9)} epoch ${e.epoch.padEnd(5)} reports ${e.reports}  paid ${e.paid} ${units.fee}  carried ${e.carried} ${units.fee}`,
      );
      const judged = alignColumns(
        e.judged.map((j) => [
          named(j.operator),
          `availability ${pct(j.availabilityBps)}`,
          `p50 ${j.p50LatencyMs} ms`,
          `lag ${j.lagBlocks}`,
          `→ multiplier ${pct(j.multiplierBps)}`,
        ]),
      );
      for (const line of judged) lines.push(`      ${line}`);
      for (const h of e.heldForGovernance) {
        lines.push(
          `      ${h.reason}: ${h.failedStake} of the stake failed at once → ${h.operators.length} slashes held for governance (${h.operators.map(named).join(", ")})`,
        );
      }
    }
  }
  return lines.join("\n");
}

/**
 * An operator's name from its address: the id the report gives it (its devnet id), with the address beside
 * it when asked; an operator the report does not name is its address.
 */
function operatorNamer(report: StatusReport, options: StatusTextOptions): (address: string) => string {
  const names = new Map<string, string>();
  for (const network of report.networks) {
    for (const o of network.operators) if (o.id !== o.address) names.set(o.address.toLowerCase(), o.id);
  }
  return (address) => {
    const name = names.get(address.toLowerCase());
    if (name === undefined) return address;
    return options.addresses ? `${name} (${address})` : name;
  };
}

/** Rows as lines with every column as wide as its widest cell (the last column is not padded). */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, col) => {
      widths[col] = Math.max(widths[col] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/** An operator's id for the table: ids of operators this devnet did not start are addresses, shortened. */
function shortId(id: string): string {
  return /^0x[0-9a-fA-F]{40}$/.test(id) ? `${id.slice(0, 10)}…${id.slice(-8)}` : id;
}
