// Reads what an operator set is secured by: each member's allocated stake and the stake certainly slashable
// until a future block, per strategy. For the gateway (stake-weighted routing), the DIN service's
// registrar logic and the risk check.
import type { Address, PublicClient } from "viem";
import { allocationManagerAbi } from "./artifacts/index.js";

/** One operator's stake in an operator set. */
export type OperatorSetMemberStake = {
  operator: Address;
  /** Per strategy (same order as requested): `operatorShares × currentMagnitude / maxMagnitude`. */
  allocated: bigint[];
  /** Per strategy: stake slashable until `atBlock`, pending deallocations due by then subtracted. */
  minimumSlashable: bigint[];
};

/** Options of {@link readOperatorSetStake}. */
export type ReadOperatorSetStakeOptions = {
  /** Block for the minimum slashable stake. @default the current block */
  atBlock?: bigint;
};

/** The registered members of `operatorSet` with their allocated and minimum slashable stake. */
export async function readOperatorSetStake(
  client: PublicClient,
  allocationManager: Address,
  operatorSet: { avs: Address; id: number },
  strategies: readonly Address[],
  options: ReadOperatorSetStakeOptions = {},
): Promise<OperatorSetMemberStake[]> {
  const contract = { address: allocationManager, abi: allocationManagerAbi } as const;
  const members = await client.readContract({ ...contract, functionName: "getMembers", args: [operatorSet] });
  if (members.length === 0) return [];
  const atBlock = options.atBlock ?? (await client.getBlockNumber());
  const [allocated, minimum] = await Promise.all([
    client.readContract({
      ...contract,
      functionName: "getAllocatedStake",
      args: [operatorSet, members, strategies],
    }),
    client.readContract({
      ...contract,
      functionName: "getMinimumSlashableStake",
      args: [operatorSet, members, strategies, Number(atBlock)],
    }),
  ]);
  return members.map((operator, i) => ({
    operator,
    allocated: [...(allocated[i] ?? [])],
    minimumSlashable: [...(minimum[i] ?? [])],
  }));
}
