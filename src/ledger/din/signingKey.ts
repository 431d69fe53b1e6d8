// The key a role signs ledger transactions with: a 0x private key in a file only its owner can read, or
// in an environment variable. Never printed; a wrong or exposed key is refused with a clear message.
import { readFileSync, statSync } from "node:fs";
import type { Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** Environment variable read when neither a key file nor another variable is named. */
export const DEFAULT_KEY_ENV = "DIN_PRIVATE_KEY";

/** Where the signing key comes from. */
export type SigningKeySource = {
  /** A file holding the 0x-prefixed 32-byte hex key (whitespace around it is ignored). Wins over `keyEnv`. */
  keyFile?: string;
  /** Name of the environment variable holding the key. @default "DIN_PRIVATE_KEY" */
  keyEnv?: string;
  /** Environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
};

/** The key is missing, malformed, or readable by others. */
export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

const KEY_PATTERN = /^0x[0-9a-fA-F]{64}$/;

/** A 0x 32-byte hex key from `text`, or a SigningKeyError naming `source` (never the text itself). */
export function parsePrivateKey(text: string, source: string): Hex {
  const key = text.trim();
  if (!KEY_PATTERN.test(key)) {
    throw new SigningKeyError(
      `${source} does not hold a private key (expected 0x followed by 64 hex digits)`,
    );
  }
  return key as Hex;
}

/** Reads a key file, refusing (on POSIX) one that its group or others may read. */
export function readPrivateKeyFile(path: string): Hex {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SigningKeyError(
      code === "ENOENT" ? `key file ${path} does not exist` : `cannot read key file ${path}: ${code}`,
    );
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new SigningKeyError(
      `key file ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SigningKeyError(`cannot read key file ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  return parsePrivateKey(text, `key file ${path}`);
}

/** The signing account from `--key-file` or `--key-env` (default DIN_PRIVATE_KEY). */
export function loadSigningKey(source: SigningKeySource = {}): LocalAccount {
  if (source.keyFile !== undefined) return privateKeyToAccount(readPrivateKeyFile(source.keyFile));
  const name = source.keyEnv ?? DEFAULT_KEY_ENV;
  const value = (source.env ?? process.env)[name];
  if (value === undefined || value.trim() === "") {
    throw new SigningKeyError(`no signing key: set ${name} or pass --key-file <path>`);
  }
  return privateKeyToAccount(parsePrivateKey(value, `environment variable ${name}`));
}
