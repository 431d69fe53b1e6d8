import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { mockERC20Abi, mockERC20Bytecode, strategyManagerAbi } from "../artifacts/index.js";
import { deployMockToken, deployRestakingCore, deployStrategy } from "../deploy.js";
import { createHardhatLedger } from "../hardhat.js";
import {
  DEFAULT_ADMIN_ROLE,
  deployDin,
  dinContracts,
  GOVERNANCE_ROLE,
  PAUSER_ROLE,
  PRODUCTION_DIN_PARAMS,
  VETO_ROLE,
} from "./deploy.js";

describe("deployDin", () => {
  it("deploys the devnet preset, hands every setter to the timelock and writes the addresses", async () => {
    const ledger = await createHardhatLedger();
    const [deployer, guardian] = ledger.accounts as [Address, Address];
    const clients = { wallet: ledger.wallet(deployer), public: ledger.public };
    const out = join(mkdtempSync(join(tmpdir(), "din-deploy-")), "din.json");
    const deployment = await deployDin(clients, { guardian, out });
    const written = JSON.parse(readFileSync(out, "utf8")) as {
      addresses: Record<string, string>;
      chainId: number;
    };
    expect(written.addresses.registry).toBe(deployment.addresses.registry);
    expect(written.addresses.governor).toBe(deployment.addresses.governor);
    expect(written.chainId).toBe(31337);

    const c = dinContracts(clients, deployment.addresses);
    const timelock = deployment.addresses.timelock;
    // The token supply is the DAO's treasury, not a key's: the deployer has no votes to push a proposal.
    expect(await c.governanceToken.read.balanceOf([timelock])).toBe(
      await c.governanceToken.read.totalSupply(),
    );
    expect(await c.governanceToken.read.balanceOf([deployer])).toBe(0n);
    for (const contract of [c.registry, c.slasher, c.epochs]) {
      expect(await contract.read.hasRole([GOVERNANCE_ROLE, timelock])).toBe(true);
      expect(await contract.read.hasRole([DEFAULT_ADMIN_ROLE, timelock])).toBe(true);
      expect(await contract.read.hasRole([PAUSER_ROLE, guardian])).toBe(true);
      expect(await contract.read.hasRole([GOVERNANCE_ROLE, deployer])).toBe(false);
      expect(await contract.read.hasRole([DEFAULT_ADMIN_ROLE, deployer])).toBe(false);
    }
    expect(await c.slasher.read.hasRole([VETO_ROLE, guardian])).toBe(true);
    expect(await c.timelock.read.hasRole([DEFAULT_ADMIN_ROLE, deployer])).toBe(false);
    expect((await c.registry.read.getNetworkIds()).length).toBe(2);
    expect((await c.registry.read.getNetwork([1])).chainId).toBe(31337n);
    expect(await c.epochs.read.detectionBlocks()).toBe(30n);
  });

  it("deploys the production preset with named strategies and fee token, the core owned by the timelock", async () => {
    const ledger = await createHardhatLedger();
    const deployer = ledger.accounts[0] as Address;
    const clients = { wallet: ledger.wallet(deployer), public: ledger.public };
    // A core deployed first so the strategies exist; the DIN deployment reuses it.
    const { addresses } = await deployRestakingCore(clients, { params: PRODUCTION_DIN_PARAMS.restaking });
    const token = await deployMockToken(clients, "Staked Ether", "stETH");
    const strategy = await deployStrategy(clients, addresses.strategyManager, token);
    const hash = await clients.wallet.deployContract({
      abi: mockERC20Abi,
      bytecode: mockERC20Bytecode,
      args: ["USDC", "USDC"],
    });
    const feeToken = (await ledger.public.getTransactionReceipt({ hash })).contractAddress as Address;
    const deployment = await deployDin(clients, {
      preset: "production",
      restaking: addresses,
      strategies: [strategy],
      feeToken,
    });
    const c = dinContracts(clients, deployment.addresses);
    expect(await c.epochs.read.getEpochParams()).toMatchObject({ epochLength: 300, reportWindow: 150 });
    expect((await c.slasher.read.getSlashParams()).vetoWindow).toBe(7200);
    expect(await c.governor.read.votingPeriod()).toBe(50_400n);
    expect((await c.registry.read.getNetwork([1])).chainId).toBe(1n);
    expect(
      await ledger.public.readContract({
        address: addresses.strategyManager,
        abi: strategyManagerAbi,
        functionName: "owner",
      }),
    ).toBe(deployer); // an existing core keeps its owner; a fresh production core goes to the timelock
    await expect(deployDin(clients, { preset: "production" })).rejects.toThrow(/strategies/);
  });
});
