/**
 * The admin HTTP API (`/admin/…`, `Authorization: Bearer <admin token>`): projects, keys, usage. Input is
 * validated before anything is written, so a bad request gets a 4xx naming the problem and changes
 * nothing. `din keys` and `din usage` are clients of this API.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import { readBody } from "../../http/body.js";
import { decodeSegment } from "../../http/path.js";
import { allowlistsSchema } from "./allowlist.js";
import { keyLimitsSchema } from "./config.js";
import { parsePublicKey } from "./jwt.js";
import type { KeyRegistry } from "./registry.js";
import {
  type ApiKeyRecord,
  type KeyChanges,
  type KeyLimits,
  KeyStateError,
  type KeyStore,
  type UsageDimension,
} from "./store.js";
import type { UsageRecorder } from "./usage.js";

export interface AdminDeps {
  store: KeyStore;
  registry: KeyRegistry;
  usage: UsageRecorder;
  /** Undefined turns the admin API off (every route answers 404 saying how to turn it on). */
  adminToken: string | undefined;
  defaultLimits: KeyLimits;
  logger: Logger;
}

const maxAdminBody = 256 * 1024;

const jwtPublicKeySchema = z
  .object({ id: z.string().min(1).max(128), pem: z.string().min(1).max(16_384) })
  .strict()
  .superRefine((key, context) => {
    try {
      parsePublicKey(key.pem);
    } catch (error) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["pem"],
        message: `not a usable public key: ${(error as Error).message}`,
      });
    }
  });

const projectInput = z.object({ name: z.string().trim().min(1).max(100) }).strict();

const keyInput = z
  .object({
    /** Project id or name. */
    project: z.string().min(1),
    name: z.string().trim().min(1).max(100).default("default"),
    secret: z.boolean().default(false),
    secretRequired: z.boolean().default(false),
    jwtRequired: z.boolean().default(false),
    jwtPublicKeys: z.array(jwtPublicKeySchema).max(10).default([]),
    allowlists: allowlistsSchema.default({}),
    limits: keyLimitsSchema.partial().default({}),
  })
  .strict()
  .superRefine((key, context) => {
    if (key.secretRequired && !key.secret) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["secretRequired"],
        message: "a key without a secret cannot require one (set secret: true)",
      });
    }
    if (key.jwtRequired && key.jwtPublicKeys.length === 0) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["jwtRequired"],
        message: "requiring a JWT needs at least one entry in jwtPublicKeys",
      });
    }
  });

const keyPatch = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    secretRequired: z.boolean().optional(),
    jwtRequired: z.boolean().optional(),
    jwtPublicKeys: z.array(jwtPublicKeySchema).max(10).optional(),
    allowlists: allowlistsSchema.optional(),
    limits: keyLimitsSchema.partial().optional(),
  })
  .strict();

const rotateInput = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(0),
  })
  .strict();

const dimensions = ["key", "project", "network", "method", "hour", "day"] as const;

const usageInput = z
  .object({
    key: z.string().min(1).optional(),
    project: z.string().min(1).optional(),
    network: z.string().min(1).optional(),
    method: z.string().min(1).optional(),
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    groupBy: z
      .string()
      .optional()
      .transform((value) => (value === undefined || value === "" ? undefined : value.split(",")))
      .pipe(z.array(z.enum(dimensions)).optional()),
  })
  .strict();

/** A refusal of the admin API: HTTP status, stable code, message, and the problems found. */
export class AdminError extends Error {
  override name = "AdminError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** The public view of a key: never its secret or secret hash. */
export function keyView(record: ApiKeyRecord, now = Date.now()) {
  const revoked = record.revokedAt !== null && record.revokedAt.getTime() <= now;
  return {
    key: record.key,
    project: record.projectId,
    name: record.name,
    status: revoked ? "revoked" : record.revokedAt !== null ? "expiring" : "active",
    hasSecret: record.secretHash !== null,
    secretRequired: record.secretRequired,
    jwtRequired: record.jwtRequired,
    jwtPublicKeys: record.jwtPublicKeys.map(({ id }) => ({ id })),
    allowlists: record.allowlists,
    limits: record.limits,
    createdAt: record.createdAt.toISOString(),
    revokedAt: record.revokedAt?.toISOString() ?? null,
    rotatedTo: record.rotatedTo,
  };
}

export type KeyView = ReturnType<typeof keyView>;

export function createAdminHandler(deps: AdminDeps) {
  const tokenHash = deps.adminToken === undefined ? undefined : sha256(deps.adminToken);
  return async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
    try {
      if (tokenHash === undefined) {
        throw new AdminError(
          404,
          "admin_off",
          "the admin API is off: set keys.adminToken, keys.adminTokenFile or DIN_ADMIN_TOKEN",
        );
      }
      const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
      if (presented === undefined || !timingSafeEqual(sha256(presented), tokenHash)) {
        throw new AdminError(
          401,
          "unauthorized",
          "missing or wrong admin token (Authorization: Bearer <token>)",
        );
      }
      const url = new URL(request.url ?? "/", "http://admin");
      const { status, body } = await route(deps, request, request.method ?? "GET", path, url.searchParams);
      send(response, status, body);
    } catch (error) {
      if (error instanceof AdminError) {
        send(response, error.status, {
          error: { code: error.code, message: error.message, problems: error.problems },
        });
        return;
      }
      deps.logger.error({ err: error, path }, "admin request failed");
      send(response, 500, { error: { code: "internal", message: "internal error", problems: [] } });
    }
  };
}

async function route(
  deps: AdminDeps,
  request: IncomingMessage,
  method: string,
  path: string,
  query: URLSearchParams,
): Promise<{ status: number; body: unknown }> {
  const { store, registry } = deps;
  const segments = path
    .split("/")
    .filter(Boolean)
    .map((segment) => {
      const decoded = decodeSegment(segment);
      if (decoded === undefined)
        throw new AdminError(400, "bad_path", "the path is not valid percent-encoding");
      return decoded;
    }); // ["admin", …]
  const [, resource, id, action] = segments;
  if (resource === "projects" && id === undefined) {
    if (method === "GET")
      return { status: 200, body: { projects: (await store.listProjects()).map(projectView) } };
    if (method === "POST") {
      const input = parse(projectInput, await readJson(request));
      if (await store.findProject(input.name)) {
        throw new AdminError(409, "conflict", `a project named "${input.name}" already exists`);
      }
      return { status: 201, body: { project: projectView(await store.createProject(input.name)) } };
    }
    throw methodNotAllowed(method, path);
  }
  if (resource === "keys" && id === undefined) {
    if (method === "GET") {
      const project = query.get("project");
      const projectId = project === null ? undefined : (await requireProject(store, project)).id;
      return {
        status: 200,
        body: { keys: (await store.listKeys(projectId)).map((record) => keyView(record)) },
      };
    }
    if (method === "POST") {
      const input = parse(keyInput, await readJson(request));
      const project = await requireProject(store, input.project);
      const { record, secret } = await store.createKey({
        projectId: project.id,
        name: input.name,
        withSecret: input.secret,
        secretRequired: input.secretRequired,
        jwtRequired: input.jwtRequired,
        jwtPublicKeys: input.jwtPublicKeys,
        allowlists: input.allowlists,
        limits: { ...deps.defaultLimits, ...input.limits },
      });
      await registry.changed();
      return { status: 201, body: { key: keyView(record), ...(secret !== undefined ? { secret } : {}) } };
    }
    throw methodNotAllowed(method, path);
  }
  if (resource === "keys" && id !== undefined) {
    if (action === undefined && method === "GET") {
      return { status: 200, body: { key: keyView(await requireKey(store, id)) } };
    }
    if (action === undefined && method === "PATCH") {
      const input = parse(keyPatch, await readJson(request));
      const current = await requireKey(store, id);
      const secretRequired = input.secretRequired ?? current.secretRequired;
      if (secretRequired && current.secretHash === null) {
        throw new AdminError(400, "invalid_input", "invalid key settings", [
          "secretRequired: this key has no secret; rotate is not a way to add one, create a key with secret: true",
        ]);
      }
      const jwtRequired = input.jwtRequired ?? current.jwtRequired;
      if (jwtRequired && (input.jwtPublicKeys ?? current.jwtPublicKeys).length === 0) {
        throw new AdminError(400, "invalid_input", "invalid key settings", [
          "jwtRequired: requiring a JWT needs at least one entry in jwtPublicKeys",
        ]);
      }
      const changes: KeyChanges = { ...input } as KeyChanges;
      const updated = await store.updateKey(id, changes);
      await registry.changed();
      return { status: 200, body: { key: keyView(updated!) } };
    }
    if (action === "revoke" && method === "POST") {
      await readJson(request, true);
      const revoked = await store.revokeKey(id);
      if (!revoked) throw unknownKey(id);
      await registry.changed();
      return { status: 200, body: { key: keyView(revoked) } };
    }
    if (action === "rotate" && method === "POST") {
      const input = parse(rotateInput, await readJson(request, true));
      await requireKey(store, id);
      let rotated: Awaited<ReturnType<KeyStore["rotateKey"]>>;
      try {
        rotated = await store.rotateKey(id, input.graceSeconds);
      } catch (error) {
        if (error instanceof KeyStateError) throw new AdminError(409, "conflict", error.message);
        throw error;
      }
      if (!rotated) throw unknownKey(id);
      await registry.changed();
      return {
        status: 201,
        body: {
          key: keyView(rotated.record),
          ...(rotated.secret !== undefined ? { secret: rotated.secret } : {}),
          previous: keyView(rotated.previous),
        },
      };
    }
    throw methodNotAllowed(method, path);
  }
  if (resource === "usage" && id === undefined && method === "GET") {
    const input = parse(usageInput, Object.fromEntries(query.entries()));
    const projectId =
      input.project === undefined ? undefined : (await requireProject(store, input.project)).id;
    if (input.key !== undefined) await requireKey(store, input.key);
    // What this gateway counted but has not written yet belongs in the answer.
    await deps.usage.flush();
    const rows = await store.queryUsage({
      key: input.key,
      projectId,
      network: input.network,
      method: input.method,
      from: input.from === undefined ? undefined : new Date(input.from),
      to: input.to === undefined ? undefined : new Date(input.to),
      groupBy: input.groupBy as UsageDimension[] | undefined,
    });
    const totals = rows.reduce(
      (sum, row) => ({
        requests: sum.requests + row.requests,
        credits: sum.credits + row.credits,
        errors: sum.errors + row.errors,
      }),
      { requests: 0, credits: 0, errors: 0 },
    );
    return { status: 200, body: { usage: rows, totals } };
  }
  throw new AdminError(404, "not_found", `no admin route for ${method} ${path.slice(0, 100)}`);
}

async function requireKey(store: KeyStore, key: string): Promise<ApiKeyRecord> {
  const record = await store.getKey(key);
  if (!record) throw unknownKey(key);
  return record;
}

async function requireProject(store: KeyStore, idOrName: string) {
  const project = await store.findProject(idOrName);
  if (!project)
    throw new AdminError(404, "unknown_project", `no project with id or name "${idOrName.slice(0, 100)}"`);
  return project;
}

function unknownKey(key: string): AdminError {
  return new AdminError(404, "unknown_key", `no API key "${key.slice(0, 64)}"`);
}

function methodNotAllowed(method: string, path: string): AdminError {
  return new AdminError(405, "method_not_allowed", `${method} is not allowed on ${path.slice(0, 100)}`);
}

function parse<Schema extends z.ZodTypeAny>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${part}`)).join("");
    return `${key.replace(/^\./, "") || "(body)"}: ${issue.message}`;
  });
  throw new AdminError(400, "invalid_input", "invalid input", problems);
}

/**
 * Reads a JSON object body; an empty body is `{}` when `optional`. A body over `maxAdminBody` is refused
 * with 413 but still read to its end (and dropped): destroying the request would reset the connection
 * before the client could read why.
 */
async function readJson(request: IncomingMessage, optional = false): Promise<unknown> {
  const body = await readBody(request, maxAdminBody);
  if (body === undefined) {
    throw new AdminError(413, "too_large", `admin request bodies are limited to ${maxAdminBody} bytes`);
  }
  const text = body.toString("utf8").trim();
  if (text === "") {
    if (optional) return {};
    throw new AdminError(400, "invalid_input", "a JSON object body is required");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AdminError(400, "invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AdminError(400, "invalid_input", "the body must be a JSON object");
  }
  return value;
}

function projectView(project: { id: string; name: string; createdAt: Date }) {
  return { id: project.id, name: project.name, createdAt: project.createdAt.toISOString() };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
