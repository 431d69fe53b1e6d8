import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createTestClient, custom } from "viem";
import { generatePrivateKey, mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, HARDHAT_DEFAULT_MNEMONIC, startDevnetChain } from "../../src/devnet/chain.js";
import { DEVNET_RESTAKING_PARAMS } from "../../src/ledger/deploy.js";
import { CORE_DEPLOYMENT_GAS, DIN_DEPLOYMENT_GAS } from "../../src/ledger/din/coreAddresses.js";
import { deployCoreAlone } from "../../src/ledger/din/deployCore.js";
import { ledgerClients, readDeployment } from "../../src/ledger/din/directory.js";
import { createHardhatLedger } from "../../src/ledger/hardhat.js";
import { dinFixture, ETHEREUM, FIXTURE_ROLES, healthy } from "../din/fixture.js";
import { devKey, din } from "../support/cli.js";

const devAccount = (index: number) => mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: index });

describe("din deploy", () => {
  let chain: DevnetChain;
  let dir: string;
  let keyFile: string;
  let coreFile: string;
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-deploy-"));
    chain = await startDevnetChain({ name: "ledger", chainId: 31337, blockTimeMs: 100 });
    await createTestClient({ mode: "hardhat", transport: custom(chain.provider) }).setAutomine(true);
    keyFile = file("deployer.key");
    writeFileSync(keyFile, `${devKey(FIXTURE_ROLES.deployer)}\n`, { mode: 0o600 });
    coreFile = file("core.json");
  });
  afterAll(async () => {
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Gas the deployer spent in blocks (from, to]. */
  const gasSpent = async (from: bigint, to: bigint) => {
    const ledger = await createHardhatLedger({ provider: chain.provider });
    const deployer = devAccount(FIXTURE_ROLES.deployer).address;
    let gas = 0n;
    for (let n = from + 1n; n <= to; n++) {
      const block = await ledger.public.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== deployer.toLowerCase()) continue;
        gas += (await ledger.public.getTransactionReceipt({ hash: tx.hash })).gasUsed;
      }
    }
    return gas;
  };

  it("deploys our core alone, then the DIN service against its addresses file, and runs an epoch on it", async () => {
    const ledger = await createHardhatLedger({ provider: chain.provider });
    const start = await ledger.blockNumber();
    const core = await din([
      "deploy",
      "--rpc",
      chain.url,
      "--key-file",
      keyFile,
      "--core-only",
      "--out",
      coreFile,
    ]);
    expect(core.stderr).toBe("");
    expect(core.code).toBe(0);
    expect(core.stdout).toContain(`--eigenlayer ${coreFile}`);
    const addresses = JSON.parse(readFileSync(coreFile, "utf8"));
    expect(addresses.chainId).toBe(31337);
    expect(addresses.strategies).toHaveLength(2);
    const afterCore = await ledger.blockNumber();
    expect(await gasSpent(start, afterCore)).toBeLessThanOrEqual(CORE_DEPLOYMENT_GAS);

    const at = (i: number) => ledger.accounts[i] as Address;
    const deploymentFile = file("deployment.json");
    const service = await din([
      "deploy",
      "--rpc",
      chain.url,
      "--key-file",
      keyFile,
      "--eigenlayer",
      coreFile,
      "--guardian",
      at(FIXTURE_ROLES.guardian),
      ...FIXTURE_ROLES.watchers.flatMap((i) => ["--watcher", at(i)]),
      "--gateway",
      at(FIXTURE_ROLES.gateway),
      "--network",
      "ethereum:31337:1",
      "--network",
      "polygon:137:1",
      "--out",
      deploymentFile,
      "--json",
    ]);
    expect(service.stderr).toBe("");
    expect(service.code).toBe(0);
    const result = JSON.parse(service.stdout);
    expect(result.deployment.addresses.allocationManager).toBe(addresses.allocationManager);
    expect(await gasSpent(afterCore, await ledger.blockNumber())).toBeLessThanOrEqual(DIN_DEPLOYMENT_GAS);

    // A whole epoch on that deployment: one operator down is slashed, the guardian vetoes it, the others
    // are paid and an operator claims.
    const f = await dinFixture(ledger, readDeployment(deploymentFile));
    await f.registerWatchersAndGateway();
    const [up, alsoUp, down] = f.operators;
    for (const op of f.operators) await f.registerOperator(op);
    const from = await ledger.blockNumber();
    await f.endEpoch(await f.currentEpoch());
    await ledger.mine(1);
    const e = await f.currentEpoch();
    await f.payFees(ETHEREUM, 1000n * 10n ** 18n);
    await f.reportUsage(ETHEREUM, e, [
      [up, 10n],
      [alsoUp, 10n],
      [down, 0n],
    ]);
    await f.endEpoch(e);
    for (const w of f.watchers) {
      await f.submitReport(w, ETHEREUM, e, [
        healthy(up),
        healthy(alsoUp),
        { ...healthy(down), availabilityBps: 0 },
      ]);
    }
    await f.finalize(ETHEREUM, e);
    const queued = await ledger.public.getContractEvents({
      ...f.slasher,
      eventName: "SlashQueued",
      fromBlock: from,
      strict: true,
    });
    expect(queued.map((q) => q.args.operator)).toEqual([down]);
    expect(await f.jailed(down)).toBe(true);
    await ledger.write(f.guardian, {
      ...f.slasher,
      functionName: "veto",
      args: [queued[0]?.args.slashId as bigint],
    });
    expect(await f.jailed(down)).toBe(false);
    expect(await f.maxMagnitude(down)).toBe(10n ** 18n);
    const { tree, rootIndex } = await f.publishRewards(from);
    const before = await f.balanceOf(up);
    await f.claim(up, tree, rootIndex);
    expect(await f.balanceOf(up)).toBeGreaterThan(before);
  });

  it("refuses, before sending anything, a core file for another chain, an empty address, a contract that is not the one named, an unfunded key", async () => {
    const addresses = JSON.parse(readFileSync(coreFile, "utf8"));
    const attempt = async (name: string, core: object, key = keyFile, extra: string[] = []) => {
      writeFileSync(file(name), JSON.stringify(core));
      return din(["deploy", "--rpc", chain.url, "--key-file", key, "--eigenlayer", file(name), ...extra]);
    };
    const otherChain = await attempt("other-chain.json", { ...addresses, chainId: 1 });
    expect(otherChain.code).toBe(1);
    expect(otherChain.stderr).toContain("the core addresses are for chain 1, but the RPC is on chain 31337");
    const empty = await attempt("empty.json", { ...addresses, rewardsCoordinator: devAccount(19).address });
    expect(empty.stderr).toContain(`no contract at ${devAccount(19).address} (rewardsCoordinator)`);
    const swapped = await attempt("swapped.json", {
      ...addresses,
      allocationManager: addresses.delegationManager,
      delegationManager: addresses.allocationManager,
    });
    expect(swapped.stderr).toContain(`${addresses.delegationManager} is not an AllocationManager`);
    const malformed = await attempt("malformed.json", { ...addresses, strategies: ["0x1234"] });
    expect(malformed.stderr).toContain("strategies.0: not an address");

    // A core whose stake can leave before a DIN slash lands (the bare core's devnet delays: 5 blocks).
    const hasty = await deployCoreAlone(ledgerClients(chain.url, 31337, devAccount(FIXTURE_ROLES.deployer)), {
      params: DEVNET_RESTAKING_PARAMS,
      devnetTokens: true,
    });
    const timing = await attempt("hasty.json", hasty);
    expect(timing.code).toBe(1);
    expect(timing.stderr).toContain("the core lets stake leave after 5 blocks");

    const poor = file("poor.key");
    writeFileSync(poor, `${generatePrivateKey()}\n`, { mode: 0o600 });
    const unfunded = await attempt("core-again.json", addresses, poor);
    expect(unfunded.code).toBe(1);
    expect(unfunded.stderr).toMatch(/holds 0 ETH; deploying takes about [\d,]+ gas/);

    const dry = await attempt("dry.json", addresses, keyFile, ["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("checks out on chain 31337");
    expect(dry.stdout).toContain("nothing sent");

    const unreachable = await din([
      "deploy",
      "--rpc",
      "http://127.0.0.1:9/",
      "--key-file",
      keyFile,
      "--dry-run",
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("cannot reach http://127.0.0.1:9/");
  });
});
