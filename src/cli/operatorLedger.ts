// `din operator register|rotate-signer|allocate|deregister|status|claim|set-commission`: an operator's ledger
// transactions, beside `din operator serve` (which runs the node itself).
import type { Command } from "commander";
import type { Address, Hex, LocalAccount } from "viem";
import { amountUnits } from "../devnet/status.js";
import {
  allocate,
  deregister,
  registerOperator,
  rotateSigner,
  setCommission,
  signDelegationApproval,
} from "../ledger/din/operatorActions.js";
import { blocksAndTime, type OperatorDelays, readOperatorDelays } from "../ledger/din/operatorDelays.js";
import { type OperatorRecord, readOperatorRecord } from "../ledger/din/operatorRecord.js";
import { type OperatorStatus, operatorStatus } from "../ledger/din/operatorStatus.js";
import { formatAmount } from "../ledger/din/revert.js";
import { loadSigningKey } from "../ledger/din/signingKey.js";
import { claim } from "../ledger/din/stakerActions.js";
import {
  actionText,
  type LedgerFlags,
  openActor,
  openLedger,
  parseAddress,
  parseAmount,
  parseBytes32,
  parseId,
  parseWad,
  rewardsFileOf,
  runLedgerCommand,
  signingAccount,
  subjectAddress,
  withLedgerOptions,
} from "./ledger.js";
import { nameOperator, operatorNames, withAddressesOption } from "./operatorNames.js";

type RegisterFlags = LedgerFlags & {
  network: string;
  endpoint: string;
  cloud: string;
  region: string;
  client?: string;
  signerKeyFile?: string;
  signerKeyEnv?: string;
  allocate?: bigint;
  deposit?: bigint;
  strategy?: string;
  delegationApprover?: Address;
  metadataUri?: string;
};

/** Adds the operator's ledger commands to `din operator` (creating it when absent). */
export function registerOperatorLedgerCommands(program: Command): void {
  const operator =
    program.commands.find((c) => c.name() === "operator") ??
    program.command("operator").description("run and manage an operator node");

  withLedgerOptions(
    operator
      .command("register")
      .description(
        "join a network: restaking operator, self-stake, allocation and registration with metadata",
      )
      .requiredOption("--network <name>", "network to serve (e.g. ethereum)")
      .requiredOption("--endpoint <url>", "public URL of your operator node (din operator serve)")
      .requiredOption("--cloud <name>", "cloud provider: aws, gcp, hetzner, bare-metal, …")
      .requiredOption("--region <name>", "region, e.g. us-east-1")
      .option("--client <name>", "execution client and version, e.g. geth/1.14", "unknown")
      .option(
        "--signer-key-file <file>",
        "the relay signing key file (it signs its consent to sign for this operator)",
      )
      .option("--signer-key-env <name>", "or: environment variable holding the relay signing key")
      .option(
        "--allocate <share>",
        "share of each strategy's stake to allocate, 0..1 (default: all free)",
        parseWad,
      )
      .option("--deposit <amount>", "tokens to deposit as self-stake first", parseAmount)
      .option("--strategy <symbol|address>", "strategy of the deposit (default: the first)")
      .option(
        "--metadata-uri <url>",
        "URL of your metadata.json (din operator metadata writes one), set when you first register on the core",
      )
      .option(
        "--delegation-approver <address>",
        "who must sign each staker's delegation to you, set when you first register (default: anyone may delegate)",
        parseAddress,
      ),
  ).action(async (flags: RegisterFlags) => {
    await runLedgerCommand(
      flags,
      async () => {
        const signer = relaySigningKey(flags);
        return registerOperator(openActor(flags), {
          network: flags.network,
          endpoint: flags.endpoint,
          cloud: flags.cloud,
          region: flags.region,
          ...(flags.client !== undefined ? { client: flags.client } : {}),
          signer,
          ...(flags.allocate !== undefined ? { allocationWad: flags.allocate } : {}),
          ...(flags.deposit !== undefined ? { selfDeposit: flags.deposit } : {}),
          ...(flags.strategy !== undefined ? { strategy: flags.strategy } : {}),
          ...(flags.delegationApprover !== undefined ? { delegationApprover: flags.delegationApprover } : {}),
          ...(flags.metadataUri !== undefined ? { metadataURI: flags.metadataUri } : {}),
          dryRun: flags.dryRun ?? false,
        });
      },
      actionText,
    );
  });

  withLedgerOptions(
    operator
      .command("approve-delegation")
      .description(
        "as an operator's delegation approver (this key), sign one staker's delegation to the operator",
      )
      .requiredOption("--operator <address>", "the operator the staker delegates to", parseAddress)
      .requiredOption("--staker <address>", "the staker allowed to delegate", parseAddress)
      .option("--valid-for <seconds>", "how long the signature stays valid (default: 86400, a day)", parseId)
      .option(
        "--salt <hex>",
        "32-byte salt, never used before by this approver (default: random)",
        parseBytes32,
      ),
  ).action(
    async (flags: LedgerFlags & { operator: Address; staker: Address; validFor?: bigint; salt?: Hex }) => {
      await runLedgerCommand(
        flags,
        async () => {
          const actor = openActor(flags);
          const approver = signingAccount(flags);
          const latest = await actor.clients.public.getBlock({ blockTag: "latest" });
          const approval = await signDelegationApproval(
            actor.clients.public,
            actor.deployment.addresses.delegationManager,
            approver,
            {
              staker: flags.staker,
              operator: flags.operator,
              expiry: latest.timestamp + (flags.validFor ?? 86_400n),
              ...(flags.salt !== undefined ? { salt: flags.salt } : {}),
            },
          );
          return { approver: approver.address, operator: flags.operator, staker: flags.staker, ...approval };
        },
        (r) =>
          `${r.approver} approves ${r.staker} delegating to ${r.operator} until ${r.expiry}; the staker runs:\n` +
          `  din stake delegate --operator ${r.operator} --approver-signature ${r.signature} --approver-expiry ${r.expiry} --approver-salt ${r.salt}`,
      );
    },
  );

  withLedgerOptions(
    operator
      .command("rotate-signer")
      .description(
        "switch to a new relay signing key: the current one is retired now and can never sign for anyone again",
      )
      .requiredOption("--network <name>", "network")
      .option("--signer-key-file <file>", "the new relay signing key file")
      .option("--signer-key-env <name>", "or: environment variable holding the new relay signing key"),
  ).action(
    async (flags: LedgerFlags & { network: string; signerKeyFile?: string; signerKeyEnv?: string }) => {
      await runLedgerCommand(
        flags,
        () =>
          rotateSigner(openActor(flags), {
            network: flags.network,
            signer: relaySigningKey(flags),
            dryRun: flags.dryRun ?? false,
          }),
        actionText,
      );
    },
  );

  withLedgerOptions(
    operator
      .command("allocate")
      .description("set the share of each strategy's stake allocated to a network (0 deallocates)")
      .requiredOption("--network <name>", "network")
      .requiredOption("--wad <share>", "share between 0 and 1, e.g. 0.5", parseWad),
  ).action(async (flags: LedgerFlags & { network: string; wad: bigint }) => {
    await runLedgerCommand(
      flags,
      () =>
        allocate(openActor(flags), { network: flags.network, wad: flags.wad, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(
    operator
      .command("deregister")
      .description("leave a network")
      .requiredOption("--network <name>", "network"),
  ).action(async (flags: LedgerFlags & { network: string }) => {
    await runLedgerCommand(
      flags,
      () => deregister(openActor(flags), { network: flags.network, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(
    withAddressesOption(operator.command("status"))
      .description("registration, stake, jail, slashes and commission of an operator on every network")
      .option(
        "--address <address>",
        "operator to show (default: the signing key's address; no key needed)",
        parseAddress,
      ),
    { dryRun: false },
  ).action(async (flags: LedgerFlags & { address?: Address; addresses: boolean }) => {
    await runLedgerCommand(
      flags,
      async () => {
        const address = subjectAddress(flags, "operator");
        const target = openLedger(flags);
        const [status, delays, record, units] = await Promise.all([
          operatorStatus(target.public, target.deployment, address),
          readOperatorDelays(target.public, target.deployment, address),
          readOperatorRecord(target.public, target.deployment, address),
          amountUnits(target.public, target.deployment),
        ]);
        return { ...status, delays, record, units, name: operatorNames(flags)[address] };
      },
      (status) => formatStatus(status, { addresses: flags.addresses }),
    );
  });

  withLedgerOptions(
    operator
      .command("claim")
      .description("claim the fee-token rewards published for this operator")
      .option("--rewards <file>", "published rewards file (default: <data-dir>/ledger/rewards.json)"),
  ).action(async (flags: LedgerFlags & { rewards?: string }) => {
    await runLedgerCommand(
      flags,
      () => claim(openActor(flags), { rewardsFile: rewardsFileOf(flags), dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(
    operator
      .command("set-commission")
      .description("set the commission kept from the service's rewards, in bips (1000 = 10%)")
      .requiredOption("--bips <n>", "0 to 10000", Number),
  ).action(async (flags: LedgerFlags & { bips: number }) => {
    await runLedgerCommand(
      flags,
      () => setCommission(openActor(flags), { bips: flags.bips, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });
}

/** Human text of an operator's status. */
export function formatStatus(
  status: OperatorStatus & {
    delays?: OperatorDelays;
    record?: OperatorRecord;
    units?: { stake: string; fee: string };
    /** Its name on a running `din up`. */
    name?: string | undefined;
  },
  options: { addresses?: boolean } = {},
): string {
  const units = status.units ?? { stake: "tokens", fee: "fee tokens" };
  const who =
    status.name === undefined
      ? status.address
      : nameOperator({ [status.address]: status.name }, status.address, options.addresses);
  const lines = [
    `operator ${who}: ${status.isOperator ? "restaking operator" : "not a restaking operator"}, commission ${status.commissionBips / 100}%`,
  ];
  for (const n of status.networks) {
    const stake = `stake ${formatAmount(n.allocatedStake)} ${units.stake} (min ${formatAmount(n.minStake)})`;
    const m = n.metadata;
    const where = m ? ` ${m.endpoint} ${m.cloud}/${m.region} ${m.client} signer ${m.signer}` : "";
    const jail = n.jailed ? ` JAILED until block ${n.jailedUntil}` : "";
    const slashes =
      n.queuedSlashes.length || n.executedSlashes.length
        ? ` slashes: ${n.queuedSlashes.length} queued, ${n.executedSlashes.length} executed`
        : "";
    lines.push(
      `  ${n.network.padEnd(10)} ${n.registered ? "registered" : "not registered"}  ${stake}${where}${jail}${slashes}`,
    );
  }
  const record = status.record;
  if (record) {
    lines.push(
      `  rewards escrowed by the service for it and its delegators: ${formatAmount(record.rewardsEscrowed)} ${units.fee} (claim with din operator claim)`,
    );
    for (const v of record.verdicts.filter((v) => v.epochs.length > 0)) {
      lines.push(`  last epochs on ${v.network} (the watchers' median; newest first):`);
      for (const e of v.epochs)
        lines.push(
          `    epoch ${e.epoch}: availability ${e.availabilityBps / 100}%, p50 ${e.p50LatencyMs} ms, lag ${e.lagBlocks} blocks, rewards at ${e.multiplierBps / 100}%`,
        );
    }
  }
  const delays = status.delays;
  if (delays) {
    const t = (blocks: number) => blocksAndTime(blocks, delays.blockTimeSeconds);
    lines.push(
      `  delays: allocation ${delays.allocationDelay.isSet ? t(delays.allocationDelay.blocks) : "not set yet"}; deallocation ${t(delays.deallocationDelayBlocks)} (stake stays slashable); stakers' withdrawals ${t(delays.withdrawalDelayBlocks)}; changing the allocation delay ${t(delays.allocationConfigurationDelayBlocks)}`,
    );
    for (const p of delays.pending) {
      lines.push(
        `  pending on ${p.network}: ${p.strategy} magnitude ${formatAmount(p.current)} → ${formatAmount(p.next)} at block ${p.effectBlock} (${t(p.effectBlock - delays.block)})`,
      );
    }
  }
  return lines.join("\n");
}

/** The relay signing key named by --signer-key-file or --signer-key-env: registration needs its signature. */
function relaySigningKey(flags: { signerKeyFile?: string; signerKeyEnv?: string }): LocalAccount {
  if (flags.signerKeyFile !== undefined) return loadSigningKey({ keyFile: flags.signerKeyFile });
  if (flags.signerKeyEnv !== undefined) return loadSigningKey({ keyEnv: flags.signerKeyEnv });
  throw new Error(
    "name the relay signing key: --signer-key-file <file> or --signer-key-env <name> (it signs its consent to sign for this operator)",
  );
}
