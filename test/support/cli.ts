// The `din` command as tests run it: a child process from the repository root, with no signing key in the
// environment (a test names its key), resolving with the exit code and both outputs whatever the code.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Hex, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { HARDHAT_DEFAULT_MNEMONIC } from "../../src/devnet/chain.js";

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");

export type DinRun = { code: number; stdout: string; stderr: string };

/** Runs `din …`. */
export async function din(args: string[]): Promise<DinRun> {
  try {
    const { stdout, stderr } = await execFileAsync("node", ["bin/din.mjs", ...args], {
      cwd: root,
      env: { ...process.env, DIN_PRIVATE_KEY: "" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The private key of Hardhat's development account #`index`. */
export function devKey(index: number): Hex {
  const key = mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error("no private key");
  return toHex(key);
}
