// The dashboard's HTTP side: the page at /dashboard, its JSON API under /dashboard/api/… and the live
// stream of the network map (server-sent events). Read-only: nothing here holds a key or sends a
// transaction. A bad request gets a JSON error naming what is wrong; a failed read gets its message, never
// a stack, and never takes the server down.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { isHash } from "viem";
import { decodeSegment } from "../http/path.js";
import type { SecurityAssumptions } from "../risk/security.js";
import { defaultAssetsDir, serveAsset } from "./assets.js";
import { epochsView } from "./epochs.js";
import { governanceView } from "./governance.js";
import { networkMap } from "./networkMap.js";
import { NotFoundError, operatorPage } from "./operatorPage.js";
import { riskView } from "./risk.js";
import type { DashboardLedger, DashboardSource } from "./source.js";

export interface DashboardOptions {
  logger: Logger;
  /** Where the built page is. @default dist/dashboard */
  assetsDir?: string;
  /** How often the live stream looks for changes. @default 1000 */
  liveIntervalMs?: number;
  /** Most live streams open at once; more are refused. @default 64 */
  maxStreams?: number;
  /** What the restaking check assumes (the gateway's `risk` config). @default 1/3, 1%, no profit declared */
  security?: SecurityAssumptions;
}

/** What the API answers, listed at /dashboard/api. */
export const API_ROUTES = {
  "/dashboard/api/network": "the network map: every operator by network, cloud and region",
  "/dashboard/api/operators/<id or address>": "one operator's scorecard, relays, slashes, delegators",
  "/dashboard/api/epochs?network=<name>&limit=<1-1000>": "the epochs timeline, most recent first",
  "/dashboard/api/risk": "stake by operator, cloud, region and entity; concentration; last drill",
  "/dashboard/api/governance": "parameters, proposals, the guardian's vetoable slashes, pauses",
  "/dashboard/api/status?epochs=<true|false>&last=<n>": "what `din status --json` prints",
  "/dashboard/api/transactions/<hash>": "a ledger transaction's receipt and its events",
  "/dashboard/api/events": "server-sent events: `map` with the network map whenever it changes",
} as const;

/** A request the API refuses, with the status and the message it answers. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const jsonHeaders = {
  "content-type": "application/json",
  "access-control-allow-origin": "*",
  "cache-control": "no-store",
} as const;

const toJson = (value: unknown) =>
  JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));

export class Dashboard {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private lastMap = "";
  private ticking = false;
  private readonly assetsDir: string;

  constructor(
    private readonly source: DashboardSource,
    private readonly options: DashboardOptions,
  ) {
    this.assetsDir = options.assetsDir ?? defaultAssetsDir;
  }

  /** Whether `path` is the dashboard's. */
  static owns(path: string): boolean {
    return path === "/dashboard" || path.startsWith("/dashboard/");
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://dashboard");
    const path = url.pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      request.resume();
      this.send(response, 405, { error: "the dashboard is read-only: use GET" });
      return;
    }
    if (path === "/dashboard" || path === "/dashboard/") {
      void serveAsset(response, this.assetsDir, undefined);
      return;
    }
    const asset = /^\/dashboard\/assets\/([^/]+)$/.exec(path);
    if (asset) {
      void serveAsset(response, this.assetsDir, asset[1]!);
      return;
    }
    if (path === "/dashboard/api/events") {
      this.openStream(response);
      return;
    }
    this.answer(path, url.searchParams).then(
      (value) => this.send(response, 200, value),
      (error: unknown) => {
        if (error instanceof BadRequest) this.send(response, error.status, { error: error.message });
        else if (error instanceof NotFoundError) this.send(response, 404, { error: error.message });
        else {
          const message = readableMessage(error);
          this.options.logger.warn({ path, error: message }, "dashboard read failed");
          this.send(response, 502, { error: `the ledger or gateway could not be read: ${message}` });
        }
      },
    );
  }

  /** The API's answer for `path`; throws BadRequest or NotFoundError for requests it cannot answer. */
  private async answer(path: string, query: URLSearchParams): Promise<unknown> {
    const source = this.source;
    if (path === "/dashboard/api" || path === "/dashboard/api/") {
      allowOnly(query, []);
      return { routes: API_ROUTES };
    }
    if (path === "/dashboard/api/network") {
      allowOnly(query, []);
      return networkMap(await source.status(), source.gateway);
    }
    if (path === "/dashboard/api/status") {
      allowOnly(query, ["epochs", "last"]);
      const epochs = booleanParam(query, "epochs");
      const last = integerParam(query, "last", 10, 1, 1_000);
      const { epochs: all, ...status } = await source.status();
      // As `din status --json` slices them: the last `last` epochs of each of the (two) networks.
      return epochs ? { ...status, epochs: (all ?? []).slice(-2 * last) } : status;
    }
    const operator = /^\/dashboard\/api\/operators\/([^/]+)\/?$/.exec(path);
    if (operator) {
      allowOnly(query, []);
      const ledger = this.needLedger();
      const [status, events] = await Promise.all([source.status(), source.events()]);
      return operatorPage(status, events, ledger, safeDecode(operator[1]!), source.gateway !== null);
    }
    if (path === "/dashboard/api/epochs") {
      allowOnly(query, ["network", "limit"]);
      const ledger = this.needLedger();
      const network = query.get("network") ?? undefined;
      if (network !== undefined && !ledger.deployment.networks.some((n) => n.name === network)) {
        throw new BadRequest(
          400,
          `unknown network "${network.slice(0, 100)}"; this ledger serves: ${ledger.deployment.networks.map((n) => n.name).join(", ")}`,
        );
      }
      const limit = integerParam(query, "limit", 50, 1, 1_000);
      const [status, events] = await Promise.all([source.status(), source.events()]);
      return epochsView(status, events, ledger.deployment, { network, limit });
    }
    if (path === "/dashboard/api/risk") {
      allowOnly(query, []);
      const ledger = this.needLedger();
      const [status, health] = await Promise.all([source.status(), source.health()]);
      return riskView(status, health, ledger, source.local()?.dataDir, this.options.security);
    }
    if (path === "/dashboard/api/governance") {
      allowOnly(query, []);
      return governanceView(await source.status(), this.needLedger());
    }
    const transaction = /^\/dashboard\/api\/transactions\/([^/]+)\/?$/.exec(path);
    if (transaction) {
      allowOnly(query, []);
      return this.transaction(safeDecode(transaction[1]!));
    }
    throw new NotFoundError(
      `no dashboard route ${path.slice(0, 100)}; the API answers: ${Object.keys(API_ROUTES).join(", ")}`,
    );
  }

  private needLedger(): DashboardLedger {
    if (!this.source.ledger)
      throw new BadRequest(404, "this gateway follows no DIN ledger: only /dashboard/api/network");
    return this.source.ledger;
  }

  /** A ledger transaction: what a slash's or an epoch's transaction link opens. */
  private async transaction(hash: string) {
    if (!isHash(hash)) throw new BadRequest(400, "a transaction hash is 0x and 64 hex digits");
    const { client } = this.needLedger();
    const receipt = await client.getTransactionReceipt({ hash }).catch((error: Error) => {
      if (/could not be found|not found/i.test(error.message)) return null;
      throw error;
    });
    if (!receipt) throw new NotFoundError(`the ledger has no transaction ${hash}`);
    return {
      hash,
      block: receipt.blockNumber,
      from: receipt.from,
      to: receipt.to,
      status: receipt.status,
      gasUsed: receipt.gasUsed,
      logs: receipt.logs.map((log) => ({ address: log.address, topics: log.topics, data: log.data })),
    };
  }

  private send(response: ServerResponse, status: number, value: unknown): void {
    if (response.headersSent) return;
    response.writeHead(status, jsonHeaders).end(toJson(value));
  }

  /** One live stream: the network map now, then each time it changes; a comment every 15 s keeps it open. */
  private openStream(response: ServerResponse): void {
    if (this.streams.size >= (this.options.maxStreams ?? 64)) {
      this.send(response, 503, { error: "too many live dashboards open; try again later" });
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    response.write("retry: 2000\n\n");
    if (this.lastMap) response.write(`event: map\ndata: ${this.lastMap}\n\n`);
    this.streams.add(response);
    const forget = () => {
      this.streams.delete(response);
      if (this.streams.size === 0) this.stopTicking();
    };
    // The response closes when the viewer goes away (or the server ends the stream).
    response.on("close", forget);
    this.startTicking();
  }

  private startTicking(): void {
    if (this.timer) return;
    let beat = 0;
    const interval = this.options.liveIntervalMs ?? 1_000;
    this.timer = setInterval(() => {
      beat += interval;
      if (beat >= 15_000) {
        beat = 0;
        for (const stream of this.streams) stream.write(": still here\n\n");
      }
      void this.tick();
    }, interval);
    this.timer.unref();
    void this.tick();
  }

  private stopTicking(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const map = toJson(networkMap(await this.source.status(), this.source.gateway));
      if (map === this.lastMap) return;
      this.lastMap = map;
      for (const stream of this.streams) stream.write(`event: map\ndata: ${map}\n\n`);
    } catch (error) {
      const message = readableMessage(error);
      for (const stream of this.streams)
        stream.write(`event: failure\ndata: ${toJson({ error: message })}\n\n`);
    } finally {
      this.ticking = false;
    }
  }

  /** Ends the live streams (the server is closing). */
  close(): void {
    this.stopTicking();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }
}

function allowOnly(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      throw new BadRequest(
        400,
        allowed.length === 0
          ? `unknown query parameter "${key.slice(0, 50)}": this route takes none`
          : `unknown query parameter "${key.slice(0, 50)}"; this route takes: ${allowed.join(", ")}`,
      );
    }
  }
}

function integerParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new BadRequest(
      400,
      `${name} must be a whole number from ${min} to ${max}, not "${raw.slice(0, 50)}"`,
    );
  }
  return value;
}

function booleanParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null || raw === "false" || raw === "0") return false;
  if (raw === "" || raw === "true" || raw === "1") return true;
  throw new BadRequest(400, `${name} must be true or false, not "${raw.slice(0, 50)}"`);
}

function safeDecode(text: string): string {
  const decoded = decodeSegment(text);
  if (decoded === undefined) throw new BadRequest(400, "the path is not valid percent-encoding");
  return decoded;
}

/** An error's first line (viem's short message when it has one): what went wrong, not where. */
function readableMessage(error: unknown): string {
  const e = error as { shortMessage?: unknown; message?: unknown };
  const text =
    typeof e?.shortMessage === "string"
      ? e.shortMessage
      : typeof e?.message === "string"
        ? e.message
        : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}
