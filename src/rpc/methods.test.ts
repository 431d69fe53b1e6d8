import { describe, expect, it } from "vitest";
import { RpcErrorCode } from "./errors.js";
import type { JsonRpcRequest } from "./jsonrpc.js";
import { classifyMethod, validateRequest } from "./methods.js";

const request = (method: string, params?: unknown[] | Record<string, unknown>): JsonRpcRequest => ({
  jsonrpc: "2.0",
  id: 1,
  method,
  ...(params ? { params } : {}),
});
const address = "0x00000000000000000000000000000000000000aa";
const hash = `0x${"ab".repeat(32)}`;

describe("method classes", () => {
  it.each([
    ["eth_chainId", "local"],
    ["net_version", "local"],
    ["eth_blockNumber", "head"],
    ["eth_call", "read"],
    ["eth_getBalance", "read"],
    ["eth_gasPrice", "read"],
    ["eth_getBlockByHash", "historical"],
    ["eth_getTransactionReceipt", "historical"],
    ["eth_getLogs", "logs"],
    ["eth_sendRawTransaction", "broadcast"],
    ["eth_getTransactionCount", "nonce"],
    ["eth_newFilter", "stateful"],
    ["eth_getFilterChanges", "stateful"],
    ["eth_subscribe", "subscription"],
    ["debug_traceTransaction", "heavy"],
    ["trace_block", "heavy"],
    ["admin_peers", "forbidden"],
    ["personal_unlockAccount", "forbidden"],
    ["miner_start", "forbidden"],
    ["eth_sign", "forbidden"],
    ["eth_sendTransaction", "forbidden"],
    ["hardhat_setBalance", "forbidden"],
    ["evm_mine", "forbidden"],
  ])("%s is %s", (method, expected) => {
    expect(classifyMethod(method)).toBe(expected);
  });

  it("does not know made-up methods", () => {
    expect(classifyMethod("eth_doesNotExist")).toBeUndefined();
  });
});

describe("validateRequest", () => {
  it("accepts well-formed params", () => {
    expect(validateRequest(request("eth_getBalance", [address, "latest"]))).toBeUndefined();
    expect(validateRequest(request("eth_getBalance", [address]))).toBeUndefined();
    expect(
      validateRequest(request("eth_call", [{ to: address, data: "0x1234" }, { blockHash: hash }])),
    ).toBeUndefined();
    expect(
      validateRequest(
        request("eth_getLogs", [{ fromBlock: "0x1", toBlock: "latest", topics: [hash, null] }]),
      ),
    ).toBeUndefined();
    expect(validateRequest(request("eth_blockNumber"))).toBeUndefined();
    expect(validateRequest(request("debug_traceCall", [{ anything: true }]))).toBeUndefined();
  });

  it("refuses unknown methods with -32601 naming the method", () => {
    const error = validateRequest(request("eth_nope"));
    expect(error?.code).toBe(RpcErrorCode.MethodNotFound);
    expect(error?.shortMessage).toContain("eth_nope");
  });

  it("refuses forbidden methods with -32601 saying why", () => {
    const error = validateRequest(request("eth_sendTransaction", [{}]));
    expect(error?.code).toBe(RpcErrorCode.MethodNotFound);
    expect(error?.shortMessage).toMatch(/not allowed.*eth_sendRawTransaction/);
  });

  it.each([
    ["eth_getBalance", ["0x1234", "latest"], /address/],
    ["eth_getBalance", [address, "newest"], /block/],
    ["eth_getBalance", [], /at least 1/],
    ["eth_getBalance", [address, "latest", 3], /at most 2/],
    ["eth_getBlockByHash", ["0x12", false], /hash/],
    ["eth_getBlockByNumber", ["latest", "yes"], /true or false/],
    ["eth_call", ["0x", "latest"], /call object/],
    ["eth_call", [{ to: "nope" }], /"to"/],
    ["eth_getLogs", [{ topics: [1] }], /topics/],
    ["eth_getLogs", [{ blockHash: hash, fromBlock: "0x1" }], /blockHash/],
    ["eth_sendRawTransaction", ["0xabc"], /hex bytes/],
    ["eth_getStorageAt", [address, "zz", "latest"], /quantity/],
  ])("refuses %s with params %j as -32602", (method, params, message) => {
    const error = validateRequest(request(method, params));
    expect(error?.code).toBe(RpcErrorCode.InvalidParams);
    expect(error?.shortMessage).toMatch(message);
  });

  it("refuses named params for positional methods", () => {
    expect(validateRequest(request("eth_getBalance", { address }))?.code).toBe(RpcErrorCode.InvalidParams);
  });
});
