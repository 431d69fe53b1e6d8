// `din deploy`: the DIN service (and, unless told to use an existing one, our restaking core) on any EVM
// JSON-RPC endpoint. `--eigenlayer FILE` deploys only the service against the core the file describes
// (EigenLayer's on a testnet or mainnet, or ours from `--core-only`); every address is checked first. The
// deployment file it writes is what `din gateway`, `din operator`, `din watcher` and `din stake` read.
import { Command, InvalidArgumentError, Option } from "commander";
import type { Address } from "viem";
import {
  CORE_DEPLOYMENT_GAS,
  type CoreAddresses,
  CoreAddressesError,
  checkFunds,
  DIN_DEPLOYMENT_GAS,
  readCoreAddresses,
  verifyCore,
  writeCoreAddresses,
} from "../ledger/din/coreAddresses.js";
import { DIN_PRESETS, type DinDeployment, type DinNetwork } from "../ledger/din/deploy.js";
import { deployCoreAlone, deployDinOnCore } from "../ledger/din/deployCore.js";
import { connectLedger, ledgerClients } from "../ledger/din/directory.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import { loadSigningKey } from "../ledger/din/signingKey.js";
import { parseAddress, runLedgerCommand } from "./ledger.js";

type DeployFlags = {
  rpc: string;
  keyFile?: string;
  keyEnv?: string;
  eigenlayer?: string;
  coreOnly: boolean;
  preset: "devnet" | "testnet" | "mainnet";
  out: string;
  coreOut?: string;
  guardian?: Address;
  watcher: Address[];
  gateway: Address[];
  network: DinNetwork[];
  token: Address[];
  dryRun: boolean;
  json: boolean;
};

const WAD = 10n ** 18n;

/** Parses `name:chainId[:minStake]` (minStake in whole tokens). */
function parseNetwork(value: string, previous: DinNetwork[] = []): DinNetwork[] {
  const match = /^([a-z][a-z0-9-]*):(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected name:chainId[:minStake], e.g. ethereum:1:32");
  const [, name, chainId, minStake] = match;
  return [
    ...previous,
    {
      id: previous.length + 1,
      name: name as string,
      chainId: BigInt(chainId as string),
      minStake: BigInt(minStake ?? "32") * WAD,
    },
  ];
}
const collectAddress = (value: string, previous: Address[] = []) => [...previous, parseAddress(value)];

/** What `din deploy` did (or, in a dry run, checked and would do). */
export type DeployResult = {
  dryRun: boolean;
  chainId: number;
  deployer: Address;
  /** The core deployed or used. */
  core?: CoreAddresses;
  /** The DIN deployment (not in a dry run, nor with --core-only). */
  deployment?: DinDeployment;
  files: string[];
  summary: string;
};

/** Adds `din deploy` to the program. */
export function registerDeployCommand(program: Command): void {
  program.addCommand(
    new Command("deploy")
      .description(
        "deploy the DIN service (and our restaking core, unless --eigenlayer names one) to an EVM chain",
      )
      .requiredOption("--rpc <url>", "JSON-RPC URL of the chain to deploy to")
      .option("--key-file <path>", "file holding the deployer's 0x private key (mode 600)")
      .option("--key-env <name>", "environment variable holding the deployer's private key")
      .option(
        "--eigenlayer <file>",
        "JSON file of an existing core's addresses: deploy only the DIN service on it",
      )
      .option("--core-only", "deploy our restaking core alone and write its addresses file (--out)", false)
      .addOption(
        new Option(
          "--preset <preset>",
          "parameters: devnet (blocks, minutes) or testnet/mainnet (days, weeks)",
        )
          .choices(["devnet", "testnet", "mainnet"])
          .default("devnet"),
      )
      .option(
        "--out <file>",
        "where to write the deployment (or with --core-only the core addresses)",
        "deployment.json",
      )
      .option("--core-out <file>", "also write the core addresses file of a full deployment here")
      .option("--guardian <address>", "holds the veto and pause roles (default: the deployer)", parseAddress)
      .option("--watcher <address>", "a watcher admitted at deployment (repeatable)", collectAddress, [])
      .option("--gateway <address>", "a gateway admitted at deployment (repeatable)", collectAddress, [])
      .option(
        "--network <name:chainId[:minStake]>",
        "a served network (repeatable; default ethereum and polygon)",
        parseNetwork,
        [],
      )
      .option(
        "--token <address>",
        "with our core outside a devnet: a staking token to create a strategy for (repeatable)",
        collectAddress,
        [],
      )
      .option("--dry-run", "check the chain, the core and the deployer's funds; send nothing", false)
      .option("--json", "print one JSON document", false)
      .action(async (flags: DeployFlags) => {
        await runLedgerCommand(
          flags,
          () => deploy(flags),
          (r) => r.summary,
        );
      }),
  );
}

async function deploy(flags: DeployFlags): Promise<DeployResult> {
  if (flags.eigenlayer !== undefined && flags.coreOnly) {
    throw new LedgerActionError("--core-only deploys a core; --eigenlayer uses an existing one: choose one");
  }
  const account = loadSigningKey({
    ...(flags.keyFile !== undefined ? { keyFile: flags.keyFile } : {}),
    ...(flags.keyEnv !== undefined ? { keyEnv: flags.keyEnv } : {}),
  });
  const probe = connectLedger(flags.rpc, 1).public;
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (error) {
    throw new LedgerActionError(`cannot reach ${flags.rpc}: ${(error as Error).message.split("\n")[0]}`);
  }
  const clients = ledgerClients(flags.rpc, chainId, account);
  const deployer = account.address;
  const devnet = flags.preset === "devnet";
  const files: string[] = [];
  try {
    let core: CoreAddresses | undefined;
    if (flags.eigenlayer !== undefined) {
      core = readCoreAddresses(flags.eigenlayer);
      const verified = await verifyCore(clients.public, core);
      await checkFunds(clients.public, deployer, DIN_DEPLOYMENT_GAS);
      if (flags.dryRun) {
        return {
          dryRun: true,
          chainId,
          deployer,
          core,
          files,
          summary: `the core at ${flags.eigenlayer} checks out on chain ${chainId} (deallocation delay ${verified.deallocationDelay} blocks, withdrawal delay ${verified.minWithdrawalDelayBlocks} blocks, rewards activation ${verified.activationDelay} s); ${deployer} can pay for the DIN service; nothing sent`,
        };
      }
    } else {
      if (!devnet && flags.token.length === 0) {
        throw new LedgerActionError(
          "our core outside a devnet needs --token for each staking token to accept",
        );
      }
      await checkFunds(
        clients.public,
        deployer,
        flags.coreOnly ? CORE_DEPLOYMENT_GAS : CORE_DEPLOYMENT_GAS + DIN_DEPLOYMENT_GAS,
      );
      if (flags.dryRun) {
        return {
          dryRun: true,
          chainId,
          deployer,
          files,
          summary: `chain ${chainId} reachable and ${deployer} can pay for ${flags.coreOnly ? "our core" : "our core and the DIN service"}; nothing sent`,
        };
      }
      core = await deployCoreAlone(clients, {
        params: DIN_PRESETS[devnet ? "devnet" : "production"].restaking,
        devnetTokens: devnet,
        tokens: flags.token,
        ...(flags.guardian ? { rootGuardian: flags.guardian } : { rootGuardian: deployer }),
      });
      if (flags.coreOnly) {
        writeCoreAddresses(flags.out, core);
        return {
          dryRun: false,
          chainId,
          deployer,
          core,
          files: [flags.out],
          summary: `deployed our restaking core on chain ${chainId}; its addresses are in ${flags.out} (deploy the DIN service on it with --eigenlayer ${flags.out})`,
        };
      }
      if (flags.coreOut) {
        writeCoreAddresses(flags.coreOut, core);
        files.push(flags.coreOut);
      }
    }
    const deployment = await deployDinOnCore(clients, core, {
      preset: devnet ? "devnet" : "production",
      ...(flags.guardian ? { guardian: flags.guardian } : {}),
      watchers: flags.watcher,
      gateways: flags.gateway,
      ...(flags.network.length > 0 ? { networks: flags.network } : {}),
      out: flags.out,
    });
    files.push(flags.out);
    return {
      dryRun: false,
      chainId,
      deployer,
      core,
      deployment,
      files,
      summary: [
        `deployed the DIN service on chain ${chainId}${flags.eigenlayer ? ` against the core in ${flags.eigenlayer}` : " with our restaking core"}`,
        `  registry ${deployment.addresses.registry} (the AVS), slasher ${deployment.addresses.slasher}, epochs ${deployment.addresses.epochs}`,
        `  governance: timelock ${deployment.addresses.timelock}, governor ${deployment.addresses.governor}; guardian ${deployment.addresses.guardian}`,
        `  networks: ${deployment.networks.map((n) => `${n.name} (chain ${n.chainId})`).join(", ")}`,
        `  deployment file: ${flags.out}`,
      ].join("\n"),
    };
  } catch (error) {
    if (error instanceof CoreAddressesError) throw new LedgerActionError(error.message);
    throw error;
  }
}
