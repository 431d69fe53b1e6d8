// The chaos control listener of a devnet operator node (127.0.0.1 only), what `din chaos` and the tests talk to:
//
//   GET  /chaos     the fault in force
//   POST /chaos     change it: a JSON ChaosState, with `authorization: Bearer <control token>`
//   GET  /stats     the node's request counts (OperatorStats)
//   GET  /healthz   {"ok": true, "id"}
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "../http/body.js";
import { requestPath } from "../http/path.js";
import { json, respond } from "./answers.js";
import { type ChaosState, parseChaosState } from "./chaos.js";
import { controlTokenMatches } from "./controlToken.js";
import type { OperatorStats } from "./stats.js";

const controlMaxBodyBytes = 64 * 1024;

/** What the control reads and changes. */
export interface ControlSource {
  /** The operator node's id. */
  id: string;
  /** The secret a change needs. */
  token: string;
  state(): ChaosState;
  /** Applies a fault; rejects when the change could not be made (the public port was taken, say). */
  setChaos(state: ChaosState): Promise<void>;
  stats(): OperatorStats;
}

/**
 * Answers one control request. Reads (GET) are open to local tools; a change needs the token and a JSON
 * body. A web page can send neither: a cross-origin request with `authorization` or `content-type:
 * application/json` is preflighted, and the control never answers with CORS headers. The Host check stops
 * a rebound DNS name from reading.
 */
export async function handleControl(
  source: ControlSource,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const port = (req.socket.localPort ?? 0).toString();
  if (req.headers.host !== `127.0.0.1:${port}` && req.headers.host !== `localhost:${port}`) {
    return respond(res, json(403, { error: "the chaos control answers requests for 127.0.0.1 only" }));
  }
  const path = requestPath(req.url);
  if (path === "/chaos" && req.method === "GET") return respond(res, json(200, source.state()));
  if (path === "/stats" && req.method === "GET") return respond(res, json(200, source.stats()));
  if (path === "/healthz" && req.method === "GET")
    return respond(res, json(200, { ok: true, id: source.id }));
  if (path !== "/chaos") return respond(res, json(404, { error: `no such endpoint: ${req.method} ${path}` }));
  if (req.method !== "POST") return respond(res, json(405, { error: "use GET or POST on /chaos" }));
  if (!controlTokenMatches(source.token, req.headers.authorization)) {
    return respond(res, {
      ...json(401, { error: "a chaos change needs authorization: Bearer <control token>" }),
      headers: { "www-authenticate": "Bearer" },
    });
  }
  const contentType = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/json") {
    return respond(
      res,
      json(415, { error: "a chaos change is a JSON body: content-type: application/json" }),
    );
  }
  const body = await readBody(req, controlMaxBodyBytes);
  if (body === undefined) {
    return respond(res, { ...json(413, { error: "chaos request too large" }), closeConnection: true });
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString("utf8"));
  } catch {
    return respond(res, json(400, { error: "body is not valid JSON" }));
  }
  const parsed = parseChaosState(input);
  if (!parsed.ok) return respond(res, json(400, { error: parsed.message }));
  try {
    await source.setChaos(parsed.state);
  } catch (error) {
    // e.g. the public port was taken while down: say so instead of pretending the change applied.
    const reason = error instanceof Error ? error.message : String(error);
    return respond(res, json(500, { error: `chaos change failed: ${reason}`, state: source.state() }));
  }
  return respond(res, json(200, source.state()));
}
