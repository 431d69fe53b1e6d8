/** Starting and stopping an HTTP server, the same way for every server of the project. */
import type { Server } from "node:http";

/** Listens on `host:port` (0: a port the OS picks); rejects if the address is taken or refused. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Stops accepting connections and closes the open ones (idle or not); resolves once closed. */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `host` as a URL shows it: a wildcard address as 127.0.0.1 (where a local client reaches it), IPv6 in brackets. */
export function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
