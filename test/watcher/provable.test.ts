// A watcher on a ledger whose slasher has a finality delay: a signed lie about the ledger's own chain is
// evidence only about a block that was final when served, and only while the ledger can still prove it. An
// operator lies about every block it serves; the watcher proves one of its lies on-chain (the operator is
// slashed and jailed), every proof it sends is about a block that was final when the lie was served, and
// the honest operators are never accused.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { type Address, decodeFunctionData } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HARDHAT_DEFAULT_MNEMONIC } from "../../src/devnet/chain.js";
import { dinSlasherAbi } from "../../src/ledger/artifacts/index.js";
import { type OperatorNode, startOperatorNode } from "../../src/operator/proxy.js";
import { startWatcher, type Watcher } from "../../src/watcher/watcher.js";
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

const finalityDelay = 30;

describe("watcher on a ledger with a finality delay", () => {
  let f: DinFixture;
  let server: HardhatServer;
  const nodes: OperatorNode[] = [];
  let dir: string;
  let watcher: Watcher | undefined;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    f = await deployDinFixture({
      params: { finalityDelay, epochs: { epochLength: 20, reportWindow: 10, reportQuorum: 1 } },
    });
    const chainId = f.ledger.chain.id;
    const account = mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: 2 });
    expect(account.address).toBe(f.watchers[0]);
    await f.stake(account.address, 2n * WAD, WATCHER_SET);
    await f.registerForSet(account.address, WATCHER_SET);
    server = await startHardhatServer();
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
    dir = mkdtempSync(join(tmpdir(), "din-watcher-provable-"));
  });

  afterAll(async () => {
    await watcher?.close();
    vi.useRealTimers();
    for (const node of nodes) await node.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("proves a lie about a block final when served, never one about a block that was not, and accuses no honest operator", async () => {
    const [honestA, liar, honestB] = f.operators;
    const slasherAbi = dinSlasherAbi;
    // 300 blocks a second apart. Everyone's clock (the watcher's, the operators' servedAt) reads 60 s before
    // the head's timestamp: the blocks the watcher samples for its recent checks (at most 34 below the head)
    // stay too young to be final when served for the whole test, while blocks some 150 below the head are
    // final (timestamp + 30 s delay + the 60 s clock tolerance) and still within blockhash()'s reach.
    await f.ledger.test.mine({ blocks: 300, interval: 1 });
    const head = await f.ledger.public.getBlock();
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, now: Number(head.timestamp - 60n) * 1000 });
    await nodes[1]?.setChaos({ mode: "lie" });
    const before = await f.maxMagnitude(liar);

    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
        done();
      },
    });
    watcher = await startWatcher({
      account: mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: 2 }),
      ledgerRpc: server.url,
      deployment: f.deployment,
      stateFile: join(dir, "watcher.json"),
      probeIntervalMs: 100,
      ledgerPollMs: 50,
      operatorRefreshMs: 300,
      sampleEvery: 2,
      logger: pino({ level: "debug" }, sink),
    });
    const w = watcher;

    const proven = await waitFor("a fraud proof", async () => {
      const events = await f.ledger.public.getContractEvents({
        address: f.addresses.slasher,
        abi: slasherAbi,
        eventName: "FraudProven",
        fromBlock: 0n,
        strict: true,
      });
      return events.length > 0 ? events : undefined;
    });
    expect(proven).toHaveLength(1);
    expect(proven[0]?.args.operator).toBe(liar);
    expect(await f.jailed(liar)).toBe(true);
    expect(await f.maxMagnitude(liar)).toBeLessThan(before);
    await waitFor(
      "the watcher's record of its proof",
      () => w.snapshot().fraudProofs.length > 0 || undefined,
    );
    expect(w.snapshot().fraudProofs).toMatchObject([{ operator: liar, networkId: ETHEREUM, kind: "proven" }]);

    // Every proof the watcher sent is about a block final when served, within blockhash()'s reach.
    const last = await f.ledger.blockNumber();
    const sent = [];
    for (let n = head.number; n <= last; n++) {
      const block = await f.ledger.public.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (
          tx.from.toLowerCase() !== w.address.toLowerCase() ||
          tx.to?.toLowerCase() !== f.addresses.slasher.toLowerCase()
        )
          continue;
        const call = decodeFunctionData({ abi: slasherAbi, data: tx.input });
        expect(call.functionName).toBe("proveWrongBlockHash");
        if (call.functionName !== "proveWrongBlockHash") continue;
        const [relay] = call.args;
        const lied = await f.ledger.public.getBlock({ blockNumber: relay.blockNumber });
        expect(lied.timestamp + BigInt(finalityDelay)).toBeLessThanOrEqual(relay.servedAt);
        expect(n - relay.blockNumber).toBeLessThanOrEqual(256n);
        sent.push(relay);
      }
    }
    expect(sent).toHaveLength(1);
    // It never held a lie about a block not final when served as evidence, nor had any evidence refused.
    expect(
      logs.filter((l) => /not final when the answer was served|evidence refused/.test(String(l.msg))),
    ).toEqual([]);
    // The liar's lies about recent blocks failed its probes all along (the SLA sees them).
    const measured = w.snapshot().networks[0]?.operators.find((o) => o.operator === liar);
    expect(measured?.ok).toBeLessThan(measured?.probes ?? 0);
    // The honest operators were never accused.
    for (const honest of [honestA, honestB] as Address[]) {
      expect(await f.jailed(honest)).toBe(false);
      expect(logs.filter((l) => l.operator === honest && /contradicts/.test(String(l.msg)))).toEqual([]);
    }
  });
});
