// Governance: the parameters in force (SLA table, epochs, slashing, governor and timelock), the governor's
// proposals and their state, the guardian's queue of vetoable slashes with their deadlines, and pauses.
import { type Abi, type Address, formatUnits, getAddress, type PublicClient } from "viem";
import type { StatusReport } from "../devnet/status.js";
import { dinEpochsAbi, dinGovernorAbi, dinSlasherAbi, dinTimelockAbi } from "../ledger/artifacts/index.js";
import { PROPOSAL_STATES } from "../ledger/din/governance.js";
import { listSlashes } from "../ledger/din/guardianActions.js";
import { pauseStatus } from "../ledger/din/pauses.js";
import { ledgerClock } from "./networkMap.js";
import type { DashboardLedger } from "./source.js";
import type { GovernanceView } from "./types.js";

export async function governanceView(status: StatusReport, ledger: DashboardLedger): Promise<GovernanceView> {
  const { client, deployment } = ledger;
  const a = deployment.addresses;
  const read = (address: Address, abi: Abi, functionName: string) =>
    client.readContract({ address, abi, functionName }) as Promise<unknown>;
  const [sla, epochParams, slashParams, correlated, votingDelay, votingPeriod, threshold, quorum, minDelay] =
    await Promise.all([
      read(a.epochs, dinEpochsAbi, "getSlaTable"),
      read(a.epochs, dinEpochsAbi, "getEpochParams"),
      read(a.slasher, dinSlasherAbi, "getSlashParams"),
      read(a.epochs, dinEpochsAbi, "correlatedShareBps"),
      read(a.governor, dinGovernorAbi, "votingDelay"),
      read(a.governor, dinGovernorAbi, "votingPeriod"),
      read(a.governor, dinGovernorAbi, "proposalThreshold"),
      read(a.governor, dinGovernorAbi, "quorumNumerator"),
      read(a.timelock, dinTimelockAbi, "getMinDelay"),
    ]);
  const parameters: GovernanceView["parameters"] = [
    ...fields("SLA table", sla),
    ...fields("epochs", epochParams),
    ...fields("slashing", slashParams),
    { group: "epochs", name: "correlatedShareBps", value: String(correlated) },
    { group: "governor", name: "votingDelay (blocks)", value: String(votingDelay) },
    { group: "governor", name: "votingPeriod (blocks)", value: String(votingPeriod) },
    { group: "governor", name: "proposalThreshold (votes)", value: formatUnits(threshold as bigint, 18) },
    { group: "governor", name: "quorum (% of supply)", value: String(quorum) },
    { group: "timelock", name: "minDelay (seconds)", value: String(minDelay) },
  ];

  const [proposals, slashes, pauses] = await Promise.all([
    readProposals(client, a.governor),
    listSlashes(client, deployment, { status: "queued" }),
    pauseStatus(client, deployment),
  ]);
  const block = BigInt(status.ledger?.block ?? pauses.block);
  const idOf = new Map<string, string>();
  for (const network of status.networks) for (const o of network.operators) idOf.set(o.address, o.id);
  const networkName = (id: number) => deployment.networks.find((n) => n.id === id)?.name ?? String(id);
  return {
    ledger: ledgerClock(status),
    parameters,
    proposals,
    guardianQueue: slashes.map((s) => ({
      id: s.id.toString(),
      operator: s.operator,
      operatorId: idOf.get(s.operator) ?? s.operator,
      network: networkName(s.networkId),
      reason: s.reason,
      percent: `${formatUnits(s.wad * 100n, 18)}%`,
      queuedAt: String(s.queuedAt),
      vetoWindowEndsAt: s.vetoWindowEndsAt.toString(),
      blocksLeft: s.vetoWindowEndsAt > block ? Number(s.vetoWindowEndsAt - block) : 0,
    })),
    pauses: pauses.contracts.map((c) => ({
      contract: c.contract,
      paused: c.paused,
      pausedUntil: c.pausedUntil.toString(),
    })),
  };
}

/** A struct's fields as parameter rows; wad amounts (1e18 = 100%) as percents. */
function fields(group: string, struct: unknown): GovernanceView["parameters"] {
  return Object.entries(struct as Record<string, unknown>).map(([name, value]) => ({
    group,
    name,
    value:
      /Wad$/.test(name) && typeof value === "bigint" ? `${formatUnits(value * 100n, 18)}%` : String(value),
  }));
}

async function readProposals(client: PublicClient, governor: Address): Promise<GovernanceView["proposals"]> {
  const logs = await client.getContractEvents({
    address: governor,
    abi: dinGovernorAbi,
    eventName: "ProposalCreated",
    fromBlock: 0n,
    strict: true,
  });
  return Promise.all(
    logs.reverse().map(async (log) => {
      const id = log.args.proposalId;
      const [state, votes] = await Promise.all([
        client.readContract({ address: governor, abi: dinGovernorAbi, functionName: "state", args: [id] }),
        client.readContract({
          address: governor,
          abi: dinGovernorAbi,
          functionName: "proposalVotes",
          args: [id],
        }),
      ]);
      const [against, inFavour, abstain] = votes;
      return {
        id: id.toString(),
        proposer: getAddress(log.args.proposer),
        description: log.args.description.slice(0, 2_000),
        state: PROPOSAL_STATES[Number(state)] ?? String(state),
        voteStart: log.args.voteStart.toString(),
        voteEnd: log.args.voteEnd.toString(),
        votes: {
          for: formatUnits(inFavour, 18),
          against: formatUnits(against, 18),
          abstain: formatUnits(abstain, 18),
        },
      };
    }),
  );
}
