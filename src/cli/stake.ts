// `din stake deposit|delegate|undelegate|withdraw|claim`: a staker's ledger transactions.
import type { Command } from "commander";
import type { Address, Hex } from "viem";
import { alignColumns } from "../devnet/statusText.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import { formatAmount } from "../ledger/din/revert.js";
import {
  claim,
  completeWithdrawals,
  delegate,
  deposit,
  queueWithdrawal,
  undelegate,
} from "../ledger/din/stakerActions.js";
import { type StakerStatus, stakerStatus } from "../ledger/din/stakerStatus.js";
import {
  actionText,
  type LedgerFlags,
  openActor,
  openLedger,
  parseAddress,
  parseAmount,
  parseBytes32,
  parseHexBytes,
  parseId,
  rewardsFileOf,
  runLedgerCommand,
  subjectAddress,
  withLedgerOptions,
} from "./ledger.js";
import { nameOperator, operatorNames, withAddressesOption } from "./operatorNames.js";

/** Adds `din stake …` to the program. */
export function registerStakeCommands(program: Command): void {
  const stake = program
    .command("stake")
    .description(
      "deposit into the restaking strategies, delegate to an operator, withdraw and claim rewards",
    );

  withLedgerOptions(
    withAddressesOption(stake.command("status"))
      .description(
        "a staker's position: deposits per strategy and what they are worth after slashes, delegation, queued withdrawals and what they pay now, the slashes that touched it, claimable rewards",
      )
      .option(
        "--address <address>",
        "staker to show (default: the signing key's address; no key needed)",
        parseAddress,
      )
      .option("--rewards <file>", "published rewards file (default: <data-dir>/ledger/rewards.json)"),
    { dryRun: false },
  ).action(async (flags: LedgerFlags & { address?: Address; rewards?: string; addresses: boolean }) => {
    await runLedgerCommand(
      flags,
      async () => {
        const address = subjectAddress(flags, "staker");
        const target = openLedger(flags);
        const status = await stakerStatus(target.public, target.deployment, address, {
          rewardsFile: rewardsFileOf(flags),
        });
        return { ...status, operatorNames: operatorNames(flags) };
      },
      (status) => formatStakerStatus(status, { addresses: flags.addresses }),
    );
  });

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

/** Human text of a staker's position. */
export function formatStakerStatus(
  status: StakerStatus & { operatorNames: Record<string, string> },
  options: { addresses?: boolean } = {},
): string {
  const name = (a: Address) => nameOperator(status.operatorNames, a, options.addresses);
  const lines = [
    `staker ${status.address} at block ${status.block}: ${status.delegatedTo ? `delegated to ${name(status.delegatedTo)}` : "not delegated"}`,
    "",
    ...alignColumns([
      [
        "strategy",
        "in wallet",
        "deposited (shares)",
        "withdrawable (shares)",
        "worth now",
        "lost to slashes (shares)",
      ],
      ...status.positions.map((p) => [
        p.symbol,
        `${formatAmount(p.wallet)} ${p.symbol}`,
        formatAmount(p.depositShares),
        formatAmount(p.withdrawableShares),
        `${formatAmount(p.withdrawableTokens)} ${p.symbol}`,
        formatAmount(p.slashedShares),
      ]),
    ]).map((line) => `  ${line}`),
  ];
  lines.push("");
  if (status.queuedWithdrawals.length === 0) lines.push("queued withdrawals: none");
  else {
    lines.push("queued withdrawals (slashable by the operator's networks until completed; newest first):");
    for (const q of [...status.queuedWithdrawals].sort((a, b) =>
      Number(BigInt(b.startBlock) - BigInt(a.startBlock)),
    )) {
      const parts = q.strategies
        .map(
          (s) =>
            `${formatAmount(s.tokensNow)} ${s.symbol} (${formatAmount(s.sharesNow)} of ${formatAmount(s.queuedShares)} shares queued)`,
        )
        .join(", ");
      lines.push(
        `  queued at block ${q.startBlock} from ${name(q.delegatedTo)}: pays ${parts} now; ${q.ready ? "ready: din stake withdraw --complete" : `completes at block ${q.completableAt}`}`,
      );
    }
  }
  lines.push("");
  if (status.slashes.length === 0) lines.push("slashes that touched this position: none");
  else {
    lines.push("slashes that touched this position (newest first):");
    for (const slash of status.slashes) {
      const lost = slash.lost.map((l) => `${formatAmount(l.tokens)} ${l.symbol}`).join(" and ");
      lines.push(
        `  block ${slash.block}: ${name(slash.operator)} slashed on ${slash.network}, this position lost ${lost} (tx ${slash.transaction})`,
      );
    }
  }
  lines.push("");
  const r = status.rewards;
  lines.push(
    r.claimable > 0n
      ? `rewards: ${formatAmount(r.claimable)} ${r.symbol} to claim (earned ${formatAmount(r.earned)}, claimed ${formatAmount(r.claimed)}): din stake claim`
      : `rewards: nothing to claim — ${r.why}${r.claimed > 0n ? ` (claimed so far ${formatAmount(r.claimed)} ${r.symbol})` : ""}`,
  );
  return lines.join("\n");
}
