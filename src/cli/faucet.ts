// `din faucet`: ETH and stake tokens on a local network for a key of your own (`--new-key` writes one), so
// you can register an operator or stake next to the ones `din up` made. Paid by the devnet's deployer key
// (`<data-dir>/keys/deployer.key`) unless --key-file/--key-env names another.
import { existsSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { type Address, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { fund } from "../devnet/faucet.js";
import { devnetKeyFile } from "../devnet/ledger.js";
import { ledgerClients } from "../ledger/din/directory.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import {
  type LedgerFlags,
  openLedger,
  parseAddress,
  parseAmount,
  runLedgerCommand,
  signingAccount,
  withLedgerOptions,
} from "./ledger.js";

type FaucetFlags = LedgerFlags & { address?: Address; newKey?: string; eth?: bigint; stake?: bigint };

/** What the faucet gives when not told (token units). */
const defaults = { eth: "10", stake: "100" } as const;

/** Adds `din faucet` to the program. */
export function registerFaucetCommand(program: Command): void {
  withLedgerOptions(
    program
      .command("faucet")
      .description("send ETH and stake tokens to a key of your own on a local network (devnet ledger only)")
      .option("--address <address>", "the address to fund", parseAddress)
      .option("--new-key <file>", "write a new private key to this file (mode 600) and fund its address")
      .option("--eth <amount>", `ETH for gas (default: ${defaults.eth})`, parseAmount)
      .option(
        "--stake <amount>",
        `tokens of each strategy (stETH, rETH) to mint (default: ${defaults.stake})`,
        parseAmount,
      )
      .addHelpText(
        "after",
        "\nThe key paying the gas is the local network's deployer (<data-dir>/keys/deployer.key) unless\n--key-file or --key-env names another.\n\nExamples:\n  din faucet --new-key op.key\n  din faucet --address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --stake 50",
      ),
    { dryRun: false },
  ).action(async (flags: FaucetFlags) => {
    await runLedgerCommand(
      flags,
      async () => {
        if ((flags.address === undefined) === (flags.newKey === undefined)) {
          throw new LedgerActionError("name what to fund: --address <address> or --new-key <file>");
        }
        if (flags.newKey !== undefined && existsSync(flags.newKey)) {
          throw new LedgerActionError(`${flags.newKey} exists; the faucet writes only new key files`);
        }
        const target = openLedger(flags);
        const payer = payerOf(flags);
        const actor = {
          clients: ledgerClients(target.rpc, target.deployment.chainId, payer),
          deployment: target.deployment,
        };
        let address = flags.address;
        let keyFile: string | undefined;
        if (flags.newKey !== undefined) {
          const key = generatePrivateKey();
          writeFileSync(flags.newKey, `${key}\n`, { mode: 0o600, flag: "wx" });
          keyFile = flags.newKey;
          address = privateKeyToAccount(key).address;
        }
        const result = await fund(actor, address as Address, {
          eth: flags.eth ?? parseEther(defaults.eth),
          stake: flags.stake ?? parseEther(defaults.stake),
        });
        return { ...result, ...(keyFile ? { keyFile } : {}) };
      },
      (result) =>
        [
          ...(result.keyFile ? [`wrote a new key to ${result.keyFile} (address ${result.address})`] : []),
          result.summary,
          ...(result.keyFile && result.eth > 0n
            ? [
                `next, as an operator: npx din operator register --key-file ${result.keyFile} … (docs/operators.md)`,
                `      or as a staker: npx din stake deposit --key-file ${result.keyFile} --amount 10 --strategy stETH, then stake delegate`,
              ]
            : []),
        ].join("\n"),
    );
  });
}

/** The key that pays: --key-file, or a set --key-env, else the local network's deployer key. */
function payerOf(flags: FaucetFlags) {
  const envSet = flags.keyEnv !== undefined && (process.env[flags.keyEnv] ?? "") !== "";
  if (flags.keyFile !== undefined || envSet) return signingAccount(flags);
  const deployerKey = devnetKeyFile(flags.dataDir, "deployer");
  if (!existsSync(deployerKey)) {
    throw new LedgerActionError(
      `no deployer key at ${deployerKey}: start a local network with "din up", or pass --key-file of a funded key`,
    );
  }
  return signingAccount({ ...flags, keyFile: deployerKey });
}
