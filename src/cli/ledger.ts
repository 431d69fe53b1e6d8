// What every `din` command that acts on the ledger shares: where the ledger and the deployment are
// (`--rpc` + `--deployment`, or the `--data-dir` of a running `din up`), which key signs (`--key-file` or
// `--key-env`), `--dry-run` and `--json`, amounts in token units, and one way to print a result or fail
// with one line on stderr.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  type Address,
  getAddress,
  type Hex,
  isAddress,
  type LocalAccount,
  type PublicClient,
  parseUnits,
} from "viem";
import { defaultDataDir, stateFile } from "../devnet/state.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { connectLedger, ledgerClients, readDeployment } from "../ledger/din/directory.js";
import { LedgerActionError, type LedgerActor, type LedgerCall } from "../ledger/din/perform.js";
import { explainLedgerError } from "../ledger/din/revert.js";
import { DEFAULT_KEY_ENV, loadSigningKey, SigningKeyError } from "../ledger/din/signingKey.js";

/** Flags of a ledger command (see {@link withLedgerOptions}). */
export type LedgerFlags = {
  rpc?: string;
  deployment?: string;
  dataDir: string;
  keyFile?: string;
  keyEnv?: string;
  dryRun?: boolean;
  json: boolean;
};

/** Which shared flags a command takes. */
export type LedgerOptionSet = {
  /** Signs transactions: --key-file / --key-env. @default true */
  key?: boolean;
  /** Sends transactions: --dry-run. @default true */
  dryRun?: boolean;
};

/** Adds the shared ledger flags to `command`. */
export function withLedgerOptions(command: Command, set: LedgerOptionSet = {}): Command {
  command
    .option("--rpc <url>", "JSON-RPC URL of the ledger (with --deployment)")
    .option("--deployment <file>", "deployment JSON of the DIN contracts (with --rpc)")
    .option("--data-dir <dir>", "data dir of a running `din up` (its ledger and deployment)", defaultDataDir);
  if (set.key ?? true) {
    command
      .option("--key-file <path>", "file holding the 0x private key that signs (mode 600)")
      .option("--key-env <name>", "environment variable holding the private key", DEFAULT_KEY_ENV);
  }
  if (set.dryRun ?? true) {
    command.option("--dry-run", "simulate and print the calls without sending anything", false);
  }
  return command.option("--json", "print one JSON document", false);
}

/** The ledger and deployment a command acts on. */
export type LedgerTarget = { rpc: string; deployment: DinDeployment; public: PublicClient };

/** Finds the ledger: `--rpc` + `--deployment`, or the data dir's network.json and ledger/deployment.json. */
export function openLedger(flags: LedgerFlags): LedgerTarget {
  let rpc = flags.rpc;
  const deploymentFile = flags.deployment ?? join(flags.dataDir, "ledger", "deployment.json");
  if (rpc === undefined) {
    if (flags.deployment !== undefined) throw new LedgerActionError("--deployment needs --rpc <url> too");
    let state: { ledger?: { rpc?: unknown } };
    try {
      state = JSON.parse(readFileSync(stateFile(flags.dataDir), "utf8"));
    } catch {
      throw new LedgerActionError(
        `no running network in ${flags.dataDir} (start one with "din up", or pass --rpc and --deployment)`,
      );
    }
    if (typeof state.ledger?.rpc !== "string") {
      throw new LedgerActionError(
        `the network in ${flags.dataDir} has no ledger; pass --rpc and --deployment`,
      );
    }
    rpc = state.ledger.rpc;
  }
  let deployment: DinDeployment;
  try {
    deployment = readDeployment(deploymentFile);
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
  return { rpc, deployment, public: connectLedger(rpc, deployment.chainId).public };
}

/** The signing account of `--key-file` / `--key-env`. */
export function signingAccount(flags: LedgerFlags): LocalAccount {
  return loadSigningKey({
    ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
    ...(flags.keyEnv !== undefined ? { keyEnv: flags.keyEnv } : {}),
  });
}

/**
 * Whom a reading command is about: `--address`, else the signing key's address. `who` names the role in the
 * refusal when there is neither (`staker`, `operator`); without it, no key means no one (undefined).
 */
export function subjectAddress(flags: LedgerFlags & { address?: Address }, who: string): Address;
export function subjectAddress(flags: LedgerFlags & { address?: Address }): Address | undefined;
export function subjectAddress(
  flags: LedgerFlags & { address?: Address },
  who?: string,
): Address | undefined {
  if (flags.address !== undefined) return flags.address;
  try {
    return signingAccount(flags).address;
  } catch (error) {
    if (who === undefined) return undefined;
    throw new LedgerActionError(`${(error as Error).message}, or name the ${who} with --address`);
  }
}

/** Who acts: the signing key's wallet on the ledger, with the deployment. */
export function openActor(flags: LedgerFlags): LedgerActor & { target: LedgerTarget } {
  const account = signingAccount(flags);
  const target = openLedger(flags);
  return {
    clients: ledgerClients(target.rpc, target.deployment.chainId, account),
    deployment: target.deployment,
    target,
  };
}

/** Where the published rewards are: `--rewards` or `<data-dir>/ledger/rewards.json`. */
export const rewardsFileOf = (flags: LedgerFlags & { rewards?: string }): string =>
  flags.rewards ?? join(flags.dataDir, "ledger", "rewards.json");

/** JSON with bigints as decimal strings. */
export function toJsonDocument(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** Parses a decimal token amount (18 decimals), e.g. "10" or "0.5". */
export function parseAmount(value: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(value.trim())) {
    throw new InvalidArgumentError("expected a decimal amount of tokens, e.g. 10 or 0.5");
  }
  return parseUnits(value.trim(), 18);
}

/** Parses a share of stake between 0 and 1 as a wad, e.g. "0.5". */
export function parseWad(value: string): bigint {
  const wad = parseAmount(value);
  if (wad > 10n ** 18n) throw new InvalidArgumentError("expected a share between 0 and 1, e.g. 0.5");
  return wad;
}

/** Parses an address (checksummed on the way out). */
export function parseAddress(value: string): Address {
  if (!isAddress(value, { strict: false })) throw new InvalidArgumentError("expected a 0x address");
  return getAddress(value);
}

/** Parses 0x-prefixed hex bytes (an even number of digits), e.g. a signature. */
export function parseHexBytes(value: string): Hex {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(value)) throw new InvalidArgumentError("expected 0x-prefixed hex bytes");
  return value.toLowerCase() as Hex;
}

/** Parses a 32-byte 0x hex value, e.g. a salt. */
export function parseBytes32(value: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw new InvalidArgumentError("expected 32 bytes as 0x + 64 hex digits");
  return value.toLowerCase() as Hex;
}

/** Parses a non-negative integer id. */
export function parseId(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a non-negative integer");
  return BigInt(value);
}

/** The calls of a result, one per line, for humans. */
export function formatCalls(calls: readonly LedgerCall[]): string {
  return calls
    .map(
      (c, i) =>
        `  ${i + 1}. ${c.function} → ${c.to}${c.simulated ? "" : " (simulated after the calls before it are mined)"}`,
    )
    .join("\n");
}

/** One line for any failure of a ledger command. */
export function failureMessage(error: unknown): string {
  if (error instanceof LedgerActionError || error instanceof SigningKeyError) return error.message;
  return explainLedgerError(error);
}

/**
 * Runs a command's work: prints its result (one JSON document with `--json`, else `text(result)`), or one
 * line on stderr and exit code 1.
 */
export async function runLedgerCommand<T>(
  flags: { json: boolean },
  work: () => Promise<T>,
  text: (result: T) => string,
): Promise<void> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    process.stderr.write(`error: ${failureMessage(error)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${flags.json ? toJsonDocument(result) : text(result)}\n`);
}

/** Human text of an action result: its summary, and in a dry run the calls it would send. */
export function actionText(result: { summary: string; dryRun: boolean; calls: LedgerCall[] }): string {
  if (!result.dryRun || result.calls.length === 0) return result.summary;
  return `${result.summary}\ncalls (not sent):\n${formatCalls(result.calls)}`;
}
