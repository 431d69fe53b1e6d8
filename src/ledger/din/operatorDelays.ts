// The core's delays as an operator lives them: its allocation delay (how long a new allocation takes to
// become slashable stake), the deallocation delay (how long stake stays slashable after it is taken away),
// the withdrawal delay its stakers wait, and each pending allocation change on the service's networks with
// the block — and roughly the time — it takes effect. On EigenLayer's mainnet these are days (14 for a
// deallocation or a withdrawal, 17.5 to change the allocation delay); on a devnet, blocks.
import type { Address, PublicClient } from "viem";
import { allocationManagerAbi, delegationManagerAbi } from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";

/** A pending allocation change of one strategy on one network. */
export type PendingAllocation = {
  network: string;
  strategy: Address;
  /** Magnitude now and once the change takes effect (wad of the operator's stake in the strategy). */
  current: bigint;
  next: bigint;
  effectBlock: number;
  /** Seconds until then at the chain's recent block time (0 when it is due). */
  etaSeconds: number;
};

export type OperatorDelays = {
  block: number;
  /** Seconds per block over the last blocks (what the time estimates use). */
  blockTimeSeconds: number;
  /** The operator's allocation delay, in blocks (unset: it must set one before allocating). */
  allocationDelay: { isSet: boolean; blocks: number };
  /** Blocks a deallocation stays slashable. */
  deallocationDelayBlocks: number;
  /** Blocks before a changed allocation delay applies. */
  allocationConfigurationDelayBlocks: number;
  /** Blocks stakers wait to withdraw. */
  withdrawalDelayBlocks: number;
  pending: PendingAllocation[];
};

/** Reads the delays and pending allocation changes of `operator` on the deployment's networks. */
export async function readOperatorDelays(
  client: PublicClient,
  deployment: DinDeployment,
  operator: Address,
): Promise<OperatorDelays> {
  const d = deployment.addresses;
  const am = { address: d.allocationManager, abi: allocationManagerAbi } as const;
  const latest = await client.getBlock({ blockTag: "latest" });
  const span = latest.number > 100n ? 100n : latest.number;
  const earlier = span > 0n ? await client.getBlock({ blockNumber: latest.number - span }) : latest;
  const blockTimeSeconds = span > 0n ? Number(latest.timestamp - earlier.timestamp) / Number(span) : 0;
  const [[isSet, delay], deallocation, configuration, withdrawal] = await Promise.all([
    client.readContract({ ...am, functionName: "getAllocationDelay", args: [operator] }),
    client.readContract({ ...am, functionName: "DEALLOCATION_DELAY" }),
    client.readContract({ ...am, functionName: "ALLOCATION_CONFIGURATION_DELAY" }),
    client.readContract({
      address: d.delegationManager,
      abi: delegationManagerAbi,
      functionName: "minWithdrawalDelayBlocks",
    }),
  ]);
  const block = Number(latest.number);
  // Every (network, strategy) allocation read at once: a status is as slow as its slowest read, not their sum.
  const pairs = deployment.networks.flatMap((network) =>
    d.strategies.map((strategy) => ({ network, strategy })),
  );
  const allocations = await Promise.all(
    pairs.map(({ network, strategy }) =>
      client.readContract({
        ...am,
        functionName: "getAllocation",
        args: [operator, { avs: d.registry, id: network.id }, strategy],
      }),
    ),
  );
  const pending: PendingAllocation[] = pairs.flatMap(({ network, strategy }, i) => {
    const allocation = allocations[i]!;
    if (allocation.pendingDiff === 0n || allocation.effectBlock <= block) return [];
    return [
      {
        network: network.name,
        strategy,
        current: allocation.currentMagnitude,
        next: allocation.currentMagnitude + BigInt(allocation.pendingDiff),
        effectBlock: allocation.effectBlock,
        etaSeconds: Math.round((allocation.effectBlock - block) * blockTimeSeconds),
      },
    ];
  });
  return {
    block,
    blockTimeSeconds,
    allocationDelay: { isSet, blocks: Number(delay) },
    deallocationDelayBlocks: Number(deallocation),
    allocationConfigurationDelayBlocks: Number(configuration),
    withdrawalDelayBlocks: Number(withdrawal),
    pending,
  };
}

/** "1,200 blocks (about 4 h)" at the given block time. */
export function blocksAndTime(blocks: number, blockTimeSeconds: number): string {
  const seconds = blocks * blockTimeSeconds;
  const time =
    seconds >= 86_400
      ? `${(seconds / 86_400).toFixed(1)} days`
      : seconds >= 3_600
        ? `${(seconds / 3_600).toFixed(1)} h`
        : seconds >= 60
          ? `${Math.round(seconds / 60)} min`
          : `${Math.round(seconds)} s`;
  return `${blocks.toLocaleString("en-US")} blocks${blockTimeSeconds > 0 ? ` (about ${time})` : ""}`;
}
