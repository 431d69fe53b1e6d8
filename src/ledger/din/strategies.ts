// The service's strategies as actions name them: by token symbol or address, with their underlying tokens.
import { type Address, getAddress, isAddress, isAddressEqual, type PublicClient } from "viem";
import { mockERC20Abi, strategyBaseAbi } from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";
import { LedgerActionError } from "./perform.js";

/** A strategy of the service with its underlying token. */
export type StrategyInfo = { strategy: Address; token: Address; symbol: string };

/** The service's strategies (in the deployment's order) with their tokens' symbols. */
export async function readStrategies(
  client: PublicClient,
  deployment: DinDeployment,
): Promise<StrategyInfo[]> {
  return Promise.all(
    deployment.addresses.strategies.map(async (strategy) => {
      const token = await client.readContract({
        address: strategy,
        abi: strategyBaseAbi,
        functionName: "underlyingToken",
      });
      const symbol = await client
        .readContract({ address: token, abi: mockERC20Abi, functionName: "symbol" })
        .catch(() => token);
      return { strategy: getAddress(strategy), token: getAddress(token), symbol };
    }),
  );
}

/** A strategy by token symbol (case-insensitive) or address; the first strategy when none is named. */
export async function resolveStrategy(
  client: PublicClient,
  deployment: DinDeployment,
  nameOrAddress?: string,
): Promise<StrategyInfo> {
  const strategies = await readStrategies(client, deployment);
  const first = strategies[0];
  if (!first) throw new LedgerActionError("this deployment has no strategies");
  if (nameOrAddress === undefined) return first;
  const found = strategies.find((s) =>
    isAddress(nameOrAddress)
      ? isAddressEqual(s.strategy, nameOrAddress) || isAddressEqual(s.token, nameOrAddress)
      : s.symbol.toLowerCase() === nameOrAddress.toLowerCase(),
  );
  if (!found) {
    throw new LedgerActionError(
      `unknown strategy "${nameOrAddress}"; this deployment's strategies: ${strategies
        .map((s) => `${s.symbol} (${s.strategy})`)
        .join(", ")}`,
    );
  }
  return found;
}
