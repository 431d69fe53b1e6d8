// Deploys the DIN service on the ledger: the restaking core (or an existing one), the registry, slasher and
// epochs contracts, the governance token, timelock and governor, and hands every parameter setter to the
// timelock and the veto and pause roles to a guardian. Two presets: a devnet where everything happens
// within blocks, and production values for a 12-second-block chain.
import { writeFileSync } from "node:fs";
import {
  type Abi,
  type Address,
  getAddress,
  getContract,
  type Hex,
  keccak256,
  toHex,
  zeroAddress,
} from "viem";
import {
  allocationManagerAbi,
  dinEpochsAbi,
  dinEpochsBytecode,
  dinEpochsFinalizerAbi,
  dinEpochsFinalizerBytecode,
  dinGovernorAbi,
  dinGovernorBytecode,
  dinRegistryAbi,
  dinRegistryBytecode,
  dinSlasherAbi,
  dinSlasherBytecode,
  dinTimelockAbi,
  dinTimelockBytecode,
  dinTokenAbi,
  dinTokenBytecode,
  mockERC20Abi,
  mockERC20Bytecode,
  rewardsCoordinatorAbi,
  strategyManagerAbi,
} from "../artifacts/index.js";
import {
  DEVNET_RESTAKING_PARAMS,
  deployMockToken,
  deployRestakingCore,
  deployStrategy,
  type LedgerClients,
  MAINNET_RESTAKING_PARAMS,
  type RestakingAddresses,
  type RestakingParams,
} from "../deploy.js";
import { deployAndWait, sendAndWait } from "../send.js";

/** A served network: one operator set of the service. */
export type DinNetwork = {
  /** Operator set id, 1 ..< 1_000_000. */
  id: number;
  name: string;
  /** Chain id of the served chain, as relays name it. */
  chainId: bigint;
  /** Minimum allocated stake (shares, summed over the service's strategies). */
  minStake: bigint;
};

/** The governed SLA table (IDinEpochs.SlaTable). */
export type SlaTable = {
  minAvailabilityBps: number;
  floorAvailabilityBps: number;
  maxP50LatencyMs: number;
  maxLagBlocks: number;
  availabilityWad: bigint;
  latencyWad: bigint;
  downWad: bigint;
};

/** Epoch timing in blocks (IDinEpochs.EpochParams). */
export type EpochParams = { epochLength: number; reportWindow: number; reportQuorum: number };

/** Slashing parameters (IDinSlasher.SlashParams). */
export type SlashParams = {
  vetoWindow: number;
  submissionMargin: number;
  jailCooldown: number;
  ejectAfter: number;
  attestQuorum: number;
  wrongDataWad: bigint;
  repeatWrongDataWad: bigint;
};

/** Governance parameters. */
export type GovernanceParams = {
  /** Blocks between a proposal and its vote. */
  votingDelay: number;
  /** Blocks of voting. */
  votingPeriod: number;
  /** Votes needed to propose. */
  proposalThreshold: bigint;
  /** Quorum, percent of the supply. */
  quorumPercent: number;
  /** Seconds a passed proposal waits in the timelock. */
  timelockDelay: bigint;
  /** Governance token supply: to the timelock's treasury, less the deployment's `tokenAllocations`. */
  tokenSupply: bigint;
};

/** Every parameter of a DIN deployment. */
export type DinParams = {
  restaking: RestakingParams;
  epochs: EpochParams;
  slash: SlashParams;
  /**
   * Seconds after a block's timestamp from which an operator's answer about it is evidence (the slasher's
   * immutable finalityDelay): an answer served earlier could be about a block later reorged out.
   */
  finalityDelay: number;
  sla: SlaTable;
  /**
   * Share (bps) of a network's judged stake that, failing one SLA rule in one epoch with at least two
   * operators, holds that rule's slashes for governance (DinEpochs bounds it to 2000–5000).
   */
  correlatedShareBps: number;
  governance: GovernanceParams;
  /** Minimum allocated stake of watchers and gateways. */
  watcherMinStake: bigint;
  gatewayMinStake: bigint;
};

const WAD = 10n ** 18n;

/** DIN's published SLA table: < 99.9% → 0.1%, p50 > 200 ms → 0.05%, no answer all epoch → 2%. */
export const DEFAULT_SLA_TABLE: SlaTable = {
  minAvailabilityBps: 9990,
  floorAvailabilityBps: 9000,
  maxP50LatencyMs: 200,
  maxLagBlocks: 3,
  availabilityWad: WAD / 1000n,
  latencyWad: WAD / 2000n,
  downWad: (2n * WAD) / 100n,
};

/**
 * Devnet: epochs of 20 blocks, a 20-block veto window, and core delays of 300 blocks so the timing rule
 * (20 + 10 + 20 + 10 < 300) holds.
 */
export const DEVNET_DIN_PARAMS: DinParams = {
  restaking: {
    ...DEVNET_RESTAKING_PARAMS,
    minWithdrawalDelayBlocks: 300,
    deallocationDelay: 300,
  },
  epochs: { epochLength: 20, reportWindow: 10, reportQuorum: 2 },
  slash: {
    vetoWindow: 20,
    submissionMargin: 10,
    jailCooldown: 40,
    ejectAfter: 2,
    attestQuorum: 2,
    wrongDataWad: WAD / 100n,
    repeatWrongDataWad: (5n * WAD) / 100n,
  },
  // None: the devnet is one node (no reorgs) with half-second blocks, and its watchers sample blocks from the
  // head down; production waits for finality.
  finalityDelay: 0,
  sla: DEFAULT_SLA_TABLE,
  // Half: a whole simulated cloud (two of five operators, about 40% of a network's stake) going down is
  // punished one operator at a time, while the served chain halting (every operator) is held.
  correlatedShareBps: 5000,
  governance: {
    votingDelay: 1,
    votingPeriod: 10,
    proposalThreshold: 0n,
    quorumPercent: 4,
    timelockDelay: 2n,
    tokenSupply: 1_000_000_000n * WAD,
  },
  watcherMinStake: WAD,
  gatewayMinStake: WAD,
};

/**
 * Production (12 s blocks): hourly epochs, a 30-minute report window, a one-day veto window, 14-day core
 * delays (300 + 150 + 7200 + 600 < 100 800), a week of voting and two days in the timelock.
 */
export const PRODUCTION_DIN_PARAMS: DinParams = {
  restaking: MAINNET_RESTAKING_PARAMS,
  epochs: { epochLength: 300, reportWindow: 150, reportQuorum: 3 },
  slash: {
    vetoWindow: 7200,
    submissionMargin: 600,
    jailCooldown: 7200,
    ejectAfter: 3,
    attestQuorum: 3,
    wrongDataWad: WAD / 100n,
    repeatWrongDataWad: (5n * WAD) / 100n,
  },
  // Past Ethereum's finality (two epochs, 12.8 minutes).
  finalityDelay: 900,
  correlatedShareBps: 3334,
  sla: DEFAULT_SLA_TABLE,
  governance: {
    votingDelay: 7200,
    votingPeriod: 50_400,
    proposalThreshold: 100_000n * WAD,
    quorumPercent: 4,
    timelockDelay: 2n * 24n * 3600n,
    tokenSupply: 1_000_000_000n * WAD,
  },
  watcherMinStake: 32n * WAD,
  gatewayMinStake: 32n * WAD,
};

/** The presets by name. */
export const DIN_PRESETS = { devnet: DEVNET_DIN_PARAMS, production: PRODUCTION_DIN_PARAMS } as const;

/** Addresses of a DIN deployment. */
export type DinAddresses = RestakingAddresses & {
  registry: Address;
  slasher: Address;
  epochs: Address;
  feeToken: Address;
  governanceToken: Address;
  timelock: Address;
  governor: Address;
  guardian: Address;
  strategies: Address[];
};

/** Options of {@link deployDin}. */
export type DeployDinOptions = {
  /** @default "devnet" */
  preset?: keyof typeof DIN_PRESETS;
  /** Overrides of the preset, field by field at the top level. */
  params?: Partial<DinParams>;
  /** Use this restaking core instead of deploying one (its StrategyManager must whitelist `strategies`). */
  restaking?: RestakingAddresses;
  /** Strategies counted by the service. @default on a devnet: new mock stETH and rETH strategies */
  strategies?: Address[];
  /** Fee token. @default on a devnet: a new mintable mock token */
  feeToken?: Address;
  /** Served networks. @default ethereum (the ledger's own chain id on a devnet, 1 otherwise) and polygon (137) */
  networks?: DinNetwork[];
  /** Holds veto and pause roles. @default the deployer */
  guardian?: Address;
  /** Watchers and gateways admitted at deployment (they still register and stake). */
  watchers?: Address[];
  gateways?: Address[];
  /** Keep the deployer's admin and governance roles (tests and devnets that skip proposals). @default false */
  keepDeployerRoles?: boolean;
  /**
   * Governance tokens given at deployment (a community distribution, contributors); the rest of the
   * supply goes to the timelock's treasury. @default none: the whole supply is the treasury's
   */
  tokenAllocations?: Array<{ holder: Address; amount: bigint }>;
  /**
   * The service's AVS metadata URI (EigenLayer's metadata.json: name, website, description, logo, twitter),
   * published on the core before the operator sets are created. @default a data: URI of OpenDIN's metadata
   */
  avsMetadataURI?: string;
  /** Write the addresses (and parameters) here as JSON. */
  out?: string;
};

/** The service's AVS metadata, as EigenLayer's metadata.json has it. */
export const AVS_METADATA = {
  name: "OpenDIN",
  website: "https://github.com/opendin/opendin",
  description:
    "A decentralized infrastructure network for Ethereum JSON-RPC: staked operators serve RPC behind failover gateways, paid for measured uptime and slashed with on-chain evidence.",
  logo: "",
  twitter: "",
} as const;

/** `metadata` as a self-contained data: URI (no server needed to publish it). */
export const metadataDataUri = (metadata: object): string =>
  `data:application/json;base64,${Buffer.from(JSON.stringify(metadata)).toString("base64")}`;

/** What {@link deployDin} returns (and writes to `out`). */
export type DinDeployment = {
  preset: keyof typeof DIN_PRESETS;
  chainId: number;
  addresses: DinAddresses;
  networks: DinNetwork[];
  params: DinParams;
};

/** keccak256 of a role name, as the contracts define it. */
export const role = (name: string): Hex => keccak256(toHex(name));
export const GOVERNANCE_ROLE = role("GOVERNANCE_ROLE");
export const PAUSER_ROLE = role("PAUSER_ROLE");
export const VETO_ROLE = role("VETO_ROLE");
export const DEFAULT_ADMIN_ROLE: Hex = `0x${"00".repeat(32)}`;

const ascending = (a: Address, b: Address) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/**
 * Deploys the restaking core (unless given), the DIN service and its governance, wires them, adds the
 * networks, and hands every setter to the timelock: after this the deployer holds nothing (unless
 * `keepDeployerRoles`). In the production preset the core's owner becomes the timelock too.
 */
export async function deployDin(
  clients: LedgerClients,
  options: DeployDinOptions = {},
): Promise<DinDeployment> {
  const preset = options.preset ?? "devnet";
  const params: DinParams = { ...DIN_PRESETS[preset], ...options.params };
  const deployer = clients.wallet.account.address;
  const guardian = options.guardian ?? deployer;
  const send = (address: Address, abi: Abi, functionName: string, args: readonly unknown[]) =>
    sendAndWait(clients, { address, abi, functionName, args });
  const chainId = await clients.public.getChainId();
  if (preset === "production" && (!options.strategies || !options.feeToken)) {
    throw new Error("production deployments name their strategies and fee token");
  }

  const restaking =
    options.restaking ?? (await deployRestakingCore(clients, { params: params.restaking })).addresses;
  let strategies = options.strategies;
  if (!strategies) {
    strategies = [];
    for (const [name, symbol] of [
      ["Staked Ether (devnet)", "stETH"],
      ["Rocket Pool Ether (devnet)", "rETH"],
    ] as const) {
      const token = await deployMockToken(clients, name, symbol);
      strategies.push(await deployStrategy(clients, restaking.strategyManager, token));
    }
  }
  strategies = [...strategies].map((s) => getAddress(s)).sort(ascending);
  let feeToken = options.feeToken;
  if (!feeToken) {
    feeToken = await deployAndWait(clients, mockERC20Abi, mockERC20Bytecode, ["USD Coin (devnet)", "USDC"]);
  }

  // Governance.
  const g = params.governance;
  const timelock = await deployAndWait(clients, dinTimelockAbi, dinTimelockBytecode, [
    g.timelockDelay,
    [],
    [zeroAddress],
    deployer,
  ]);
  // The supply is the DAO's: minted to the timelock, less what the deployment gives by name.
  const allocations = options.tokenAllocations ?? [];
  const governanceToken = await deployAndWait(clients, dinTokenAbi, dinTokenBytecode, [
    timelock,
    allocations.map((allocation) => allocation.holder),
    allocations.map((allocation) => allocation.amount),
    g.tokenSupply,
  ]);
  const governor = await deployAndWait(clients, dinGovernorAbi, dinGovernorBytecode, [
    governanceToken,
    timelock,
    g.votingDelay,
    g.votingPeriod,
    g.proposalThreshold,
    BigInt(g.quorumPercent),
  ]);
  const proposerRole = role("PROPOSER_ROLE");
  const cancellerRole = role("CANCELLER_ROLE");
  await send(timelock, dinTimelockAbi, "grantRole", [proposerRole, governor]);
  await send(timelock, dinTimelockAbi, "grantRole", [cancellerRole, governor]);

  // The service.
  const registry = await deployAndWait(clients, dinRegistryAbi, dinRegistryBytecode, [
    restaking.allocationManager,
    restaking.rewardsCoordinator,
    strategies,
    deployer,
  ]);
  const slasher = await deployAndWait(clients, dinSlasherAbi, dinSlasherBytecode, [
    registry,
    restaking.delegationManager,
    params.slash,
    BigInt(params.finalityDelay),
    deployer,
  ]);
  // Finalization steps run in a second contract (DinEpochs delegates to it) so that both stay under the
  // code size limit.
  const finalizer = await deployAndWait(clients, dinEpochsFinalizerAbi, dinEpochsFinalizerBytecode, [
    registry,
    slasher,
    feeToken,
  ]);
  const epochs = await deployAndWait(clients, dinEpochsAbi, dinEpochsBytecode, [
    registry,
    slasher,
    feeToken,
    params.sla,
    params.epochs,
    deployer,
    finalizer,
  ]);
  await send(epochs, dinEpochsAbi, "setCorrelatedShare", [BigInt(params.correlatedShareBps)]);
  // As an AVS on EigenLayer's core: the metadata URI first (no operator set before it), then the sets.
  await send(registry, dinRegistryAbi, "updateAVSMetadataURI", [
    options.avsMetadataURI ?? metadataDataUri(AVS_METADATA),
  ]);
  await send(registry, dinRegistryAbi, "wire", [slasher, epochs]);
  await send(slasher, dinSlasherAbi, "wire", [epochs]);
  const networks = options.networks ?? [
    {
      id: 1,
      name: "ethereum",
      chainId: preset === "devnet" ? BigInt(chainId) : 1n,
      minStake: preset === "devnet" ? WAD : 32n * WAD,
    },
    { id: 2, name: "polygon", chainId: 137n, minStake: preset === "devnet" ? WAD : 32n * WAD },
  ];
  for (const n of networks) {
    await send(registry, dinRegistryAbi, "addNetwork", [n.id, n.name, n.chainId, n.minStake]);
  }
  await send(registry, dinRegistryAbi, "setRoleMinStakes", [params.watcherMinStake, params.gatewayMinStake]);
  for (const w of options.watchers ?? []) await send(registry, dinRegistryAbi, "setWatcher", [w, true]);
  for (const gw of options.gateways ?? []) await send(registry, dinRegistryAbi, "setGateway", [gw, true]);

  // Roles: the timelock governs, the guardian vetoes and pauses, the deployer steps down.
  for (const [address, abi] of [
    [registry, dinRegistryAbi],
    [slasher, dinSlasherAbi],
    [epochs, dinEpochsAbi],
  ] as const) {
    await send(address, abi, "grantRole", [DEFAULT_ADMIN_ROLE, timelock]);
    await send(address, abi, "grantRole", [GOVERNANCE_ROLE, timelock]);
    await send(address, abi, "grantRole", [PAUSER_ROLE, guardian]);
    if (address === slasher) await send(address, abi, "grantRole", [VETO_ROLE, guardian]);
    if (!options.keepDeployerRoles) {
      await send(address, abi, "renounceRole", [GOVERNANCE_ROLE, deployer]);
      await send(address, abi, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer]);
    }
  }
  if (!options.keepDeployerRoles) {
    await send(timelock, dinTimelockAbi, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer]);
  }
  // A wrong rewards root (a miscalculation, a stolen updater key) is stopped during its activation delay
  // by the guardian: the timelock that owns the coordinator is slower than the delay.
  if (!options.restaking) {
    await send(restaking.rewardsCoordinator, rewardsCoordinatorAbi, "setRootGuardian", [guardian]);
  }
  if (preset === "production" && !options.restaking) {
    await send(restaking.strategyManager, strategyManagerAbi, "transferOwnership", [timelock]);
    await send(restaking.rewardsCoordinator, rewardsCoordinatorAbi, "transferOwnership", [timelock]);
  }

  const deployment: DinDeployment = {
    preset,
    chainId,
    addresses: {
      ...restaking,
      registry,
      slasher,
      epochs,
      feeToken,
      governanceToken,
      timelock,
      governor,
      guardian,
      strategies,
    },
    networks,
    params,
  };
  if (options.out) writeFileSync(options.out, `${toJson(deployment)}\n`);
  return deployment;
}

/** Typed viem contracts of a DIN deployment. */
export function dinContracts(clients: LedgerClients, addresses: DinAddresses) {
  const client = { public: clients.public, wallet: clients.wallet };
  return {
    registry: getContract({ address: addresses.registry, abi: dinRegistryAbi, client }),
    slasher: getContract({ address: addresses.slasher, abi: dinSlasherAbi, client }),
    epochs: getContract({ address: addresses.epochs, abi: dinEpochsAbi, client }),
    governor: getContract({ address: addresses.governor, abi: dinGovernorAbi, client }),
    timelock: getContract({ address: addresses.timelock, abi: dinTimelockAbi, client }),
    governanceToken: getContract({ address: addresses.governanceToken, abi: dinTokenAbi, client }),
    allocationManager: getContract({
      address: addresses.allocationManager,
      abi: allocationManagerAbi,
      client,
    }),
  };
}
