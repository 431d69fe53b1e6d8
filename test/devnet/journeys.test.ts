// The roles' journeys on one `din up`, driven through the `din` command as a person would (parsing its
// `--json`): an operator joins with keys of its own and is routed traffic and paid within a few epochs; a
// staker delegates, queues a withdrawal, sees its operator slashed while it waits, and is paid exactly what
// the chain's token balance says.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Address, createPublicClient, erc20Abi, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusReport } from "../../src/devnet/status.js";
import { waitFor } from "../support/dataPlane.js";
import { bin, localNetwork } from "../support/localNetwork.js";

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

    // Routed: the gateway counts relays it paid for, and the node counts the requests it served.
    const routed = await waitFor(
      async () => {
        const status = await net.status();
        const upstream = status.networks
          .find((n) => n.name === "ethereum")!
          .upstreams.find((u) => (u as { address?: string }).address === op.address) as
          | { relaysThisEpoch?: number }
          | undefined;
        return (upstream?.relaysThisEpoch ?? 0) > 0 ? BigInt(status.ledger!.epoch) : undefined;
      },
      300_000,
      "the joined operator routed relays",
    );
    expect(routed - joinedAt).toBeLessThanOrEqual(2n);
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
      `joining operator: registered in epoch ${joinedAt}, routed in epoch ${routed}, ${requests} requests served, rewards ${Number(paid.record.rewardsEscrowed) / 1e18} escrowed by epoch ${earnedAt}\n`,
    );
  });

  it("a staker's withdrawal queued before its operator is slashed pays what the chain's balance gains", async () => {
    const staker = await net.json<Faucet>("faucet", "--new-key", key("staker"));
    const target = net.state.operators.find((o) => o.id === "polygon-gcp-europe-west4")!;
    const signer = ["--key-file", key("staker")];
    await net.json("stake", "deposit", ...signer, "--amount", "10", "--strategy", "stETH");
    await net.json("stake", "delegate", ...signer, "--operator", target.address);
    await net.json("stake", "withdraw", ...signer, "--shares", "4", "--strategy", "stETH");

    // Its operator goes down for an epoch while the withdrawal waits; the watchers judge, queue and execute.
    const slashesBefore = (await net.status()).slashes.filter((s) => s.operator === target.address).length;
    await net.din("chaos", "--operator", target.id, "--mode", "down", "--for", "1-epoch");
    await waitFor(
      async () => {
        const status: StatusReport = await net.status();
        const own = status.slashes.filter((s) => s.operator === target.address);
        return own.length > slashesBefore && own.some((s) => s.status === "executed") ? true : undefined;
      },
      400_000,
      "the operator's slash executed",
    );

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
  });
});
