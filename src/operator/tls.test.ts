// An operator node serving HTTPS (`--tls-cert`/`--tls-key`) with a self-signed certificate made by openssl:
// a client that trusts the certificate gets answers, plain HTTP and an untrusting client get none, and a
// bad key or a missing half is refused before the node starts.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";
import { readTlsFiles, urlScheme } from "./tls.js";

const bin = join(import.meta.dirname, "../../bin/din.mjs");

describe("operator node over HTTPS", () => {
  let dir: string;
  let chain: HardhatServer;
  let node: OperatorNode;
  let cert: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    cert = readFileSync(join(dir, "cert.pem"));
    chain = await startHardhatServer();
    node = await startOperatorNode({
      id: "tls-node",
      upstream: chain.url,
      tls: { cert, key: readFileSync(join(dir, "key.pem")) },
    });
  });

  afterAll(async () => {
    await node?.close();
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (url: string, dispatcher?: Agent) =>
    request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      ...(dispatcher ? { dispatcher } : {}),
    });

  it("answers a client that trusts its certificate, at an https URL", async () => {
    expect(node.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const trusting = new Agent({ connect: { ca: cert } });
    const response = await call(node.url, trusting);
    expect(response.statusCode).toBe(200);
    expect(((await response.body.json()) as { result: string }).result).toBe("0x7a69");
    await trusting.close();
  });

  it("answers nothing over plain HTTP, nor to a client that does not trust the certificate", async () => {
    await expect(call(node.url)).rejects.toThrow(/self[- ]signed|certificate/i);
    await expect(call(node.url.replace("https:", "http:"))).rejects.toThrow();
    // The node is still there for the next trusting client.
    const trusting = new Agent({ connect: { ca: cert } });
    expect((await call(node.url, trusting)).statusCode).toBe(200);
    await trusting.close();
  });

  it("refuses a half-given or unreadable TLS setup before starting, in one line", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bin, "operator", "serve", "--upstream", chain.url, ...args], {
        encoding: "utf8",
        timeout: 30_000,
      });
    const half = run(["--tls-cert", join(dir, "cert.pem")]);
    expect(half.status).toBe(1);
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
    writeFileSync(join(dir, "bad.pem"), "not a key\n");
    const bad = run(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "bad.pem")]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("readTlsFiles", () => {
  it("reads both files, neither, or refuses half of them and an unreadable one in one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "din-tls-files-"));
    try {
      writeFileSync(join(dir, "cert.pem"), "CERT");
      writeFileSync(join(dir, "key.pem"), "KEY");
      const files = readTlsFiles(join(dir, "cert.pem"), join(dir, "key.pem"));
      expect(files?.cert.toString()).toBe("CERT");
      expect(files?.key.toString()).toBe("KEY");
      expect(urlScheme(files)).toBe("https");
      expect(readTlsFiles(undefined, undefined)).toBeUndefined();
      expect(urlScheme(undefined)).toBe("http");
      expect(() => readTlsFiles(join(dir, "cert.pem"), undefined)).toThrow(
        /--tls-cert and --tls-key go together/,
      );
      expect(() => readTlsFiles(undefined, join(dir, "key.pem"))).toThrow(/go together/);
      expect(() => readTlsFiles(join(dir, "cert.pem"), join(dir, "missing.pem"))).toThrow(
        /^cannot read the TLS key .*missing\.pem: ENOENT[^\n]*$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
