// The operator hears what the ledger decides about it: a real DIN deployment in process, one epoch judged
// below the SLA for two operators, one slash vetoed and the other executed (which jails). The news read for
// one operator names only its own events, in order; the follower hands over only what is new.
import { pino } from "pino";
import type { Address, PublicClient } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import { type DinFixture, deployDinFixture, ETHEREUM, healthy } from "../../test/din/fixture.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import { listSlashes, vetoSlash } from "../ledger/din/guardianActions.js";
import { executeSlash } from "../ledger/din/keeperActions.js";
import { readOperatorRecord } from "../ledger/din/operatorRecord.js";
import type { LedgerActor } from "../ledger/din/perform.js";
import { type LedgerNews, LedgerNewsFollower, ledgerNewsLogger, readLedgerNews } from "./ledgerNews.js";

describe("ledger news of an operator", () => {
  let f: DinFixture;
  let op0: Address;
  let op1: Address;
  let follower: LedgerNewsFollower;
  const heard: LedgerNews[] = [];
  const actor = (who: Address): LedgerActor => ({
    clients: { wallet: f.ledger.wallet(who), public: f.ledger.public },
    deployment: f.deployment,
  });

  beforeAll(async () => {
    f = await deployDinFixture();
    op0 = f.operators[0]!;
    op1 = f.operators[1]!;
    await f.registerWatchersAndGateway();
    follower = new LedgerNewsFollower({
      client: f.ledger.public,
      deployment: f.deployment,
      operator: op1,
      intervalMs: 60_000,
      onNews: (news) => heard.push(news),
      onError: (error) => {
        throw error;
      },
    });
    await follower.poll(); // starts from here: what came before is not news
    await f.registerOperator(op0);
    await f.registerOperator(op1);
    const epoch = await f.currentEpoch();
    await f.endEpoch(epoch);
    const reports = [
      { ...healthy(op0), availabilityBps: 9950 },
      // Another rule for the other: two operators failing one rule together would be a correlated failure.
      { ...healthy(op1), p50LatencyMs: 300 },
    ];
    for (const watcher of f.watchers.slice(0, 3))
      await f.submitReport(watcher as Address, ETHEREUM, epoch, reports);
    await f.finalize(ETHEREUM, epoch);
    const queued = await listSlashes(f.ledger.public, f.deployment, { status: "queued" });
    const of = (op: Address) => queued.find((s) => s.operator === op)!;
    await vetoSlash(actor(f.guardian), { slashId: of(op0).id });
    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    await executeSlash(actor(f.outsider), { slashId: of(op1).id });
  });

  it("tells its registration, the epoch's verdict, the slash queued with its jail, and its execution, in order", async () => {
    const latest = await f.ledger.public.getBlockNumber();
    const news = await readLedgerNews(f.ledger.public, f.deployment, op1, 0n, latest);
    const kinds = news.map((n) => n.kind);
    // A slash queued jails at once; its execution lowers the allocation the core holds.
    expect(kinds).toEqual([
      "allocation",
      "registered",
      "judged",
      "slash-queued",
      "jailed",
      "allocation",
      "slash-executed",
    ]);
    const judged = news.find((n) => n.kind === "judged")!;
    expect(judged.level).toBe("warn");
    expect(judged.message).toMatch(
      /^epoch \d+ on ethereum judged: availability 100%, p50 300 ms, .*rewards at \d+(\.\d+)?%$/,
    );
    expect(news.find((n) => n.kind === "slash-queued")!.message).toMatch(
      /queued on ethereum: 0\.05% for latency/,
    );
    expect(news.find((n) => n.kind === "slash-executed")!.level).toBe("error");
    expect(news.find((n) => n.kind === "jailed")!.message).toMatch(/^jailed on ethereum until block \d+/);
    // Blocks never go backwards.
    expect(news.map((n) => n.block)).toEqual(
      [...news.map((n) => n.block)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it("tells the other operator of its veto and release, never of another's slash", async () => {
    const latest = await f.ledger.public.getBlockNumber();
    const news = await readLedgerNews(f.ledger.public, f.deployment, op0, 0n, latest);
    // The veto lifts the jail the queued slash brought.
    expect(news.map((n) => n.kind)).toEqual([
      "allocation",
      "registered",
      "judged",
      "slash-queued",
      "jailed",
      "slash-vetoed",
      "unjailed",
    ]);
    expect(news.find((n) => n.kind === "slash-vetoed")!.message).toContain(`vetoed by ${f.guardian}`);
  });

  it("hands the follower each piece of news once", async () => {
    await follower.poll();
    expect(heard.map((n) => n.kind)).toContain("slash-executed");
    const count = heard.length;
    await follower.poll();
    expect(heard).toHaveLength(count);
    await follower.stop();
  });

  it("keeps each epoch's verdict in the operator's record, newest first, as din operator status shows it", async () => {
    const record = await readOperatorRecord(f.ledger.public, f.deployment, op1);
    const ethereum = record.verdicts.find((v) => v.network === "ethereum")!;
    expect(ethereum.epochs).toHaveLength(1);
    expect(ethereum.epochs[0]).toMatchObject({ availabilityBps: 10_000, p50LatencyMs: 300, lagBlocks: 0 });
    expect(ethereum.epochs[0]!.multiplierBps).toBeLessThan(10_000);
    expect(record.verdicts.find((v) => v.network === "polygon")!.epochs).toEqual([]);
    // No fees were paid in this epoch: nothing escrowed.
    expect(record.rewardsEscrowed).toBe(0n);
  });
});

describe("ledgerNewsLogger", () => {
  const operator: Address = "0x00000000000000000000000000000000000000a1";
  const deployment = {
    addresses: {
      registry: "0x0000000000000000000000000000000000000001",
      slasher: "0x0000000000000000000000000000000000000002",
      epochs: "0x0000000000000000000000000000000000000003",
      allocationManager: "0x0000000000000000000000000000000000000004",
    },
    networks: [{ id: 1, name: "ethereum" }],
  } as unknown as DinDeployment;

  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    return { lines, log };
  }

  it("logs each piece of news at its level, with its kind, network, block and transaction", async () => {
    let head = 10n;
    const client = {
      getBlockNumber: async () => head,
      getContractEvents: async ({ eventName }: { eventName: string }) =>
        eventName === "OperatorJailed"
          ? [
              {
                blockNumber: 12n,
                transactionHash: "0xabc",
                args: { operator, networkId: 1, untilBlock: 50n },
              },
            ]
          : [],
    } as unknown as PublicClient;
    const { lines, log } = capture();
    const follower = ledgerNewsLogger({ client, deployment, operator, intervalMs: 60_000, log });
    await follower.poll(); // where the news starts
    head = 12n;
    await follower.poll();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        ledger: "jailed",
        network: "ethereum",
        block: "12",
        tx: "0xabc",
        msg: "jailed on ethereum until block 50: no traffic, no rewards until then",
      }),
    ]);
  });

  it("logs a poll that fails as a debug line", async () => {
    const client = {
      getBlockNumber: async () => {
        throw new Error("ledger unreachable");
      },
    } as unknown as PublicClient;
    const { lines, log } = capture();
    const follower = ledgerNewsLogger({ client, deployment, operator, intervalMs: 60_000, log });
    follower.start();
    await follower.stop();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 20,
        err: "ledger unreachable",
        msg: "ledger news not read this time",
      }),
    ]);
  });
});
