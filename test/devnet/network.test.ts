// The network comes alive: a whole cloud goes down for an epoch under steady client load. Clients see no
// error; the watchers measure it; the epoch is finalized with the aws operators under the SLA; their
// slashes are queued and jail them; the guardian vetoes one, which stays whole; the others execute after
// the window and take exactly the slashed share from the operators and their delegators; the operators that
// stayed up are paid and their delegators claim. A lying operator is proven wrong on-chain with its own
// signature. A watcher restarted mid-epoch neither skips nor repeats a report.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { type Address, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyChaos } from "../../src/devnet/chaos.js";
import { type RunningNetwork, up } from "../../src/devnet/up.js";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  mockERC20Abi,
  strategyManagerAbi,
} from "../../src/ledger/artifacts/index.js";
import {
  connectLedger,
  readEpochClock,
  readSlashes,
  type SlashRecord,
} from "../../src/ledger/din/directory.js";
import { withdrawableShares } from "../../src/ledger/slashing.js";
import { post, rpc, sleep, waitFor } from "../support/dataPlane.js";

const BLOCK_MS = 500;

describe("the network comes alive", () => {
  let network: RunningNetwork;
  let ledger: ReturnType<typeof connectLedger>["public"];
  const dataDir = mkdtempSync(join(tmpdir(), "din-network-"));
  let load: { stop(): Promise<{ sent: number; errors: string[] }> };

  const read = <T>(call: Parameters<typeof ledger.readContract>[0]) =>
    ledger.readContract(call) as Promise<T>;
  const blockNumber = () => ledger.getBlockNumber({ cacheTime: 0 });
  const waitForBlock = (target: bigint, timeoutMs = 120_000) =>
    waitFor(async () => ((await blockNumber()) >= target ? true : undefined), timeoutMs, `block ${target}`);

  beforeAll(async () => {
    const logger = process.env.DIN_TEST_LOG
      ? pino({ level: process.env.DIN_TEST_LOG }, pino.destination(2))
      : pino({ level: "silent" });
    network = await up({ dataDir, port: 0, host: "127.0.0.1", blockTimeMs: BLOCK_MS, logger });
    ledger = connectLedger(network.state.ledger.rpc, network.state.ledger.chainId).public;
    load = steadyLoad(network.state.networks.map((n) => n.rpc));
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await network?.stop();
  }, 60_000);

  it("survives a whole cloud going down for an epoch, then punishes and pays on the ledger", async () => {
    const d = network.ledger.deployment.addresses;
    const aws = network.state.operators.filter((o) => o.cloud === "aws");
    const stayedUp = network.state.operators.filter((o) => o.cloud !== "aws");
    expect(aws).toHaveLength(4);

    // Down from the first block of epoch E to the first block of E+1.
    let clock = await readEpochClock(ledger, d.epochs);
    const epoch = clock.epoch + 1n;
    await waitForBlock(clock.end);
    await applyChaos(dataDir, { cloud: "aws" }, { mode: "down" });
    clock = await readEpochClock(ledger, d.epochs);
    expect(clock.epoch).toBe(epoch);
    await waitForBlock(clock.end);
    await applyChaos(dataDir, { cloud: "aws" }, { mode: "ok" });

    // The watchers post and finalize E; the aws operators are judged unavailable.
    const judged = await waitFor(
      async () => {
        const logs = await ledger.getContractEvents({
          address: d.epochs,
          abi: dinEpochsAbi,
          eventName: "OperatorJudged",
          args: { epoch },
          fromBlock: 0n,
          strict: true,
        });
        return logs.length >= 10 ? logs : undefined;
      },
      120_000,
      `epoch ${epoch} finalized`,
    );
    for (const o of aws) {
      const j = judged.find((log) => getAddress(log.args.operator) === getAddress(o.address));
      expect(j?.args.availabilityBps, o.id).toBeLessThan(9990);
      expect(j?.args.multiplierBps, o.id).toBe(0n);
    }
    for (const o of stayedUp) {
      const j = judged.find((log) => getAddress(log.args.operator) === getAddress(o.address));
      expect(j?.args.availabilityBps, o.id).toBeGreaterThanOrEqual(9990);
      expect(j?.args.multiplierBps, o.id).toBe(10_000n);
    }

    // Their slashes are queued (by the settling step that follows judging) and jail them; nothing is taken yet.
    const slashes = await waitFor(
      async () => {
        const queued = (await readSlashes(ledger, d)).filter((s) =>
          aws.some((o) => getAddress(o.address) === s.operator),
        );
        return new Set(queued.map((s) => s.operator)).size >= 4 ? queued : undefined;
      },
      60_000,
      `epoch ${epoch}'s slashes queued`,
    );
    expect(new Set(slashes.map((s) => s.operator)).size).toBe(4);
    expect(slashes.every((s) => s.status === "queued")).toBe(true);
    for (const o of aws) {
      const networkId = network.ledger.deployment.networks.find((n) => n.name === o.network)!.id;
      expect(
        await read<boolean>({
          address: d.registry,
          abi: dinRegistryAbi,
          functionName: "isJailed",
          args: [o.address as Address, networkId],
        }),
      ).toBe(true);
    }

    // The guardian vetoes every slash of one operator (it stays whole); the rest execute after the window.
    const vetoed = getAddress(aws.find((o) => o.region === "eu-west-1")!.address);
    const guardian = privateKeyToAccount(network.ledger.keys.guardian.privateKey);
    const guardianWallet = connectLedger(network.state.ledger.rpc, network.state.ledger.chainId, guardian)
      .wallet!;
    const strategy = d.strategies[0] as Address;
    const maxMagnitude = async (operator: Address) =>
      (
        await read<readonly bigint[]>({
          address: d.allocationManager,
          abi: allocationManagerAbi,
          functionName: "getMaxMagnitudes",
          args: [operator, [strategy]],
        })
      )[0] as bigint;
    const withdrawable = async (staker: Address) =>
      (
        await read<readonly [readonly bigint[], readonly bigint[]]>({
          address: d.delegationManager,
          abi: delegationManagerAbi,
          functionName: "getWithdrawableShares",
          args: [staker, [strategy]],
        })
      )[0][0] ?? 0n;
    const before = new Map<Address, { magnitude: bigint }>();
    for (const o of aws)
      before.set(getAddress(o.address), { magnitude: await maxMagnitude(o.address as Address) });
    const delegatorOfAws = network.ledger.delegations.find((x) =>
      aws.some((o) => getAddress(o.address) === getAddress(x.operator) && getAddress(o.address) !== vetoed),
    )!;
    const delegatorBefore = await withdrawable(delegatorOfAws.staker);
    for (const s of slashes.filter((x) => x.operator === vetoed)) {
      const hash = await guardianWallet.writeContract({
        address: d.slasher,
        abi: dinSlasherAbi,
        functionName: "veto",
        args: [s.id],
      });
      expect((await ledger.waitForTransactionReceipt({ hash })).status).toBe("success");
    }
    const executed = await waitFor(
      async () => {
        const now = (await readSlashes(ledger, d)).filter((s) => slashes.some((x) => x.id === s.id));
        return now.every((s) => s.status !== "queued") ? now : undefined;
      },
      120_000,
      "the slashes executed after the veto window",
    );
    for (const s of executed) expect(s.status).toBe(s.operator === vetoed ? "vetoed" : "executed");
    expect(await maxMagnitude(vetoed)).toBe(before.get(vetoed)!.magnitude);
    for (const o of aws.filter((x) => getAddress(x.address) !== vetoed)) {
      const address = getAddress(o.address);
      const expected = expectedMagnitude(
        before.get(address)!.magnitude,
        executed.filter((s) => s.operator === address),
      );
      expect(await maxMagnitude(address), o.id).toBe(expected);
    }
    // The delegator's withdrawable shares fall with its operator's magnitude, exactly.
    const operatorOfDelegator = getAddress(delegatorOfAws.operator);
    const after = await withdrawable(delegatorOfAws.staker);
    const mBefore = before.get(operatorOfDelegator)!.magnitude;
    const mAfter = await maxMagnitude(operatorOfDelegator);
    expect(after).toBeLessThan(delegatorBefore);
    expect(mAfter).toBeLessThan(mBefore);
    const [depositShares, scalingFactor] = await Promise.all([
      read<bigint>({
        address: d.strategyManager,
        abi: strategyManagerAbi,
        functionName: "stakerDepositShares",
        args: [delegatorOfAws.staker, strategy],
      }),
      read<bigint>({
        address: d.delegationManager,
        abi: delegationManagerAbi,
        functionName: "depositScalingFactor",
        args: [delegatorOfAws.staker, strategy],
      }),
    ]);
    expect(delegatorBefore).toBe(withdrawableShares(depositShares, scalingFactor, mBefore));
    expect(after).toBe(withdrawableShares(depositShares, scalingFactor, mAfter));

    // Jailed operators get no traffic: their nodes see no gateway request while jailed.
    const jailedNodes = aws.filter((o) => getAddress(o.address) !== vetoed);
    const servedBefore = await Promise.all(jailedNodes.map((o) => relaysServed(o.controlUrl)));
    // While the client load goes on through the operators that stayed up.
    const servedTotal = async () =>
      (await Promise.all(stayedUp.map((o) => relaysServed(o.controlUrl)))).reduce((a, b) => a + b, 0);
    const othersBefore = await servedTotal();
    await waitFor(
      async () => (await servedTotal()) >= othersBefore + 5,
      30_000,
      "client reads served by the operators that stayed up",
    );
    const servedAfter = await Promise.all(jailedNodes.map((o) => relaysServed(o.controlUrl)));
    expect(servedAfter).toEqual(servedBefore);

    // The operators that stayed up were paid for E; a delegator of one of them claims its share.
    const paid = await ledger.getContractEvents({
      address: d.epochs,
      abi: dinEpochsAbi,
      eventName: "EpochFinalized",
      args: { epoch },
      fromBlock: 0n,
      strict: true,
    });
    expect(paid.reduce((sum, log) => sum + log.args.paid, 0n)).toBeGreaterThan(0n);
    const healthyDelegation = network.ledger.delegations.find((x) =>
      stayedUp.some((o) => getAddress(o.address) === getAddress(x.operator)),
    )!;
    const staker = network.ledger.keys.stakers.find(
      (k) => getAddress(k.account.address) === getAddress(healthyDelegation.staker),
    )!;
    const balance = () =>
      read<bigint>({
        address: d.feeToken,
        abi: mockERC20Abi,
        functionName: "balanceOf",
        args: [staker.account.address],
      });
    const claimed = await waitFor(
      async () => {
        const { execFile } = await import("node:child_process");
        const { promisify } = await import("node:util");
        const bin = join(import.meta.dirname, "../../bin/din.mjs");
        const result = await promisify(execFile)(process.execPath, [
          bin,
          "stake",
          "claim",
          "--data-dir",
          dataDir,
          "--key-file",
          staker.file,
          "--json",
        ]).catch(() => undefined);
        if (!result) return undefined;
        const b = await balance();
        return b > 0n ? b : undefined;
      },
      120_000,
      "a delegator's claim",
    );
    expect(claimed).toBeGreaterThan(0n);
  }, 400_000);

  it("catches a lying operator: its signed wrong block hash slashes it on-chain and jails it", async () => {
    const d = network.ledger.deployment.addresses;
    const liar = network.state.operators.find((o) => o.network === "ethereum" && o.cloud === "gcp")!;
    await applyChaos(dataDir, { operator: liar.id }, { mode: "lie" });
    const proof = await waitFor(
      async () => {
        const logs = await ledger.getContractEvents({
          address: d.slasher,
          abi: dinSlasherAbi,
          eventName: "FraudProven",
          args: { operator: liar.address as Address },
          fromBlock: 0n,
          strict: true,
        });
        return logs[0];
      },
      90_000,
      "a fraud proof against the liar",
    );
    expect(proof.args.networkId).toBe(1);
    await applyChaos(dataDir, { operator: liar.id }, { mode: "ok" });
    expect(
      await read<boolean>({
        address: d.registry,
        abi: dinRegistryAbi,
        functionName: "isJailed",
        args: [liar.address as Address, 1],
      }),
    ).toBe(true);
  }, 200_000);

  it("restarting a watcher mid-epoch neither skips nor repeats a report", async () => {
    const d = network.ledger.deployment.addresses;
    const clock = await readEpochClock(ledger, d.epochs);
    await waitForBlock(clock.start + BigInt(Math.floor(clock.epochLength / 2)));
    const restarted = await network.restartWatcher(0);
    await waitForBlock(clock.end + BigInt(clock.reportWindow) + 2n);
    const reports = await ledger.getContractEvents({
      address: d.epochs,
      abi: dinEpochsAbi,
      eventName: "ReportSubmitted",
      args: { watcher: restarted.address },
      fromBlock: 0n,
      strict: true,
    });
    for (const networkId of [1, 2]) {
      const epochs = reports.filter((r) => r.args.networkId === networkId).map((r) => r.args.epoch);
      expect(new Set(epochs).size).toBe(epochs.length);
      expect(epochs).toContain(clock.epoch);
      const first = [...epochs].sort((a, b) => (a < b ? -1 : 1))[0] as bigint;
      for (let e = first; e <= clock.epoch; e++) expect(epochs, `epoch ${e}`).toContain(e);
    }
  }, 200_000);

  it("kept every client request answered throughout", async () => {
    const { sent, errors } = await load.stop();
    expect(sent).toBeGreaterThan(100);
    expect(errors).toEqual([]);
  });
});

/** The magnitude after executed slashes, each taking ceil(allocated × wad) of the allocation. */
function expectedMagnitude(before: bigint, executed: SlashRecord[]): bigint {
  // Half of the magnitude is allocated to the network; each slash takes ceil(allocated × wad / 1e18).
  let max = before;
  let allocated = before / 2n;
  for (const s of executed) {
    const p = allocated * s.wad;
    const slashed = p / 10n ** 18n + (p % 10n ** 18n === 0n ? 0n : 1n);
    allocated -= slashed;
    max -= slashed;
  }
  return max;
}

async function relaysServed(controlUrl: string | undefined): Promise<number> {
  if (!controlUrl) return 0;
  const response = await fetch(`${controlUrl}/stats`);
  // The gateway's eth_getBalance calls are client load (its head polls never ask it; watchers do, as probes).
  const stats = (await response.json()) as { byCaller: Record<string, Record<string, number>> };
  return stats.byCaller.gateway?.eth_getBalance ?? 0;
}

/** Client load through the gateway (several reads per second per network) until stopped; records errors. */
function steadyLoad(urls: string[]) {
  let running = true;
  let sent = 0;
  const errors: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const url = urls[i % urls.length] as string;
      const body =
        i % 3 === 0
          ? rpc("eth_blockNumber", [], i)
          : i % 3 === 1
            ? rpc("eth_getBlockByNumber", ["latest", false], i)
            : rpc("eth_getBalance", [`0x${(0x1000 + i).toString(16).padStart(40, "0")}`, "latest"], i);
      try {
        const { status, json } = await post(url, body);
        sent++;
        if (status !== 200 || json.error) errors.push(`${status} ${JSON.stringify(json.error ?? json)}`);
      } catch (error) {
        errors.push((error as Error).message);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { sent, errors };
    },
  };
}
