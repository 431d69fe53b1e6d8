// Method names as an attack on a keyed gateway (PGlite, real Hardhat chain): names every JavaScript object
// inherits, and thousands of made-up ones, over HTTP and WebSocket. They must be charged, refused, and
// counted in bounded metric series and usage rows, and leave usage working for every key.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Gateway } from "../../src/gateway/server.js";
import { post, rpc } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { admin, createKey, startKeyedGateway } from "./keyedGateway.js";

const nobody = "0x0000000000000000000000000000000000000bad";

/** The body of the attack: 99 cheap calls and one inherited name. */
const attackBatch = (inheritedName: string) => [
  ...Array.from({ length: 99 }, (_, id) => rpc("eth_call", [{ to: nobody }, "latest"], id)),
  rpc(inheritedName, [], 99),
];

/** Series of one metric family in a /metrics text. */
function seriesOf(metrics: string, family: string): string[] {
  return metrics.split("\n").filter((line) => line.startsWith(`${family}{`));
}

describe("method names as an attack on a keyed gateway", () => {
  let chain: HardhatServer;
  let gateway: Gateway;
  const dataDir = mkdtempSync(join(tmpdir(), "din-keys-names-"));
  const url = (key: string) => `${gateway.url}/v1/ethereum/${key}`;
  const metrics = async () => (await fetch(`${gateway.url}/metrics`)).text();

  beforeAll(async () => {
    chain = await startHardhatServer();
    gateway = await startKeyedGateway(chain.url, { dataDir });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await chain?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a 10 credits/s key's batches of 99 eth_call + constructor/toString with 429", async () => {
    const { key } = await createKey(gateway, { limits: { creditsPerSecond: 10 } }, "attack");
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, round) =>
        post(url(key), attackBatch(round % 2 === 0 ? "constructor" : "toString")),
      ),
    );
    const served = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    // A body dearer than the whole budget runs alone in an empty second: at most one per second the
    // burst spans, everything else refused.
    expect(served.length).toBeLessThanOrEqual(2);
    expect(refused.length).toBe(answers.length - served.length);
    expect(refused[0]!.json.error.data.rule).toBe("creditsPerSecond");
    for (const answer of served) {
      expect(answer.json[99].error.code).toBe(-32601);
      expect(answer.json[0].result).toBe("0x");
    }

    const { key: victim } = await createKey(gateway, {}, "victims");
    expect((await post(url(victim), rpc("eth_chainId"))).json.result).toBe("0x7a69");
    const usage = await admin(gateway, "GET", "/admin/usage?groupBy=key,method");
    expect(usage.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: JSON rows
    const rows = (of: string) => usage.json.usage.filter((row: any) => row.key === of);
    expect(rows(victim)).toEqual([
      { key: victim, method: "eth_chainId", requests: 1, credits: 1, errors: 0 },
    ]);
    expect(rows(key)).toEqual(
      [
        ...(served.length > 0
          ? [
              {
                key,
                method: "eth_call",
                requests: 99 * served.length,
                credits: 2 * 99 * served.length,
                errors: 0,
              },
            ]
          : []),
        { key, method: "refused", requests: 100 * refused.length, credits: 0, errors: 100 * refused.length },
        ...(served.length > 0
          ? [
              {
                key,
                method: "unknown",
                requests: served.length,
                credits: served.length,
                errors: served.length,
              },
            ]
          : []),
      ].sort((a, b) => a.method.localeCompare(b.method)),
    );
    const text = await metrics();
    expect(text).not.toMatch(/method="(constructor|toString)"/);
    expect(text).not.toMatch(/din_usage_flushes_total\{result="failed"\}/);
  });

  it("answers 2,000 made-up methods -32601 at a credit each, in one metric series and one usage row", async () => {
    const { key } = await createKey(gateway, {}, "made-up");
    const before = seriesOf(await metrics(), "din_requests_total").length;
    const names = Array.from(
      { length: 2_000 },
      (_, i) => [`eth_madeUp${i}`, `debug_x${i}`, `trace_${i}`, `admin_${i}`, `x${i}`][i % 5]!,
    );
    for (let start = 0; start < names.length; start += 100) {
      const { status, json } = await post(
        url(key),
        names.slice(start, start + 100).map((name, i) => rpc(name, [], i)),
      );
      expect(status).toBe(200);
      // biome-ignore lint/suspicious/noExplicitAny: JSON answers
      expect(json.every((answer: any) => answer.error.code === -32601)).toBe(true);
    }
    const text = await metrics();
    const after = seriesOf(text, "din_requests_total");
    // At most the `unknown` series with its outcomes.
    expect(after.length - before).toBeLessThanOrEqual(3);
    expect(after.some((line) => line.includes('method="unknown"'))).toBe(true);
    expect(text).not.toMatch(/madeUp|debug_x|method="x\d/);
    const usage = await admin(gateway, "GET", `/admin/usage?key=${key}&groupBy=method`);
    expect(usage.json.usage).toEqual([{ method: "unknown", requests: 2_000, credits: 2_000, errors: 2_000 }]);
  });

  it("labels made-up methods sent over a WebSocket as unknown too", async () => {
    const { key } = await createKey(gateway, {}, "made-up-ws");
    const socket = new WebSocket(`${gateway.url.replace(/^http/, "ws")}/ws/v1/ethereum/${key}`);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const names = Array.from({ length: 200 }, (_, i) => `wsMadeUp_${i}`);
    const answered = new Promise<void>((resolve) => {
      let count = 0;
      socket.on("message", () => {
        if (++count === names.length) resolve();
      });
    });
    for (const [i, name] of names.entries()) socket.send(JSON.stringify(rpc(name, [], i)));
    await answered;
    socket.close();
    const text = await metrics();
    expect(text).not.toMatch(/wsMadeUp/);
    const usage = await admin(gateway, "GET", `/admin/usage?key=${key}&groupBy=method`);
    expect(usage.json.usage).toEqual([{ method: "unknown", requests: 200, credits: 200, errors: 200 }]);
  });
});
