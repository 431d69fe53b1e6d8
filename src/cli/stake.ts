// `din stake deposit|delegate|undelegate|withdraw|claim`: a staker's ledger transactions.
import type { Command } from "commander";
import type { Address, Hex } from "viem";
import {
  claim,
  completeWithdrawals,
  delegate,
  deposit,
  LedgerActionError,
  queueWithdrawal,
  undelegate,
} from "../ledger/din/actions.js";
import {
  actionText,
  type LedgerFlags,
  openActor,
  parseAddress,
  parseAmount,
  parseBytes32,
  parseHexBytes,
  parseId,
  rewardsFileOf,
  runLedgerCommand,
  withLedgerOptions,
} from "./ledger.js";

/** Adds `din stake …` to the program. */
export function registerStakeCommands(program: Command): void {
  const stake = program
    .command("stake")
    .description(
      "deposit into the restaking strategies, delegate to an operator, withdraw and claim rewards",
    );

  withLedgerOptions(
    stake
      .command("deposit")
      .description("deposit tokens into a strategy (approves the StrategyManager when needed)")
      .requiredOption("--amount <amount>", "tokens to deposit, e.g. 10", parseAmount)
      .option(
        "--strategy <symbol|address>",
        "strategy by token symbol (stETH, rETH) or address (default: the first)",
      ),
  ).action(async (flags: LedgerFlags & { amount: bigint; strategy?: string }) => {
    await runLedgerCommand(
      flags,
      () =>
        deposit(openActor(flags), {
          amount: flags.amount,
          ...(flags.strategy !== undefined ? { strategy: flags.strategy } : {}),
          dryRun: flags.dryRun ?? false,
        }),
      actionText,
    );
  });

  withLedgerOptions(
    stake
      .command("delegate")
      .description("delegate all your shares to an operator")
      .requiredOption("--operator <address>", "operator address", parseAddress)
      .option(
        "--approver-signature <hex>",
        "signature of the operator's delegation approver, when it has one (din operator approve-delegation)",
        parseHexBytes,
      )
      .option("--approver-expiry <unix>", "the last unix time the approver's signature is valid at", parseId)
      .option("--approver-salt <hex>", "the 32-byte salt the approver signed", parseBytes32),
  ).action(
    async (
      flags: LedgerFlags & {
        operator: Address;
        approverSignature?: Hex;
        approverExpiry?: bigint;
        approverSalt?: Hex;
      },
    ) => {
      await runLedgerCommand(
        flags,
        async () => {
          const given = [flags.approverSignature, flags.approverExpiry, flags.approverSalt];
          if (given.some((v) => v !== undefined) && given.some((v) => v === undefined)) {
            throw new LedgerActionError(
              "an approval takes all three of --approver-signature, --approver-expiry and --approver-salt",
            );
          }
          return delegate(openActor(flags), {
            operator: flags.operator,
            ...(flags.approverSignature !== undefined &&
            flags.approverExpiry !== undefined &&
            flags.approverSalt !== undefined
              ? {
                  approval: {
                    signature: flags.approverSignature,
                    expiry: flags.approverExpiry,
                    salt: flags.approverSalt,
                  },
                }
              : {}),
            dryRun: flags.dryRun ?? false,
          });
        },
        actionText,
      );
    },
  );

  withLedgerOptions(
    stake.command("undelegate").description("undelegate: every share is queued for withdrawal"),
  ).action(async (flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => undelegate(openActor(flags), { dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(
    stake
      .command("withdraw")
      .description(
        "queue a withdrawal (--shares N or --all), or complete those whose delay has passed (--complete)",
      )
      .option("--shares <amount>", "deposit shares to withdraw", parseAmount)
      .option("--strategy <symbol|address>", "strategy of --shares (default: the first)")
      .option("--all", "withdraw every share", false)
      .option("--complete", "complete queued withdrawals whose delay has passed", false),
  ).action(
    async (flags: LedgerFlags & { shares?: bigint; strategy?: string; all: boolean; complete: boolean }) => {
      await runLedgerCommand(
        flags,
        async () => {
          const dryRun = flags.dryRun ?? false;
          if (flags.complete) {
            if (flags.shares !== undefined || flags.all)
              throw new Error("--complete takes no --shares or --all");
            return completeWithdrawals(openActor(flags), { dryRun });
          }
          if (flags.shares === undefined && !flags.all) {
            throw new Error("say what to withdraw: --shares <amount>, --all, or --complete");
          }
          if (flags.shares !== undefined && flags.all) throw new Error("use --shares or --all, not both");
          return queueWithdrawal(openActor(flags), {
            ...(flags.shares !== undefined ? { shares: flags.shares } : {}),
            ...(flags.strategy !== undefined ? { strategy: flags.strategy } : {}),
            dryRun,
          });
        },
        actionText,
      );
    },
  );

  withLedgerOptions(
    stake
      .command("claim")
      .description("claim the fee-token rewards published for you")
      .option("--rewards <file>", "published rewards file (default: <data-dir>/ledger/rewards.json)"),
  ).action(async (flags: LedgerFlags & { rewards?: string }) => {
    await runLedgerCommand(
      flags,
      () => claim(openActor(flags), { rewardsFile: rewardsFileOf(flags), dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });
}
