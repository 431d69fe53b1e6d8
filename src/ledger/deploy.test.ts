import { describe, expect, it } from "vitest";
import { deployRestakingDevnet, restakingContracts } from "./deploy.js";
import { createHardhatLedger } from "./hardhat.js";

describe("deployRestakingDevnet", () => {
  it("deploys the core with devnet delays and whitelisted strategies wired to each other", async () => {
    const ledger = await createHardhatLedger();
    const deployer = ledger.accounts[0] as `0x${string}`;
    const clients = { wallet: ledger.wallet(deployer), public: ledger.public };
    const { addresses, params, strategies } = await deployRestakingDevnet(clients, {
      params: { deallocationDelay: 3 },
    });
    const core = restakingContracts(clients, addresses);
    expect(params.deallocationDelay).toBe(3);
    expect(await core.allocationManager.read.DEALLOCATION_DELAY()).toBe(3);
    expect(await core.delegationManager.read.minWithdrawalDelayBlocks()).toBe(
      params.minWithdrawalDelayBlocks,
    );
    expect(await core.strategyManager.read.delegation()).toBe(addresses.delegationManager);
    expect(await core.delegationManager.read.allocationManager()).toBe(addresses.allocationManager);
    expect(await core.rewardsCoordinator.read.defaultOperatorSplitBips()).toBe(1000);
    expect(strategies.map((s) => s.symbol)).toEqual(["stETH", "rETH"]);
    for (const s of strategies) {
      expect(await core.strategyManager.read.strategyIsWhitelistedForDeposit([s.strategy])).toBe(true);
    }
  });
});
