// The guardian's pauses of the DIN contracts (registry: registrations and key rotations; slasher: fraud proofs
// and executions; epochs: fees, reports and finalization). Each pause expires by itself after
// MAX_PAUSE_BLOCKS and a new one waits as long as the last one lasted; this module reads that state and
// sends the guardian's pause and unpause.
import { type Address, type PublicClient, parseAbi } from "viem";
import { type DinDeployment, PAUSER_ROLE } from "./deploy.js";
import {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  step,
} from "./perform.js";

/** The contracts the guardian can pause. */
export const PAUSABLE = ["registry", "slasher", "epochs"] as const;
export type Pausable = (typeof PAUSABLE)[number];

const pausableAbi = parseAbi([
  "function paused() view returns (bool)",
  "function pausedUntil() view returns (uint64)",
  "function pauseReadyAt() view returns (uint256)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function pause()",
  "function unpause()",
]);

/** One contract's pause state at the latest block. */
export type PauseStatus = {
  contract: Pausable;
  address: Address;
  paused: boolean;
  /** The block the current (or last) pause ends at. */
  pausedUntil: bigint;
  /** The first block a new pause may start in. */
  readyAt: bigint;
};

/** The pause state of every pausable contract. */
export async function pauseStatus(
  client: PublicClient,
  deployment: DinDeployment,
): Promise<{ block: bigint; contracts: PauseStatus[] }> {
  const block = await client.getBlockNumber();
  const contracts = await Promise.all(
    PAUSABLE.map(async (contract): Promise<PauseStatus> => {
      const address = deployment.addresses[contract];
      const read = <T>(functionName: "paused" | "pausedUntil" | "pauseReadyAt") =>
        client.readContract({ address, abi: pausableAbi, functionName, blockNumber: block }) as Promise<T>;
      const [paused, pausedUntil, readyAt] = await Promise.all([
        read<boolean>("paused"),
        read<bigint>("pausedUntil"),
        read<bigint>("pauseReadyAt"),
      ]);
      return { contract, address, paused, pausedUntil: BigInt(pausedUntil), readyAt: BigInt(readyAt) };
    }),
  );
  return { block, contracts };
}

/** Pauses (or lifts the pause of) one contract as the guardian. */
export async function setPaused(
  actor: LedgerActor,
  options: ActionOptions & { contract: Pausable; paused: boolean },
): Promise<ActionResult<{ status: PauseStatus }>> {
  const me = actor.clients.wallet.account.address;
  const { block, contracts } = await pauseStatus(actor.clients.public, actor.deployment);
  const status = contracts.find((c) => c.contract === options.contract);
  if (!status) throw new LedgerActionError(`unknown contract ${options.contract}`);
  const mayPause = await actor.clients.public.readContract({
    address: status.address,
    abi: pausableAbi,
    functionName: "hasRole",
    args: [PAUSER_ROLE, me],
  });
  if (!mayPause)
    throw new LedgerActionError(
      `${me} does not hold the pauser role of the ${status.contract} (the guardian does)`,
    );
  const next = block + 1n;
  if (options.paused) {
    if (status.paused) {
      throw new LedgerActionError(
        `the ${status.contract} is already paused until block ${status.pausedUntil}`,
      );
    }
    if (next < status.readyAt) {
      throw new LedgerActionError(
        `the ${status.contract} was paused recently: a new pause may start at block ${status.readyAt} (now ${block})`,
      );
    }
  } else if (!status.paused) {
    throw new LedgerActionError(`the ${status.contract} is not paused`);
  }
  const done = await perform(
    actor,
    [step(status.address, pausableAbi, options.paused ? "pause" : "unpause", [])],
    options,
    context(actor.deployment),
  );
  const verb = options.paused ? "pause" : "lift the pause of";
  if (done.dryRun) return { ...done, status, summary: `would ${verb} the ${status.contract}` };
  const after = (await pauseStatus(actor.clients.public, actor.deployment)).contracts.find(
    (c) => c.contract === options.contract,
  ) as PauseStatus;
  return {
    ...done,
    status: after,
    summary: options.paused
      ? `paused the ${after.contract} until block ${after.pausedUntil} (it ends by itself then, unless lifted earlier)`
      : `lifted the pause of the ${after.contract}; a new pause may start at block ${after.readyAt}`,
  };
}
