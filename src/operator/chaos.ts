// Fault injection for devnet operators: the chaos state, its validation, and the pure rewrites that make a
// healthy execution client look lagging or lying. The proxy (proxy.ts) applies them in front of the real
// node; everything here works on plain JSON values and is tested without a network.
import { z } from "zod";
import { fromQuantity, toQuantity } from "../rpc/blockTag.js";

/** The faults an operator can be told to show. `ok` means no fault. */
export const chaosModes = ["ok", "down", "slow", "lag", "lie", "corrupt", "flap", "errors"] as const;
export type ChaosMode = (typeof chaosModes)[number];

/** What the operator is currently doing wrong, if anything. `value` is the mode's parameter. */
export interface ChaosState {
  mode: ChaosMode;
  /**
   * `slow`: extra ms before answering (@default 500); `lag`: blocks behind the real head (@default 20);
   * `flap`: ms per down/up phase (@default 1000); `errors`: percent of HTTP requests answered 503
   * (@default 50). Ignored by `ok`, `down`, `lie` and `corrupt`.
   */
  value?: number;
  /** The fault ends by itself (back to `ok`) after this many ms. @default until changed */
  forMs?: number;
}

/** Defaults of each mode's `value`, in one place. */
export const chaosDefaults = {
  slow: 500,
  lag: 20,
  flap: 1000,
  errors: 50,
} as const satisfies Partial<Record<ChaosMode, number>>;

// Bounds keep a typo from wedging a devnet: an hour of delay or a 1 ms flap is never what was meant.
const maxSlowMs = 600_000;
const minFlapMs = 10;
const maxFlapMs = 3_600_000;
/** A fault that ends by itself lasts at most a day. */
export const maxChaosForMs = 86_400_000;

/** Validates a chaos state as sent to `POST /chaos`. */
export const chaosStateSchema = z
  .object({
    mode: z.enum(chaosModes),
    value: z.number().finite().nonnegative().optional(),
    forMs: z.number().int().positive().max(maxChaosForMs).optional(),
  })
  .strict()
  .superRefine((state, ctx) => {
    const { mode, value } = state;
    if (value === undefined) return;
    const fail = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["value"], message });
    if (mode === "slow" && value > maxSlowMs) fail(`slow takes at most ${maxSlowMs} ms`);
    if (mode === "lag" && !Number.isInteger(value)) fail("lag takes a whole number of blocks");
    if (mode === "flap" && (value < minFlapMs || value > maxFlapMs)) {
      fail(`flap takes a period between ${minFlapMs} and ${maxFlapMs} ms`);
    }
    if (mode === "errors" && value > 100) fail("errors takes a percentage between 0 and 100");
  });

export type ChaosParseResult = { ok: true; state: ChaosState } | { ok: false; message: string };

/** Parses and normalizes a chaos state; the message names the bad field. */
export function parseChaosState(input: unknown): ChaosParseResult {
  const parsed = chaosStateSchema.safeParse(input);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
      .join("; ");
    return { ok: false, message: `invalid chaos state: ${message}` };
  }
  return { ok: true, state: normalizeChaosState(parsed.data) };
}

/** Fills the mode's default value and drops values the mode does not use. */
export function normalizeChaosState(state: ChaosState): ChaosState {
  const { mode } = state;
  if (mode === "ok") return { mode };
  const until = state.forMs !== undefined ? { forMs: state.forMs } : {};
  if (mode === "down" || mode === "lie" || mode === "corrupt") return { mode, ...until };
  return { mode, value: state.value ?? chaosDefaults[mode], ...until };
}

/** Whether an HTTP request is failed in `errors` mode; `random` is injectable for tests. */
export function injectsError(percent: number, random: () => number = Math.random): boolean {
  return random() * 100 < percent;
}

// ---- block numbers ----

/** The head a node lagging `lagBlocks` behind `realHead` would report. */
export function laggedHeadOf(realHead: bigint, lagBlocks: number): bigint {
  const lag = BigInt(Math.max(0, Math.trunc(lagBlocks)));
  return realHead > lag ? realHead - lag : 0n;
}

// Tags that mean "relative to the head": a lagging node resolves them against its own, older head.
const headRelativeTags = new Set(["latest", "pending", "safe", "finalized"]);

type BlockParamRewrite = { kind: "param"; value: unknown } | { kind: "beyondHead" };

/** Resolves a block parameter (tag, number or EIP-1898 object) as a node whose head is `laggedHead` would. */
export function rewriteBlockParam(param: unknown, laggedHead: bigint): BlockParamRewrite {
  if (param === undefined) return { kind: "param", value: toQuantity(laggedHead) };
  if (typeof param === "string") {
    if (headRelativeTags.has(param)) return { kind: "param", value: toQuantity(laggedHead) };
    const number = fromQuantity(param);
    if (number !== undefined && number > laggedHead) return { kind: "beyondHead" };
    return { kind: "param", value: param };
  }
  if (typeof param === "object" && param !== null && "blockNumber" in param) {
    const inner = rewriteBlockParam((param as { blockNumber: unknown }).blockNumber, laggedHead);
    if (inner.kind === "beyondHead") return inner;
    return { kind: "param", value: { ...param, blockNumber: inner.value } };
  }
  // A block hash (EIP-1898 `blockHash`) or something malformed: the upstream answers or rejects it.
  return { kind: "param", value: param };
}

/** Where the block parameter sits for methods that read state at a block. Beyond the head → "header not found". */
const stateReadBlockParam: Readonly<Record<string, number>> = {
  eth_call: 1,
  eth_estimateGas: 1,
  eth_createAccessList: 1,
  eth_getBalance: 1,
  eth_getCode: 1,
  eth_getTransactionCount: 1,
  eth_getStorageAt: 2,
  eth_getProof: 2,
  eth_feeHistory: 1,
};

/** Where the block parameter sits for methods that look a block up by number. Beyond the head → `null`. */
const blockLookupParam: Readonly<Record<string, number>> = {
  eth_getBlockByNumber: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_getUncleCountByBlockNumber: 0,
  eth_getUncleByBlockNumberAndIndex: 0,
  eth_getBlockReceipts: 0,
};

/** JSON-RPC error of geth when a state read names a block it does not have yet. */
export const headerNotFound = { code: -32000, message: "header not found" } as const;

/** How a lagging operator handles one call: answer locally, or forward (possibly rewritten) params. */
export type LagPlan =
  | { kind: "answer"; result: unknown }
  | { kind: "error"; error: { code: number; message: string } }
  | { kind: "forward"; params: unknown };

/** Plans one JSON-RPC call as a node whose head is `laggedHead` would serve it. */
export function planLaggedCall(method: string, params: unknown, laggedHead: bigint): LagPlan {
  if (method === "eth_blockNumber") return { kind: "answer", result: toQuantity(laggedHead) };
  if (method === "eth_getLogs") return planLaggedLogs(params, laggedHead);
  const stateIndex = stateReadBlockParam[method];
  const lookupIndex = blockLookupParam[method];
  const index = stateIndex ?? lookupIndex;
  if (index === undefined || !Array.isArray(params)) return { kind: "forward", params };
  // A missing block parameter defaults to `latest`, but only when everything before it is present.
  if (params.length < index) return { kind: "forward", params };
  const rewrite = rewriteBlockParam(params[index], laggedHead);
  if (rewrite.kind === "beyondHead") {
    return stateIndex !== undefined
      ? { kind: "error", error: headerNotFound }
      : { kind: "answer", result: null };
  }
  const rewritten = [...params];
  rewritten[index] = rewrite.value;
  return { kind: "forward", params: rewritten };
}

function planLaggedLogs(params: unknown, laggedHead: bigint): LagPlan {
  const filter: unknown = Array.isArray(params) ? params[0] : undefined;
  if (typeof filter !== "object" || filter === null || "blockHash" in filter)
    return { kind: "forward", params };
  const range = filter as { fromBlock?: unknown; toBlock?: unknown };
  const from = rewriteBlockParam(range.fromBlock, laggedHead);
  if (from.kind === "beyondHead") return { kind: "answer", result: [] };
  const to = rewriteBlockParam(range.toBlock, laggedHead);
  const toBlock = to.kind === "beyondHead" ? toQuantity(laggedHead) : to.value;
  return {
    kind: "forward",
    params: [{ ...filter, fromBlock: from.value, toBlock }, ...(params as unknown[]).slice(1)],
  };
}

// Results that carry the block they belong to: a lagging node has not seen blocks past its head.
const blockNumberField: Readonly<Record<string, "number" | "blockNumber">> = {
  eth_getBlockByHash: "number",
  eth_getTransactionByHash: "blockNumber",
  eth_getTransactionReceipt: "blockNumber",
  eth_getTransactionByBlockHashAndIndex: "blockNumber",
};

/** Hides from an upstream result whatever is newer than `laggedHead`. */
export function lagResult(method: string, result: unknown, laggedHead: bigint): unknown {
  if (method === "eth_getLogs" && Array.isArray(result)) {
    return result.filter((log: unknown) => !isBeyond(log, "blockNumber", laggedHead));
  }
  const field = blockNumberField[method];
  if (field !== undefined && isBeyond(result, field, laggedHead)) return null;
  return result;
}

function isBeyond(value: unknown, field: string, laggedHead: bigint): boolean {
  if (typeof value !== "object" || value === null) return false;
  const number = fromQuantity((value as Record<string, unknown>)[field]);
  return number !== undefined && number > laggedHead;
}

// ---- lie ----

const oneEther = 10n ** 18n;

/**
 * Changes a 32-byte hash deterministically, so a liar tells the same lie every time (as a faulty or
 * malicious node would) and a cross-check against an honest node always disagrees.
 */
export function alterHash(hash: unknown): unknown {
  if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) return hash;
  const tail = (Number.parseInt(hash.slice(-8), 16) ^ 0x0badf00d) >>> 0;
  return `${hash.slice(0, -8)}${tail.toString(16).padStart(8, "0")}`;
}

/**
 * Makes an upstream result wrong in the ways a watcher must catch: block hashes and balances (`lie`), or
 * balances only (`corrupt`: a node whose headers are right and whose state database is not — no block
 * hash gives it away, only a cross-check of state). `eth_blockNumber` stays correct on purpose, so the
 * liar looks healthy to head tracking.
 */
export function lieResult(method: string, result: unknown, mode: "lie" | "corrupt" = "lie"): unknown {
  if (
    mode === "lie" &&
    (method === "eth_getBlockByNumber" || method === "eth_getBlockByHash") &&
    isRecord(result)
  ) {
    return { ...result, hash: alterHash(result.hash), parentHash: alterHash(result.parentHash) };
  }
  if (method === "eth_getBalance") {
    const balance = fromQuantity(result);
    return balance === undefined ? result : toQuantity(balance + oneEther);
  }
  return result;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
