// Our restaking core deployed alone, as the stand-in for EigenLayer's: the four core contracts, and on a
// devnet two mock liquid-staking tokens with their strategies and a mock fee token. The result is the same
// core addresses file EigenLayer's deployments are described with, so the DIN service is then deployed
// against it exactly as against EigenLayer's (`deployDinOnCore`).
import type { Address } from "viem";
import { rewardsCoordinatorAbi } from "../artifacts/index.js";
import {
  deployMockToken,
  deployRestakingCore,
  deployStrategy,
  type LedgerClients,
  type RestakingParams,
} from "../deploy.js";
import { sendAndWait } from "../send.js";
import { type CoreAddresses, CoreAddressesError, restakingAddressesOf, verifyCore } from "./coreAddresses.js";
import { type DeployDinOptions, DIN_PRESETS, type DinDeployment, deployDin } from "./deploy.js";

/** Options of {@link deployCoreAlone}. */
export type DeployCoreOptions = {
  params: RestakingParams;
  /** Create mock stETH/rETH strategies and a mock fee token (devnets). */
  devnetTokens: boolean;
  /** Tokens to create strategies for (their StrategyManager whitelists them). */
  tokens?: Address[];
  /** May disable a rewards root during its activation delay (the DIN guardian). */
  rootGuardian?: Address;
};

/** Deploys our core alone; returns its addresses file. */
export async function deployCoreAlone(
  clients: LedgerClients,
  options: DeployCoreOptions,
): Promise<CoreAddresses> {
  const { addresses } = await deployRestakingCore(clients, { params: options.params });
  const tokens = [...(options.tokens ?? [])];
  let feeToken: Address | undefined;
  if (options.devnetTokens) {
    tokens.push(await deployMockToken(clients, "Staked Ether (devnet)", "stETH"));
    tokens.push(await deployMockToken(clients, "Rocket Pool Ether (devnet)", "rETH"));
    feeToken = await deployMockToken(clients, "USD Coin (devnet)", "USDC");
  }
  if (tokens.length === 0) throw new Error("the core needs at least one token to create a strategy for");
  const strategies: Address[] = [];
  for (const token of tokens)
    strategies.push(await deployStrategy(clients, addresses.strategyManager, token));
  if (options.rootGuardian) {
    await sendAndWait(clients, {
      address: addresses.rewardsCoordinator,
      abi: rewardsCoordinatorAbi,
      functionName: "setRootGuardian",
      args: [options.rootGuardian],
    });
  }
  return {
    chainId: await clients.public.getChainId(),
    ...addresses,
    strategies,
    ...(feeToken ? { feeToken } : {}),
  };
}

/**
 * Deploys the DIN service against an existing core (EigenLayer's or ours) after checking every address is
 * what the file says. The service then publishes its AVS metadata and creates its operator sets there.
 */
export async function deployDinOnCore(
  clients: LedgerClients,
  core: CoreAddresses,
  options: Omit<DeployDinOptions, "restaking" | "strategies" | "feeToken">,
): Promise<DinDeployment> {
  const verified = await verifyCore(clients.public, core);
  // The timing rule the slasher enforces, checked before anything is sent: a slash must land before the
  // stake it takes can leave the core.
  const params = { ...DIN_PRESETS[options.preset ?? "devnet"], ...options.params };
  const required =
    params.epochs.epochLength +
    params.epochs.reportWindow +
    params.slash.vetoWindow +
    params.slash.submissionMargin;
  const limit = Math.min(verified.deallocationDelay, verified.minWithdrawalDelayBlocks);
  if (required >= limit) {
    throw new CoreAddressesError(
      `the core lets stake leave after ${limit} blocks (deallocation delay ${verified.deallocationDelay}, withdrawal delay ${verified.minWithdrawalDelayBlocks}), but a DIN slash needs ${required} blocks to land (epoch ${params.epochs.epochLength} + report window ${params.epochs.reportWindow} + veto window ${params.slash.vetoWindow} + margin ${params.slash.submissionMargin}): use a core with longer delays or a preset with shorter windows`,
    );
  }
  if (!core.feeToken && options.preset !== undefined && options.preset !== "devnet") {
    throw new Error("the core addresses name no feeToken: a deployment outside a devnet needs one");
  }
  return deployDin(clients, {
    ...options,
    restaking: restakingAddressesOf(core),
    strategies: core.strategies,
    ...(core.feeToken ? { feeToken: core.feeToken } : {}),
  });
}
