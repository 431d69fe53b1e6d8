// The roles' journeys on one `din up`, driven through the `din` command as a person would (parsing its
// `--json`): an operator joins with keys of its own and is routed traffic and paid within a few epochs; a
// staker delegates, queues a withdrawal, sees its operator slashed while it waits, and is paid exactly what
// the chain's token balance says; and the README's walkthrough, run as written, does what the README says.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Address, createPublicClient, erc20Abi, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../src/devnet/status.js";
import { din } from "../support/cli.js";
import { post, rpc, waitFor } from "../support/dataPlane.js";
import { bin, localNetwork } from "../support/localNetwork.js";
import { readWalkthrough } from "../support/walkthrough.js";

type Faucet = { address: Address; keyFile: string };
type OperatorStatusJson = {
  networks: Array<{ network: string; registered: boolean; allocatedStake: string }>;
  record: {
    rewardsEscrowed: string;
    verdicts: Array<{ network: string; epochs: Array<{ epoch: string; multiplierBps: number }> }>;
  };
};
type Completion = {
  completed?: number;
  nextBlock?: string;
  paid?: Array<{ token: Address; symbol: string; queued: string; paid: string; slashed: string }>;
};

describe("journeys on din up", () => {
  const net = localNetwork({ prefix: "din-journeys-" });
  const node: { child?: ChildProcess } = {};
  beforeAll(() => net.start(), 180_000);
  afterAll(async () => {
    node.child?.kill("SIGTERM");
    await net.stop();
  }, 60_000);

  const key = (name: string) => join(net.dataDir, `${name}.key`);
  const ledgerEpoch = async () => BigInt((await net.status()).ledger!.epoch);

  it("an operator joins with keys of its own, is routed traffic within two epochs and earns", async () => {
    const op = await net.json<Faucet>("faucet", "--new-key", key("op"));
    await net.json("faucet", "--new-key", key("signer"), "--eth", "0", "--stake", "0");
    const ethereum = net.state.networks.find((n) => n.name === "ethereum")!;

    // The node in front of the ethereum devnet, as docs/operators.md starts it (port and node API picked by the OS).
    const child = spawn(
      process.execPath,
      [
        bin,
        "operator",
        "serve",
        "--data-dir",
        net.dataDir,
        "--network",
        "ethereum",
        "--upstream",
        ethereum.chain,
        "--operator-address",
        op.address,
        "--signer-key-file",
        key("signer"),
        "--port",
        "0",
        "--node-api-port",
        "0",
        "--cloud",
        "ovh",
        "--region",
        "eu-west",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    node.child = child;
    const served = await new Promise<{ url: string; nodeApiUrl: string; metricsUrl?: string }>(
      (resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line)));
        child.once("exit", (code) => reject(new Error(`din operator serve exited (${code})`)));
      },
    );

    const registered = await net.json<{ network: string }>(
      "operator",
      "register",
      "--key-file",
      key("op"),
      "--network",
      "ethereum",
      "--endpoint",
      served.url,
      "--cloud",
      "ovh",
      "--region",
      "eu-west",
      "--client",
      "hardhat",
      "--signer-key-file",
      key("signer"),
      "--deposit",
      "10",
    );
    expect(registered.network).toBe("ethereum");
    const joinedAt = await ledgerEpoch();

    // Routed: the gateway counts the relays it pays for (its /healthz, with the epoch it counts them in), and
    // the node counts the requests it served.
    const stages: Record<string, bigint> = {};
    const routed = await waitFor(
      async () => {
        const health = (await (await fetch(`${net.state.gateway}/healthz`)).json()) as {
          networks: Array<{
            name: string;
            epoch?: string;
            upstreams: Array<{ address?: string; health: string; relaysThisEpoch?: number }>;
          }>;
        };
        const network = health.networks.find((n) => n.name === "ethereum")!;
        const epoch = BigInt(network.epoch ?? 0);
        const upstream = network.upstreams.find((u) => u.address === op.address);
        if (upstream) stages.listed ??= epoch;
        if (upstream && upstream.health !== "unhealthy") stages.healthy ??= epoch;
        return (upstream?.relaysThisEpoch ?? 0) > 0 ? epoch : undefined;
      },
      300_000,
      "the joined operator routed relays",
    );
    expect(
      routed - joinedAt,
      JSON.stringify({ joinedAt, ...stages, routed }, (_, v) => String(v)),
    ).toBeLessThanOrEqual(2n);
    const metrics = await (await fetch(served.metricsUrl ?? `${served.nodeApiUrl}/metrics`)).text();
    const requests = metrics
      .split("\n")
      .filter((line) => line.startsWith("eigen_rpc_request_total"))
      .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
    expect(requests).toBeGreaterThan(0);

    // Paid: an epoch judged with rewards, and fee-token rewards escrowed for it.
    const paid = await waitFor(
      async () => {
        const status = await net.json<OperatorStatusJson>("operator", "status", "--address", op.address);
        const epochs = status.record.verdicts.find((v) => v.network === "ethereum")?.epochs ?? [];
        return BigInt(status.record.rewardsEscrowed) > 0n && epochs.some((e) => e.multiplierBps > 0)
          ? status
          : undefined;
      },
      400_000,
      "the joined operator paid",
    );
    const earnedAt = await ledgerEpoch();
    process.stdout.write(
      `joining operator: registered in epoch ${joinedAt}, listed by the gateway in ${stages.listed}, healthy in ${stages.healthy}, routed in epoch ${routed}, ${requests} requests served, rewards ${Number(paid.record.rewardsEscrowed) / 1e18} escrowed by epoch ${earnedAt}\n`,
    );
  }, 900_000);

  it("a staker's withdrawal queued before its operator is slashed for a lie pays what the chain's balance gains", async () => {
    const staker = await net.json<Faucet>("faucet", "--new-key", key("staker"));
    // On the ledger's own chain a signed lie is proven with blockhash() and slashes at once: no veto window,
    // and no hold for a correlated failure (which a loaded machine can cause with slow epochs).
    const target = net.state.operators.find((o) => o.id === "ethereum-gcp-us-central1")!;
    const signer = ["--key-file", key("staker")];
    await net.json("stake", "deposit", ...signer, "--amount", "10", "--strategy", "stETH");
    await net.json("stake", "delegate", ...signer, "--operator", target.address);
    await net.json("stake", "withdraw", ...signer, "--shares", "4", "--strategy", "stETH");

    // Its operator serves a wrong block hash while the withdrawal waits; its own signed relay slashes it.
    await net.din("chaos", "--operator", target.id, "--mode", "lie");
    await waitFor(
      async () => {
        const status: StatusReport = await net.status();
        return status.fraudProofs.some((p) => p.operator === target.address) || undefined;
      },
      300_000,
      "a fraud proof against the staker's operator",
    );
    await net.din("chaos", "--operator", target.id, "--mode", "ok");

    const ledger = createPublicClient({ transport: http(net.state.ledger!.rpc) });
    const completion = await waitFor(
      async () => {
        const first = await net.json<Completion>("stake", "withdraw", ...signer, "--complete", "--dry-run");
        return first.paid?.length ? first : undefined;
      },
      400_000,
      "the withdrawal ready",
    );
    const token = completion.paid![0]!.token;
    const balance = () =>
      ledger.readContract({
        address: token,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [staker.address],
      });
    const before = await balance();
    const done = await net.json<Completion>("stake", "withdraw", ...signer, "--complete");
    const after = await balance();
    const [paid] = done.paid!;
    expect(paid!.symbol).toBe("stETH");
    expect(BigInt(paid!.queued)).toBe(4n * 10n ** 18n);
    expect(BigInt(paid!.slashed)).toBeGreaterThan(0n);
    expect(BigInt(paid!.paid) + BigInt(paid!.slashed)).toBe(BigInt(paid!.queued));
    expect(after - before).toBe(BigInt(paid!.paid));
    process.stdout.write(
      `staker: queued 4 stETH, slashed ${Number(paid!.slashed) / 1e18}, paid ${Number(paid!.paid) / 1e18} = balance change ${Number(after - before) / 1e18}\n`,
    );
  }, 900_000);

  it("runs the README walkthrough as written, and the network does what the README says of each command", async () => {
    const steps = readWalkthrough(net.dataDir);
    expect(steps.map((step) => step.args.slice(0, 2).join(" "))).toEqual([
      "chaos --cloud",
      "status --data-dir",
      "status --epochs",
      "guardian slashes",
      "guardian veto",
      "stake claim",
      "stake status",
      "risk --data-dir",
    ]);
    const aws = net.state.operators.filter((o) => o.cloud === "aws");
    const ids = aws.map((o) => o.id);
    let previous = "";
    const runStep = async (index: number): Promise<string> => {
      const step = steps[index]!;
      // The one placeholder: the id of a slash the previous command listed with its veto window open.
      const id = /^#(\d+) +queued .* veto window open/m.exec(previous)?.[1];
      const args = step.args.map((arg) => (arg === "<id>" ? (id ?? "no-open-slash-listed") : arg));
      const result = await din(args);
      expect(result.stderr, step.line).toBe("");
      expect(result.code, step.line).toBe(0);
      previous = result.stdout;
      return result.stdout;
    };

    // "2 of 5 operators per network gone for one epoch … clients see no error".
    // Operators already jailed (a slow machine gets latency slashes) are out of routing and not judged.
    const before = await net.status();
    const downAt = BigInt(before.ledger!.epoch);
    const judgedAws = before.networks
      .flatMap((n) => n.operators)
      .filter((o) => o.cloud === "aws" && !o.jailed)
      .map((o) => o.address);
    const chaos = await runStep(0);
    for (const id of ids) expect(chaos).toMatch(new RegExp(`${id} .* down for \\d+(\\.\\d+)? s`));
    expect(ids).toHaveLength(4);
    for (const network of net.state.networks) {
      for (let i = 0; i < 20; i++) {
        const answer = await post(
          network.rpc,
          rpc("eth_getBalance", [`0x${String(i).padStart(40, "a")}`, "latest"]),
        );
        expect(answer.status, network.name).toBe(200);
        expect(answer.json.error, network.name).toBeUndefined();
      }
    }
    // "health, stake, last epoch's SLA, rewards, slashes, jail": a row per operator with those columns (the
    // outage may be over by now on a slow machine: it lasts one epoch).
    const status = await runStep(1);
    expect(status).toMatch(
      / health +lag +stake +alloc +last epoch avail\/p50\/lag +rewards +slashes q\/v\/x +jailed/,
    );
    for (const id of ids) expect(status).toMatch(new RegExp(`^ +${id} +aws +\\S+ +\\S+ +`, "m"));

    // "after the epoch: the aws operators judged, slashed, jailed" — once the ledger judged the outage.
    await waitFor(
      async () => {
        const report = await net.status("--epochs");
        const failed = new Set(
          (report.epochs ?? [])
            .filter((e) => BigInt(e.epoch) >= downAt)
            .flatMap((e) => e.judged.filter((j) => j.availabilityBps < 9_990).map((j) => j.operator)),
        );
        return judgedAws.every((address) => failed.has(address)) || undefined;
      },
      300_000,
      "the aws outage judged",
    );
    const epochs = await runStep(2);
    for (const o of aws.filter((a) => judgedAws.includes(a.address))) {
      expect(epochs, o.id).toMatch(new RegExp(`^ +${o.id} +availability \\d+\\.\\d+%`, "m"));
    }
    // Slashed (queued, so jailed at once) — or, when the outage took a correlated share of the stake, held
    // for governance — as the ledger finalizes the judged epochs.
    await waitFor(
      async () => {
        const report = await net.status("--epochs");
        const held = new Set(
          (report.epochs ?? []).flatMap((e) => e.heldForGovernance.flatMap((h) => h.operators)),
        );
        const punished = report.networks
          .flatMap((n) => n.operators)
          .filter((o) => o.cloud === "aws")
          .filter(
            (o) =>
              o.jailed || o.slashes.queued + o.slashes.executed + o.slashes.vetoed > 0 || held.has(o.address),
          );
        return punished.length === aws.length || undefined;
      },
      120_000,
      "the aws operators slashed or held",
    );

    // "queued slashes; the guardian may veto one within 60 blocks", then the veto of the one listed first.
    const queued = await runStep(3);
    const vetoed = /^#(\d+) +queued .* veto window open/m.exec(queued)?.[1];
    expect(vetoed, queued).toBeDefined();
    await runStep(4);
    const listing = await net.json<{ slashes: Array<{ id: string; status: string }> }>(
      "guardian",
      "slashes",
      "--status",
      "vetoed",
    );
    expect(listing.slashes.map((s) => s.id)).toContain(vetoed);

    // "a delegator claims its share of the fees": staker-2 has earned once a rewards root covers the traffic.
    type Rewards = { rewards: { claimable: string; claimed: string } };
    const staker2 = ["stake", "status", "--key-file", join(net.dataDir, "keys", "staker-2.key")];
    await waitFor(
      async () => BigInt((await net.json<Rewards>(...staker2)).rewards.claimable) > 0n || undefined,
      300_000,
      "rewards for staker-2",
    );
    const claim = await runStep(5);
    expect(claim).not.toMatch(/nothing to claim/);
    expect(BigInt((await net.json<Rewards>(...staker2)).rewards.claimed)).toBeGreaterThan(0n);

    // "a staker's position: worth now, slashes that took part".
    expect(await runStep(6)).toMatch(/^staker 0x[0-9a-fA-F]{40} at block \d+: delegated to /);
    // "how concentrated each network is, and what an aws outage leaves".
    expect(await runStep(7)).toMatch(/aws/);
  }, 900_000);
});
