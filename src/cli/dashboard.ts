// `din dashboard`: the web dashboard for a network the user does not run — any DIN deployment's ledger
// (`--deployment` + `--rpc`), with health from a gateway's /healthz when `--gateway` names one — or for a
// running `din up` (`--data-dir`). Serves the same page and API the gateway serves at /dashboard; holds no
// key and sends no transaction.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { Dashboard } from "../dashboard/http.js";
import { DashboardSource, type LocalNetwork } from "../dashboard/source.js";
import { type NetworkState, readNetworkState } from "../devnet/state.js";
import type { HealthReport } from "../gateway/healthReport.js";
import { listen } from "../http/listen.js";
import { requestPath } from "../http/path.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import { type LedgerFlags, openLedger, runLedgerCommand, withLedgerOptions } from "./ledger.js";
import { closeServing, installShutdown, trackSockets } from "./shutdown.js";

type DashboardFlags = LedgerFlags & { gateway?: string; port: number; host: string; json: boolean };

export function registerDashboardCommand(program: Command): void {
  withLedgerOptions(
    program
      .command("dashboard")
      .description(
        "serve the web dashboard (network map, operators, epochs, stake and risk, governance) for a DIN deployment or a running din up",
      )
      .option(
        "--gateway <url>",
        "gateway whose /healthz gives health and traffic (default: a running din up's)",
      )
      .option("--port <port>", "port to listen on (0 picks a free one)", parsePort, 8547)
      .option("--host <host>", "address to listen on", "127.0.0.1"),
    { key: false, dryRun: false },
  ).action(async (flags: DashboardFlags) => {
    // With --json, one line `{"dashboard": url}` once it listens.
    await runLedgerCommand(
      flags,
      async () => ({ dashboard: await serveDashboard(flags) }),
      ({ dashboard }) => `dashboard: ${dashboard} (Ctrl-C stops it)`,
    );
  });
}

/** Starts the dashboard's server; resolves to its URL. It runs until the process is stopped. */
async function serveDashboard(flags: DashboardFlags): Promise<string> {
  const logger = pino({ level: "warn" }, pino.destination(2));
  const target = openLedger(flags);
  // A running din up's operators keep their ids and its gateway is the default one to ask.
  let state: NetworkState | undefined;
  if (flags.rpc === undefined) {
    try {
      state = readNetworkState(flags.dataDir);
    } catch {
      state = undefined;
    }
  }
  const gateway = flags.gateway ?? state?.gateway;
  const local: LocalNetwork | undefined = state
    ? { operators: state.operators, dataDir: flags.dataDir }
    : undefined;
  const source = new DashboardSource({
    ledger: { rpc: target.rpc, deployment: target.deployment, client: target.public },
    gateway: gateway === undefined ? undefined : { url: () => gateway, health: () => fetchHealth(gateway) },
    local: () => local,
  });
  const dashboard = new Dashboard(source, { logger });
  const server = createServer((request, response) => {
    const path = requestPath(request.url);
    if (Dashboard.owns(path)) dashboard.handle(request, response);
    else if (path === "/") response.writeHead(302, { location: "/dashboard" }).end();
    else response.writeHead(404, { "content-type": "application/json" }).end('{"error":"see /dashboard"}');
  });
  await listen(server, flags.port, flags.host).catch((error: Error) => {
    throw new LedgerActionError(`cannot listen: ${error.message}`);
  });
  const sockets = trackSockets(server);
  installShutdown({
    logger,
    steps: () => [
      [
        {
          name: "dashboard",
          close: () => {
            dashboard.close();
            return closeServing(
              () => new Promise<void>((resolve) => server.close(() => resolve())),
              server,
              sockets,
            );
          },
        },
      ],
    ],
  });
  const host = flags.host.includes(":") ? `[${flags.host}]` : flags.host;
  return `http://${host}:${(server.address() as AddressInfo).port}/dashboard`;
}

/** A gateway's health report (it answers 503 with the same report when a network is down). */
async function fetchHealth(gateway: string): Promise<HealthReport> {
  const response = await fetch(new URL("/healthz", gateway), { signal: AbortSignal.timeout(5_000) });
  const report = (await response.json()) as HealthReport;
  if (!Array.isArray(report?.networks)) throw new Error(`${gateway}/healthz is not a gateway health report`);
  return report;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError("expected a port");
  return port;
}
