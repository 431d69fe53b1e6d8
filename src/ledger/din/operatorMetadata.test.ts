// An operator's metadata.json against EigenLayer's rules, and `din operator metadata` writing and checking
// one (from a file and from the URL it is published at).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperatorMetadataError, validateOperatorMetadata } from "./operatorMetadata.js";

const good = {
  name: "Acme Nodes",
  website: "https://acme.example",
  description: "Ethereum and Polygon RPC from three regions.",
  logo: "https://acme.example/logo.png",
  twitter: "https://x.com/acmenodes",
};

describe("operator metadata", () => {
  it("accepts EigenLayer's shape, with or without the optional fields", () => {
    expect(validateOperatorMetadata(good)).toEqual(good);
    const { website: _w, twitter: _t, ...required } = good;
    expect(validateOperatorMetadata({ ...required, website: "", twitter: "" })).toEqual(required);
  });

  it.each([
    [{ ...good, name: " " }, "name: name is required"],
    [{ ...good, description: "x".repeat(201) }, "description must be at most 200 characters"],
    [{ ...good, description: "<script>alert(1)</script>" }, "description must be plain text"],
    [{ ...good, logo: "https://acme.example/logo.svg" }, "logo must be a PNG image"],
    [{ ...good, logo: "ftp://acme.example/logo.png" }, "logo must be an http(s) URL"],
    [{ ...good, logo: "http://127.0.0.1:8080/logo.png" }, "logo must be public"],
    [{ ...good, website: "https://localhost/" }, "website must be public"],
    [
      { ...good, twitter: "https://facebook.com/acme" },
      "twitter must be a profile URL on twitter.com or x.com",
    ],
    [{ ...good, extra: 1 }, "Unrecognized key"],
  ])("refuses %j", (metadata, message) => {
    expect(() => validateOperatorMetadata(metadata)).toThrow(OperatorMetadataError);
    expect(() => validateOperatorMetadata(metadata)).toThrow(message);
  });
});

describe("din operator metadata", () => {
  const run = promisify(execFile);
  const din = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run("node", ["bin/din.mjs", "operator", "metadata", ...args], {
        cwd: join(import.meta.dirname, "..", "..", ".."),
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
  let dir: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-metadata-"));
    server = createServer((req, res) => {
      if (req.url === "/metadata.json") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ...good, logo: "https://acme.example/logo.gif" }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a valid metadata.json and prints its data: URI with --json", async () => {
    const out = join(dir, "metadata.json");
    const result = await din([
      "--name",
      good.name,
      "--website",
      good.website,
      "--description",
      good.description,
      "--logo",
      good.logo,
      "--twitter",
      good.twitter,
      "--out",
      out,
      "--json",
    ]);
    expect(result.stderr).toBe("");
    const printed = JSON.parse(result.stdout);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(good);
    expect(printed.dataUri).toMatch(/^data:application\/json;base64,/);
    expect(JSON.parse(Buffer.from(printed.dataUri.split(",")[1], "base64").toString())).toEqual(good);
    expect((await din(["--check", out])).stdout).toContain("is valid operator metadata (Acme Nodes)");
  });

  it("refuses an invalid one in one line, from the command line, a file or its URL", async () => {
    const noLogo = await din(["--name", "Acme", "--description", "RPC", "--out", join(dir, "x.json")]);
    expect(noLogo.code).toBe(1);
    expect(noLogo.stderr).toMatch(/^error: invalid operator metadata: logo: /);
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ ...good, description: "" }));
    expect((await din(["--check", file])).stderr).toContain("description: description is required");
    const published = await din(["--check", `${url}/metadata.json`]);
    expect(published.code).toBe(1);
    expect(published.stderr).toContain("logo must be a PNG image");
    expect((await din(["--check", `${url}/missing.json`])).stderr).toContain("answered HTTP 404");
  });
});
