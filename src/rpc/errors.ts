/**
 * Errors of OpenDIN as values: a short message for the client, details for logs, a stable JSON-RPC code
 * and the HTTP status to answer with. Every error a client can see is a `DinError`; anything else is
 * wrapped into an `InternalError` whose message never carries a stack trace.
 */

/** JSON-RPC 2.0 codes, plus the EIP-1474 server codes that wallets and libraries already understand. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ResourceNotFound: -32001,
  ResourceUnavailable: -32002,
  TransactionRejected: -32003,
  MethodNotSupported: -32004,
  LimitExceeded: -32005,
} as const;

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface DinErrorOptions {
  /** Extra information for logs and, where safe, the `data` field of the JSON-RPC error. */
  details?: string;
  /** The error this one wraps. */
  cause?: unknown;
  /** Structured data returned to the client in `error.data`. */
  data?: unknown;
}

export class DinError extends Error {
  override name = "DinError";
  readonly code: number;
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly data: unknown;
  /** HTTP status for a request that fails as a whole with this error. */
  readonly httpStatus: number = 200;

  constructor(code: number, shortMessage: string, options: DinErrorOptions = {}) {
    super(options.details ? `${shortMessage} (${options.details})` : shortMessage, { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.data = options.data;
  }

  /** Follows `cause` to the root error, or to the first one `predicate` accepts. */
  walk(predicate?: (error: unknown) => boolean): unknown {
    let current: unknown = this;
    for (let depth = 0; depth < 32; depth++) {
      if (predicate?.(current)) return current;
      const next = (current as { cause?: unknown } | null)?.cause;
      if (next === undefined || next === null) return predicate ? undefined : current;
      current = next;
    }
    return predicate ? undefined : current;
  }

  toJsonRpc(): JsonRpcErrorObject {
    const error: JsonRpcErrorObject = { code: this.code, message: this.shortMessage };
    if (this.data !== undefined) error.data = this.data;
    return error;
  }
}

export class ParseError extends DinError {
  override name = "ParseError";
  override readonly httpStatus = 400;
  constructor(options?: DinErrorOptions) {
    super(RpcErrorCode.ParseError, "Parse error: the body is not valid JSON", options);
  }
}

export class InvalidRequestError extends DinError {
  override name = "InvalidRequestError";
  constructor(reason: string, options?: DinErrorOptions) {
    super(RpcErrorCode.InvalidRequest, `Invalid request: ${reason}`, options);
  }
}

export class MethodNotFoundError extends DinError {
  override name = "MethodNotFoundError";
  constructor(method: string, options?: DinErrorOptions) {
    super(RpcErrorCode.MethodNotFound, `Method not found: ${truncate(method)}`, options);
  }
}

/** A method that exists but that OpenDIN refuses on principle (admin, signing with server keys…). */
export class MethodForbiddenError extends DinError {
  override name = "MethodForbiddenError";
  constructor(method: string, why: string, options?: DinErrorOptions) {
    super(RpcErrorCode.MethodNotFound, `Method not allowed: ${truncate(method)} (${why})`, options);
  }
}

/** A method no upstream of this network declares (heavy methods such as `debug_*`). */
export class MethodNotSupportedError extends DinError {
  override name = "MethodNotSupportedError";
  constructor(method: string, why: string, options?: DinErrorOptions) {
    super(RpcErrorCode.MethodNotSupported, `Method not supported: ${truncate(method)} (${why})`, options);
  }
}

export class InvalidParamsError extends DinError {
  override name = "InvalidParamsError";
  constructor(reason: string, options?: DinErrorOptions) {
    super(RpcErrorCode.InvalidParams, `Invalid params: ${reason}`, options);
  }
}

export class LimitExceededError extends DinError {
  override name = "LimitExceededError";
  constructor(reason: string, options?: DinErrorOptions) {
    super(RpcErrorCode.LimitExceeded, `Limit exceeded: ${reason}`, options);
  }
}

export class PayloadTooLargeError extends DinError {
  override name = "PayloadTooLargeError";
  override readonly httpStatus = 413;
  constructor(limitBytes: number, options?: DinErrorOptions) {
    super(RpcErrorCode.LimitExceeded, `Request body exceeds the limit of ${limitBytes} bytes`, options);
  }
}

export class UnknownNetworkError extends DinError {
  override name = "UnknownNetworkError";
  override readonly httpStatus = 404;
  constructor(network: string, known: readonly string[]) {
    super(
      RpcErrorCode.InvalidRequest,
      `Unknown network "${truncate(network)}"; this gateway serves: ${known.join(", ") || "none"}`,
    );
  }
}

/** No upstream gave a usable answer within the request's deadline and attempt budget. */
export class UpstreamUnavailableError extends DinError {
  override name = "UpstreamUnavailableError";
  constructor(reason: string, options?: DinErrorOptions) {
    super(RpcErrorCode.ResourceUnavailable, `No operator could serve the request: ${reason}`, options);
  }
}

/** Upstreams asked for a quorum disagreed; `data` names who said what. */
export class QuorumDisagreementError extends DinError {
  override name = "QuorumDisagreementError";
  constructor(reason: string, options?: DinErrorOptions) {
    super(RpcErrorCode.InternalError, `Operators disagree: ${reason}`, options);
  }
}

export class InternalError extends DinError {
  override name = "InternalError";
  override readonly httpStatus = 500;
  constructor(options?: DinErrorOptions) {
    super(RpcErrorCode.InternalError, "Internal error", options);
  }
}

/** Turns anything thrown into a `DinError` that is safe to show a client. */
export function toDinError(error: unknown): DinError {
  if (error instanceof DinError) return error;
  return new InternalError({ cause: error, details: error instanceof Error ? error.message : String(error) });
}

function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
