/**
 * HTTP plumbing the gateway, the operator node and the keys admin API share. A request body is read whole
 * up to a limit; past it the reader stops keeping bytes and answers undefined at once, while the rest of
 * the body is still drained, so the server can reply 413 before the client has finished sending (and the
 * client can read why, rather than seeing its connection reset).
 */
import type { IncomingMessage } from "node:http";

/** The body of `request`, or undefined as soon as it exceeds `limit` bytes (declared or sent). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    request.on("error", reject);
  });
}
