// The gateway in front of operators it finds on the DIN ledger: a real in-process ledger (served over HTTP)
// with the DIN contracts, real operator nodes that authenticate callers and sign relays, in front of a real
// devnet chain. The gateway is given only the ledger, never an upstream.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { type Address, keccak256, type LocalAccount, toHex } from "viem";
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import {
  type DevnetChain,
  HARDHAT_DEFAULT_MNEMONIC,
  requestDevnet,
  startDevnetChain,
} from "../../src/devnet/chain.js";
import { parseGatewayConfig } from "../../src/gateway/config.js";
import type { Evidence } from "../../src/gateway/evidence.js";
import { type Gateway, startGateway } from "../../src/gateway/server.js";
import { dinEpochsAbi } from "../../src/ledger/artifacts/index.js";
import { toJson } from "../../src/ledger/din/deploy.js";
import { registryCallerCheck } from "../../src/ledger/din/directory.js";
import { relayFromJson, signRelay, verifyRelay } from "../../src/ledger/din/relay.js";
import { type OperatorNode, startOperatorNode } from "../../src/operator/proxy.js";
import { type DinFixture, deployDinFixture, ETHEREUM, POLYGON, WAD } from "../din/fixture.js";
import { post, rpc, sleep, waitFor } from "../support/dataPlane.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";

const POLYGON_CHAIN_ID = 137;

interface HealthUpstream {
  id: string;
  health: string;
  address?: string;
  stake?: string;
  jailed?: boolean;
  queuedSlashes?: number;
  relaysThisEpoch?: number;
}

describe("gateway on the DIN ledger", () => {
  let f: DinFixture;
  let ledgerServer: HardhatServer;
  let chain: DevnetChain;
  let gateway: Gateway;
  let dir: string;
  const nodes = new Map<Address, OperatorNode>();
  const placement = [
    ["aws", "us-east-1"],
    ["gcp", "europe-west1"],
    ["hetzner", "fsn1"],
  ] as const;

  /** Starts an operator node for `operator` and registers it on polygon with that node as its endpoint. */
  async function addOperator(
    operator: Address,
    cloud: string,
    region: string,
    stake: bigint,
    relayKey?: LocalAccount,
  ): Promise<OperatorNode> {
    const metadata = f.metadata(operator);
    const node = await startOperatorNode({
      id: `${cloud}-${operator.slice(2, 6)}`,
      upstream: chain.url,
      chaos: true,
      labels: { cloud, region },
      relaySigner: {
        account: relayKey ?? f.signers.get(operator)!,
        chainId: POLYGON_CHAIN_ID,
        ledgerChainId: f.ledger.chain.id,
        slasher: f.addresses.slasher,
      },
      auth: {
        operator,
        ledgerChainId: f.ledger.chain.id,
        isCaller: registryCallerCheck(f.ledger.public, f.addresses.registry),
      },
    });
    nodes.set(operator, node);
    await f.stake(operator, stake, POLYGON);
    await f.registerForSet(
      operator,
      POLYGON,
      f.encodeMetadata({ ...metadata, endpoint: node.url, cloud, region }),
    );
    return node;
  }

  async function health() {
    const report = await fetch(`${gateway.url}/healthz`).then((response) => response.json());
    return report.networks[0] as { epoch: string | null; upstreams: HealthUpstream[] };
  }
  const upstreamOf = async (operator: Address) =>
    (await health()).upstreams.find((upstream) => upstream.address === operator);
  const send = (body: unknown, headers: Record<string, string> = {}) =>
    post(`${gateway.url}/v1/polygon`, body, headers);
  const requestsOf = (operator: Address) => nodes.get(operator)!.stats().requests;
  /** Client reads an operator answered (head polls are eth_getBlockByNumber). */
  const balanceReadsOf = (operator: Address) => nodes.get(operator)!.stats().byMethod.eth_getBalance ?? 0;
  const evidence = () => gateway.ledger!.evidence.recent as Evidence[];

  beforeAll(async () => {
    f = await deployDinFixture();
    await f.registerWatchersAndGateway();
    ledgerServer = await startHardhatServer();
    chain = await startDevnetChain({ name: "polygon", chainId: POLYGON_CHAIN_ID, blockTimeMs: 200 });
    for (const [index, operator] of f.operators.entries()) {
      const [cloud, region] = placement[index]!;
      await addOperator(operator, cloud, region, BigInt(index + 1) * 10n * WAD);
    }
    // The gateway pays fees for its relays in the fee token.
    await f.mint(f.gateway, 1_000n * WAD, f.addresses.feeToken);
    dir = mkdtempSync(join(tmpdir(), "din-gateway-ledger-"));
    const deploymentFile = join(dir, "deployment.json");
    writeFileSync(deploymentFile, toJson(f.deployment));
    const gatewayKey = mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: 5 });
    expect(gatewayKey.address).toBe(f.gateway);
    const config = parseGatewayConfig({
      server: { port: 0, logLevel: "silent" },
      // Every relay reaches an operator and is counted once: no cache, no hedged duplicates.
      routing: { hedge: false },
      cache: { enabled: false },
      health: { headPollMs: 200 },
      ledger: {
        rpc: ledgerServer.url,
        deployment: deploymentFile,
        signSampleRate: 1,
        syncMs: 100,
        evidenceFile: join(dir, "evidence.jsonl"),
      },
      // Ethereum is the ledger's own chain on a devnet: wrong block hashes there are proven on-chain.
      networks: [
        { name: "polygon", chainId: POLYGON_CHAIN_ID },
        { name: "ethereum", chainId: f.ledger.chain.id },
      ],
    });
    gateway = await startGateway(config, { logger: pino({ level: "silent" }), ledgerAccount: gatewayKey });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([...nodes.values()].map((node) => node.close()));
    await chain?.close();
    await ledgerServer?.close();
  });

  it("finds the registry's operators and serves through them, authenticated, every relay signed and checked", async () => {
    await waitFor(
      async () => (await health()).upstreams.filter((u) => u.health === "healthy").length === 3,
      20_000,
      "three healthy operators",
    );
    const network = await health();
    expect(network.epoch).toMatch(/^\d+$/);
    const [first] = f.operators;
    expect(await upstreamOf(first)).toMatchObject({
      id: `aws-us-east-1-${first.slice(2, 10).toLowerCase()}`,
      stake: String((10n * WAD) / 2n),
      jailed: false,
      queuedSlashes: 0,
    });
    for (let i = 0; i < 12; i++) {
      const { status, json } = await send(rpc("eth_getBalance", [chain.accounts[0], "latest"], i));
      expect(status).toBe(200);
      expect(json.result).toMatch(/^0x/);
    }
    // A quorum of operators: every answer signed and checked, and they agree.
    const quorum = await send(rpc("eth_getBlockByNumber", ["0x1", false]), { "din-quorum": "3" });
    expect(quorum.json.result.number).toBe("0x1");
    for (const node of nodes.values()) {
      expect(node.stats().unauthorized).toBe(0);
      expect(node.stats().requests).toBeGreaterThan(0);
    }
    expect(evidence()).toEqual([]);
    const served = (await health()).upstreams.reduce((sum, u) => sum + (u.relaysThisEpoch ?? 0), 0);
    expect(served).toBeGreaterThanOrEqual(1); // the counters may have rolled into a new epoch meanwhile
  }, 60_000);

  it("hands a client that sends din-sign: 1 the operator's checked relay, and never signs a batch", async () => {
    const head = BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string);
    const request = rpc("eth_getBalance", [chain.accounts[0], toHex(head)]);
    const response = await fetch(`${gateway.url}/v1/polygon`, {
      method: "POST",
      headers: { "content-type": "application/json", "din-sign": "1" },
      body: JSON.stringify(request),
    });
    const body = (await response.json()) as { result: string };
    const operator = response.headers.get("din-operator") as Address;
    expect(f.operators).toContain(operator);
    expect(response.headers.get("din-upstream")).toMatch(operator.slice(2, 10).toLowerCase());
    expect(response.headers.get("access-control-expose-headers")).toMatch(/din-relay/);
    const relay = relayFromJson(JSON.parse(response.headers.get("din-relay")!));
    const verdict = verifyRelay(
      relay,
      response.headers.get("din-signature")!,
      {
        method: "eth_getBalance",
        params: request.params,
        response: { result: body.result },
        chainId: BigInt(POLYGON_CHAIN_ID),
        signer: f.signers.get(operator)!.address,
      },
      { ledgerChainId: f.ledger.chain.id, slasher: f.addresses.slasher },
    );
    expect(verdict.ok).toBe(true);
    // Without the header, or in a batch, nothing is signed.
    const plain = await fetch(`${gateway.url}/v1/polygon`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    expect(plain.headers.get("din-relay")).toBeNull();
    const batch = await fetch(`${gateway.url}/v1/polygon`, {
      method: "POST",
      headers: { "content-type": "application/json", "din-sign": "1" },
      body: JSON.stringify([request]),
    });
    expect(batch.headers.get("din-relay")).toBeNull();
    expect(((await batch.json()) as Array<{ result: string }>)[0]!.result).toBe(body.result);
  }, 60_000);

  it("keeps a quorum contradiction between signed relays as evidence, naming the minority", async () => {
    const liar = f.operators[2];
    // Three operators must be answering for a quorum of three: wait for the gateway to see them so (a
    // loaded machine can time a head poll out and mark one down for a moment).
    const answering = async () =>
      (await health()).upstreams.filter((u) => u.health === "healthy" && u.jailed !== true).length === 3;
    await waitFor(answering, 20_000, "three healthy operators");
    // The block the quorum asks about must exist: every operator answers null about a block not mined
    // yet, which is no quorum at all. Mine it rather than wait for the interval miner.
    const head = BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string);
    if (head < 2n) await requestDevnet(chain.provider, "hardhat_mine", [toHex(2n - head)]);
    await nodes.get(liar)!.setChaos({ mode: "lie" });
    try {
      let message = "";
      for (let attempt = 0; attempt < 5; attempt++) {
        const { json } = await send(rpc("eth_getBlockByNumber", ["0x2", false]), { "din-quorum": "3" });
        message = json.error?.message ?? "";
        if (!/answering operators/.test(message)) break;
        await waitFor(answering, 20_000, "three healthy operators");
      }
      expect(message).toMatch(/disagreed with the majority of 2\/3/);
    } finally {
      await nodes.get(liar)!.setChaos({ mode: "ok" });
    }
    const contradiction = evidence().find((e) => e.kind === "contradiction");
    expect(contradiction?.kind).toBe("contradiction");
    if (contradiction?.kind !== "contradiction") return;
    const minority = contradiction.sides.find((side) => !side.majority)!;
    const majority = contradiction.sides.find((side) => side.majority)!;
    expect(minority.relays.map((r) => r.operator)).toEqual([liar]);
    expect(majority.relays).toHaveLength(2);
    // Each side's relay is signed by the operator's registered signer and claims block 2 with its hash.
    expect(minority.relays[0]).toMatchObject({
      signer: f.signers.get(liar)!.address,
      relay: { chainId: String(POLYGON_CHAIN_ID), blockNumber: "2" },
    });
    expect(minority.relays[0]!.relay.blockHash).not.toBe(majority.relays[0]!.relay.blockHash);
    expect(evidence().filter((e) => e.kind === "bad-signature")).toEqual([]);
  }, 90_000);

  it("keeps serving the last known operators while the ledger cannot be read, and says so once", async () => {
    // A second gateway reaches the ledger through a relay that can be cut.
    let cut = false;
    const relay = createServer((request, response) => {
      if (cut) {
        request.resume();
        response.writeHead(503).end();
        return;
      }
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", async () => {
        const answer = await fetch(ledgerServer.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: Buffer.concat(chunks),
        });
        response.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const lines: Array<{ msg: string }> = [];
    const logger = pino(
      { level: "info" },
      { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) },
    );
    const second = await startGateway(
      parseGatewayConfig({
        server: { port: 0 },
        health: { headPollMs: 200 },
        ledger: {
          rpc: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
          deployment: join(dir, "deployment.json"),
          signSampleRate: 0,
          syncMs: 20,
        },
        networks: [{ name: "polygon", chainId: POLYGON_CHAIN_ID }],
      }),
      { logger, ledgerAccount: mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex: 5 }) },
    );
    try {
      const polygon = () => second.networks.get("polygon")!;
      expect(polygon().upstreams).toHaveLength(3);
      // Every sync round asks for the block number, so the cut is noticed without a new block.
      cut = true;
      await waitFor(
        () => lines.some((line) => line.msg.startsWith("the ledger cannot be read")),
        10_000,
        "the warning",
      );
      await sleep(200); // many sync rounds, all failing
      expect(lines.filter((line) => line.msg.startsWith("the ledger cannot be read"))).toHaveLength(1);
      expect(polygon().upstreams).toHaveLength(3);
      const { json } = await post(
        `${second.url}/v1/polygon`,
        rpc("eth_getBalance", [chain.accounts[6], "latest"]),
      );
      expect(json.result).toMatch(/^0x/);
      cut = false;
      await waitFor(() => lines.some((line) => line.msg === "the ledger answers again"), 10_000, "recovery");
    } finally {
      await second.close();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  }, 60_000);

  it("picks up an operator registered later, and keeps a relay signed by another key than the registered signer as evidence", async () => {
    const late = f.ledger.accounts[14] as Address;
    const impostor = privateKeyToAccount(generatePrivateKey());
    // Well staked, so that it ranks first and is asked soon.
    await addOperator(late, "bare-metal", "home", 100n * WAD, impostor);
    await waitFor(async () => (await upstreamOf(late))?.health === "healthy", 20_000, "the late operator");
    await waitFor(
      async () => {
        const { json } = await send(rpc("eth_getBalance", [chain.accounts[1], "latest"]));
        expect(json.result).toMatch(/^0x/); // the client never sees the bad signature: another operator answers
        return evidence().some((e) => e.kind === "bad-signature" && e.operator === late);
      },
      20_000,
      "bad-signature evidence",
    );
    const bad = evidence().find((e) => e.kind === "bad-signature")!;
    expect(bad).toMatchObject({ kind: "bad-signature", registeredSigner: f.signers.get(late)!.address });
    expect(bad.kind === "bad-signature" && bad.reason).toMatch(new RegExp(`signed by ${impostor.address}`));
    await gateway.ledger!.evidence.flush();
    const lines = readFileSync(join(dir, "evidence.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ kind: "bad-signature", operator: late }),
    );

    // Leaving the registry removes it from the gateway.
    await f.ledger.write(late, {
      ...f.am,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: late, avs: f.addresses.registry, operatorSetIds: [POLYGON] }],
    });
    await waitFor(async () => (await upstreamOf(late)) === undefined, 10_000, "the operator's removal");
  }, 60_000);

  it("routes nothing to a jailed operator, and to one with a queued slash only when nothing else is left", async () => {
    const [culprit, second, third] = f.operators;
    // Two watchers attest polygon's canonical hash of a block; the culprit signed another: the slash is
    // queued and the culprit jailed.
    const canonical = keccak256("0xcafe");
    const relay = {
      chainId: BigInt(POLYGON_CHAIN_ID),
      requestHash: keccak256("0x01"),
      responseHash: keccak256("0x02"),
      blockNumber: 5_000n,
      blockHash: keccak256("0xbeef"),
      // While the culprit's signing key is valid (from its registration on).
      servedAt: (await f.ledger.public.getBlock()).timestamp,
    };
    const signature = await signRelay(f.signers.get(culprit)!, relay, f.ledger.chain.id, f.addresses.slasher);
    for (const watcher of f.watchers.slice(0, 2)) {
      await f.ledger.write(watcher as Address, {
        ...f.slasher,
        functionName: "attestBlockHash",
        args: [BigInt(POLYGON_CHAIN_ID), 5_000n, canonical],
      });
    }
    // The attested hash is fixed after its dispute period (one veto window).
    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    await f.ledger.write(f.outsider, {
      ...f.slasher,
      functionName: "proveWrongBlockHashAttested",
      args: [relay, signature],
    });
    await waitFor(async () => (await upstreamOf(culprit))?.jailed === true, 10_000, "the jail");
    // Let an in-flight head poll settle before counting.
    await sleep(300);
    const before = requestsOf(culprit);
    for (let i = 0; i < 10; i++) {
      const { json } = await send(rpc("eth_getBalance", [chain.accounts[2], "latest"], i));
      expect(json.result).toMatch(/^0x/);
    }
    await sleep(500); // a couple of head-poll rounds
    expect(requestsOf(culprit)).toBe(before);

    // The jail ends before the slash is executed: the culprit is a last resort.
    await f.ledger.mine(45);
    await waitFor(
      async () => {
        const upstream = await upstreamOf(culprit);
        return upstream?.jailed === false && upstream.queuedSlashes === 1 && upstream.health === "healthy";
      },
      10_000,
      "the end of the jail",
    );
    const polled = requestsOf(culprit);
    const balancesBefore = balanceReadsOf(culprit);
    for (let i = 0; i < 10; i++) await send(rpc("eth_getBalance", [chain.accounts[3], "latest"], i));
    // Head polls reach it again (it must stay ready), client requests do not.
    await waitFor(() => requestsOf(culprit) > polled, 5_000, "a head poll");
    expect(balanceReadsOf(culprit)).toBe(balancesBefore);

    await Promise.all([
      nodes.get(second)!.setChaos({ mode: "down" }),
      nodes.get(third)!.setChaos({ mode: "down" }),
    ]);
    try {
      const { json } = await send(rpc("eth_getBalance", [chain.accounts[4], "latest"]));
      expect(json.result).toMatch(/^0x/);
      expect(balanceReadsOf(culprit)).toBe(balancesBefore + 1);
    } finally {
      await Promise.all([
        nodes.get(second)!.setChaos({ mode: "ok" }),
        nodes.get(third)!.setChaos({ mode: "ok" }),
      ]);
    }
  }, 60_000);

  it("pays fees for the relays it served during the epoch and reports them, signed, once the epoch ends", async () => {
    // Start at the beginning of a fresh epoch.
    await f.endEpoch(await f.currentEpoch());
    await f.ledger.mine(1);
    const epoch = await f.currentEpoch();
    await waitFor(async () => (await health()).epoch === epoch.toString(), 10_000, "the new epoch");
    for (let i = 0; i < 10; i++) {
      const { json } = await send(rpc("eth_getBalance", [chain.accounts[5], "latest"], i));
      expect(json.result).toMatch(/^0x/);
    }
    const counted = new Map(
      (await health()).upstreams.flatMap((u) =>
        u.address && u.relaysThisEpoch ? [[u.address, BigInt(u.relaysThisEpoch)] as const] : [],
      ),
    );
    expect([...counted.values()].reduce((a, b) => a + b, 0n)).toBe(10n);

    // 60% of the epoch: the fees earned so far are paid into it.
    const [start] = await f.epochBounds(epoch);
    const now = await f.ledger.blockNumber();
    if (now < start + 13n) await f.ledger.mine(Number(start + 13n - now));
    const feePerRelay = 10n ** 15n; // "0.001" with 18 decimals
    const paid = await waitFor(
      async () => {
        const events = await f.ledger.public.getContractEvents({
          address: f.addresses.epochs,
          abi: dinEpochsAbi,
          eventName: "FeesPaid",
          args: { networkId: POLYGON, epoch, payer: f.gateway },
          fromBlock: start,
        });
        return events.length > 0 ? events : undefined;
      },
      15_000,
      "FeesPaid",
    );
    const amount = paid.reduce((sum, event) => sum + event.args.amount!, 0n);
    expect(amount >= 10n * feePerRelay && amount % feePerRelay === 0n).toBe(true);

    // The epoch ends: its usage is reported by the gateway's key.
    await f.endEpoch(epoch);
    await f.ledger.mine(1);
    const reported = await waitFor(
      async () => {
        const events = await f.ledger.public.getContractEvents({
          address: f.addresses.epochs,
          abi: dinEpochsAbi,
          eventName: "UsageReported",
          args: { networkId: POLYGON, epoch },
          fromBlock: start,
          strict: true,
        });
        return events[0];
      },
      15_000,
      "UsageReported",
    );
    expect(reported.args.gateway).toBe(f.gateway);
    const usage = new Map(reported.args.usage.map((u) => [u.operator, u.relays]));
    expect(usage).toEqual(counted);
  }, 90_000);

  it("proves a signed wrong block hash, and a signed wrong balance, about the ledger's own chain on-chain when a quorum contradicts them", async () => {
    // The in-process chain mines blocks a second apart, faster than the clock: the nodes' clock (servedAt) is
    // set an hour past the chain's so that the block asked about was final when they answered.
    const chainNow = (await f.ledger.public.getBlock()).timestamp;
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, now: Number(chainNow + 3600n) * 1000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    // The three operators also serve ethereum (the ledger's chain), through nodes in front of the ledger.
    const ethereumNodes = new Map<Address, OperatorNode>();
    for (const [index, operator] of f.operators.entries()) {
      const [cloud, region] = placement[index]!;
      const node = await startOperatorNode({
        id: `eth-${cloud}`,
        upstream: ledgerServer.url,
        chaos: true,
        relaySigner: {
          account: f.signers.get(operator)!,
          chainId: f.ledger.chain.id,
          ledgerChainId: f.ledger.chain.id,
          slasher: f.addresses.slasher,
        },
      });
      ethereumNodes.set(operator, node);
      await f.stake(operator, 0n, ETHEREUM);
      await f.registerForSet(
        operator,
        ETHEREUM,
        f.encodeMetadata({ ...f.metadata(operator), endpoint: node.url, cloud, region }),
      );
    }
    try {
      const ethereum = async () => {
        const report = await fetch(`${gateway.url}/healthz`).then((response) => response.json());
        return report.networks[1] as { upstreams: HealthUpstream[] };
      };
      await waitFor(
        async () => (await ethereum()).upstreams.filter((u) => u.health === "healthy").length === 3,
        20_000,
        "three ethereum operators",
      );
      const liar = f.operators[1];
      await ethereumNodes.get(liar)!.setChaos({ mode: "lie" });
      const block = toHex((await f.ledger.blockNumber()) - 2n);
      const { json } = await post(`${gateway.url}/v1/ethereum`, rpc("eth_getBlockByNumber", [block, false]), {
        "din-quorum": "3",
      });
      expect(json.error.message).toMatch(/disagreed/);
      const proven = await waitFor(
        async () => {
          const events = await f.ledger.public.getContractEvents({
            ...f.slasher,
            eventName: "FraudProven",
            args: { operator: liar },
            fromBlock: 0n,
            strict: true,
          });
          return events[0];
        },
        15_000,
        "FraudProven",
      );
      expect(proven.args.networkId).toBe(ETHEREUM);
      expect(await f.jailed(liar, ETHEREUM)).toBe(true);
      await waitFor(
        async () => (await ethereum()).upstreams.find((u) => u.address === liar)?.jailed === true,
        10_000,
        "the liar's jail in the gateway",
      );

      // Right blocks, wrong state: a signed wrong balance contradicted by a quorum is proven from the ledger
      // node's header and eth_getProof. Two operators are left, so neither side has a majority: the
      // gateway checks both against its ledger node and sends a proof only for the wrong one.
      const corrupt = f.operators[2];
      await ethereumNodes.get(corrupt)!.setChaos({ mode: "corrupt" });
      const account = f.ledger.accounts[3] as Address;
      const stateBlock = toHex((await f.ledger.blockNumber()) - 2n);
      const state = await post(`${gateway.url}/v1/ethereum`, rpc("eth_getBalance", [account, stateBlock]), {
        "din-quorum": "2",
      });
      expect(state.json.error.message).toMatch(/no majority|disagreed/);
      const stateProof = await waitFor(
        async () => {
          const events = await f.ledger.public.getContractEvents({
            ...f.slasher,
            eventName: "FraudProven",
            args: { operator: corrupt },
            fromBlock: 0n,
            strict: true,
          });
          return events[0];
        },
        15_000,
        "FraudProven for the wrong balance",
      );
      expect(stateProof.args.blockNumber).toBe(BigInt(stateBlock));
      expect(await f.jailed(corrupt, ETHEREUM)).toBe(true);
      // The honest side was never "proven": its operator stands.
      expect(await f.jailed(f.operators[0], ETHEREUM)).toBe(false);
    } finally {
      await Promise.all([...ethereumNodes.values()].map((node) => node.close()));
    }
  }, 120_000);
});
