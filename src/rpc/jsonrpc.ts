/**
 * JSON-RPC 2.0 messages: types, strict parsing of request bodies (single and batch), responses.
 * Parsing never throws: every defect of the input becomes the error the specification names for it.
 */
import {
  type DinError,
  InvalidParamsError,
  InvalidRequestError,
  LimitExceededError,
  ParseError,
  PayloadTooLargeError,
} from "./errors.js";
import { idLiterals, idNeedsLiteral, RawIds } from "./rawIds.js";

export type JsonRpcId = string | number | null;
export type JsonRpcParams = readonly unknown[] | Record<string, unknown>;

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  /** Absent for a notification (the client wants no answer). */
  id?: JsonRpcId;
  method: string;
  params?: JsonRpcParams;
}

export interface JsonRpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: "2.0"; id: JsonRpcId; result: unknown }
  | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcErrorBody };

export interface ParseLimits {
  /** Largest accepted body, in bytes. @default 1_048_576 (1 MiB) */
  maxBodyBytes: number;
  /** Most requests in one batch. @default 100 */
  maxBatchSize: number;
  /** Deepest nesting of arrays/objects inside `params`. @default 32 */
  maxParamsDepth: number;
}

export const defaultParseLimits: ParseLimits = {
  maxBodyBytes: 1_048_576,
  maxBatchSize: 100,
  maxParamsDepth: 32,
};

/** One entry of a body: a valid request, or the error to answer in its place. */
export type ParsedEntry =
  | { ok: true; request: JsonRpcRequest; notification: boolean }
  | { ok: false; id: JsonRpcId; error: DinError };

export type ParsedBody =
  /** `rawIds`: ids a number cannot hold exactly, held as placeholders to restore in the answer. */
  | { ok: true; batch: boolean; entries: ParsedEntry[]; rawIds?: RawIds }
  /** The body as a whole is unusable: answer one error response (id null). */
  | { ok: false; error: DinError };

/** Parses a request body. `byteLength` is the body's size on the wire (defaults to its UTF-8 length). */
export function parseRequestBody(
  text: string,
  limits: ParseLimits = defaultParseLimits,
  byteLength = Buffer.byteLength(text),
): ParsedBody {
  if (byteLength > limits.maxBodyBytes)
    return { ok: false, error: new PayloadTooLargeError(limits.maxBodyBytes) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return { ok: false, error: new ParseError({ cause, details: (cause as Error).message }) };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, error: new InvalidRequestError("empty batch") };
    if (value.length > limits.maxBatchSize) {
      return {
        ok: false,
        error: new LimitExceededError(
          `batch of ${value.length} requests exceeds the limit of ${limits.maxBatchSize}`,
        ),
      };
    }
    return holdRawIds(text, {
      ok: true,
      batch: true,
      entries: value.map((item) => parseRequestObject(item, limits)),
    });
  }
  return holdRawIds(text, { ok: true, batch: false, entries: [parseRequestObject(value, limits)] });
}

function idOf(entry: ParsedEntry): JsonRpcId | undefined {
  return entry.ok ? entry.request.id : entry.id;
}

/** Replaces ids that lost digits in parsing by placeholders for their literals (see rawIds.ts). */
function holdRawIds(
  text: string,
  body: { ok: true; batch: boolean; entries: ParsedEntry[] },
): { ok: true; batch: boolean; entries: ParsedEntry[]; rawIds?: RawIds } {
  let needed = false;
  for (const entry of body.entries) needed ||= idNeedsLiteral(idOf(entry));
  if (!needed) return body;
  const literals = idLiterals(text, body.batch);
  const rawIds = new RawIds();
  body.entries.forEach((entry, index) => {
    const literal = literals[index];
    if (!idNeedsLiteral(idOf(entry)) || literal === undefined) return;
    if (entry.ok) entry.request.id = rawIds.hold(literal);
    else entry.id = rawIds.hold(literal);
  });
  return { ...body, rawIds };
}

/** Validates one decoded JSON value as a JSON-RPC 2.0 request. */
export function parseRequestObject(value: unknown, limits: ParseLimits = defaultParseLimits): ParsedEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: new InvalidRequestError("expected a JSON-RPC request object") };
  }
  const object = value as Record<string, unknown>;
  const hasId = Object.hasOwn(object, "id");
  const id = object.id;
  if (hasId && !isValidId(id)) {
    return { ok: false, id: null, error: new InvalidRequestError("id must be a string, a number or null") };
  }
  const safeId = hasId ? (id as JsonRpcId) : null;
  if (object.jsonrpc !== "2.0") {
    return { ok: false, id: safeId, error: new InvalidRequestError('"jsonrpc" must be exactly "2.0"') };
  }
  if (typeof object.method !== "string" || object.method.length === 0) {
    return { ok: false, id: safeId, error: new InvalidRequestError('"method" must be a non-empty string') };
  }
  if (object.method.length > 128) {
    return {
      ok: false,
      id: safeId,
      error: new InvalidRequestError('"method" is longer than 128 characters'),
    };
  }
  const params = object.params;
  if (params !== undefined && (typeof params !== "object" || params === null)) {
    return {
      ok: false,
      id: safeId,
      error: new InvalidRequestError('"params" must be an array or an object'),
    };
  }
  if (params !== undefined && exceedsDepth(params, limits.maxParamsDepth)) {
    return {
      ok: false,
      id: safeId,
      error: new InvalidParamsError(`params are nested deeper than ${limits.maxParamsDepth} levels`),
    };
  }
  const request: JsonRpcRequest = { jsonrpc: "2.0", method: object.method };
  if (hasId) request.id = safeId;
  if (params !== undefined) request.params = params as JsonRpcParams;
  return { ok: true, request, notification: !hasId };
}

function isValidId(id: unknown): boolean {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/** Iterative depth check: deeply nested input must not overflow the stack here or later. */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  // Most params are a flat array with at most one level of objects: answer those without a stack.
  if (Array.isArray(value) && maxDepth >= 3 && value.every(isShallow)) return false;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth > maxDepth) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/** A primitive, or an object/array whose members are all primitives. */
function isShallow(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  const members = Array.isArray(value) ? value : Object.values(value);
  return members.every((member) => typeof member !== "object" || member === null);
}

export function resultResponse(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, result };
}

export function errorResponse(id: JsonRpcId, error: JsonRpcErrorBody): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error };
}

/** The positional params of a request (`[]` when absent; named params are passed through as one value). */
export function positionalParams(request: JsonRpcRequest): readonly unknown[] {
  const { params } = request;
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}
