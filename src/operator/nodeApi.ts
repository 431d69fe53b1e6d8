// The operator node's AVS node API and Prometheus metrics (EigenLayer's AVS Node Specification, v0.0.1), on a
// listener of their own: GET only, no access token, nothing secret (no keys, tokens or upstream URLs).
//
//   GET /eigen/node                         {"node_name", "spec_version", "node_version"}
//   GET /eigen/node/spec-version            {"spec_version"}
//   GET /eigen/node/version                 {"node_version"}
//   GET /eigen/node/health                  200 healthy, 206 partially healthy, 503 unhealthy
//   GET /eigen/node/services                {"services": [{"id", "name", "description", "status"}]}
//   GET /eigen/node/services/{id}/health    200 Up, 206 Initializing, 503 Down, 404 unknown id
//   GET /metrics                            Prometheus text format
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeSegment } from "../http/path.js";
import { healthStatusCode, type NodeHealth, type NodeService, serviceStatusCode } from "./nodeHealth.js";

/** The AVS node specification version this API implements. */
export const AVS_NODE_SPEC_VERSION = "v0.0.1";

/** What the node API reports; read at each request. */
export interface NodeApiSource {
  /** The operator node's id. */
  nodeName: string;
  /** This software's version. */
  nodeVersion: string;
  services(): NodeService[];
  health(): NodeHealth;
  metrics(): Promise<string>;
  metricsContentType: string;
}

/** The version in package.json, or "unknown". */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

const servicePath = /^\/eigen\/node\/services\/([^/]+)\/health$/;
const routes = new Set([
  "/metrics",
  "/eigen/node",
  "/eigen/node/spec-version",
  "/eigen/node/version",
  "/eigen/node/health",
  "/eigen/node/services",
]);

/** Answers one node API request; never throws (an internal error is a 500 without details). */
export async function handleNodeApi(
  source: NodeApiSource,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://node-api");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    if (!routes.has(path) && !servicePath.test(path))
      return send(res, 404, { message: "not found: see /eigen/node/services and /metrics" });
    if (req.method !== "GET") {
      return send(res, 405, { message: "method not allowed: only GET is served here" }, { allow: "GET" });
    }
    if (path === "/metrics") {
      const text = await source.metrics();
      return sendText(res, 200, text, source.metricsContentType);
    }
    // The spec lets a client ask for an API version; this node serves one.
    const version = url.searchParams.get("version");
    if (version !== null && version.replace(/^v/, "") !== AVS_NODE_SPEC_VERSION.slice(1)) {
      return send(res, 404, { message: "API version not found" });
    }
    switch (path) {
      case "/eigen/node":
        return send(res, 200, {
          node_name: source.nodeName,
          spec_version: AVS_NODE_SPEC_VERSION,
          node_version: source.nodeVersion,
        });
      case "/eigen/node/spec-version":
        return send(res, 200, { spec_version: AVS_NODE_SPEC_VERSION });
      case "/eigen/node/version":
        return send(res, 200, { node_version: source.nodeVersion });
      case "/eigen/node/health":
        return sendStatus(res, healthStatusCode[source.health()]);
      case "/eigen/node/services":
        return send(res, 200, { services: source.services() });
    }
    const match = servicePath.exec(path);
    if (match) {
      const id = decodeSegment(match[1] as string);
      const service = source.services().find((s) => s.id === id);
      if (!service) return send(res, 404, { message: "service not found" });
      return sendStatus(res, serviceStatusCode[service.status]);
    }
    return send(res, 404, { message: "not found: see /eigen/node/services and /metrics" });
  } catch {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    return send(res, 500, { message: "Internal server error" });
  }
}

const commonHeaders = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, JSON.stringify(body), "application/json", headers);
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, {
    ...commonHeaders,
    ...headers,
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** A health answer: the status code is the answer, the body is empty (as the spec's reference node). */
function sendStatus(res: ServerResponse, status: number): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...commonHeaders, "content-length": 0 });
  res.end();
}
