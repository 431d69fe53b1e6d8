import { describe, expect, it } from "vitest";
import type { JsonRpcRequest } from "../../rpc/jsonrpc.js";
import {
  type Allowlists,
  allowlistsSchema,
  checkClient,
  checkRequest,
  contractTargets,
  emptyAllowlists,
  originAllowed,
} from "./allowlist.js";

const token = "0x1111111111111111111111111111111111111111";
const pool = "0x2222222222222222222222222222222222222222";
const other = "0x3333333333333333333333333333333333333333";

const request = (method: string, params: unknown[] = []): JsonRpcRequest => ({
  jsonrpc: "2.0",
  id: 1,
  method,
  params,
});
const lists = (partial: Partial<Allowlists>): Allowlists => ({ ...emptyAllowlists, ...partial });

describe("allowlists", () => {
  it("allow everything when empty", () => {
    expect(checkClient(emptyAllowlists, {})).toBeUndefined();
    expect(checkRequest(emptyAllowlists, request("eth_call", [{ to: other }]))).toBeUndefined();
  });

  it("refuse a method outside the method allowlist, naming the rule", () => {
    const methods = lists({ methods: ["eth_call", "eth_get*"] });
    expect(checkRequest(methods, request("eth_call", [{ to: token }]))).toBeUndefined();
    expect(checkRequest(methods, request("eth_getBalance", [token]))).toBeUndefined();
    expect(checkRequest(methods, request("eth_sendRawTransaction", ["0x00"]))).toEqual({
      rule: "methods",
      reason: "method eth_sendRawTransaction is not in the key's method allowlist",
    });
  });

  it("check contract targets of calls, state reads and log filters (any of the entries)", () => {
    const contracts = lists({ contracts: [token, pool] });
    expect(
      checkRequest(contracts, request("eth_call", [{ to: token.toUpperCase().replace("0X", "0x") }])),
    ).toBe(undefined);
    expect(checkRequest(contracts, request("eth_getStorageAt", [pool, "0x0"]))).toBeUndefined();
    expect(checkRequest(contracts, request("eth_getLogs", [{ address: [token, pool] }]))).toBeUndefined();
    expect(checkRequest(contracts, request("eth_call", [{ to: other }]))?.rule).toBe("contracts");
    expect(checkRequest(contracts, request("eth_getLogs", [{ address: [token, other] }]))?.reason).toContain(
      other,
    );
  });

  it("refuse calls and log queries that name no contract under a contract allowlist", () => {
    const contracts = lists({ contracts: [token] });
    expect(checkRequest(contracts, request("eth_getLogs", [{ fromBlock: "0x0" }]))?.rule).toBe("contracts");
    expect(checkRequest(contracts, request("eth_estimateGas", [{ data: "0x00" }]))?.rule).toBe("contracts");
  });

  it("leave methods that target no contract alone under a contract allowlist", () => {
    const contracts = lists({ contracts: [token] });
    expect(contractTargets(request("eth_blockNumber"))).toBeUndefined();
    expect(checkRequest(contracts, request("eth_blockNumber"))).toBeUndefined();
    expect(checkRequest(contracts, request("eth_getTransactionReceipt", [`0x${"a".repeat(64)}`]))).toBe(
      undefined,
    );
  });

  it("match origins by host, scheme, port and wildcard subdomain", () => {
    const entries = ["https://app.example.com", "*.dapp.xyz", "localhost:3000"];
    expect(originAllowed(entries, "https://app.example.com")).toBe(true);
    expect(originAllowed(entries, "http://app.example.com")).toBe(false);
    expect(originAllowed(entries, "https://evil-app.example.com")).toBe(false);
    expect(originAllowed(entries, "https://beta.dapp.xyz")).toBe(true);
    expect(originAllowed(entries, "https://dapp.xyz")).toBe(false);
    expect(originAllowed(entries, "https://dapp.xyz.evil.com")).toBe(false);
    expect(originAllowed(entries, "http://localhost:3000")).toBe(true);
    expect(originAllowed(entries, "http://localhost:3001")).toBe(false);
    expect(originAllowed(entries, "null")).toBe(false);
    expect(originAllowed(entries, undefined)).toBe(false);
  });

  it("refuse a request without Origin when origins are listed, and match user agents by substring", () => {
    const both = lists({ origins: ["app.example.com"], userAgents: ["MyWallet/"] });
    const noOrigin = checkClient(both, { userAgent: "MyWallet/2.1" });
    expect(noOrigin?.rule).toBe("origins");
    // A server calling with a browser's key is told how to use the secret instead.
    expect(noOrigin?.reason).toMatch(
      /requires an Origin header, which browsers send; from a server, send the key's secret instead \(Authorization: Basic/,
    );
    expect(checkClient(both, { origin: "https://app.example.com", userAgent: "curl/8" })?.rule).toBe(
      "userAgents",
    );
    expect(checkClient(both, { origin: "https://app.example.com", userAgent: "x mywallet/2.1" })).toBe(
      undefined,
    );
  });

  it("combine types with AND: one failing type refuses even when the others pass", () => {
    const combined = lists({ methods: ["eth_call"], contracts: [token] });
    expect(checkRequest(combined, request("eth_call", [{ to: token }]))).toBeUndefined();
    expect(checkRequest(combined, request("eth_call", [{ to: other }]))?.rule).toBe("contracts");
    expect(checkRequest(combined, request("eth_getBalance", [token]))?.rule).toBe("methods");
  });

  it("validate admin input: lowercase addresses, drop duplicates, name the bad entry", () => {
    const parsed = allowlistsSchema.parse({ contracts: [token.replace(/1/g, "A"), token, token] });
    expect(parsed.contracts).toEqual([token.replace(/1/g, "a"), token]);
    const bad = allowlistsSchema.safeParse({
      contracts: ["0x12"],
      origins: ["https://x.com/path"],
      colors: [],
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((issue) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["contracts.0", "origins.0", ""]));
  });
});
