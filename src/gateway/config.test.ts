import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadGatewayConfig, parseGatewayConfig } from "./config.js";

const minimal = {
  networks: [{ name: "ethereum", chainId: 1, upstreams: [{ id: "a", url: "http://127.0.0.1:8545" }] }],
};

describe("gateway configuration", () => {
  it("fills documented defaults", () => {
    const config = parseGatewayConfig(minimal);
    expect(config.server).toMatchObject({
      port: 8545,
      maxBodyBytes: 1_048_576,
      maxBatchSize: 100,
      workers: 1,
    });
    expect(config.routing.maxAttempts).toBe(5);
    expect(config.networks[0]!.upstreams[0]).toMatchObject({
      cloud: "unknown",
      priority: 0,
      weight: 1,
      methods: [],
    });
  });

  it("names every bad key", () => {
    const bad = {
      server: { port: "eighty", extra: true },
      networks: [
        {
          name: "Ethereum Mainnet",
          chainId: -1,
          upstreams: [
            { id: "a", url: "ftp://x" },
            { id: "a", url: "http://y", weight: 0 },
          ],
        },
      ],
    };
    try {
      parseGatewayConfig(bad, "din.yaml");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/server\.port/);
      expect(problems).toMatch(/server: Unrecognized key.*extra/);
      expect(problems).toMatch(/networks\[0\]\.name/);
      expect(problems).toMatch(/networks\[0\]\.chainId/);
      expect(problems).toMatch(/networks\[0\]\.upstreams\[0\]\.url: must be an http/);
      expect(problems).toMatch(/networks\[0\]\.upstreams\[1\]\.weight/);
      expect(problems).toMatch(/networks\[0\]\.upstreams\[1\]\.id: duplicate upstream id "a"/);
      expect((error as Error).message).toMatch(/din\.yaml/);
    }
  });

  it("reads the restaking check's assumptions, and names a bad one", () => {
    const config = parseGatewayConfig({
      ...minimal,
      risk: { threshold: "1/2", profitFromCorruption: { ethereum: "20.5" } },
    });
    expect(config.risk?.threshold).toEqual({ num: 1n, den: 2n });
    expect(config.risk?.profits?.get("ethereum")).toBe(20_500_000_000_000_000_000n);
    expect(parseGatewayConfig(minimal).risk).toBeUndefined();
    try {
      parseGatewayConfig({ ...minimal, risk: { shock: "lots", profitFromCorruption: { ethereum: "x" } } });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/risk\.shock: expected a percentage/);
      expect(problems).toMatch(/risk\.profitFromCorruption\.ethereum: expected a decimal number of tokens/);
    }
  });

  it("loads YAML and reports unreadable or invalid files clearly", () => {
    const dir = mkdtempSync(join(tmpdir(), "din-config-"));
    const file = join(dir, "din.yaml");
    writeFileSync(
      file,
      "networks:\n  - name: ethereum\n    chainId: 1\n    upstreams:\n      - id: a\n        url: http://127.0.0.1:1\n        cloud: aws\n",
    );
    expect(loadGatewayConfig(file).networks[0]!.upstreams[0]!.cloud).toBe("aws");
    writeFileSync(file, "networks: [");
    expect(() => loadGatewayConfig(file)).toThrow(/not valid YAML/);
    expect(() => loadGatewayConfig(join(dir, "missing.yaml"))).toThrow(/cannot read/);
  });

  it("takes a ledger section whose networks may list no upstreams, with documented defaults", () => {
    const config = parseGatewayConfig({
      ledger: { rpc: "http://127.0.0.1:8545", deployment: "deployment.json", keyFile: "gateway.key" },
      networks: [{ name: "ethereum", chainId: 1 }],
    });
    expect(config.ledger).toMatchObject({ signSampleRate: 0.01, syncMs: 1_000, feePerRelay: "0.001" });
    expect(config.networks[0]!.upstreams).toEqual([]);
  });

  it("names every bad key of the ledger section, and a network without upstreams when there is no ledger", () => {
    const problems = (value: unknown) => {
      try {
        parseGatewayConfig(value);
      } catch (error) {
        return (error as ConfigError).problems.join("\n");
      }
      throw new Error("accepted");
    };
    expect(problems({ networks: [{ name: "ethereum", chainId: 1 }] })).toMatch(
      /networks\[0\]\.upstreams: a network needs at least one upstream/,
    );
    expect(
      problems({
        networks: [
          { name: "ethereum", chainId: 1, ledgerNetwork: "x", upstreams: minimal.networks[0]!.upstreams },
        ],
      }),
    ).toMatch(/networks\[0\]\.ledgerNetwork: ledgerNetwork needs a top-level ledger section/);
    const bad = problems({
      ledger: {
        rpc: "ws://x",
        deployment: "d.json",
        keyFile: "k",
        keyEnv: "K",
        signSampleRate: 2,
        feePerRelay: "1e-3",
        syncMs: 0,
        extra: 1,
      },
      networks: [{ name: "ethereum", chainId: 1 }],
    });
    expect(bad).toMatch(/ledger\.rpc: must be an http/);
    expect(bad).toMatch(/ledger\.signSampleRate/);
    expect(bad).toMatch(/ledger\.feePerRelay: a decimal number/);
    expect(bad).toMatch(/ledger\.syncMs/);
    expect(bad).toMatch(/ledger: Unrecognized key.*extra/);
  });
});
