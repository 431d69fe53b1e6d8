import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createTestClient, custom, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { dinEpochsAbi } from "../../src/ledger/artifacts/index.js";
import { type DinDeployment, deployDin } from "../../src/ledger/din/deploy.js";
import { ledgerClients } from "../../src/ledger/din/directory.js";
import { createHardhatLedger } from "../../src/ledger/hardhat.js";
import { type DinFixture, dinFixture, ETHEREUM, POLYGON, WAD } from "../din/fixture.js";
import { devKey, din } from "../support/cli.js";

/** ethereum: aws holds 15 of 41 allocated (under the 50% correlated share); polygon: aws holds two thirds. */
const PLACEMENTS = [
  { account: 6, network: ETHEREUM, cloud: "aws", region: "us-east-1", stake: 20n },
  { account: 7, network: ETHEREUM, cloud: "aws", region: "eu-west-1", stake: 10n },
  { account: 8, network: ETHEREUM, cloud: "gcp", region: "us-central1", stake: 10n },
  { account: 14, network: ETHEREUM, cloud: "hetzner", region: "eu-central", stake: 30n },
  { account: 15, network: ETHEREUM, cloud: "bare-metal", region: "eu-west", stake: 12n },
  { account: 16, network: POLYGON, cloud: "gcp", region: "europe-west4", stake: 10n },
  { account: 17, network: POLYGON, cloud: "aws", region: "us-west-2", stake: 10n },
  { account: 18, network: POLYGON, cloud: "aws", region: "us-east-1", stake: 10n },
] as const;

type Op = {
  address: string;
  network: string;
  cloud: string;
  down: boolean;
  allocatedStakeBefore: string;
  allocatedStakeAfter: string;
  stakeLost: string;
  slashesExecuted: string[];
  slashesHeld: number;
};

describe("din risk simulate", () => {
  let chain: DevnetChain;
  let dir: string;
  let deploymentFile: string;
  let deployment: DinDeployment;
  let f: DinFixture;
  let hardhat: Awaited<ReturnType<typeof createHardhatLedger>>;
  const ledger = () => ["--rpc", chain.url, "--deployment", deploymentFile];
  const raw = (method: string, params: unknown[] = []) =>
    (
      chain.provider as unknown as { request(a: { method: string; params: unknown[] }): Promise<unknown> }
    ).request({ method, params });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-risk-sim-"));
    chain = await startDevnetChain({ name: "ledger", chainId: 31337, blockTimeMs: 100 });
    await createTestClient({ mode: "hardhat", transport: custom(chain.provider) }).setAutomine(true);
    deploymentFile = join(dir, "deployment.json");
    const accounts = chain.accounts;
    deployment = await deployDin(ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0))), {
      keepDeployerRoles: true,
      guardian: accounts[1] as Address,
      watchers: [2, 3, 4].map((i) => accounts[i] as Address),
      gateways: [accounts[5] as Address],
      out: deploymentFile,
    });
    hardhat = await createHardhatLedger({ provider: chain.provider });
    f = await dinFixture(hardhat, deployment);
    await f.registerWatchersAndGateway();
    for (const p of PLACEMENTS) {
      const address = hardhat.accounts[p.account] as Address;
      await f.stake(address, p.stake * WAD, p.network);
      await f.registerForSet(
        address,
        p.network,
        f.encodeMetadata({ ...f.metadata(address), cloud: p.cloud, region: p.region }),
      );
    }
    // Interval mining off: nothing but this test moves the live ledger.
    await raw("evm_setIntervalMining", [0]);
  }, 120_000);
  afterAll(async () => {
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("predicts the aws operators slashed by the contracts' wads, the guard on polygon, and leaves the ledger untouched", async () => {
    const latest = async () =>
      (await raw("eth_getBlockByNumber", ["latest", false])) as { number: Hex; stateRoot: Hex };
    // The outage starts after the fork block: forking at an epoch's last block makes it two whole epochs.
    const epochs = { address: deployment.addresses.epochs, abi: dinEpochsAbi } as const;
    const current = await hardhat.public.readContract({ ...epochs, functionName: "currentEpoch" });
    const [, end] = await hardhat.public.readContract({
      ...epochs,
      functionName: "epochBounds",
      args: [current],
    });
    const head = await hardhat.blockNumber();
    if (head < end - 1n) await hardhat.mine(Number(end - 1n - head));
    const before = await latest();
    const run = await din(["risk", "simulate", ...ledger(), "--cloud", "aws", "--epochs", "2", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const after = await latest();
    expect(after.number).toBe(before.number);
    expect(after.stateRoot).toBe(before.stateRoot);
    expect(BigInt(report.outage.fromBlock)).toBe(end);
    expect(BigInt(report.outage.toBlock)).toBe(end + 39n);
    // The fork block's epoch was served whole; the next two are down all through.
    const availability = [
      ...new Set(report.epochs.map((e: { downAvailabilityBps: number }) => e.downAvailabilityBps)),
    ];
    expect(report.epochs.map((e: { epoch: string }) => BigInt(e.epoch))).toEqual([
      current,
      current,
      current + 1n,
      current + 1n,
      current + 2n,
      current + 2n,
    ]);
    expect(availability).toEqual([10_000, 0]);

    const downWad = BigInt(((2n * WAD) / 100n).toString());
    const ops = report.operators as Op[];
    expect(ops).toHaveLength(PLACEMENTS.length);
    for (const o of ops) {
      expect(o.down).toBe(o.cloud === "aws");
      if (o.network === "ethereum" && o.cloud === "aws") {
        // Slashed by the wads the slasher executed, the first by the SLA's down wad.
        expect(o.slashesExecuted.length).toBeGreaterThan(0);
        expect(BigInt(o.slashesExecuted[0] as string)).toBe(downWad);
        let left = BigInt(o.allocatedStakeBefore);
        for (const wad of o.slashesExecuted) left -= (left * BigInt(wad) + WAD - 1n) / WAD;
        const lost = BigInt(o.stakeLost);
        const expected = BigInt(o.allocatedStakeBefore) - left;
        expect(lost > 0n).toBe(true);
        expect(lost - expected <= 10n && expected - lost <= 10n).toBe(true);
      } else if (o.cloud === "aws") {
        // polygon: aws holds two thirds of the judged stake, above the correlated share: held for governance.
        expect(o.slashesExecuted).toEqual([]);
        expect(o.slashesHeld).toBeGreaterThan(0);
        expect(o.stakeLost).toBe("0");
      } else {
        expect(o.slashesExecuted).toEqual([]);
        expect(o.stakeLost).toBe("0");
      }
    }
    expect(report.correlated.length).toBeGreaterThan(0);
    expect(report.correlated.every((c: { network: string }) => c.network === "polygon")).toBe(true);
    const eth = report.networks.find((n: { name: string }) => n.name === "ethereum");
    const ethLost = ops.filter((o) => o.network === "ethereum").reduce((s, o) => s + BigInt(o.stakeLost), 0n);
    expect(eth.stakeLost).toBe(ethLost.toString());
    expect(eth.operatorsDown).toBe(2);
    // Delegators (here the self-staked operators) lose withdrawable shares only behind slashed operators.
    const slashed = new Set(ops.filter((o) => o.stakeLost !== "0").map((o) => o.address));
    for (const x of report.delegators as { operator: string; lost: string }[])
      expect(x.lost !== "0").toBe(slashed.has(x.operator));

    const text = await din(["risk", "simulate", ...ledger(), "--cloud", "aws", "--epochs", "1"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("correlated-failure guard: polygon epoch");
    expect(text.stdout).toMatch(/ethereum: 2 operators down, [\d.]+ of 41 allocated stake lost/);
    expect((await latest()).stateRoot).toBe(before.stateRoot);
  }, 240_000);

  it("refuses an outage naming no operator", async () => {
    const none = await din(["risk", "simulate", ...ledger(), "--cloud", "azure"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: no registered operator matches the outage/);
    const nothing = await din(["risk", "simulate", ...ledger()]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/^error: name the outage/);
  }, 120_000);
});
