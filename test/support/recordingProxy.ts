// A proxy in front of a real node for tests: records every JSON-RPC call that reaches it and can hold
// the calls a test picks (a request that is expensive) while it answers everything else at once.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  method: string;
  params: unknown;
}

export interface RecordingProxy {
  url: string;
  /** Where calls are forwarded; a test may point it at another node. */
  target: string;
  calls: RecordedCall[];
  /** Calls for which this returns a number of ms are answered that much later. */
  delay: (call: RecordedCall) => number | undefined;
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const proxy: RecordingProxy = {
    url: "",
    target,
    calls: [],
    delay: () => undefined,
    close: async () => undefined,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let wait = 0;
      try {
        const parsed = JSON.parse(body) as RecordedCall | RecordedCall[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          const recorded = { method: call.method, params: call.params };
          proxy.calls.push(recorded);
          wait = Math.max(wait, proxy.delay(recorded) ?? 0);
        }
      } catch {
        // not JSON: forwarded as is, the node answers it
      }
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (response.destroyed) return;
      try {
        const answer = await fetch(proxy.target, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        response.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
      } catch {
        if (!response.headersSent) response.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
