// How the watcher reads a failed ledger call: the custom error a contract reverted with (the keeper's
// decisions hang on it: "already reported", "not finalizable", "relay already used", …) and a one-line
// message for the log.
import { BaseError } from "viem";
import { revertOf } from "../ledger/din/revert.js";

/** The custom error a ledger call reverted with, if it did (the ledger's one decoder, revert.ts). */
export function revertName(error: unknown): string | undefined {
  const name = revertOf(error)?.errorName;
  // A plain require() message or a panic names no custom error.
  return name === "Error" || name === "Panic" ? undefined : name;
}

/** A failure in one line, for the log. */
export const shortError = (error: unknown): string =>
  error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error);
