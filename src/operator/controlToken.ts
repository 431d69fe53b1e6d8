// The secret that guards a devnet operator's chaos control. The control listens on 127.0.0.1 only, but
// anything on the machine can reach that — a web page included — and it can take operators down: a change
// needs `authorization: Bearer <token>`. The token lives in a file only its owner can read.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Shortest token accepted: a guessable secret guards nothing. */
export const minControlTokenLength = 32;

/** The token file is missing, unreadable, too open or malformed. */
export class ControlTokenError extends Error {
  override name = "ControlTokenError";
}

/** A fresh random token (32 bytes, hex). */
export function generateControlToken(): string {
  return randomBytes(32).toString("hex");
}

/** Whether `token` is long enough and safe in an HTTP header. */
export function isValidControlToken(token: string): boolean {
  return token.length >= minControlTokenLength && /^[\x21-\x7e]+$/.test(token);
}

/** Writes `token` to `file` with mode 0600, replacing what was there. */
export function writeControlToken(file: string, token: string): void {
  if (!isValidControlToken(token)) throw new ControlTokenError("refusing to write a weak control token");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp`;
  // A leftover temporary file would keep its old mode: start from none.
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** Reads a token file, refusing (on POSIX) one that its group or others may read. */
export function readControlToken(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ControlTokenError(
      code === "ENOENT" ? `no chaos control token in ${file}` : `cannot read ${file}: ${code}`,
    );
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new ControlTokenError(
      `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  }
  const token = readFileSync(file, "utf8").trim();
  if (!isValidControlToken(token)) {
    throw new ControlTokenError(
      `${file} does not hold a control token (at least ${minControlTokenLength} characters)`,
    );
  }
  return token;
}

/** The token in `file`, created with a random one first if the file does not exist. */
export function loadOrCreateControlToken(file: string): string {
  try {
    statSync(file);
  } catch {
    writeControlToken(file, generateControlToken());
  }
  return readControlToken(file);
}

/** Whether an `authorization` header carries `token`, compared in constant time. */
export function controlTokenMatches(token: string, authorization: string | undefined): boolean {
  const presented = /^Bearer (\S+)$/i.exec(authorization ?? "")?.[1];
  if (presented === undefined) return false;
  // Digests have one length, so the comparison leaks neither the token nor its length.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}
