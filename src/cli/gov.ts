// `din gov status|delegate|propose|vote|queue|execute`: token holders govern the service's parameters
// through the Governor and its timelock.
import { type Command, InvalidArgumentError } from "commander";
import type { Address, Hex } from "viem";
import {
  delegateVotes,
  encodeProposal,
  executeProposal,
  type GovernanceStatus,
  governanceStatus,
  type NamedProposal,
  propose,
  queueProposal,
  type Support,
  vote,
} from "../ledger/din/governance.js";
import { formatAmount } from "../ledger/din/revert.js";
import {
  actionText,
  type LedgerFlags,
  openActor,
  openLedger,
  parseAddress,
  parseAmount,
  parseId,
  runLedgerCommand,
  subjectAddress,
  withLedgerOptions,
} from "./ledger.js";

const KINDS = [
  "set-sla",
  "admit-watcher",
  "remove-watcher",
  "admit-gateway",
  "remove-gateway",
  "retire-guardian",
  "add-network",
  "set-min-stake",
  "raw",
] as const;
type Kind = (typeof KINDS)[number];

type ProposeFlags = LedgerFlags & {
  description?: string;
  address?: Address;
  minAvailabilityBps?: number;
  floorAvailabilityBps?: number;
  maxP50LatencyMs?: number;
  maxLagBlocks?: number;
  availabilitySlash?: bigint;
  latencySlash?: bigint;
  downSlash?: bigint;
  id?: number;
  name?: string;
  chainId?: bigint;
  network?: string;
  minStake?: bigint;
  call?: Array<{ target: Address; value: bigint; calldata: Hex }>;
};

const integer = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

/** A slash size written as a percentage (`0.1%`), as the contracts' WAD fraction. */
function parseSlashPercent(value: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,16}))?%$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected a percentage, e.g. 0.1%");
  const part = match[2] ?? "";
  // percent → WAD: × 1e16.
  return BigInt(match[1]! + part.padEnd(16, "0"));
}

/** `--call <target>:<calldata>[:<value in wei>]`, repeatable. */
function parseCall(
  value: string,
  previous: Array<{ target: Address; value: bigint; calldata: Hex }> = [],
): Array<{ target: Address; value: bigint; calldata: Hex }> {
  const [target = "", calldata = "", wei = "0"] = value.split(":");
  if (!/^0x([0-9a-fA-F]{2})*$/.test(calldata) || !/^\d+$/.test(wei))
    throw new InvalidArgumentError("expected <target>:<0x calldata>[:<value in wei>]");
  return [...previous, { target: parseAddress(target), value: BigInt(wei), calldata: calldata as Hex }];
}

/** The named proposal the flags describe. */
function namedProposal(kind: Kind, flags: ProposeFlags): NamedProposal {
  const need = <T>(value: T | undefined, flag: string): T => {
    if (value === undefined) throw new InvalidArgumentError(`${kind} needs ${flag}`);
    return value;
  };
  switch (kind) {
    case "set-sla":
      return {
        kind,
        changes: {
          ...(flags.minAvailabilityBps !== undefined ? { minAvailabilityBps: flags.minAvailabilityBps } : {}),
          ...(flags.floorAvailabilityBps !== undefined
            ? { floorAvailabilityBps: flags.floorAvailabilityBps }
            : {}),
          ...(flags.maxP50LatencyMs !== undefined ? { maxP50LatencyMs: flags.maxP50LatencyMs } : {}),
          ...(flags.maxLagBlocks !== undefined ? { maxLagBlocks: flags.maxLagBlocks } : {}),
          ...(flags.availabilitySlash !== undefined ? { availabilityWad: flags.availabilitySlash } : {}),
          ...(flags.latencySlash !== undefined ? { latencyWad: flags.latencySlash } : {}),
          ...(flags.downSlash !== undefined ? { downWad: flags.downSlash } : {}),
        },
      };
    case "admit-watcher":
    case "remove-watcher":
      return {
        kind: "admit-watcher",
        address: need(flags.address, "--address"),
        admitted: kind === "admit-watcher",
      };
    case "admit-gateway":
    case "remove-gateway":
      return {
        kind: "admit-gateway",
        address: need(flags.address, "--address"),
        admitted: kind === "admit-gateway",
      };
    case "retire-guardian":
      return { kind };
    case "add-network":
      return {
        kind,
        id: need(flags.id, "--id"),
        name: need(flags.name, "--name"),
        chainId: need(flags.chainId, "--chain-id"),
        minStake: need(flags.minStake, "--min-stake"),
      };
    case "set-min-stake":
      return {
        kind,
        network: need(flags.network, "--network"),
        minStake: need(flags.minStake, "--min-stake"),
      };
    case "raw":
      return { kind, calls: need(flags.call, "--call") };
  }
}

/** Adds `din gov …` to the program. */
export function registerGovCommands(program: Command): void {
  const gov = program
    .command("gov")
    .description("token holders govern the service: parameters, proposals, votes, the timelock");

  withLedgerOptions(
    gov
      .command("status")
      .description(
        "the parameters in force and the contracts' ceilings on them, the proposals and their state, and your voting power",
      )
      .option(
        "--address <address>",
        "holder whose voting power to show (default: the signing key's, if any)",
        parseAddress,
      ),
    { dryRun: false },
  ).action(async (flags: LedgerFlags & { address?: Address }) => {
    await runLedgerCommand(
      flags,
      async () => {
        // No address and no key: the status without a voter.
        const voter = subjectAddress(flags);
        const target = openLedger(flags);
        return governanceStatus(target.public, target.deployment, voter);
      },
      formatGovernance,
    );
  });

  withLedgerOptions(
    gov
      .command("delegate")
      .description("delegate your tokens' votes (to yourself by default): tokens vote only once delegated")
      .option("--to <address>", "who votes with your tokens", parseAddress),
  ).action(async (flags: LedgerFlags & { to?: Address }) => {
    await runLedgerCommand(
      flags,
      () =>
        delegateVotes(openActor(flags), {
          ...(flags.to ? { to: flags.to } : {}),
          dryRun: flags.dryRun ?? false,
        }),
      actionText,
    );
  });

  withLedgerOptions(
    gov
      .command("propose")
      .description("propose a change: one of the common ones by name, or raw calls")
      .argument("<kind>", KINDS.join(" | "))
      .requiredOption("--description <text>", "what the proposal does and why (its title first)")
      .option(
        "--address <address>",
        "admit-/remove-watcher, admit-/remove-gateway: the address",
        parseAddress,
      )
      .option(
        "--min-availability-bps <n>",
        "set-sla: below this availability an operator is slashed",
        integer(0, 10_000),
      )
      .option(
        "--floor-availability-bps <n>",
        "set-sla: where the performance multiplier reaches 0",
        integer(0, 10_000),
      )
      .option(
        "--max-p50-latency-ms <n>",
        "set-sla: above this median latency an operator is slashed",
        integer(1, 2 ** 32 - 1),
      )
      .option("--max-lag-blocks <n>", "set-sla: above this lag rewards fall", integer(0, 2 ** 32 - 1))
      .option(
        "--availability-slash <percent>",
        "set-sla: slash for missed availability, e.g. 0.1%",
        parseSlashPercent,
      )
      .option("--latency-slash <percent>", "set-sla: slash for slow answers, e.g. 0.05%", parseSlashPercent)
      .option(
        "--down-slash <percent>",
        "set-sla: slash for an epoch without an answer, e.g. 2%",
        parseSlashPercent,
      )
      .option("--id <n>", "add-network: operator set id", integer(1, 999_999))
      .option("--name <name>", "add-network: the network's name")
      .option("--chain-id <n>", "add-network: the served chain's id", parseId)
      .option("--network <name|id>", "set-min-stake: the network")
      .option("--min-stake <tokens>", "add-network, set-min-stake: minimum allocated stake", parseAmount)
      .option("--call <target:calldata[:wei]>", "raw: a call the timelock makes (repeatable)", parseCall)
      .addHelpText(
        "after",
        '\nExamples:\n  din gov propose set-sla --max-p50-latency-ms 300 --description "Allow 300 ms p50 latency"\n' +
          '  din gov propose admit-watcher --address 0x… --description "Admit a fourth watcher"\n' +
          '  din gov propose retire-guardian --description "Retire the guardian\'s veto"',
      ),
  ).action(async (kind: string, flags: ProposeFlags) => {
    await runLedgerCommand(
      flags,
      async () => {
        if (!(KINDS as readonly string[]).includes(kind))
          throw new InvalidArgumentError(`unknown proposal "${kind}"; one of: ${KINDS.join(", ")}`);
        const actor = openActor(flags);
        const calls = await encodeProposal(
          actor.clients.public,
          actor.deployment,
          namedProposal(kind as Kind, flags),
        );
        return propose(actor, { calls, description: flags.description ?? "", dryRun: flags.dryRun ?? false });
      },
      actionText,
    );
  });

  withLedgerOptions(
    gov
      .command("vote")
      .description("vote on an active proposal with your delegated votes")
      .requiredOption("--proposal <id>", "the proposal id (din gov status)", parseId)
      .requiredOption("--support <for|against|abstain>", "your vote", (value: string) => {
        if (value !== "for" && value !== "against" && value !== "abstain")
          throw new InvalidArgumentError("expected for, against or abstain");
        return value as Support;
      })
      .option("--reason <text>", "a reason kept on-chain with the vote"),
  ).action(async (flags: LedgerFlags & { proposal: bigint; support: Support; reason?: string }) => {
    await runLedgerCommand(
      flags,
      () =>
        vote(openActor(flags), {
          proposalId: flags.proposal,
          support: flags.support,
          ...(flags.reason ? { reason: flags.reason } : {}),
          dryRun: flags.dryRun ?? false,
        }),
      actionText,
    );
  });

  for (const [name, description, run] of [
    ["queue", "queue a succeeded proposal in the timelock", queueProposal],
    ["execute", "execute a queued proposal once the timelock delay has passed", executeProposal],
  ] as const) {
    withLedgerOptions(
      gov
        .command(name)
        .description(description)
        .requiredOption("--proposal <id>", "the proposal id", parseId),
    ).action(async (flags: LedgerFlags & { proposal: bigint }) => {
      await runLedgerCommand(
        flags,
        () => run(openActor(flags), { proposalId: flags.proposal, dryRun: flags.dryRun ?? false }),
        actionText,
      );
    });
  }
}

const percentOfWad = (wad: bigint) => `${Number((wad * 1_000_000n) / 10n ** 18n) / 10_000}%`;
const bps = (value: bigint | number) => `${Number(value) / 100}%`;

/** Human text of the governance status. */
export function formatGovernance(s: GovernanceStatus): string {
  const t = s.token.symbol;
  const p = s.parameters;
  const c = s.ceilings;
  const lines = [
    `governance at block ${s.block}: Governor ${s.governor}, timelock ${s.timelock}, token ${t} (${formatAmount(s.token.totalSupply)} supply)`,
    `  voting: opens ${s.rules.votingDelayBlocks} blocks after a proposal, lasts ${s.rules.votingPeriodBlocks} blocks; quorum ${formatAmount(s.rules.quorum)} ${t}; proposing takes ${formatAmount(s.rules.proposalThreshold)} ${t}; the timelock waits ${s.rules.timelockDelaySeconds} s`,
  ];
  if (s.voter) {
    const v = s.voter;
    lines.push(
      `  you (${v.address}): ${formatAmount(v.balance)} ${t}, ${formatAmount(v.votes)} votes${v.delegate === null ? " — delegate to vote: din gov delegate" : v.delegate === v.address ? " (self-delegated)" : ` (delegated to ${v.delegate})`}`,
    );
  }
  lines.push(
    "",
    "parameters in force (ceiling the contracts keep whatever the vote):",
    `  SLA: availability ≥ ${bps(p.sla.minAvailabilityBps)} (rewards reach 0 at ${bps(p.sla.floorAvailabilityBps)}), p50 latency ≤ ${p.sla.maxP50LatencyMs} ms, lag ≤ ${p.sla.maxLagBlocks} blocks`,
    `  slashes: missed availability ${percentOfWad(p.sla.availabilityWad)}, slow ${percentOfWad(p.sla.latencyWad)}, down ${percentOfWad(p.sla.downWad)} (each at most ${percentOfWad(c.maxOffenceWad)}; at most ${percentOfWad(c.maxWindowWad)} and ${c.maxSlashesPerWindow} slashes per window)`,
    `  epochs: ${p.epochs.epochLength} blocks, reports within ${p.epochs.reportWindow} blocks, ${p.epochs.reportQuorum} watchers' reports to finalize`,
    `  veto window ${p.slash.vetoWindow} blocks (at most ${c.maxVetoWindow}), jail ${p.slash.jailCooldown} blocks (at most ${c.maxJailCooldown}), ejection after ${p.slash.ejectAfter} slashes; guardian veto ${p.guardianVeto ? "held" : "retired"}`,
    `  correlated-failure guard: ${bps(p.correlatedShareBps)} of a network's stake failing together (between ${bps(c.correlatedShareBps[0])} and ${bps(c.correlatedShareBps[1])}); finality delay ${p.finalityDelay} s; pauses at most ${c.maxPauseBlocks} blocks`,
    `  minimum stakes: ${p.networks.map((n) => `${n.name} ${formatAmount(n.minStake)}`).join(", ")}; watchers ${formatAmount(p.watcherMinStake)}, gateways ${formatAmount(p.gatewayMinStake)}`,
    "",
  );
  if (s.proposals.length === 0) lines.push("proposals: none yet (din gov propose …)");
  else {
    lines.push("proposals (newest first):");
    for (const proposal of s.proposals) {
      const title = proposal.description.split("\n")[0];
      const v = proposal.votes;
      lines.push(
        `  ${proposal.id}  ${proposal.state.padEnd(9)} ${title}`,
        `      for ${formatAmount(v.for)} ${t}, against ${formatAmount(v.against)} ${t}, abstain ${formatAmount(v.abstain)} ${t} (quorum ${formatAmount(proposal.quorum)} ${t}); voting blocks ${proposal.voteStart + 1n}–${proposal.voteEnd}${proposal.eta ? `; executable from ${new Date(Number(proposal.eta) * 1000).toISOString()}` : ""}`,
        ...proposal.calls.map(
          (call) => `      calls ${call.call ?? `${call.target} ${call.calldata.slice(0, 10)}…`}`,
        ),
      );
    }
  }
  return lines.join("\n");
}
