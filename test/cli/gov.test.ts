import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createTestClient, custom } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { dinEpochsAbi, dinRegistryAbi } from "../../src/ledger/artifacts/index.js";
import { DEVNET_DIN_PARAMS, type DinDeployment, deployDin } from "../../src/ledger/din/deploy.js";
import { ledgerClients } from "../../src/ledger/din/directory.js";
import { devKey, din } from "../support/cli.js";

describe("din gov", () => {
  let chain: DevnetChain;
  let dir: string;
  let deployment: DinDeployment;
  let ledger: string[];
  let holderKey: string;
  let outsiderKey: string;
  const holder = privateKeyToAccount(devKey(5)).address;
  const test = () => createTestClient({ mode: "hardhat", transport: custom(chain.provider) });
  const supply = DEVNET_DIN_PARAMS.governance.tokenSupply;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-gov-cli-"));
    // Blocks come only from transactions and from the test: a vote of 10 blocks must not end by itself
    // while a command starts.
    chain = await startDevnetChain({ name: "ledger", chainId: 31337, blockTimeMs: 3_600_000 });
    await test().setAutomine(true);
    const deployer = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0)));
    const file = join(dir, "deployment.json");
    // The holder gets 5% of the supply: above the 4% quorum alone.
    deployment = await deployDin(deployer, {
      out: file,
      tokenAllocations: [{ holder, amount: supply / 20n }],
    });
    ledger = ["--rpc", chain.url, "--deployment", file];
    holderKey = join(dir, "holder.key");
    writeFileSync(holderKey, `${devKey(5)}\n`, { mode: 0o600 });
    outsiderKey = join(dir, "outsider.key");
    writeFileSync(outsiderKey, `${devKey(7)}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const json = async (args: string[]) => {
    const run = await din([...args, ...ledger, "--json"]);
    expect(run.stderr, args.join(" ")).toBe("");
    return JSON.parse(run.stdout);
  };
  const refused = async (args: string[], message: RegExp) => {
    const run = await din([...args, ...ledger]);
    expect(run.code, args.join(" ")).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  };

  it("takes a token holder from delegation to an executed change of the SLA", async () => {
    const before = await json(["gov", "status", "--address", holder]);
    expect(before.voter).toMatchObject({ balance: (supply / 20n).toString(), votes: "0", delegate: null });
    expect(before.parameters.sla.maxP50LatencyMs).toBe(200);
    expect(before.proposals).toEqual([]);

    const delegated = await json(["gov", "delegate", "--key-file", holderKey]);
    expect(delegated.delegate).toBe(holder);
    expect((await json(["gov", "status", "--address", holder])).voter.votes).toBe((supply / 20n).toString());

    const proposed = await json([
      "gov",
      "propose",
      "set-sla",
      "--max-p50-latency-ms",
      "300",
      "--description",
      "Allow 300 ms p50 latency",
      "--key-file",
      holderKey,
    ]);
    const id = proposed.proposalId as string;
    await refused(
      ["gov", "vote", "--proposal", id, "--support", "for", "--key-file", holderKey],
      /is not open for votes yet: voting starts after block \d+/,
    );
    await test().mine({ blocks: 2 });
    await refused(
      ["gov", "vote", "--proposal", id, "--support", "for", "--key-file", outsiderKey],
      /had no votes at the proposal's snapshot .*din gov delegate/,
    );
    const voted = await json(["gov", "vote", "--proposal", id, "--support", "for", "--key-file", holderKey]);
    expect(voted.weight).toBe((supply / 20n).toString());
    await refused(["gov", "queue", "--proposal", id, "--key-file", outsiderKey], /is still active/);

    await test().mine({ blocks: DEVNET_DIN_PARAMS.governance.votingPeriod + 1 });
    const listed = (await json(["gov", "status"])).proposals[0];
    expect(listed).toMatchObject({ id, state: "succeeded", description: "Allow 300 ms p50 latency" });
    expect(listed.calls[0].call).toMatch(/^epochs\.setSlaTable\(/);

    // Anyone may queue and execute a succeeded proposal; the timelock holds it first.
    await json(["gov", "queue", "--proposal", id, "--key-file", outsiderKey]);
    await test().setAutomine(false);
    await refused(
      ["gov", "execute", "--proposal", id, "--key-file", outsiderKey],
      /waits in the timelock until/,
    );
    await test().setAutomine(true);
    await test().increaseTime({ seconds: Number(DEVNET_DIN_PARAMS.governance.timelockDelay) + 1 });
    await test().mine({ blocks: 1 });
    const executed = await json(["gov", "execute", "--proposal", id, "--key-file", outsiderKey]);
    expect(executed.summary).toMatch(/^executed proposal \d+: epochs\.setSlaTable/);

    const client = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0))).public;
    const sla = await client.readContract({
      address: deployment.addresses.epochs,
      abi: dinEpochsAbi,
      functionName: "getSlaTable",
    });
    expect(sla.maxP50LatencyMs).toBe(300);
    // The rest of the table is what was in force.
    expect(sla.minAvailabilityBps).toBe(before.parameters.sla.minAvailabilityBps);
    const after = await din(["gov", "status", ...ledger]);
    expect(after.stdout).toContain("p50 latency ≤ 300 ms");
    expect(after.stdout).toMatch(new RegExp(`${id}\\s+executed\\s+Allow 300 ms p50 latency`));
    // Votes carry the token's symbol, as every amount the commands print.
    expect(after.stdout).toMatch(
      / {6}for [\d.]+ \w+, against [\d.]+ \w+, abstain [\d.]+ \w+ \(quorum [\d.]+ \w+\)/,
    );
  });

  it("admits a watcher by name and refuses malformed proposals in one line", async () => {
    const watcher = privateKeyToAccount(devKey(11)).address as Address;
    const proposed = await json([
      "gov",
      "propose",
      "admit-watcher",
      "--address",
      watcher,
      "--description",
      "Admit a fourth watcher",
      "--key-file",
      holderKey,
      "--dry-run",
    ]);
    expect(proposed.dryRun).toBe(true);
    expect(proposed.calls[0].function).toBe("propose");
    const client = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0))).public;
    expect(
      await client.readContract({
        address: deployment.addresses.registry,
        abi: dinRegistryAbi,
        functionName: "watcherAdmitted",
        args: [watcher],
      }),
    ).toBe(false);

    await refused(
      ["gov", "propose", "admit-watcher", "--description", "x", "--key-file", holderKey],
      /needs --address/,
    );
    await refused(
      ["gov", "propose", "mint-me-tokens", "--description", "x", "--key-file", holderKey],
      /unknown proposal "mint-me-tokens"/,
    );
    await refused(
      ["gov", "propose", "set-sla", "--description", "x", "--key-file", holderKey],
      /changes nothing/,
    );
    await refused(
      ["gov", "vote", "--proposal", "42", "--support", "for", "--key-file", holderKey],
      /no proposal 42/,
    );
  }, 240_000);
});
