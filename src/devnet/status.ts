// `din status`: each operator's health as the gateway of a running local network sees it.
import type { HealthReport } from "../gateway/server.js";
import { readNetworkState } from "./state.js";

export async function fetchStatus(dataDir: string): Promise<HealthReport & { gateway: string }> {
  const state = readNetworkState(dataDir);
  const response = await fetch(`${state.gateway}/healthz`);
  const report = (await response.json()) as HealthReport;
  return { gateway: state.gateway, ...report };
}

export function formatStatus(report: HealthReport & { gateway: string }): string {
  const lines = [`gateway ${report.gateway}: ${report.status}`];
  for (const network of report.networks) {
    lines.push(
      "",
      `${network.name} (chainId ${network.chainId})  head ${network.head.latest ?? "?"}  safe ${network.head.safe ?? "?"}  finalized ${network.head.finalized ?? "?"}`,
      `  ${"operator".padEnd(32)} ${"cloud".padEnd(10)} ${"region".padEnd(13)} ${"health".padEnd(9)} ${"head".padEnd(7)} ${"lag".padEnd(4)} ${"latency".padEnd(9)} reasons`,
    );
    for (const upstream of network.upstreams) {
      lines.push(
        `  ${upstream.id.padEnd(32)} ${upstream.cloud.padEnd(10)} ${upstream.region.padEnd(13)} ${upstream.health.padEnd(9)} ${(upstream.head ?? "-").padEnd(7)} ${String(upstream.lagBlocks ?? "-").padEnd(4)} ${`${upstream.latencyMs} ms`.padEnd(9)} ${upstream.reasons.join("; ")}`,
      );
    }
  }
  return lines.join("\n");
}
