/**
 * The method-class table (reference/rpc-routing.md): how the gateway treats each JSON-RPC method, and
 * the shape its params must have. Pure data and pure functions.
 */
import { isHash32, isQuantity, parseBlockRef } from "./blockTag.js";
import {
  type DinError,
  InvalidParamsError,
  MethodForbiddenError,
  MethodNotFoundError,
  MethodNotSupportedError,
} from "./errors.js";
import { type JsonRpcRequest, positionalParams } from "./jsonrpc.js";

export type MethodClass =
  /** Answered from configuration, never sent upstream. */
  | "local"
  /** From the tracked head; monotonic per session. */
  | "head"
  /** Reads whose answer depends on the head: only non-lagging upstreams; `latest` pinned to the head. */
  | "read"
  /** By hash, or by number for old blocks: cacheable once final; `null` is tried elsewhere first. */
  | "historical"
  | "logs"
  | "broadcast"
  /** `eth_getTransactionCount`: `pending` takes the highest value across upstreams. */
  | "nonce"
  /** Filters: sticky to the upstream that created them. */
  | "stateful"
  /** WebSocket only. */
  | "subscription"
  /** Only upstreams that declare them, with long timeouts. */
  | "heavy"
  | "forbidden";

type ParamKind =
  | "address"
  | "hash"
  | "quantity"
  | "block"
  | "bool"
  | "data"
  | "call"
  | "filter"
  | "filterId"
  | "storageKeys"
  | "percentiles"
  | "any";

export interface MethodSpec {
  class: MethodClass;
  /** Kinds of the positional params, in order. */
  params: readonly ParamKind[];
  /** How many leading params are required. @default params.length */
  required?: number;
  /** Index of the block parameter, when the method has one. */
  blockParam?: number;
}

const spec = (
  methodClass: MethodClass,
  params: readonly ParamKind[] = [],
  extra: Partial<MethodSpec> = {},
): MethodSpec => {
  const blockParam = params.indexOf("block");
  return { class: methodClass, params, ...(blockParam >= 0 ? { blockParam } : {}), ...extra };
};

/**
 * Read-only debug_, trace_ and txpool_ methods: the only "heavy" methods, sent to upstreams that declare
 * them. An allowlist rather than whole namespaces, because the same namespaces hold methods that change or
 * harm a node whatever its operator meant to offer: debug_setHead rewinds the chain, debug_setGCPercent and
 * debug_setBlockProfileRate retune the process, debug_startCPUProfile, debug_writeMemProfile and
 * debug_standardTraceBlockToFile write files at paths the caller chooses, debug_chaindbCompact stalls the
 * database for minutes, debug_dumpBlock serialises the whole state. Every other name in these namespaces
 * is forbidden (`forbiddenNamespaces`). Add a method here only when no node implements it as a write.
 */
const heavyMethods = [
  // Geth-style traces: re-execute transactions and answer the trace.
  "debug_traceTransaction",
  "debug_traceCall",
  "debug_traceBlockByNumber",
  "debug_traceBlockByHash",
  "debug_traceBlock",
  "debug_traceBadBlock",
  // Chain data as stored (RLP), and the blocks the node rejected.
  "debug_getRawBlock",
  "debug_getRawHeader",
  "debug_getRawReceipts",
  "debug_getRawTransaction",
  "debug_getBadBlocks",
  // State reads; nodes bound the page size (Geth: 256 accounts per debug_accountRange page).
  "debug_storageRangeAt",
  "debug_accountRange",
  "debug_getModifiedAccountsByNumber",
  "debug_getModifiedAccountsByHash",
  // Parity-style traces (Erigon, Nethermind, Reth); trace_rawTransaction traces without broadcasting.
  "trace_block",
  "trace_call",
  "trace_callMany",
  "trace_filter",
  "trace_get",
  "trace_rawTransaction",
  "trace_replayBlockTransactions",
  "trace_replayTransaction",
  "trace_transaction",
  // The pending pool, read.
  "txpool_content",
  "txpool_contentFrom",
  "txpool_inspect",
  "txpool_status",
] as const;

const heavySpec = spec("heavy");
const forbiddenSpec = spec("forbidden");

/**
 * Every method this gateway knows, by name. A `Map` (not an object literal) because the key is client
 * input: a plain object would also "know" `constructor`, `toString` or `__proto__`.
 */
export const methodTable: ReadonlyMap<string, MethodSpec> = new Map<string, MethodSpec>([
  ...Object.entries({
    eth_chainId: spec("local"),
    net_version: spec("local"),
    net_listening: spec("local"),
    web3_clientVersion: spec("local"),
    web3_sha3: spec("local", ["data"]),
    eth_syncing: spec("local"),
    eth_accounts: spec("local"),

    eth_blockNumber: spec("head"),

    eth_call: spec("read", ["call", "block", "any"], { required: 1 }),
    eth_estimateGas: spec("read", ["call", "block", "any"], { required: 1 }),
    eth_createAccessList: spec("read", ["call", "block"], { required: 1 }),
    eth_getBalance: spec("read", ["address", "block"], { required: 1 }),
    eth_getCode: spec("read", ["address", "block"], { required: 1 }),
    eth_getStorageAt: spec("read", ["address", "quantity", "block"], { required: 2 }),
    eth_getProof: spec("read", ["address", "storageKeys", "block"]),
    eth_gasPrice: spec("read"),
    eth_maxPriorityFeePerGas: spec("read"),
    eth_blobBaseFee: spec("read"),
    eth_feeHistory: spec("read", ["quantity", "block", "percentiles"], { required: 2 }),

    eth_getBlockByHash: spec("historical", ["hash", "bool"], { required: 1 }),
    eth_getBlockByNumber: spec("historical", ["block", "bool"], { required: 1 }),
    eth_getBlockReceipts: spec("historical", ["block"]),
    eth_getTransactionByHash: spec("historical", ["hash"]),
    eth_getTransactionReceipt: spec("historical", ["hash"]),
    eth_getBlockTransactionCountByHash: spec("historical", ["hash"]),
    eth_getBlockTransactionCountByNumber: spec("historical", ["block"]),
    eth_getTransactionByBlockHashAndIndex: spec("historical", ["hash", "quantity"]),
    eth_getTransactionByBlockNumberAndIndex: spec("historical", ["block", "quantity"]),
    eth_getUncleCountByBlockHash: spec("historical", ["hash"]),
    eth_getUncleCountByBlockNumber: spec("historical", ["block"]),
    eth_getUncleByBlockHashAndIndex: spec("historical", ["hash", "quantity"]),
    eth_getUncleByBlockNumberAndIndex: spec("historical", ["block", "quantity"]),

    eth_getLogs: spec("logs", ["filter"]),

    eth_sendRawTransaction: spec("broadcast", ["data"]),

    eth_getTransactionCount: spec("nonce", ["address", "block"], { required: 1 }),

    eth_newFilter: spec("stateful", ["filter"]),
    eth_newBlockFilter: spec("stateful"),
    eth_newPendingTransactionFilter: spec("stateful", ["any"], { required: 0 }),
    eth_getFilterChanges: spec("stateful", ["filterId"]),
    eth_getFilterLogs: spec("stateful", ["filterId"]),
    eth_uninstallFilter: spec("stateful", ["filterId"]),

    eth_subscribe: spec("subscription", ["any", "any"], { required: 1 }),
    eth_unsubscribe: spec("subscription", ["any"]),

    eth_sign: spec("forbidden"),
    eth_signTransaction: spec("forbidden"),
    eth_signTypedData: spec("forbidden"),
    eth_signTypedData_v3: spec("forbidden"),
    eth_signTypedData_v4: spec("forbidden"),
    eth_sendTransaction: spec("forbidden"),
  }),
  ...heavyMethods.map((method): [string, MethodSpec] => [method, heavySpec]),
]);

/**
 * Namespaces whose every method not in `methodTable` is forbidden, whatever an upstream declares: node
 * administration (admin_, debug_ beyond the allowlist, miner_, clique_, parity_), keys held by the node
 * (personal_, signer_, account_), the consensus-client API (engine_), development chains that rewrite
 * state (hardhat_, evm_, anvil_, ganache_), and trace_/txpool_ methods not known to be read-only.
 */
const forbiddenNamespaces = [
  "admin_",
  "debug_",
  "miner_",
  "clique_",
  "parity_",
  "personal_",
  "signer_",
  "account_",
  "engine_",
  "hardhat_",
  "evm_",
  "anvil_",
  "ganache_",
  "trace_",
  "txpool_",
];

/** The label of every method not in `methodTable`, in metrics and usage: one bucket, not one per name. */
export const unknownMethodLabel = "unknown";

/** The spec of a method, or `undefined` for a method this gateway does not know. */
export function methodSpec(method: string): MethodSpec | undefined {
  const known = methodTable.get(method);
  if (known) return known;
  if (forbiddenNamespaces.some((prefix) => method.startsWith(prefix))) return forbiddenSpec;
  return undefined;
}

/**
 * The method as a metric or usage label: its name when `methodTable` lists it, else `unknownMethodLabel`.
 * Names a client makes up (including forbidden-namespace ones) must not each create a series or a row.
 */
export function labelForMethod(method: string): string {
  return methodTable.has(method) ? method : unknownMethodLabel;
}

/**
 * Whether an operator node may pass `method` to its execution client: only methods this gateway knows and
 * routes (reads, broadcasts, filters, the read-only heavy allowlist). Unknown methods are refused too, so
 * a state-changing method of some client's private namespace cannot reach the node by being new.
 */
export function isOperatorServable(method: string): boolean {
  const known = methodTable.get(method);
  return known !== undefined && known.class !== "forbidden";
}

export function classifyMethod(method: string): MethodClass | undefined {
  return methodSpec(method)?.class;
}

/**
 * Checks a request's method and params. Returns the error to answer with, or `undefined` when the
 * request may be routed. Subscriptions are valid here; transports decide whether they can serve them.
 */
export function validateRequest(request: JsonRpcRequest): DinError | undefined {
  const methodSpecOf = methodSpec(request.method);
  if (!methodSpecOf) return new MethodNotFoundError(request.method);
  if (methodSpecOf.class === "forbidden") {
    return new MethodForbiddenError(
      request.method,
      request.method.startsWith("eth_")
        ? "account and signing methods are not offered by OpenDIN; sign locally and use eth_sendRawTransaction"
        : "OpenDIN offers no method that changes or administers a node; of debug_, trace_ and txpool_ only the read-only methods are served",
    );
  }
  if (methodSpecOf.class === "heavy") return undefined; // free-form params; upstreams that declare them validate
  if (request.params !== undefined && !Array.isArray(request.params)) {
    return new InvalidParamsError(`${request.method} takes positional params (an array)`);
  }
  const params = positionalParams(request);
  const required = methodSpecOf.required ?? methodSpecOf.params.length;
  if (params.length < required) {
    return new InvalidParamsError(
      `${request.method} expects at least ${required} param${required === 1 ? "" : "s"}, got ${params.length}`,
    );
  }
  if (params.length > methodSpecOf.params.length) {
    return new InvalidParamsError(
      `${request.method} expects at most ${methodSpecOf.params.length} params, got ${params.length}`,
    );
  }
  for (let index = 0; index < params.length; index++) {
    const kind = methodSpecOf.params[index]!;
    const problem = checkParam(kind, params[index]);
    if (problem) return new InvalidParamsError(`param ${index} of ${request.method}: ${problem}`);
  }
  return undefined;
}

/** Explains why a request is refused over plain HTTP (subscriptions need a socket). */
export function subscriptionOverHttpError(method: string): DinError {
  return new MethodNotSupportedError(method, "subscriptions need a WebSocket connection (/ws/v1/<network>)");
}

const addressPattern = /^0x[0-9a-fA-F]{40}$/;
const dataPattern = /^0x([0-9a-fA-F]{2})*$/;

function checkParam(kind: ParamKind, value: unknown): string | undefined {
  switch (kind) {
    case "address":
      return isAddress(value) ? undefined : "expected a 20-byte hex address";
    case "hash":
      return isHash32(value) ? undefined : "expected a 32-byte hex hash";
    case "quantity":
      return isQuantity(value) || (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
        ? undefined
        : "expected a hex quantity such as 0x1a";
    case "block":
      return parseBlockRef(value)
        ? undefined
        : 'expected a block number (hex), a tag ("latest", "safe", "finalized", "earliest", "pending") or {"blockHash"}';
    case "bool":
      return typeof value === "boolean" ? undefined : "expected true or false";
    case "data":
      return typeof value === "string" && dataPattern.test(value)
        ? undefined
        : "expected 0x-prefixed hex bytes";
    case "call":
      return checkCall(value);
    case "filter":
      return checkFilter(value);
    case "filterId":
      return isQuantity(value) || (typeof value === "string" && dataPattern.test(value))
        ? undefined
        : "expected a filter id";
    case "storageKeys":
      return Array.isArray(value) && value.every((key) => typeof key === "string" && dataPattern.test(key))
        ? undefined
        : "expected an array of storage keys";
    case "percentiles":
      return Array.isArray(value) && value.every((p) => typeof p === "number" && p >= 0 && p <= 100)
        ? undefined
        : "expected an array of percentiles between 0 and 100";
    case "any":
      return undefined;
  }
}

function isAddress(value: unknown): value is string {
  return typeof value === "string" && addressPattern.test(value);
}

function checkCall(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a call object";
  const call = value as Record<string, unknown>;
  for (const field of ["from", "to"] as const) {
    if (call[field] !== undefined && call[field] !== null && !isAddress(call[field])) {
      return `"${field}" must be a 20-byte hex address`;
    }
  }
  for (const field of [
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "value",
    "nonce",
  ] as const) {
    if (call[field] !== undefined && call[field] !== null && !isQuantity(call[field])) {
      return `"${field}" must be a hex quantity`;
    }
  }
  for (const field of ["data", "input"] as const) {
    if (call[field] !== undefined && call[field] !== null) {
      if (typeof call[field] !== "string" || !dataPattern.test(call[field]))
        return `"${field}" must be hex bytes`;
    }
  }
  return undefined;
}

function checkFilter(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected a filter object";
  const filter = value as Record<string, unknown>;
  for (const field of ["fromBlock", "toBlock"] as const) {
    if (filter[field] !== undefined && !parseBlockRef(filter[field]))
      return `"${field}" must be a block number or tag`;
  }
  if (filter.blockHash !== undefined) {
    if (!isHash32(filter.blockHash)) return '"blockHash" must be a 32-byte hex hash';
    if (filter.fromBlock !== undefined || filter.toBlock !== undefined) {
      return '"blockHash" cannot be combined with "fromBlock"/"toBlock"';
    }
  }
  const address = filter.address;
  if (address !== undefined && address !== null) {
    const ok = isAddress(address) || (Array.isArray(address) && address.every(isAddress));
    if (!ok) return '"address" must be an address or an array of addresses';
  }
  const topics = filter.topics;
  if (topics !== undefined && topics !== null) {
    if (!Array.isArray(topics) || topics.length > 4) return '"topics" must be an array of at most 4 entries';
    for (const topic of topics) {
      const ok =
        topic === null ||
        isHash32(topic) ||
        (Array.isArray(topic) && topic.every((t) => t === null || isHash32(t)));
      if (!ok) return '"topics" entries must be null, a 32-byte hash or an array of them';
    }
  }
  return undefined;
}
