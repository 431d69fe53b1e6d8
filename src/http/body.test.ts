import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBody } from "./body.js";
import { closeServer, listen } from "./listen.js";

describe("readBody", () => {
  const server = createServer((request, response) => {
    void readBody(request, 16).then((body) => {
      response.writeHead(body === undefined ? 413 : 200).end(body === undefined ? "too large" : body);
    });
  });
  let port: number;
  beforeAll(async () => {
    await listen(server, 0, "127.0.0.1");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => closeServer(server));

  const send = (chunks: string[], declare: boolean) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      const request = httpRequest(
        { port, host: "127.0.0.1", method: "POST", headers: declare ? { "content-length": total } : {} },
        (response) => {
          let text = "";
          response.on("data", (chunk) => {
            text += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on("error", reject);
      for (const chunk of chunks) request.write(chunk);
      request.end();
    });

  it("reads a body within the limit, in one chunk or several", async () => {
    expect(await send(["0123456789abcdef"], true)).toEqual({ status: 200, text: "0123456789abcdef" });
    expect(await send(["0123", "4567"], false)).toEqual({ status: 200, text: "01234567" });
  });

  it("refuses a body declared too large, and one sent too large without a length, and the client reads why", async () => {
    expect(await send(["x".repeat(17)], true)).toEqual({ status: 413, text: "too large" });
    expect(await send(["x".repeat(10), "x".repeat(10)], false)).toEqual({ status: 413, text: "too large" });
  });
});
