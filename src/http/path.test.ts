import { describe, expect, it } from "vitest";
import { decodeSegment, readRpcPath, requestPath } from "./path.js";

describe("decodeSegment", () => {
  it("decodes valid percent-encoding and refuses invalid encoding without throwing", () => {
    expect(decodeSegment("eth%2Dmain")).toBe("eth-main");
    expect(decodeSegment("%E0%A4%A")).toBeUndefined();
    expect(decodeSegment("%zz")).toBeUndefined();
  });
});

describe("requestPath", () => {
  it("drops the query, and reads a missing URL as the root", () => {
    expect(requestPath("/v1/ethereum?x=1&y=2")).toBe("/v1/ethereum");
    expect(requestPath("/metrics")).toBe("/metrics");
    expect(requestPath("/?")).toBe("/");
    expect(requestPath(undefined)).toBe("/");
  });
});

describe("readRpcPath", () => {
  it("reads the network and key under its prefix, with or without a trailing slash", () => {
    expect(readRpcPath("/v1/ethereum", "/v1")).toEqual({
      rawNetwork: "ethereum",
      network: "ethereum",
      apiKey: undefined,
    });
    expect(readRpcPath("/v1/ethereum/key-1/", "/v1")).toEqual({
      rawNetwork: "ethereum",
      network: "ethereum",
      apiKey: "key-1",
    });
    expect(readRpcPath("/v1/eth%65reum/k", "/v1")?.network).toBe("ethereum");
    expect(readRpcPath("/ws/v1/polygon/k", "/ws/v1")?.apiKey).toBe("k");
    expect(readRpcPath("/v1/polygon/k", "/ws/v1")).toBeUndefined();
  });

  it("answers nothing for other paths, and a network that is not valid percent-encoding as undecodable", () => {
    for (const path of ["/", "/v1", "/v1/", "/v1/a/b/c", "/v2/a", "/xv1/a", "/v1//k"]) {
      expect(readRpcPath(path, "/v1"), path).toBeUndefined();
    }
    expect(readRpcPath("/v1/%E0%A4%A/k", "/v1")).toEqual({
      rawNetwork: "%E0%A4%A",
      network: undefined,
      apiKey: "k",
    });
  });

  it("answers a path read before the same way, and reads many distinct paths each as itself", () => {
    const first = readRpcPath("/v1/ethereum/k", "/v1");
    expect(readRpcPath("/v1/ethereum/k", "/v1")).toEqual(first);
    for (let i = 0; i < 100; i++) expect(readRpcPath(`/v1/n${i}/k`, "/v1")?.network).toBe(`n${i}`);
    expect(readRpcPath("/nothing", "/v1")).toBeUndefined();
    expect(readRpcPath("/nothing", "/v1")).toBeUndefined();
  });
});
