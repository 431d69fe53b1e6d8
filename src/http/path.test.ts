import { describe, expect, it } from "vitest";
import { decodeSegment, RpcPaths } from "./path.js";

describe("decodeSegment", () => {
  it("decodes valid percent-encoding and refuses invalid encoding without throwing", () => {
    expect(decodeSegment("eth%2Dmain")).toBe("eth-main");
    expect(decodeSegment("%E0%A4%A")).toBeUndefined();
    expect(decodeSegment("%zz")).toBeUndefined();
  });
});

describe("RpcPaths", () => {
  it("reads the network and key under its prefix, with or without a trailing slash", () => {
    const http = new RpcPaths("/v1");
    expect(http.read("/v1/ethereum")).toEqual({
      rawNetwork: "ethereum",
      network: "ethereum",
      apiKey: undefined,
    });
    expect(http.read("/v1/ethereum/key-1/")).toEqual({
      rawNetwork: "ethereum",
      network: "ethereum",
      apiKey: "key-1",
    });
    expect(http.read("/v1/eth%65reum/k")?.network).toBe("ethereum");
    const ws = new RpcPaths("/ws/v1");
    expect(ws.read("/ws/v1/polygon/k")?.apiKey).toBe("k");
    expect(ws.read("/v1/polygon/k")).toBeUndefined();
  });

  it("answers nothing for other paths, and a network that is not valid percent-encoding as undecodable", () => {
    const paths = new RpcPaths("/v1");
    for (const path of ["/", "/v1", "/v1/", "/v1/a/b/c", "/v2/a", "/xv1/a", "/v1//k"]) {
      expect(paths.read(path), path).toBeUndefined();
    }
    expect(paths.read("/v1/%E0%A4%A/k")).toEqual({ rawNetwork: "%E0%A4%A", network: undefined, apiKey: "k" });
  });

  it("answers a path read before the same way, and keeps at most its capacity of paths", () => {
    const paths = new RpcPaths("/v1", 4);
    const first = paths.read("/v1/ethereum/k");
    expect(paths.read("/v1/ethereum/k")).toBe(first);
    for (let i = 0; i < 100; i++) expect(paths.read(`/v1/n${i}/k`)?.network).toBe(`n${i}`);
    expect((paths as unknown as { known: Map<string, unknown> }).known.size).toBeLessThanOrEqual(4);
    expect(paths.read("/nothing")).toBeUndefined();
    expect(paths.read("/nothing")).toBeUndefined();
    expect(paths.read("/v1/ethereum/k")).toEqual(first);
  });
});
