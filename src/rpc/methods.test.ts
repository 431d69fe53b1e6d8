import { describe, expect, it } from "vitest";
import { RpcErrorCode } from "./errors.js";
import type { JsonRpcRequest } from "./jsonrpc.js";
import {
  classifyMethod,
  isOperatorServable,
  labelForMethod,
  methodSpec,
  methodTable,
  unknownMethodLabel,
  validateRequest,
} from "./methods.js";

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
    ["debug_traceCall", "heavy"],
    ["debug_getRawBlock", "heavy"],
    ["trace_block", "heavy"],
    ["trace_filter", "heavy"],
    ["txpool_status", "heavy"],
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

  it("does not know names every JavaScript object inherits", () => {
    for (const name of [...Object.getOwnPropertyNames(Object.prototype), "__proto__", "prototype"]) {
      expect(methodSpec(name)).toBeUndefined();
      expect(labelForMethod(name)).toBe(unknownMethodLabel);
      expect(isOperatorServable(name)).toBe(false);
    }
  });
});

describe("debug, trace and txpool allowlist", () => {
  const stateChanging = [
    "debug_setHead",
    "debug_startCPUProfile",
    "debug_writeMemProfile",
    "debug_setGCPercent",
    "debug_chaindbCompact",
    "debug_standardTraceBlockToFile",
    "debug_dumpBlock",
    "debug_madeUp",
    "trace_madeUp",
    "txpool_madeUp",
    "hardhat_setBalance",
    "evm_mine",
    "anvil_x",
    "admin_peers",
    "miner_start",
    "personal_unlockAccount",
    "engine_forkchoiceUpdatedV3",
    "parity_setMode",
  ];

  it.each(stateChanging)("forbids %s", (method) => {
    expect(classifyMethod(method)).toBe("forbidden");
    const error = validateRequest(request(method, ["/etc/cron.d/x"]));
    expect(error?.code).toBe(RpcErrorCode.MethodNotFound);
    expect(error?.shortMessage).toMatch(/not allowed/);
    expect(isOperatorServable(method)).toBe(false);
  });

  it("labels forbidden names it does not list as unknown, so made-up ones share one series", () => {
    expect(labelForMethod("debug_setHead")).toBe(unknownMethodLabel);
    expect(labelForMethod(`debug_${"x".repeat(100)}`)).toBe(unknownMethodLabel);
    expect(labelForMethod("debug_traceTransaction")).toBe("debug_traceTransaction");
  });

  it("lets operators serve what the gateway routes and nothing that writes", () => {
    for (const method of ["eth_call", "eth_sendRawTransaction", "debug_traceTransaction", "trace_block"]) {
      expect(isOperatorServable(method)).toBe(true);
    }
    for (const method of ["eth_sendTransaction", "eth_sign", "eth_doesNotExist", "ots_getApiLevel"]) {
      expect(isOperatorServable(method)).toBe(false);
    }
  });

  it("holds only read-only heavy methods", () => {
    const heavy = [...methodTable].filter(([, spec]) => spec.class === "heavy").map(([name]) => name);
    expect(heavy.length).toBeGreaterThan(20);
    for (const name of heavy) {
      expect(name).toMatch(
        /^(debug_(trace|getRaw|getBadBlocks|storageRangeAt|accountRange|getModifiedAccounts)|trace_|txpool_)/,
      );
    }
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
