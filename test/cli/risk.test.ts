import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createTestClient, custom } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { delegationManagerAbi } from "../../src/ledger/artifacts/index.js";
import { deployDin } from "../../src/ledger/din/deploy.js";
import { ledgerClients } from "../../src/ledger/din/directory.js";
import { createHardhatLedger } from "../../src/ledger/hardhat.js";
import { dinFixture, ETHEREUM, POLYGON, WAD } from "../din/fixture.js";
import { devKey, din } from "../support/cli.js";

/** Who registers where, with what self-stake (half of it is allocated). */
const PLACEMENTS = [
  { account: 6, network: ETHEREUM, cloud: "aws", region: "us-east-1", stake: 20n },
  { account: 7, network: ETHEREUM, cloud: "aws", region: "eu-west-1", stake: 10n },
  { account: 8, network: ETHEREUM, cloud: "gcp", region: "us-central1", stake: 10n },
  { account: 14, network: ETHEREUM, cloud: "hetzner", region: "eu-central", stake: 30n },
  { account: 15, network: ETHEREUM, cloud: "bare-metal", region: "eu-west", stake: 12n },
  { account: 16, network: POLYGON, cloud: "gcp", region: "europe-west4", stake: 10n },
  { account: 17, network: POLYGON, cloud: "aws", region: "us-west-2", stake: 10n },
] as const;

/** The Nakamoto coefficient at num/den, computed on its own: largest first until strictly above. */
function nakamoto(weights: bigint[], num: bigint, den: bigint): number {
  const total = weights.reduce((a, b) => a + b, 0n);
  let held = 0n;
  const sorted = [...weights].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  for (const [i, w] of sorted.entries()) {
    held += w;
    if (held * den > total * num) return i + 1;
  }
  throw new Error("never above");
}

describe("din risk", () => {
  let chain: DevnetChain;
  let dir: string;
  let deploymentFile: string;
  let gateway: Server;
  let gatewayUrl: string;
  /** The registry's allocated stake and the declared cloud of each operator, read back by the test. */
  const registered: Array<{
    address: Address;
    network: number;
    cloud: string;
    region: string;
    stake: bigint;
  }> = [];
  const ledger = () => ["--rpc", chain.url, "--deployment", deploymentFile];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-risk-cli-"));
    chain = await startDevnetChain({ name: "ledger", chainId: 31337, blockTimeMs: 100 });
    await createTestClient({ mode: "hardhat", transport: custom(chain.provider) }).setAutomine(true);
    deploymentFile = join(dir, "deployment.json");
    const deployment = await deployDin(ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0))), {
      keepDeployerRoles: true,
      out: deploymentFile,
    });
    const hardhat = await createHardhatLedger({ provider: chain.provider });
    const f = await dinFixture(hardhat, deployment);
    for (const p of PLACEMENTS) {
      const address = hardhat.accounts[p.account] as Address;
      await f.stake(address, p.stake * WAD, p.network);
      await f.registerForSet(
        address,
        p.network,
        f.encodeMetadata({ ...f.metadata(address), cloud: p.cloud, region: p.region }),
      );
      registered.push({
        address,
        network: p.network,
        cloud: p.cloud,
        region: p.region,
        stake: await f.allocatedStake(address, p.network),
      });
    }
    // A stand-in gateway: /healthz reports relays this epoch for three of ethereum's operators.
    const eth = registered.filter((r) => r.network === ETHEREUM);
    const relays = [60, 30, 10, 0, 0];
    gateway = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          status: "ok",
          networks: [
            {
              name: "ethereum",
              chainId: 1,
              head: { latest: null, safe: null, finalized: null },
              upstreams: eth.map((r, i) => ({ id: `u${i}`, address: r.address, relaysThisEpoch: relays[i] })),
            },
          ],
        }),
      );
    });
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => gateway?.close(resolve));
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports the registered stake's concentration as computed independently from the registry", async () => {
    const run = await din(["risk", ...ledger(), "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.traffic).toBeNull();
    expect(report.networks.map((n: { name: string }) => n.name)).toEqual(["ethereum", "polygon"]);

    const eth = registered.filter((r) => r.network === ETHEREUM);
    expect(eth.every((r) => r.stake > 0n)).toBe(true);
    const total = eth.reduce((sum, r) => sum + r.stake, 0n);
    const perCloud = new Map<string, bigint>();
    for (const r of eth) perCloud.set(r.cloud, (perCloud.get(r.cloud) ?? 0n) + r.stake);
    const aws = perCloud.get("aws") as bigint;

    const ethereum = report.networks[0];
    expect(ethereum.risk.operators).toBe(5);
    expect(ethereum.risk.traffic).toBeNull();
    const byCloud = ethereum.risk.stake.cloud;
    expect(byCloud.total).toBe(total.toString());
    const awsGroup = byCloud.groups.find((g: { group: string }) => g.group === "aws");
    expect(awsGroup.weight).toBe(aws.toString());
    expect(awsGroup.share).toBeCloseTo(Number(aws) / Number(total), 12);
    expect(awsGroup.operators).toBe(2);
    // aws (15 of 41 allocated) is the largest cloud, hetzner (15) ties it: label order names aws.
    expect(byCloud.largest.group).toBe("aws");
    expect(byCloud.nakamotoThird).toBe(nakamoto([...perCloud.values()], 1n, 3n));
    expect(byCloud.nakamotoHalf).toBe(nakamoto([...perCloud.values()], 1n, 2n));
    const hhi = [...perCloud.values()].reduce((sum, w) => sum + (Number(w) / Number(total)) ** 2, 0);
    expect(byCloud.hhi).toBeCloseTo(hhi, 12);
    expect(byCloud.hhiPoints).toBeCloseTo(hhi * 10_000, 8);

    const byOperator = ethereum.risk.stake.operator;
    const largest = eth.reduce((a, b) => (b.stake > a.stake ? b : a));
    expect(byOperator.largest.share).toBeCloseTo(Number(largest.stake) / Number(total), 12);
    expect(byOperator.nakamotoThird).toBe(
      nakamoto(
        eth.map((r) => r.stake),
        1n,
        3n,
      ),
    );
    expect(ethereum.operators.map((o: { address: string }) => o.address).sort()).toEqual(
      eth.map((r) => r.address).sort(),
    );

    // Worst cloud outage: aws takes 2 of 5 operators and its stake with it.
    expect(ethereum.risk.worstCloudOutage).toMatchObject({ name: "aws", operatorsDown: 2, operatorsLeft: 3 });
    expect(ethereum.risk.worstCloudOutage.stakeShareLeft).toBeCloseTo(
      Number(total - aws) / Number(total),
      12,
    );
    expect(ethereum.verdicts[0]).toBe(
      `aws holds ${Number(((Number(aws) / Number(total)) * 100).toPrecision(3))}% of ethereum's stake: one cloud can halt 2 of 5 operators`,
    );

    const polygon = report.networks[1];
    expect(polygon.risk.operators).toBe(2);
    expect(polygon.risk.stake.cloud.nakamotoHalf).toBe(2); // two equal clouds: 50% is not more than half
  });

  it("prints a table and the verdicts, and takes traffic from a gateway's relays", async () => {
    const text = await din(["risk", ...ledger(), "--network", "ethereum", "--gateway", gatewayUrl]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^ethereum: 5 operators, 41 allocated stake; traffic: relays served this epoch/,
    );
    expect(text.stdout).toMatch(/stake\s+cloud\s+aws\s+36.6%\s+1\s+2\s+/);
    expect(text.stdout).toMatch(/traffic\s+cloud\s+aws\s+90%\s+1\s+1\s+8,200/);
    expect(text.stdout).toContain("worst cloud outage:  aws: leaves 3 of 5 operators, 63.4% of the stake");
    expect(text.stdout).toContain(
      "- aws holds 36.6% of ethereum's stake: one cloud can halt 2 of 5 operators",
    );
    expect(text.stdout).not.toContain("polygon");

    const json = JSON.parse((await din(["risk", ...ledger(), "--gateway", gatewayUrl, "--json"])).stdout);
    expect(json.traffic).toEqual({ gateway: gatewayUrl });
    const eth = json.networks[0];
    const shares = new Map(
      eth.operators.map((o: { address: string; servedShare: number }) => [o.address, o.servedShare]),
    );
    expect(shares.get(registered[0]?.address)).toBeCloseTo(0.6, 12);
    expect(shares.get(registered[3]?.address)).toBe(0);
    expect(eth.risk.traffic.cloud.largest).toMatchObject({ group: "aws", share: 0.9 });
    expect(eth.risk.worstCloudOutage.trafficShareMoved).toBeCloseTo(0.9, 12);
    // The gateway reports no relays for polygon: its traffic figures stay null.
    expect(json.networks[1].risk.traffic).toBeNull();
  });

  it("counts operators that declare one organization in their profiles as one entity", async () => {
    const eth = registered.filter((r) => r.network === ETHEREUM);
    const profile = (name: string) =>
      `data:application/json;base64,${Buffer.from(
        JSON.stringify({ name, description: "runs nodes", logo: "https://acme.example/logo.png" }),
      ).toString("base64")}`;
    const client = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0)));
    const deployment = JSON.parse(readFileSync(deploymentFile, "utf8"));
    const setUri = async (account: number, uri: string) => {
      const wallet = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(account))).wallet;
      const hash = await wallet.writeContract({
        address: deployment.addresses.delegationManager,
        abi: delegationManagerAbi,
        functionName: "updateOperatorMetadataURI",
        args: [privateKeyToAccount(devKey(account)).address, uri],
        account: wallet.account!,
        chain: wallet.chain,
      });
      await client.public.waitForTransactionReceipt({ hash });
    };
    // The two aws operators and the gcp one are Acme's; bare-metal's profile does not validate (no
    // description): it declares nothing and stays an entity of its own, as does hetzner (no profile).
    await setUri(6, profile("Acme Nodes"));
    await setUri(7, profile("Acme Nodes"));
    await setUri(8, profile("Acme Nodes"));
    await setUri(15, `data:application/json,${encodeURIComponent(JSON.stringify({ name: "Nameless" }))}`);

    const report = JSON.parse((await din(["risk", ...ledger(), "--network", "ethereum", "--json"])).stdout);
    const byEntity = report.networks[0].risk.stake.entity;
    const acme = eth.filter((r) => [0, 1, 2].includes(eth.indexOf(r))).reduce((sum, r) => sum + r.stake, 0n);
    const total = eth.reduce((sum, r) => sum + r.stake, 0n);
    expect(byEntity.groups.map((g: { group: string }) => g.group)).toContain("Acme Nodes");
    expect(byEntity.groups).toHaveLength(3);
    expect(byEntity.largest).toMatchObject({ group: "Acme Nodes" });
    expect(byEntity.largest.share).toBeCloseTo(Number(acme) / Number(total), 12);
    // Acme's 20 of 41 is not more than half: one entity alone holds more than a third.
    expect(byEntity.nakamotoThird).toBe(1);
    const text = await din(["risk", ...ledger(), "--network", "ethereum"]);
    expect(text.stdout).toMatch(/stake\s+entity\s+Acme Nodes\s+48\.8%\s+1\s+2/);
    expect(text.stdout).toContain("ethereum's stake by entity: 1 entity holds more than a third");
  });

  it("weighs each network's cost of corruption against a declared profit from corruption", async () => {
    const eth = registered.filter((r) => r.network === ETHEREUM);
    const total = eth.reduce((sum, r) => sum + r.stake, 0n);
    // A third of ethereum's allocated stake, rounded up to the smallest unit: what corruption costs.
    const cost = (total + 2n) / 3n;

    const plain = JSON.parse((await din(["risk", ...ledger(), "--json"])).stdout);
    expect(plain.security.check).toBeNull();
    expect(plain.security.networks[0]).toMatchObject({
      network: "ethereum",
      stake: total.toString(),
      costOfCorruption: cost.toString(),
      profit: null,
      certified: null,
    });

    // 41 allocated: a third costs 13.6667; a prize of 10 is certified with γ = 36.7%, 15 is not.
    const safe = await din(["risk", ...ledger(), "--profit", "ethereum=10", "--network", "ethereum"]);
    expect(safe.code).toBe(0);
    expect(safe.stdout).toMatch(/ethereum\s+41\s+13\.6667\s+10\s+36\.7%\s+yes/);
    expect(safe.stdout).toContain(
      "- ethereum is certified: corrupting it costs 13.6667, 36.7% more than the 10 it would earn",
    );
    expect(safe.stdout).toContain(
      "- restaking slack γ = 36.7%: a shock of 1% of all stake can cost at most 3.73% of it",
    );

    // A prize of 15 is not certified by the condition (13.6667 < 15), yet no coalition profits: the
    // cheapest ones holding a third (hetzner's 15, or aws us-east-1's 10 with a 5) cost exactly 15.
    const tie = JSON.parse((await din(["risk", ...ledger(), "--profit", "ethereum=15", "--json"])).stdout);
    expect(tie.security.networks[0]).toMatchObject({ certified: false, exact: { secure: true } });
    expect(tie.security.verdicts[0]).toMatch(/yet every coalition able to corrupt it.*would lose at least/);

    const unsafe = JSON.parse(
      (await din(["risk", ...ledger(), "--profit", "ethereum=16", "--shock", "10%", "--json"])).stdout,
    );
    const ethereum = unsafe.security.networks[0];
    expect(ethereum.certified).toBe(false);
    expect(ethereum.exact.secure).toBe(false);
    expect(unsafe.security.verdicts[0]).toMatch(
      /: 1 operator holding 15 would earn 16 by lying together|: 2 operators holding 15 would earn 16/,
    );
    // The cheapest profitable attack holds at least a third of the stake and earns more than it costs.
    expect(BigInt(ethereum.exact.worst.cost) * 3n).toBeGreaterThanOrEqual(total);
    expect(BigInt(ethereum.exact.worst.cost)).toBeLessThan(16n * WAD);
    expect(unsafe.security.verdicts.at(-1)).toMatch(/^restaking is not certified/);

    const majority = JSON.parse(
      (await din(["risk", ...ledger(), "--profit", "ethereum=16", "--threshold", "1/2", "--json"])).stdout,
    );
    expect(majority.security.networks[0].certified).toBe(true);

    for (const bad of [
      ["--profit", "ethereum"],
      ["--profit", "solana=1"],
      ["--threshold", "3/2"],
      ["--shock", "0%"],
    ]) {
      const refused = await din(["risk", ...ledger(), ...bad]);
      expect(refused.code, bad.join(" ")).toBe(1);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toMatch(/^error: /);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("refuses an unknown network, naming the known ones, and a data dir without a network", async () => {
    const unknown = await din(["risk", ...ledger(), "--network", "solana"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toBe(
      'error: unknown network "solana"; this deployment serves: ethereum, polygon\n',
    );

    const none = await din(["risk", "--data-dir", join(dir, "nothing-here")]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(
      /^error: no local network is running in .*nothing-here.*--rpc and --deployment/,
    );

    const unreachable = await din(["risk", ...ledger(), "--gateway", "http://127.0.0.1:9", "--json"]);
    expect(unreachable.code).toBe(0);
    const report = JSON.parse(unreachable.stdout);
    expect(report.traffic.gateway).toBe("http://127.0.0.1:9");
    expect(typeof report.traffic.error).toBe("string");
    expect(report.networks[0].risk.traffic).toBeNull();
  });
});
