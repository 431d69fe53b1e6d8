// `din guardian slashes|veto|roots|disable-root|pauses|pause|unpause` (the veto committee) and
// `din slash execute` (anyone, after the window).
import { Argument, type Command, Option } from "commander";
import { formatUnits } from "viem";
import { alignColumns } from "../devnet/statusText.js";
import { listSlashes, type SlashListing, vetoSlash } from "../ledger/din/guardianActions.js";
import { executeSlash } from "../ledger/din/keeperActions.js";
import { PAUSABLE, type Pausable, pauseStatus, setPaused } from "../ledger/din/pauses.js";
import { disableRewardsRoot, listRewardsRoots } from "../ledger/din/rewardsRoots.js";
import {
  actionText,
  type LedgerFlags,
  openActor,
  openLedger,
  parseId,
  runLedgerCommand,
  withLedgerOptions,
} from "./ledger.js";
import { nameOperator, operatorNames, withAddressesOption } from "./operatorNames.js";

/** Adds `din guardian …` and `din slash execute` to the program. */
export function registerGuardianCommands(program: Command): void {
  const guardian = program
    .command("guardian")
    .description("the veto committee: review and veto queued slashes, stop a wrong rewards root");

  withLedgerOptions(
    withAddressesOption(guardian.command("slashes"))
      .description("list slashes with their veto windows, newest first")
      .addOption(
        new Option("--status <status>", "only slashes in this state").choices([
          "queued",
          "vetoed",
          "executed",
        ]),
      ),
    { key: false, dryRun: false },
  ).action(async (flags: LedgerFlags & { status?: SlashListing["status"]; addresses: boolean }) => {
    const names = operatorNames(flags);
    await runLedgerCommand(
      flags,
      async () => {
        const target = openLedger(flags);
        const slashes = await listSlashes(target.public, target.deployment, {
          ...(flags.status !== undefined ? { status: flags.status } : {}),
        });
        const block = await target.public.getBlockNumber();
        const networks = new Map(target.deployment.networks.map((n) => [n.id, n.name]));
        return {
          block,
          slashes: slashes.map((s) => ({ ...s, network: networks.get(s.networkId) ?? String(s.networkId) })),
        };
      },
      ({ block, slashes }) =>
        slashes.length === 0
          ? "no slashes"
          : alignColumns(
              [...slashes]
                .sort((a, b) => Number(b.id - a.id))
                .map((s) => [
                  `#${s.id}`,
                  s.status,
                  nameOperator(names, s.operator, flags.addresses),
                  s.network,
                  s.reason,
                  `${formatUnits(s.wad * 100n, 18)}%`,
                  s.status === "queued"
                    ? block < s.vetoWindowEndsAt
                      ? `veto window open until block ${s.vetoWindowEndsAt}`
                      : "veto window over: executable"
                    : "",
                ]),
            ).join("\n"),
    );
  });

  withLedgerOptions(
    guardian
      .command("veto")
      .description("cancel a queued slash within its veto window")
      .argument("<slashId>", "slash id", parseId),
  ).action(async (slashId: bigint, flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => vetoSlash(openActor(flags), { slashId, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(guardian.command("roots").description("list rewards roots and when each activates"), {
    key: false,
    dryRun: false,
  }).action(async (flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => {
        const target = openLedger(flags);
        return listRewardsRoots(target.public, target.deployment);
      },
      ({ now, roots }) =>
        roots.length === 0
          ? "no rewards roots"
          : roots
              .map(
                (r) =>
                  `#${r.index} ${r.status.padEnd(8)} ${r.root} pays up to ${iso(r.calculationEnd)}${
                    r.status === "pending"
                      ? ` activates ${iso(r.activatedAt)} (in ${r.activatedAt - now} s): may be disabled until then`
                      : ""
                  }`,
              )
              .join("\n"),
    );
  });

  withLedgerOptions(
    guardian
      .command("disable-root")
      .description("disable a rewards root before it activates: nobody can claim against it")
      .argument("<rootIndex>", "root index (din guardian roots)", (value) => Number(parseId(value))),
  ).action(async (rootIndex: number, flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => disableRewardsRoot(openActor(flags), { rootIndex, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });

  withLedgerOptions(
    guardian.command("pauses").description("pause state of the registry, slasher and epochs"),
    {
      key: false,
      dryRun: false,
    },
  ).action(async (flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => {
        const target = openLedger(flags);
        return pauseStatus(target.public, target.deployment);
      },
      ({ block, contracts }) =>
        contracts
          .map((c) =>
            c.paused
              ? `${c.contract.padEnd(9)} paused until block ${c.pausedUntil}`
              : `${c.contract.padEnd(9)} running${block + 1n < c.readyAt ? ` (a new pause may start at block ${c.readyAt})` : ""}`,
          )
          .join("\n"),
    );
  });

  for (const paused of [true, false]) {
    withLedgerOptions(
      guardian
        .command(paused ? "pause" : "unpause")
        .description(
          paused
            ? "pause a contract (at most 21,600 blocks; a new pause waits as long as the last one lasted)"
            : "lift a pause before it expires",
        )
        .addArgument(new Argument("<contract>", "which contract").choices(PAUSABLE)),
    ).action(async (contract: Pausable, flags: LedgerFlags) => {
      await runLedgerCommand(
        flags,
        () => setPaused(openActor(flags), { contract, paused, dryRun: flags.dryRun ?? false }),
        actionText,
      );
    });
  }

  const slash = program.command("slash").description("slashes of the DIN service");
  withLedgerOptions(
    slash
      .command("execute")
      .description("execute a queued slash after its veto window (anyone may)")
      .argument("<slashId>", "slash id", parseId),
  ).action(async (slashId: bigint, flags: LedgerFlags) => {
    await runLedgerCommand(
      flags,
      () => executeSlash(openActor(flags), { slashId, dryRun: flags.dryRun ?? false }),
      actionText,
    );
  });
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
