// The restaking core a DIN service deploys against, as a file of addresses: EigenLayer's deployed core on a
// testnet or mainnet, or our own core deployed alone (`din deploy --core-only`). Before anything is sent,
// every address is checked to be what the file says it is (code there, and a view function of that contract
// answering), on the chain the file names, and the deployer is checked to afford the deployment.
import { readFileSync, writeFileSync } from "node:fs";
import { type Address, formatEther, getAddress, isAddress, type PublicClient, parseAbi } from "viem";
import { z } from "zod";
import type { RestakingAddresses } from "../deploy.js";

const address = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "not an address")
  .transform((value) => getAddress(value));

/** The file `--eigenlayer` takes (and `din deploy --core-only` writes). */
export const coreAddressesSchema = z
  .object({
    /** Chain the core lives on; checked against the RPC's when present. */
    chainId: z.number().int().positive().optional(),
    allocationManager: address,
    delegationManager: address,
    strategyManager: address,
    rewardsCoordinator: address,
    /** Strategies the service counts (whitelisted for deposit on the core). */
    strategies: z.array(address).min(1),
    /** Token gateways pay fees in. Required unless the deployment creates a devnet one. */
    feeToken: address.optional(),
  })
  .strict();
export type CoreAddresses = z.infer<typeof coreAddressesSchema>;

/** A core file or core contract that is not what it should be; the message says which and why. */
export class CoreAddressesError extends Error {
  override name = "CoreAddressesError";
}

/** Reads and validates a core addresses file. */
export function readCoreAddresses(file: string): CoreAddresses {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new CoreAddressesError(`cannot read core addresses from ${file}: ${(error as Error).message}`);
  }
  const parsed = coreAddressesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CoreAddressesError(
      `${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid core addresses"}`,
    );
  }
  return parsed.data;
}

export function writeCoreAddresses(file: string, core: CoreAddresses): void {
  writeFileSync(file, `${JSON.stringify(core, null, 2)}\n`);
}

export const restakingAddressesOf = (core: CoreAddresses): RestakingAddresses => ({
  allocationManager: core.allocationManager,
  delegationManager: core.delegationManager,
  strategyManager: core.strategyManager,
  rewardsCoordinator: core.rewardsCoordinator,
});

/** The view functions that tell each core contract (and a strategy) apart; all are EigenLayer's. */
const probes = {
  allocationManager: parseAbi(["function DEALLOCATION_DELAY() view returns (uint32)"]),
  delegationManager: parseAbi(["function minWithdrawalDelayBlocks() view returns (uint32)"]),
  strategyManager: parseAbi(["function strategyIsWhitelistedForDeposit(address) view returns (bool)"]),
  rewardsCoordinator: parseAbi(["function activationDelay() view returns (uint32)"]),
  strategy: parseAbi(["function underlyingToken() view returns (address)"]),
  token: parseAbi(["function decimals() view returns (uint8)"]),
} as const;

/** What the checks read from the core (used to print the deployment plan). */
export type VerifiedCore = {
  chainId: number;
  deallocationDelay: number;
  minWithdrawalDelayBlocks: number;
  activationDelay: number;
  /** Each strategy's underlying token. */
  underlying: Address[];
};

/**
 * Checks, before anything is sent, that the RPC is on the file's chain, and that each address holds code and
 * answers a view function of the contract the file says it is; each strategy must be whitelisted for deposit
 * and the fee token (when given) must answer `decimals()`.
 */
export async function verifyCore(client: PublicClient, core: CoreAddresses): Promise<VerifiedCore> {
  const chainId = await client.getChainId();
  if (core.chainId !== undefined && core.chainId !== chainId) {
    throw new CoreAddressesError(
      `the core addresses are for chain ${core.chainId}, but the RPC is on chain ${chainId}`,
    );
  }
  const hasCode = async (name: string, at: Address) => {
    const code = await client.getCode({ address: at });
    if (code === undefined || code === "0x") {
      throw new CoreAddressesError(`no contract at ${at} (${name}) on chain ${chainId}`);
    }
  };
  const call = async <T>(name: string, at: Address, read: () => Promise<T>, what: string): Promise<T> => {
    await hasCode(name, at);
    try {
      return await read();
    } catch {
      throw new CoreAddressesError(
        `${at} is not ${what} (${name}): the view function that contract has did not answer`,
      );
    }
  };
  const deallocationDelay = await call(
    "allocationManager",
    core.allocationManager,
    () =>
      client.readContract({
        address: core.allocationManager,
        abi: probes.allocationManager,
        functionName: "DEALLOCATION_DELAY",
      }),
    "an AllocationManager",
  );
  const minWithdrawalDelayBlocks = await call(
    "delegationManager",
    core.delegationManager,
    () =>
      client.readContract({
        address: core.delegationManager,
        abi: probes.delegationManager,
        functionName: "minWithdrawalDelayBlocks",
      }),
    "a DelegationManager",
  );
  const activationDelay = await call(
    "rewardsCoordinator",
    core.rewardsCoordinator,
    () =>
      client.readContract({
        address: core.rewardsCoordinator,
        abi: probes.rewardsCoordinator,
        functionName: "activationDelay",
      }),
    "a RewardsCoordinator",
  );
  const underlying: Address[] = [];
  for (const [i, strategy] of core.strategies.entries()) {
    const token = await call(
      `strategies[${i}]`,
      strategy,
      () => client.readContract({ address: strategy, abi: probes.strategy, functionName: "underlyingToken" }),
      "a strategy",
    );
    underlying.push(getAddress(token));
    const whitelisted = await call(
      "strategyManager",
      core.strategyManager,
      () =>
        client.readContract({
          address: core.strategyManager,
          abi: probes.strategyManager,
          functionName: "strategyIsWhitelistedForDeposit",
          args: [strategy],
        }),
      "a StrategyManager",
    );
    if (!whitelisted) {
      throw new CoreAddressesError(
        `strategy ${strategy} is not whitelisted for deposit on the StrategyManager`,
      );
    }
  }
  if (core.feeToken !== undefined) {
    const feeToken = core.feeToken;
    await call(
      "feeToken",
      feeToken,
      () => client.readContract({ address: feeToken, abi: probes.token, functionName: "decimals" }),
      "an ERC-20 token",
    );
  }
  return {
    chainId,
    deallocationDelay: Number(deallocationDelay),
    minWithdrawalDelayBlocks: Number(minWithdrawalDelayBlocks),
    activationDelay: Number(activationDelay),
    underlying,
  };
}

/** Gas a deployment of the DIN service takes, measured on a devnet with two networks (rounded up). */
export const DIN_DEPLOYMENT_GAS = 40_000_000n;
/** Gas deploying our restaking core alone takes (with two devnet strategies). */
export const CORE_DEPLOYMENT_GAS = 20_000_000n;

/** Refuses a deployer that cannot pay for `gas` at the chain's current gas price. */
export async function checkFunds(client: PublicClient, deployer: Address, gas: bigint): Promise<void> {
  const [balance, gasPrice] = await Promise.all([
    client.getBalance({ address: deployer }),
    client.getGasPrice(),
  ]);
  const needed = gas * gasPrice;
  if (balance < needed) {
    throw new CoreAddressesError(
      `the deployer ${deployer} holds ${formatEther(balance)} ETH; deploying takes about ${gas.toLocaleString("en-US")} gas, ${formatEther(needed)} ETH at the current gas price`,
    );
  }
}
