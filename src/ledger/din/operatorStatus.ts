// An operator's standing on the ledger as the core and the registry hold it: registration, metadata,
// allocated stake, jail and slashes on every network, delegated shares and commission.
import { type Address, getAddress, type PublicClient } from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinRegistryAbi,
  rewardsCoordinatorAbi,
} from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";
import { readSlashes, type SlashRecord } from "./directory.js";
import type { OperatorMetadata } from "./registry.js";

/** An operator's standing on one network. */
export type OperatorNetworkStatus = {
  network: string;
  networkId: number;
  registered: boolean;
  /** Declared metadata (when registered). */
  metadata?: OperatorMetadata;
  /** Allocated stake (shares, summed over the service's strategies). */
  allocatedStake: bigint;
  minStake: bigint;
  /** Block until which it is jailed (0 when never). */
  jailedUntil: bigint;
  jailed: boolean;
  /** Queued slashes (awaiting the veto window). */
  queuedSlashes: SlashRecord[];
  /** Executed slashes. */
  executedSlashes: SlashRecord[];
};

/** An operator's standing on the ledger. */
export type OperatorStatus = {
  address: Address;
  /** Registered as a restaking operator. */
  isOperator: boolean;
  /** Commission on the service's rewards, in bips (its split for the first network's operator set). */
  commissionBips: number;
  /** Shares delegated to it, per strategy. */
  delegatedShares: { strategy: Address; shares: bigint }[];
  networks: OperatorNetworkStatus[];
};

/** Reads an operator's registration, stake, jail, slashes and commission on every network. */
export async function operatorStatus(
  client: PublicClient,
  deployment: DinDeployment,
  address: Address,
): Promise<OperatorStatus> {
  const d = deployment.addresses;
  const operator = getAddress(address);
  const registry = { address: d.registry, abi: dinRegistryAbi } as const;
  const [isOperator, commission, shares, slashes, block] = await Promise.all([
    client.readContract({
      address: d.delegationManager,
      abi: delegationManagerAbi,
      functionName: "isOperator",
      args: [operator],
    }),
    client.readContract({
      address: d.rewardsCoordinator,
      abi: rewardsCoordinatorAbi,
      functionName: "getOperatorSetSplit",
      args: [operator, { avs: d.registry, id: deployment.networks[0]?.id ?? 0 }],
    }),
    client.readContract({
      address: d.delegationManager,
      abi: delegationManagerAbi,
      functionName: "getOperatorShares",
      args: [operator, d.strategies],
    }),
    readSlashes(client, d),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const networks = await Promise.all(
    deployment.networks.map(async (n): Promise<OperatorNetworkStatus> => {
      const [registered, stake, jailedUntil, onChain] = await Promise.all([
        client.readContract({
          address: d.allocationManager,
          abi: allocationManagerAbi,
          functionName: "isMemberOfOperatorSet",
          args: [operator, { avs: d.registry, id: n.id }],
        }),
        client.readContract({ ...registry, functionName: "allocatedStake", args: [operator, n.id] }),
        client.readContract({ ...registry, functionName: "jailedUntil", args: [operator, n.id] }),
        client.readContract({ ...registry, functionName: "getNetwork", args: [n.id] }),
      ]);
      const metadata = registered
        ? await client.readContract({ ...registry, functionName: "getMetadata", args: [operator, n.id] })
        : undefined;
      const mine = slashes.filter((s) => s.operator === operator && s.networkId === n.id);
      return {
        network: n.name,
        networkId: n.id,
        registered,
        ...(metadata
          ? {
              metadata: {
                endpoint: metadata.endpoint,
                cloud: metadata.cloud,
                region: metadata.region,
                client: metadata.client,
                signer: getAddress(metadata.signer),
              },
            }
          : {}),
        allocatedStake: stake,
        minStake: onChain.minStake,
        jailedUntil,
        jailed: jailedUntil > block,
        queuedSlashes: mine.filter((s) => s.status === "queued"),
        executedSlashes: mine.filter((s) => s.status === "executed"),
      };
    }),
  );
  return {
    address: operator,
    isOperator,
    commissionBips: Number(commission),
    delegatedShares: d.strategies.map((strategy, i) => ({ strategy, shares: shares[i] ?? 0n })),
    networks,
  };
}
