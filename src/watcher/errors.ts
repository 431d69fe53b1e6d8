// How the watcher reads a failed ledger call: the custom error a contract reverted with (the keeper's
// decisions hang on it: "already reported", "not finalizable", "relay already used", …) and a one-line
// message for the log.
import { type Abi, BaseError, ContractFunctionRevertedError, decodeErrorResult } from "viem";
import { dinEpochsAbi, dinRegistryAbi, dinSlasherAbi } from "../ledger/artifacts/index.js";

const LEDGER_ERRORS = [...dinEpochsAbi, ...dinSlasherAbi, ...dinRegistryAbi].filter(
  (item) => item.type === "error",
) as Abi;

/** The custom error a ledger call reverted with, if it did. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined;
  if (reverted.data?.errorName) return reverted.data.errorName;
  if (reverted.raw) {
    try {
      return decodeErrorResult({ abi: LEDGER_ERRORS, data: reverted.raw }).errorName;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A failure in one line, for the log. */
export const shortError = (error: unknown): string =>
  error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
