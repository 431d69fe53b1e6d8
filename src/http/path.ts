// Reading request paths the same way in every server of the project.

/** The path of a request's URL, without its query (`/v1/eth?x=1` → `/v1/eth`). */
export function requestPath(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * A percent-encoded path segment decoded; undefined when it is not valid percent-encoding (`%E0%A4%A`,
 * `%zz`). `decodeURIComponent` throws on those, and a client must never be able to turn a path into an
 * exception in a request listener.
 */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** What a JSON-RPC path (`<prefix>/<network>[/<apiKey>]`) names. */
export interface RpcPath {
  /** The network segment as sent, for error messages. */
  readonly rawNetwork: string;
  /** The network segment decoded; undefined when its percent-encoding is invalid. */
  readonly network: string | undefined;
  readonly apiKey: string | undefined;
}

/** The JSON-RPC endpoints: HTTP's and WebSocket's. */
const rpcPatterns = {
  "/v1": /^\/v1\/([^/]+)(?:\/([^/]+))?\/?$/,
  "/ws/v1": /^\/ws\/v1\/([^/]+)(?:\/([^/]+))?\/?$/,
} as const;

/** Reads `<prefix>/<network>[/<apiKey>][/]`; undefined for any other path. */
export function readRpcPath(path: string, prefix: keyof typeof rpcPatterns): RpcPath | undefined {
  const match = rpcPatterns[prefix].exec(path);
  if (!match) return undefined;
  return { rawNetwork: match[1]!, network: decodeSegment(match[1]!), apiKey: match[2] };
}
