// Deploys the restaking core (StrategyManager, DelegationManager, AllocationManager, RewardsCoordinator)
// and strategies with viem. The first three reference each other through immutables, so their addresses
// are computed from the deployer's nonces before the first deployment.
import {
  type Account,
  type Address,
  type Chain,
  getContract,
  getContractAddress,
  isAddressEqual,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import {
  allocationManagerAbi,
  allocationManagerBytecode,
  delegationManagerAbi,
  delegationManagerBytecode,
  mockERC20Abi,
  mockERC20Bytecode,
  rewardsCoordinatorAbi,
  rewardsCoordinatorBytecode,
  strategyBaseAbi,
  strategyBaseBytecode,
  strategyManagerAbi,
  strategyManagerBytecode,
} from "./artifacts/index.js";
import { deployAndWait, sendAndWait } from "./send.js";

/** Constructor parameters of the restaking core (see docs: reference/restaking.md "Constants"). */
export type RestakingParams = {
  /** Blocks a queued withdrawal waits; its shares stay slashable meanwhile. @default 5 on a devnet */
  minWithdrawalDelayBlocks: number;
  /** Blocks until a slashable deallocation takes effect (+1); a deregistered operator stays slashable for this long. @default 5 */
  deallocationDelay: number;
  /** Blocks before an operator's changed allocation delay takes effect. @default 5 */
  allocationConfigurationDelay: number;
  /** Seconds before a rewards root (or a changed operator split) takes effect. @default 0 */
  rewardsActivationDelay: number;
  /** Operator commission when the operator set none, in bips. @default 1000 (10%) */
  defaultOperatorSplitBips: number;
  /**
   * Rewards periods start and last whole multiples of this (RewardsCoordinator.CALCULATION_INTERVAL_SECONDS):
   * stake is snapshotted on this grid. EigenLayer mainnet: 1 day. @default 10 on a devnet (a few blocks, so a
   * finalized epoch's fees can be escrowed seconds later)
   */
  calculationIntervalSeconds: number;
  /** Longest period one rewards submission may cover (a multiple of the interval). */
  maxRewardsDuration: number;
  /** Farthest back a rewards submission may start (a multiple of the interval). */
  maxRetroactiveLength: number;
};

/** Devnet values: everything happens within a few blocks. */
export const DEVNET_RESTAKING_PARAMS: RestakingParams = {
  minWithdrawalDelayBlocks: 5,
  deallocationDelay: 5,
  allocationConfigurationDelay: 5,
  rewardsActivationDelay: 0,
  defaultOperatorSplitBips: 1000,
  calculationIntervalSeconds: 10,
  maxRewardsDuration: 30 * 24 * 3600,
  maxRetroactiveLength: 90 * 24 * 3600,
};

/** Mainnet values (12 s blocks): 14 days for withdrawals and deallocations, ~17.5 days to change a delay. */
export const MAINNET_RESTAKING_PARAMS: RestakingParams = {
  minWithdrawalDelayBlocks: 100_800,
  deallocationDelay: 100_800,
  allocationConfigurationDelay: 126_000,
  rewardsActivationDelay: 7 * 24 * 3600,
  defaultOperatorSplitBips: 1000,
  calculationIntervalSeconds: 24 * 3600,
  maxRewardsDuration: 70 * 24 * 3600,
  maxRetroactiveLength: 90 * 24 * 3600,
};

/** Addresses of a deployed restaking core. */
export type RestakingAddresses = {
  strategyManager: Address;
  delegationManager: Address;
  allocationManager: Address;
  rewardsCoordinator: Address;
};

/** Clients a deployment needs: a wallet with an account and a chain, and a public client. */
export type LedgerClients = {
  wallet: WalletClient<Transport, Chain, Account>;
  public: PublicClient<Transport, Chain>;
};

/** Options of {@link deployRestakingCore}. */
export type DeployRestakingCoreOptions = {
  /** @default DEVNET_RESTAKING_PARAMS */
  params?: Partial<RestakingParams>;
  /** Owner of the StrategyManager and RewardsCoordinator (the DAO timelock in production). @default the deployer */
  owner?: Address;
  /** Who publishes rewards roots. @default the deployer */
  rewardsUpdater?: Address;
};

/** Typed viem contract instances of a restaking core. */
export function restakingContracts(clients: LedgerClients, addresses: RestakingAddresses) {
  const client = { public: clients.public, wallet: clients.wallet };
  return {
    strategyManager: getContract({ address: addresses.strategyManager, abi: strategyManagerAbi, client }),
    delegationManager: getContract({
      address: addresses.delegationManager,
      abi: delegationManagerAbi,
      client,
    }),
    allocationManager: getContract({
      address: addresses.allocationManager,
      abi: allocationManagerAbi,
      client,
    }),
    rewardsCoordinator: getContract({
      address: addresses.rewardsCoordinator,
      abi: rewardsCoordinatorAbi,
      client,
    }),
  };
}

/** Deploys the four core contracts; returns their addresses and the resolved parameters. */
export async function deployRestakingCore(
  clients: LedgerClients,
  options: DeployRestakingCoreOptions = {},
): Promise<{ addresses: RestakingAddresses; params: RestakingParams }> {
  const params = { ...DEVNET_RESTAKING_PARAMS, ...options.params };
  const deployer = clients.wallet.account.address;
  const owner = options.owner ?? deployer;
  const nonce = await clients.public.getTransactionCount({ address: deployer, blockTag: "pending" });
  const at = (offset: number) => getContractAddress({ from: deployer, nonce: BigInt(nonce + offset) });
  const expected = { strategyManager: at(0), delegationManager: at(1), allocationManager: at(2) };

  const strategyManager = await deployAndWait(clients, strategyManagerAbi, strategyManagerBytecode, [
    expected.delegationManager,
    owner,
  ]);
  const delegationManager = await deployAndWait(clients, delegationManagerAbi, delegationManagerBytecode, [
    expected.strategyManager,
    expected.allocationManager,
    params.minWithdrawalDelayBlocks,
  ]);
  const burnAddress = await clients.public.readContract({
    address: strategyManager,
    abi: strategyManagerAbi,
    functionName: "DEFAULT_BURN_ADDRESS",
  });
  const allocationManager = await deployAndWait(clients, allocationManagerAbi, allocationManagerBytecode, [
    expected.delegationManager,
    params.deallocationDelay,
    params.allocationConfigurationDelay,
    burnAddress,
  ]);
  if (
    !isAddressEqual(strategyManager, expected.strategyManager) ||
    !isAddressEqual(delegationManager, expected.delegationManager) ||
    !isAddressEqual(allocationManager, expected.allocationManager)
  ) {
    throw new Error(
      "restaking core deployed at unexpected addresses (was the deployer's nonce used concurrently?)",
    );
  }
  const rewardsCoordinator = await deployAndWait(clients, rewardsCoordinatorAbi, rewardsCoordinatorBytecode, [
    {
      strategyManager,
      allocationManager,
      owner,
      rewardsUpdater: options.rewardsUpdater ?? deployer,
      activationDelay: params.rewardsActivationDelay,
      defaultOperatorSplitBips: params.defaultOperatorSplitBips,
      calculationIntervalSeconds: params.calculationIntervalSeconds,
      maxRewardsDuration: params.maxRewardsDuration,
      maxRetroactiveLength: params.maxRetroactiveLength,
    },
  ]);
  return { addresses: { strategyManager, delegationManager, allocationManager, rewardsCoordinator }, params };
}

/** Deploys a strategy for `token` and whitelists it (the deployer must own the StrategyManager). */
export async function deployStrategy(
  clients: LedgerClients,
  strategyManager: Address,
  token: Address,
): Promise<Address> {
  const strategy = await deployAndWait(clients, strategyBaseAbi, strategyBaseBytecode, [
    strategyManager,
    token,
  ]);
  await sendAndWait(clients, {
    address: strategyManager,
    abi: strategyManagerAbi,
    functionName: "addStrategiesToDepositWhitelist",
    args: [[strategy]],
  });
  return strategy;
}

/** Deploys a freely mintable ERC20 (contracts/test/MockERC20.sol) standing in for a staking token on a devnet. */
export async function deployMockToken(
  clients: LedgerClients,
  name: string,
  symbol: string,
): Promise<Address> {
  return deployAndWait(clients, mockERC20Abi, mockERC20Bytecode, [name, symbol]);
}

/** A token and its strategy on a devnet. */
export type DevnetStrategy = { symbol: string; token: Address; strategy: Address };

/**
 * Everything a local network needs from the restaking core: the four contracts with devnet delays, and a
 * mintable token with a whitelisted strategy for each of `tokens` (default: stETH and rETH stand-ins).
 */
export async function deployRestakingDevnet(
  clients: LedgerClients,
  options: DeployRestakingCoreOptions & { tokens?: { name: string; symbol: string }[] } = {},
): Promise<{ addresses: RestakingAddresses; params: RestakingParams; strategies: DevnetStrategy[] }> {
  const { addresses, params } = await deployRestakingCore(clients, options);
  const tokens = options.tokens ?? [
    { name: "Staked Ether (devnet)", symbol: "stETH" },
    { name: "Rocket Pool Ether (devnet)", symbol: "rETH" },
  ];
  const strategies: DevnetStrategy[] = [];
  for (const { name, symbol } of tokens) {
    const token = await deployMockToken(clients, name, symbol);
    strategies.push({
      symbol,
      token,
      strategy: await deployStrategy(clients, addresses.strategyManager, token),
    });
  }
  return { addresses, params, strategies };
}
