// TLS on the operator node's public listener (`--tls-cert`/`--tls-key`): the certificate and its key are
// read once, before the node starts, both or neither; the listener then serves HTTPS and its URL says so.
// The HTTPS server itself is src/http/listener.ts's (the same limits as plain HTTP).
import { readFileSync } from "node:fs";
import type { TlsFiles } from "../http/listener.js";

/** The certificate and key files, read; undefined when neither is given. Throws a one-line reason. */
export function readTlsFiles(
  certFile: string | undefined,
  keyFile: string | undefined,
): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw new Error("--tls-cert and --tls-key go together: the certificate and its private key");
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read(certFile, "certificate"), key: read(keyFile, "key") };
}

/** The URL scheme of a listener started with `tls` (HTTPS) or without (HTTP). */
export function urlScheme(tls: TlsFiles | undefined): "https" | "http" {
  return tls === undefined ? "http" : "https";
}
