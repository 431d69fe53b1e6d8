// The client library as a dApp imports it: by package name, from plain Node ESM (no TypeScript loader),
// through the package's "exports" (built by `npm run build`, which `npm install` runs).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

describe("the client package", () => {
  beforeAll(async () => {
    // What `npm install` would have built; built again so the test sees the current sources.
    await run("npm", ["run", "--silent", "build:client"], { cwd: root });
  }, 300_000);

  it("is importable by name from plain Node ESM, with types", async () => {
    const script = `
      const client = await import("opendin/client");
      const ethers = await import("opendin/client/ethers");
      const transport = client.dinTransport("http://127.0.0.1:1/v1/x", {
        ledger: { chainId: 1, slasher: "0x0000000000000000000000000000000000000001", signers: [] },
      });
      console.log(JSON.stringify({
        transport: typeof transport,
        provider: typeof ethers.DinProvider,
        error: new client.DinVerificationError("bad-proof", "x", { method: "m", operator: undefined, upstream: undefined }).kind,
      }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ transport: "function", provider: "function", error: "bad-proof" });
    const manifest = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
      exports: Record<string, { types: string; default: string }>;
    };
    for (const entry of ["./client", "./client/ethers"]) {
      expect(existsSync(`${root}${manifest.exports[entry]!.types}`)).toBe(true);
    }
  }, 60_000);
});
