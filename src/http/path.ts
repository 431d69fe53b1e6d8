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
