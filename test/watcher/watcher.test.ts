// A watcher against a real ledger (in-process Hardhat, served over HTTP) and three real operator nodes in
// front of that same chain: it measures them, posts its epoch report, survives a restart mid-epoch,
// finalizes, executes a due slash, and proves a lying operator's signed block hash on-chain.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, type Hex, recoverAddress } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { HARDHAT_DEFAULT_MNEMONIC } from "../../src/devnet/chain.js";
import { dinEpochsAbi, dinSlasherAbi } from "../../src/ledger/artifacts/index.js";
import { readOperators } from "../../src/ledger/din/directory.js";
import { hashRequest, hashResponse, relayDigest, relayFromJson } from "../../src/ledger/din/relay.js";
import { type OperatorNode, startOperatorNode } from "../../src/operator/proxy.js";
import { toQuantity } from "../../src/rpc/blockTag.js";
import type { WatcherState } from "../../src/watcher/state.js";
import { startWatcher, type Watcher, type WatcherOptions } from "../../src/watcher/watcher.js";
import { type DinFixture, deployDinFixture, ETHEREUM, WAD, WATCHER_SET } from "../din/fixture.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("watcher", () => {
  let f: DinFixture;
  let server: HardhatServer;
  let nodes: OperatorNode[];
  let dir: string;
  let options: WatcherOptions;
  let watcher: Watcher | undefined;
  let epoch: bigint;
  const [healthyA, healthyB, downC] = [0, 1, 2];

  const mineTo = async (block: bigint) => {
    const now = await f.ledger.blockNumber();
    if (block > now) await f.ledger.mine(Number(block - now));
  };
  const operatorsOf = (w: Watcher) =>
    w.snapshot().networks.find((n) => n.networkId === ETHEREUM)?.operators ?? [];
  const probesOf = (w: Watcher, operator: Address) =>
    operatorsOf(w).find((o) => o.operator === operator)?.probes ?? 0;
  const reports = (networkId: number, e: bigint) =>
    f.ledger.public.getContractEvents({
      address: f.addresses.epochs,
      abi: dinEpochsAbi,
      eventName: "ReportSubmitted",
      args: { networkId, epoch: e },
      fromBlock: 0n,
      strict: true,
    });

  beforeAll(async () => {
    f = await deployDinFixture({
      params: { epochs: { epochLength: 20, reportWindow: 10, reportQuorum: 1 } },
    });
    const chainId = f.ledger.chain.id;
    const account = mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: 2 });
    expect(account.address).toBe(f.watchers[0]);
    await f.stake(account.address, 2n * WAD, WATCHER_SET);
    await f.registerForSet(account.address, WATCHER_SET);
    server = await startHardhatServer();
    nodes = [];
    for (const [i, operator] of f.operators.entries()) {
      f.metadata(operator); // mints its signing key
      const signer = f.signers.get(operator);
      if (!signer) throw new Error("no signer");
      const node = await startOperatorNode({
        id: `operator-${i + 1}`,
        upstream: server.url,
        chaos: true,
        relaySigner: { account: signer, chainId, ledgerChainId: chainId, slasher: f.addresses.slasher },
      });
      nodes.push(node);
      await f.stake(operator, 10n * WAD, ETHEREUM);
      await f.registerForSet(
        operator,
        ETHEREUM,
        f.encodeMetadata(f.metadata(operator, { endpoint: node.url })),
      );
    }
    await nodes[downC]?.setChaos({ mode: "down" });
    // Start at the first block of a fresh epoch, so every probe of it sees the same faults.
    epoch = (await f.currentEpoch()) + 1n;
    await mineTo((await f.epochBounds(epoch))[0]);
    dir = mkdtempSync(join(tmpdir(), "din-watcher-"));
    options = {
      account,
      ledgerRpc: server.url,
      deployment: f.deployment,
      stateFile: join(dir, "watcher.json"),
      probeIntervalMs: 100,
      ledgerPollMs: 50,
      operatorRefreshMs: 300,
      sampleEvery: 2,
    };
  });

  afterAll(async () => {
    await watcher?.close();
    for (const node of nodes ?? []) await node.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps its counts across a restart mid-epoch and posts one report in which a down operator has 0 and healthy ones 10000", async () => {
    const [a, b, c] = f.operators;
    watcher = await startWatcher(options);
    await waitFor("probes before the restart", () => probesOf(watcher as Watcher, a) >= 3);
    await watcher.close();
    const saved = JSON.parse(readFileSync(options.stateFile, "utf8")) as WatcherState;
    const savedProbes =
      saved.measurements.find((m) => m.networkId === ETHEREUM && m.epoch === epoch.toString())?.operators[a]
        ?.probes ?? 0;
    expect(savedProbes).toBeGreaterThanOrEqual(3);

    watcher = await startWatcher(options);
    expect(watcher.snapshot().epoch).toBe(epoch.toString());
    expect(probesOf(watcher, a)).toBe(savedProbes);
    await waitFor("probes after the restart", () => probesOf(watcher as Watcher, a) >= savedProbes + 3);

    const [, end] = await f.epochBounds(epoch);
    await mineTo(end);
    const posted = await waitFor("the report", async () => {
      const logs = await reports(ETHEREUM, epoch);
      return logs.length > 0 ? logs : undefined;
    });
    expect(posted).toHaveLength(1);
    expect(posted[0]?.args.watcher).toBe(watcher.address);
    const byOperator = new Map(posted[0]?.args.metrics.map((m) => [m.operator, m]));
    expect(byOperator.get(a)?.availabilityBps).toBe(10_000);
    expect(byOperator.get(b)?.availabilityBps).toBe(10_000);
    expect(byOperator.get(c)?.availabilityBps).toBe(0);
    expect(byOperator.get(a)?.lagBlocks).toBe(0);
    // Every network is reported, even one without operators yet.
    await waitFor("the polygon report", async () =>
      (await reports(2, epoch)).length === 1 ? true : undefined,
    );

    // Every active watcher reported: the watcher finalizes at once; the down operator's slash is queued.
    await waitFor("finalization", async () => {
      const [, , finalized] = await f.ledger.public.readContract({
        ...f.epochs,
        functionName: "getEpoch",
        args: [ETHEREUM, epoch],
      });
      return finalized || undefined;
    });
    expect(await f.jailed(c)).toBe(true);
    expect(watcher.snapshot().lastPosted[String(ETHEREUM)]).toBe(epoch.toString());
    expect((await reports(ETHEREUM, epoch)).length).toBe(1);
  });

  it("proves a lying operator's signed block hash on the ledger's own chain, which slashes and jails it", async () => {
    const w = watcher as Watcher;
    const liar = f.operators[healthyB] as Address;
    // The in-process chain mines blocks a second apart, faster than the clock: the nodes' clock (servedAt) is
    // set an hour past the chain's so that the sampled blocks were final when they answered.
    const chainNow = (await f.ledger.public.getBlock()).timestamp;
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, now: Number(chainNow + 3600n) * 1000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    await nodes[downC]?.setChaos({ mode: "ok" });
    await nodes[healthyB]?.setChaos({ mode: "lie" });
    const before = await f.maxMagnitude(liar);
    const proven = await waitFor("a fraud proof", async () => {
      const logs = await f.ledger.public.getContractEvents({
        address: f.addresses.slasher,
        abi: dinSlasherAbi,
        eventName: "FraudProven",
        args: { operator: liar },
        fromBlock: 0n,
        strict: true,
      });
      return logs.length > 0 ? logs : undefined;
    });
    expect(proven).toHaveLength(1);
    expect(await f.jailed(liar)).toBe(true);
    expect(await f.maxMagnitude(liar)).toBeLessThan(before);
    // The watcher records its proof once the transaction's receipt is in.
    await waitFor(
      "the watcher's record of its proof",
      () => w.snapshot().fraudProofs.length > 0 || undefined,
    );
    expect(w.snapshot().fraudProofs).toMatchObject([{ operator: liar, networkId: ETHEREUM, kind: "proven" }]);
    const saved = JSON.parse(readFileSync(options.stateFile, "utf8")) as WatcherState;
    expect(saved.usedRelays).toContain(proven[0]?.args.relayDigest.toLowerCase());
    await nodes[healthyB]?.setChaos({ mode: "ok" });
    // The honest operators were never accused.
    expect(await f.jailed(f.operators[healthyA] as Address)).toBe(false);
    expect(w.snapshot().fraudProofs).toHaveLength(1);
  });

  it("posts the next epoch too and executes the queued slash once its veto window has passed", async () => {
    const w = watcher as Watcher;
    const queued = await f.queuedSlash(0n);
    expect(queued.operator).toBe(f.operators[downC]);
    const { vetoWindow } = await f.ledger.public.readContract({
      ...f.slasher,
      functionName: "getSlashParams",
    });
    await mineTo(BigInt(queued.queuedAt) + BigInt(vetoWindow) + 1n);
    await waitFor("the slash executed", async () =>
      (await f.queuedSlash(0n)).status === 3 ? true : undefined,
    );
    await waitFor(
      "the next epoch posted",
      () => w.snapshot().lastPosted[String(ETHEREUM)] === (epoch + 1n).toString() || undefined,
    );
    expect((await reports(ETHEREUM, epoch + 1n)).filter((r) => r.args.watcher === w.address)).toHaveLength(1);
  });

  it("fails the probes of an operator whose signed balances are wrong, keeps them, and proves one on-chain", async () => {
    const w = watcher as Watcher;
    const corrupt = f.operators[healthyA] as Address;
    // As for the lying block hash: the nodes' clock runs ahead of the chain, so the sampled blocks were final.
    const chainNow = (await f.ledger.public.getBlock()).timestamp;
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, now: Number(chainNow + 3600n) * 1000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const before = await f.maxMagnitude(corrupt);
    for (const node of nodes) await node.setChaos({ mode: "ok" });
    await nodes[healthyA]?.setChaos({ mode: "corrupt" });
    const record = await waitFor("a contradicted balance", () =>
      w.snapshot().contradictions.find((c) => c.operator === corrupt),
    );
    // Anyone can re-check it: the relay is about this request and recovers to the operator's signer.
    expect(record.method).toBe("eth_getBalance");
    expect(record.agreeing).toBe(2);
    expect(record.answered).toBe(3);
    const relay = relayFromJson(record.relay);
    expect(relay.requestHash).toBe(hashRequest(record.method, record.params));
    expect(relay.responseHash).toBe(hashResponse({ result: record.result }));
    expect(relay.responseHash).not.toBe(record.majorityResponseHash);
    const signer = await recoverAddress({
      hash: relayDigest(relay, f.ledger.chain.id, f.addresses.slasher),
      signature: record.signature,
    });
    expect(signer).toBe(f.signers.get(corrupt)?.address);
    // The real balance at that height is what the others signed.
    const [account, height] = record.params as [Address, Hex];
    const real = await f.ledger.public.getBalance({ address: account, blockNumber: BigInt(height) });
    expect(BigInt(record.result as Hex)).not.toBe(real);
    expect(hashResponse({ result: toQuantity(real) })).toBe(record.majorityResponseHash);
    // The probe failed (availability falls, so the SLA judges it) and, no block hash being wrong, the balance
    // itself was proven wrong from the block's state root: slashed and jailed at once.
    const measured = operatorsOf(w).find((o) => o.operator === corrupt);
    expect(measured?.ok).toBeLessThan(measured?.probes ?? 0);
    const proof = await waitFor("the watcher's state proof", () =>
      w.snapshot().fraudProofs.find((p) => p.operator === corrupt),
    );
    // It stays corrupt until then: a round whose proof could not be gathered is followed by another.
    await nodes[healthyA]?.setChaos({ mode: "ok" });
    expect(proof).toMatchObject({ networkId: ETHEREUM, kind: "state" });
    const proven = await f.ledger.public.getContractEvents({
      address: f.addresses.slasher,
      abi: dinSlasherAbi,
      eventName: "FraudProven",
      args: { operator: corrupt },
      fromBlock: 0n,
      strict: true,
    });
    expect(proven).toHaveLength(1);
    expect(await f.jailed(corrupt)).toBe(true);
    expect(await f.maxMagnitude(corrupt)).toBeLessThan(before);
    const saved = JSON.parse(readFileSync(options.stateFile, "utf8")) as WatcherState;
    expect(saved.contradictions.some((c) => c.operator === corrupt)).toBe(true);
  });

  it("serves what it measured, what it landed on the ledger and the registry's risk figures on /metrics", async () => {
    await watcher?.close();
    watcher = await startWatcher({
      ...options,
      metrics: { port: 0, security: { profits: new Map([["ethereum", 1n]]) } },
    });
    const w = watcher;
    expect(w.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const scrape = async () => (await fetch(`${w.metricsUrl}/metrics`)).text();
    const gauge = (text: string, name: string, labels = "") =>
      Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ""} (\\S+)$`, "m").exec(text)?.[1]);
    // Each operator's probes this epoch, labelled as the gateway labels its ledger upstreams.
    const text = await waitFor("probes on /metrics", async () => {
      const t = await scrape();
      const probed =
        /din_watcher_operator_probes\{network="ethereum",operator="[a-z0-9-]+-[0-9a-f]{8}"\} [1-9]/;
      return probed.test(t) && /^din_watcher_probe_rounds [1-9]/m.test(t) ? t : undefined;
    });
    const registered = operatorsOf(w);
    expect(gauge(text, "din_watcher_probe_rounds")).toBeGreaterThan(0);
    expect(gauge(text, "din_watcher_ledger_block")).toBeGreaterThan(0);
    expect(gauge(text, "din_watcher_fraud_proofs")).toBe(w.snapshot().fraudProofs.length);
    expect(gauge(text, "din_watcher_last_posted_epoch", 'network="ethereum"')).toBe(
      Number(w.snapshot().lastPosted[String(ETHEREUM)]),
    );
    expect(text.match(/^din_watcher_operator_availability\{/gm)).toHaveLength(registered.length);
    // The risk figures over the registry it follows: its operators and what corrupting ethereum costs.
    const operators = await readOperators(f.ledger.public, f.addresses, ETHEREUM);
    const stake = operators.reduce((sum, o) => sum + o.allocatedStake, 0n);
    expect(gauge(text, "din_risk_operators", 'network="ethereum"')).toBe(operators.length);
    expect(gauge(text, "din_risk_cost_of_corruption_tokens", 'network="ethereum"')).toBeCloseTo(
      Number((stake + 2n) / 3n) / 1e18,
      9,
    );
    expect(gauge(text, "din_risk_restaking_slack", 'threshold="1/3"')).toBeGreaterThan(1e12);

    // Only GET /metrics is served; a close frees the port.
    expect((await fetch(`${w.metricsUrl}/eigen/node`)).status).toBe(404);
    expect((await fetch(`${w.metricsUrl}/metrics`, { method: "POST" })).status).toBe(405);
    const url = w.metricsUrl;
    await w.close();
    watcher = undefined;
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });
});
