// Reading request paths the same way in every server of the project.

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

/**
 * Reads `<prefix>/<network>[/<apiKey>][/]` (HTTP's `/v1`, WebSocket's `/ws/v1`); undefined for any other
 * path. Clients send the same few paths again and again, so the last paths read are kept: a bounded map
 * that is emptied when full, so a client sending endless distinct paths costs memory no more than
 * `capacity` entries.
 */
export class RpcPaths {
  private readonly pattern: RegExp;
  private readonly known = new Map<string, RpcPath | undefined>();

  constructor(
    prefix: string,
    private readonly capacity = 1024,
  ) {
    this.pattern = new RegExp(`^${prefix.replaceAll("/", "\\/")}\\/([^/]+)(?:\\/([^/]+))?\\/?$`);
  }

  read(path: string): RpcPath | undefined {
    const known = this.known.get(path);
    if (known !== undefined || this.known.has(path)) return known;
    const match = this.pattern.exec(path);
    const read = match
      ? { rawNetwork: match[1]!, network: decodeSegment(match[1]!), apiKey: match[2] }
      : undefined;
    if (this.known.size >= this.capacity) this.known.clear();
    this.known.set(path, read);
    return read;
  }
}
