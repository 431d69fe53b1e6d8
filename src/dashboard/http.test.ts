// The dashboard's HTTP side without a network behind it: every request it cannot answer gets a JSON error
// that says why (never a stack), the page's files are served only by their built names, and a missing
// build says how to make it.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dashboard } from "./http.js";
import { DashboardSource } from "./source.js";

async function serve(dashboard: Dashboard): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => dashboard.handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("dashboard HTTP", () => {
  const assets = mkdtempSync(join(tmpdir(), "din-dashboard-assets-"));
  let built: { server: Server; url: string };
  let unbuilt: { server: Server; url: string };

  beforeAll(async () => {
    mkdirSync(join(assets, "assets"));
    writeFileSync(join(assets, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(assets, "assets", "index-abc.js"), "console.log(1)");
    const logger = pino({ level: "silent" });
    built = await serve(new Dashboard(new DashboardSource({}), { logger, assetsDir: assets }));
    unbuilt = await serve(
      new Dashboard(new DashboardSource({}), { logger, assetsDir: join(assets, "missing") }),
    );
  });

  afterAll(() => {
    built.server.close();
    unbuilt.server.close();
  });

  const get = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, init);
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };

  it("serves the page and its built files, with a policy that loads nothing from elsewhere", async () => {
    const page = await fetch(`${built.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("<title>t</title>");
    const script = await get(`${built.url}/dashboard/assets/index-abc.js`);
    expect(script.status).toBe(200);
    expect(script.type).toContain("text/javascript");
  });

  it("answers files outside the build, and made-up paths, with a JSON 404", async () => {
    for (const path of [
      "/dashboard/assets/..%2Findex.html",
      "/dashboard/assets/.hidden",
      "/dashboard/assets/nope.js",
    ]) {
      const answer = await get(`${built.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.text)).toHaveProperty("error");
    }
  });

  it("says how to build the page when it is not built", async () => {
    const answer = await get(`${unbuilt.url}/dashboard`);
    expect(answer.status).toBe(503);
    expect(answer.text).toContain("npm run build");
  });

  it("refuses bad API requests with a JSON error naming the problem", async () => {
    const cases: Array<[string, number, RegExp, RequestInit?]> = [
      ["/dashboard/api/network?verbose=1", 400, /unknown query parameter "verbose"/],
      ["/dashboard/api/status?epochs=maybe", 400, /epochs must be true or false/],
      ["/dashboard/api/status?last=-3", 400, /last must be a whole number from 1 to 1000/],
      ["/dashboard/api/transactions/%E0%A4%A", 400, /percent-encoding/],
      ["/dashboard/api/operators/someone", 404, /follows no DIN ledger/],
      ["/dashboard/api/transactions/0x1234", 400, /transaction hash/],
      ["/dashboard/api/nothing", 404, /no dashboard route/],
      ["/dashboard/api/network", 405, /read-only/, { method: "POST", body: "{}" }],
    ];
    for (const [path, status, message, init] of cases) {
      const answer = await get(`${built.url}${path}`, init);
      expect(answer.status, path).toBe(status);
      expect(answer.type).toBe("application/json");
      const body = JSON.parse(answer.text) as { error: string };
      expect(body.error, path).toMatch(message);
      expect(answer.text).not.toMatch(/\n\s+at /);
    }
  });

  it("lists its routes and answers the network map without a gateway or ledger", async () => {
    const index = JSON.parse((await get(`${built.url}/dashboard/api`)).text) as {
      routes: Record<string, string>;
    };
    expect(Object.keys(index.routes)).toContain("/dashboard/api/network");
    const map = JSON.parse((await get(`${built.url}/dashboard/api/network`)).text);
    expect(map).toEqual({ gateway: null, status: null, ledger: null, networks: [] });
  });
});
