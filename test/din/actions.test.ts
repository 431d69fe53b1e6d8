// Ledger actions as operators, stakers and the guardian run them: each one checks its preconditions with a
// clear sentence, sends its calls in order, or in a dry run simulates them and sends nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { delegationManagerAbi, mockERC20Abi } from "../../src/ledger/artifacts/index.js";
import { listSlashes, vetoSlash } from "../../src/ledger/din/guardianActions.js";
import { executeSlash } from "../../src/ledger/din/keeperActions.js";
import {
  allocate,
  deregister,
  registerOperator,
  rotateSigner,
  setCommission,
  signDelegationApproval,
} from "../../src/ledger/din/operatorActions.js";
import { readOperatorRecord } from "../../src/ledger/din/operatorRecord.js";
import { operatorStatus } from "../../src/ledger/din/operatorStatus.js";
import type { LedgerActor } from "../../src/ledger/din/perform.js";
import { explainLedgerError, formatAmount } from "../../src/ledger/din/revert.js";
import { publishRewards } from "../../src/ledger/din/rewardsPublisher.js";
import {
  claim,
  completeWithdrawals,
  delegate,
  deposit,
  queueWithdrawal,
  undelegate,
} from "../../src/ledger/din/stakerActions.js";
import { stakerStatus } from "../../src/ledger/din/stakerStatus.js";
import { type DinFixture, deployDinFixture, ETHEREUM, healthy, POLYGON, WAD } from "./fixture.js";

const joinOptions = (endpoint: string, signer: LocalAccount) => ({
  network: "ethereum",
  endpoint,
  cloud: "aws",
  region: "us-east-1",
  client: "geth/1.14",
  signer,
});

describe("ledger actions", () => {
  let f: DinFixture;
  let snapshot: Hex;
  let dir: string;
  /** Symbol of the fixture's token (the first strategy's). */
  let symbol: string;
  const actor = (who: Address): LedgerActor => ({
    clients: { wallet: f.ledger.wallet(who), public: f.ledger.public },
    deployment: f.deployment,
  });
  const nonce = (who: Address) => f.ledger.public.getTransactionCount({ address: who, blockTag: "latest" });
  const signer = (i: number) => privateKeyToAccount(`0x${(0x5151 + i).toString(16).padStart(64, "0")}`);

  beforeAll(async () => {
    f = await deployDinFixture();
    dir = mkdtempSync(join(tmpdir(), "din-actions-"));
    symbol = await f.ledger.public.readContract({
      address: f.token,
      abi: mockERC20Abi,
      functionName: "symbol",
    });
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("registers a new operator in one action: restaking operator, self-stake, allocation and metadata", async () => {
    const op = f.operators[0];
    await f.mint(op, 10n * WAD);
    const result = await registerOperator(actor(op), {
      ...joinOptions("https://eth.op-a.example", signer(1)),
      selfDeposit: 10n * WAD,
      allocationWad: WAD / 2n,
    });
    expect(result.calls.map((c) => c.function)).toEqual([
      "registerAsOperator",
      "approve",
      "depositIntoStrategy",
      "modifyAllocations",
      "registerForOperatorSets",
    ]);
    expect(result.transactions).toHaveLength(5);
    expect(result.summary).toContain("registered");
    expect(await f.isMember(op)).toBe(true);
    expect(await f.allocatedStake(op)).toBe(5n * WAD);

    const status = await operatorStatus(f.ledger.public, f.deployment, op);
    const ethereum = status.networks.find((n) => n.network === "ethereum");
    expect(status.isOperator).toBe(true);
    expect(ethereum).toMatchObject({
      registered: true,
      allocatedStake: 5n * WAD,
      minStake: WAD,
      jailed: false,
      metadata: {
        endpoint: "https://eth.op-a.example",
        cloud: "aws",
        client: "geth/1.14",
        signer: signer(1).address,
      },
    });
    expect(status.networks.find((n) => n.network === "polygon")?.registered).toBe(false);
  });

  it("dry-runs a registration: simulates the first call and returns every call, sending nothing", async () => {
    const op = f.operators[0];
    await f.mint(op, 10n * WAD);
    const before = await nonce(op);
    const result = await registerOperator(actor(op), {
      ...joinOptions("https://eth.dry.example", signer(2)),
      selfDeposit: 10n * WAD,
      dryRun: true,
    });
    expect(result.dryRun).toBe(true);
    expect(result.transactions).toEqual([]);
    expect(result.calls[0]).toMatchObject({ function: "registerAsOperator", simulated: true });
    expect(result.calls.at(-1)?.function).toBe("registerForOperatorSets");
    for (const call of result.calls) expect(call.data).toMatch(/^0x[0-9a-f]{8}/);
    expect(await nonce(op)).toBe(before);
    expect(await f.isMember(op)).toBe(false);
  });

  it("refuses with a clear sentence: unknown network, already registered, too little stake, taken signer", async () => {
    const [a, b, c] = f.operators;
    await expect(
      registerOperator(actor(a), { ...joinOptions("https://x.example", signer(3)), network: "solana" }),
    ).rejects.toThrow('unknown network "solana"; this deployment serves: ethereum, polygon');

    await f.registerOperator(a);
    const taken = await f.ledger.public.readContract({
      ...f.registry,
      functionName: "getMetadata",
      args: [a, ETHEREUM],
    });
    const takenKey = f.signerKeys.get(taken.signer) as LocalAccount;
    await expect(
      registerOperator(actor(a), joinOptions("https://another.example", takenKey)),
    ).rejects.toThrow("already registered on ethereum");

    await f.mint(b, WAD);
    await expect(
      registerOperator(actor(b), {
        ...joinOptions("https://b.example", signer(4)),
        selfDeposit: WAD,
        allocationWad: WAD / 2n,
      }),
    ).rejects.toThrow("insufficient stake: 0.5 allocated, 1 required on ethereum");

    await f.mint(c, 10n * WAD);
    await expect(
      // Endpoints are not unique (a node is known by its signer): only the signer is refused.
      registerOperator(actor(c), { ...joinOptions(taken.endpoint, takenKey), selfDeposit: 10n * WAD }),
    ).rejects.toThrow(`signer taken: ${takenKey.address} is bound to operator ${a} on ethereum`);
    await expect(
      registerOperator(actor(c), {
        ...joinOptions("https://c.example", takenKey),
        selfDeposit: 10n * WAD,
      }),
    ).rejects.toThrow(`signer taken: ${taken.signer} is bound to operator ${a} on ethereum`);
    await expect(
      registerOperator(actor(c), { ...joinOptions("https://c.example", signer(6)), selfDeposit: 20n * WAD }),
    ).rejects.toThrow(`insufficient balance: have 10 ${symbol}, need 20`);
  });

  it("rotates the relay signing key with the new key's consent, retiring the old one for good", async () => {
    const op = f.operators[0];
    await f.registerOperator(op);
    const read = (signerAddress: Address) =>
      f.ledger.public.readContract({
        ...f.registry,
        functionName: "signerKey",
        args: [ETHEREUM, signerAddress],
      });
    const old = f.signers.get(op) as LocalAccount;
    const result = await rotateSigner(actor(op), { network: "ethereum", signer: signer(8) });
    expect(result).toMatchObject({ previous: old.address, signer: signer(8).address });
    expect((await read(old.address)).retiredAt).toBeGreaterThan(0n);
    expect(await read(signer(8).address)).toMatchObject({ operator: op, retiredAt: 0n });
    await expect(rotateSigner(actor(op), { network: "ethereum", signer: old })).rejects.toThrow(
      `signer retired: ${old.address} was rotated away from on ethereum and can never sign again; use a new key`,
    );
    await expect(
      rotateSigner(actor(f.operators[1]), { network: "ethereum", signer: signer(9) }),
    ).rejects.toThrow("not registered on ethereum");
  });

  it("refuses to allocate more magnitude than is free, and allocates what is", async () => {
    const op = f.operators[0];
    await f.mint(op, 10n * WAD);
    await registerOperator(actor(op), {
      ...joinOptions("https://eth.alloc.example", signer(7)),
      selfDeposit: 10n * WAD,
      allocationWad: (7n * WAD) / 10n,
    });
    await expect(allocate(actor(op), { network: "polygon", wad: WAD / 2n })).rejects.toThrow(
      /not enough allocatable magnitude on strategy 0x[0-9a-fA-F]{40}: 0.3 available for polygon, 0.5 asked/,
    );
    const result = await allocate(actor(op), { network: POLYGON, wad: (3n * WAD) / 10n });
    expect(result.changes.every((c) => c.to === (3n * WAD) / 10n)).toBe(true);
    expect(await f.allocatedStake(op, POLYGON)).toBe(3n * WAD);
    await expect(allocate(actor(op), { network: "polygon", wad: (3n * WAD) / 10n })).rejects.toThrow(
      "the allocation to polygon is already 0.3",
    );
  });

  it("deregisters from a network and refuses to deregister where not registered", async () => {
    const op = f.operators[0];
    await f.registerOperator(op);
    await expect(deregister(actor(op), { network: "polygon" })).rejects.toThrow("not registered on polygon");
    await deregister(actor(op), { network: "ethereum" });
    expect(await f.isMember(op)).toBe(false);
    expect((await operatorStatus(f.ledger.public, f.deployment, op)).networks[0]?.registered).toBe(false);
    // Still slashable for the deallocation delay: it rejoins only after it, and is told when.
    await expect(
      registerOperator(actor(op), joinOptions("https://again.example", signer(7))),
    ).rejects.toThrow(/left ethereum recently and stay slashable there until block \d+/);
  });

  it("sets the operator's commission, which the status reports", async () => {
    const op = f.operators[0];
    await f.registerOperator(op);
    expect((await operatorStatus(f.ledger.public, f.deployment, op)).commissionBips).toBe(1000);
    await setCommission(actor(op), { bips: 250 });
    expect((await operatorStatus(f.ledger.public, f.deployment, op)).commissionBips).toBe(250);
    await expect(setCommission(actor(op), { bips: 10_001 })).rejects.toThrow("from 0 to 10000");
  });

  it("lets a staker deposit, delegate, undelegate and complete the withdrawal after the delay", async () => {
    const op = f.operators[0];
    const staker = f.alice;
    await f.registerOperator(op);
    await f.mint(staker, 5n * WAD);
    await deposit(actor(staker), { amount: 5n * WAD, strategy: symbol });
    expect(await f.withdrawable(staker)).toBe(5n * WAD);
    await expect(delegate(actor(staker), { operator: f.outsider })).rejects.toThrow(
      `${f.outsider} is not a registered restaking operator`,
    );
    await delegate(actor(staker), { operator: op });
    expect(await f.operatorShares(op)).toBe(15n * WAD);
    await expect(delegate(actor(staker), { operator: op })).rejects.toThrow(`already delegated to ${op}`);

    await queueWithdrawal(actor(staker), { shares: 2n * WAD, strategy: f.strategy });
    expect(await f.operatorShares(op)).toBe(13n * WAD);
    await expect(queueWithdrawal(actor(staker), { shares: 9n * WAD })).rejects.toThrow(
      `insufficient shares: 3 deposited in ${symbol}, 9 asked`,
    );
    await undelegate(actor(staker));
    expect(await f.operatorShares(op)).toBe(10n * WAD);

    const early = await completeWithdrawals(actor(staker));
    expect(early.calls).toEqual([]);
    expect(early.summary).toMatch(/no withdrawal is ready yet; the next completes at block \d+/);
    await f.ledger.mine(Number(f.deployment.params.restaking.minWithdrawalDelayBlocks));
    const done = await completeWithdrawals(actor(staker));
    expect(done.completed).toBe(2);
    expect(await f.balanceOf(staker, f.token)).toBe(5n * WAD);
    await expect(undelegate(actor(staker))).rejects.toThrow("not delegated to any operator");
  });

  it("delegates to an operator with a delegation approver only with the approver's signature", async () => {
    const op = f.operators[0];
    const staker = f.alice;
    const approver = signer(9);
    await f.mint(op, 10n * WAD);
    await registerOperator(actor(op), {
      ...joinOptions("https://eth.approved.example", signer(8)),
      selfDeposit: 10n * WAD,
      delegationApprover: approver.address,
    });
    const dm = f.deployment.addresses.delegationManager;
    expect(
      await f.ledger.public.readContract({
        address: dm,
        abi: delegationManagerAbi,
        functionName: "delegationApprover",
        args: [op],
      }),
    ).toBe(approver.address);
    await f.mint(staker, 5n * WAD);
    await deposit(actor(staker), { amount: 5n * WAD, strategy: symbol });

    await expect(delegate(actor(staker), { operator: op })).rejects.toThrow(
      `${op} accepts delegations approved by ${approver.address} only`,
    );
    const now = (await f.ledger.public.getBlock({ blockTag: "latest" })).timestamp;
    const expired = await signDelegationApproval(f.ledger.public, dm, approver, {
      staker,
      operator: op,
      expiry: now - 1n,
    });
    await expect(delegate(actor(staker), { operator: op, approval: expired })).rejects.toThrow(
      "the approver's signature expired",
    );
    const forBob = await signDelegationApproval(f.ledger.public, dm, approver, {
      staker: f.bob,
      operator: op,
      expiry: now + 3600n,
    });
    await expect(delegate(actor(staker), { operator: op, approval: forBob })).rejects.toThrow(
      "invalid approver signature",
    );
    const approval = await signDelegationApproval(f.ledger.public, dm, approver, {
      staker,
      operator: op,
      expiry: now + 3600n,
    });
    await delegate(actor(staker), { operator: op, approval });
    expect(await f.operatorShares(op)).toBe(15n * WAD);
    await undelegate(actor(staker));
    await expect(delegate(actor(staker), { operator: op, approval })).rejects.toThrow(
      `salt ${approval.salt} was already used by ${approver.address}`,
    );
  });

  it("a dry-run deposit sends nothing", async () => {
    await f.mint(f.bob, WAD);
    const before = await nonce(f.bob);
    const result = await deposit(actor(f.bob), { amount: WAD, dryRun: true });
    expect(result.calls.map((c) => [c.function, c.simulated])).toEqual([
      ["approve", true],
      ["depositIntoStrategy", false],
    ]);
    expect(await nonce(f.bob)).toBe(before);
    expect(await f.withdrawable(f.bob)).toBe(0n);
  });

  it("lets the guardian veto a queued slash in its window and anyone execute one after it", async () => {
    const [op0, op1] = f.operators;
    await f.registerWatchersAndGateway();
    await f.registerOperator(op0);
    await f.registerOperator(op1);
    const epoch = await f.currentEpoch();
    await f.endEpoch(epoch);
    const reports = [
      { ...healthy(op0), availabilityBps: 9950 },
      { ...healthy(op1), p50LatencyMs: 300 },
    ];
    await f.submitReport(f.watchers[0] as Address, ETHEREUM, epoch, reports);
    await f.submitReport(f.watchers[1] as Address, ETHEREUM, epoch, reports);
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, epoch, reports);
    await f.finalize(ETHEREUM, epoch);

    const queued = await listSlashes(f.ledger.public, f.deployment, { status: "queued" });
    expect(queued.map((s) => s.operator).sort()).toEqual([op0, op1].sort());
    const [first, second] = queued as [(typeof queued)[0], (typeof queued)[0]];
    await expect(vetoSlash(actor(f.outsider), { slashId: first.id })).rejects.toThrow(
      `${f.outsider} does not hold the veto role`,
    );
    await expect(executeSlash(actor(f.outsider), { slashId: first.id })).rejects.toThrow(
      `the veto window of slash ${first.id} is still open until block ${first.vetoWindowEndsAt}`,
    );
    await vetoSlash(actor(f.guardian), { slashId: first.id });
    await expect(vetoSlash(actor(f.guardian), { slashId: first.id })).rejects.toThrow(
      `slash ${first.id} is already vetoed`,
    );
    await expect(executeSlash(actor(f.outsider), { slashId: 99n })).rejects.toThrow("no slash 99");

    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    await expect(vetoSlash(actor(f.guardian), { slashId: second.id })).rejects.toThrow(
      `the veto window of slash ${second.id} is over`,
    );
    await executeSlash(actor(f.outsider), { slashId: second.id });
    const status = await operatorStatus(f.ledger.public, f.deployment, second.operator);
    expect(status.networks[0]?.executedSlashes.map((s) => s.id)).toEqual([second.id]);
    expect((await listSlashes(f.ledger.public, f.deployment, { status: "vetoed" })).map((s) => s.id)).toEqual(
      [first.id],
    );
  });

  it("shows a staker what a slash during the withdrawal delay took, and completing says what was paid", async () => {
    const op = f.operators[0];
    const staker = f.alice;
    await f.registerWatchersAndGateway();
    await f.registerOperator(op);
    await f.mint(staker, 5n * WAD);
    await deposit(actor(staker), { amount: 5n * WAD, strategy: symbol });
    await delegate(actor(staker), { operator: op });
    await queueWithdrawal(actor(staker), { shares: 2n * WAD, strategy: f.strategy });
    const fresh = await stakerStatus(f.ledger.public, f.deployment, staker);
    expect(fresh.delegatedTo).toBe(op);
    expect(fresh.slashes).toEqual([]);
    expect(fresh.positions[0]).toMatchObject({ depositShares: 3n * WAD, withdrawableShares: 3n * WAD });
    expect(fresh.queuedWithdrawals[0]?.strategies[0]).toMatchObject({
      queuedShares: 2n * WAD,
      sharesNow: 2n * WAD,
    });
    expect(fresh.rewards.why).toBe("no rewards root has been published yet");

    // The operator misses its availability target: one slash, executed after the veto window.
    const epoch = await f.currentEpoch();
    await f.endEpoch(epoch);
    const reports = [{ ...healthy(op), availabilityBps: 9950 }];
    for (const watcher of f.watchers.slice(0, 3))
      await f.submitReport(watcher as Address, ETHEREUM, epoch, reports);
    await f.finalize(ETHEREUM, epoch);
    const [queued] = await listSlashes(f.ledger.public, f.deployment, { status: "queued" });
    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    await executeSlash(actor(f.outsider), { slashId: queued!.id });

    const slashed = await stakerStatus(f.ledger.public, f.deployment, staker);
    const [slash] = slashed.slashes;
    expect(slashed.slashes).toHaveLength(1);
    expect(slash).toMatchObject({ operator: op, network: "ethereum", networkId: ETHEREUM });
    const position = slashed.positions[0]!;
    const withdrawal = slashed.queuedWithdrawals[0]!.strategies[0]!;
    // Both the delegated shares and the queued ones lost the same fraction; the slash names it all.
    expect(position.withdrawableShares).toBeLessThan(3n * WAD);
    expect(position.slashedShares).toBe(3n * WAD - position.withdrawableShares);
    expect(withdrawal.sharesNow).toBeLessThan(2n * WAD);
    expect(slash!.lost[0]!.shares).toBe(position.slashedShares + (2n * WAD - withdrawal.sharesNow));
    expect(withdrawal.sharesNow * 3n).toBe(position.withdrawableShares * 2n);

    await f.ledger.mine(Number(f.deployment.params.restaking.minWithdrawalDelayBlocks));
    const wallet = await f.balanceOf(staker, f.token);
    const done = await completeWithdrawals(actor(staker));
    const received = (await f.balanceOf(staker, f.token)) - wallet;
    expect(received).toBe(withdrawal.tokensNow);
    expect(done.paid).toEqual([
      { token: f.token, symbol, queued: 2n * WAD, paid: received, slashed: 2n * WAD - received },
    ]);
    expect(done.summary).toContain(`paid ${formatAmount(received)} ${symbol}`);
    expect(done.summary).toContain(
      `slashes while they waited took ${formatAmount(2n * WAD - received)} ${symbol} of 2 ${symbol}`,
    );
  });

  it("publishes a rewards round and lets the operator claim it once; a tampered file is refused", async () => {
    const op = f.operators[0];
    const file = join(dir, "rewards.json");
    await f.registerWatchersAndGateway();
    await f.registerOperator(op);
    const epoch = await f.currentEpoch();
    await f.payFees(ETHEREUM, 100n * WAD);
    await f.reportUsage(ETHEREUM, epoch, [[op, 10n]]);
    await f.endEpoch(epoch);
    await f.submitReport(f.watchers[0] as Address, ETHEREUM, epoch, [healthy(op)]);
    await f.submitReport(f.watchers[1] as Address, ETHEREUM, epoch, [healthy(op)]);
    await f.submitReport(f.watchers[2] as Address, ETHEREUM, epoch, [healthy(op)]);
    await f.finalize(ETHEREUM, epoch);

    const deployer = { wallet: f.ledger.wallet(f.deployer), public: f.ledger.public };
    const round = await publishRewards(deployer, f.deployment, { file });
    expect(round?.earners).toEqual([op]);
    expect(await publishRewards(deployer, f.deployment, { file })).toBeUndefined();
    // The operator's record: the epoch's verdict at full rewards, and the 100 escrowed for it.
    const record = await readOperatorRecord(f.ledger.public, f.deployment, op);
    expect(record.rewardsEscrowed).toBe(100n * WAD);
    expect(record.verdicts[0]!.epochs[0]).toMatchObject({ epoch, multiplierBps: 10_000 });

    const claimed = await claim(actor(op), { rewardsFile: file });
    expect(claimed.amount).toBe(100n * WAD); // the operator's own stake is all the stake: it earns everything
    expect(await f.balanceOf(op)).toBe(100n * WAD);
    const again = await claim(actor(op), { rewardsFile: file });
    expect(again.calls).toEqual([]);
    expect(again.summary).toContain("nothing to claim");
    expect((await claim(actor(f.carol), { rewardsFile: file })).summary).toContain("nothing to claim");

    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.earnings[0].cumulativeEarnings = (200n * WAD).toString();
    writeFileSync(file, JSON.stringify(doc));
    await expect(claim(actor(op), { rewardsFile: file })).rejects.toThrow(
      "rewards file is stale or not from this ledger",
    );
  });

  it("puts a revert of any DIN or core contract into words", async () => {
    const op = f.operators[0];
    await f.stake(op, WAD, ETHEREUM); // 0.5 allocated < 1
    const error = await f.registerForSet(op, ETHEREUM, f.encodeMetadata(f.metadata(op))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(explainLedgerError(error, { network: "ethereum" })).toBe(
      "insufficient stake: 0.5 allocated, 1 required on ethereum",
    );
    const delegated = await f.delegate(op, op).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(explainLedgerError(delegated)).toBe("already delegated: undelegate first");
  });
});
