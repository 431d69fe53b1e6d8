// Shared pieces of the watcher's unit tests (src/watcher/*.test.ts): a ledger revert as viem reports it, a
// logger that keeps what it logged, and a fresh watcher state.
import { pino } from "pino";
import {
  type Abi,
  type Address,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
} from "viem";
import { dinEpochsAbi, dinRegistryAbi, dinSlasherAbi } from "../../src/ledger/artifacts/index.js";
import { emptyState, type WatcherState } from "../../src/watcher/state.js";

const ledgerErrors = [...dinEpochsAbi, ...dinSlasherAbi, ...dinRegistryAbi].filter(
  (item) => item.type === "error",
) as Abi;

/** The error a ledger write or read throws when the contract reverts with the custom error `errorName`. */
export function reverted(errorName: string, args: readonly unknown[] = [], functionName = "call"): Error {
  const data = encodeErrorResult({ abi: ledgerErrors, errorName, args: args as never });
  const cause = new ContractFunctionRevertedError({ abi: ledgerErrors, data, functionName });
  return new ContractFunctionExecutionError(cause, { abi: ledgerErrors, functionName, args: [] });
}

/** One logged line. */
export type LogLine = { level: number; msg: string; [key: string]: unknown };

/** A pino logger that keeps every line (debug and up), with the warnings and errors picked out. */
export function recordingLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: "debug" }, { write: (text: string) => void lines.push(JSON.parse(text)) });
  return {
    log,
    lines,
    /** Messages at warn level and above. */
    problems: () => lines.filter((l) => l.level >= 40).map((l) => l.msg),
  };
}

export const WATCHER: Address = "0x00000000000000000000000000000000000000a1";
export const OTHER_WATCHER: Address = "0x00000000000000000000000000000000000000b2";
export const REGISTRY: Address = "0x00000000000000000000000000000000000000c3";
export const LEDGER_CHAIN_ID = 31337;

/** A fresh state of {@link WATCHER}. */
export function freshState(): WatcherState {
  return emptyState(WATCHER, REGISTRY, LEDGER_CHAIN_ID);
}
