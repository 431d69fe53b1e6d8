import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Address, getAddress, type Hex, type LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { freshState, LEDGER_CHAIN_ID, recordingLog, WATCHER } from "../../test/watcher/fakes.js";
import { AccessTokenCache } from "../ledger/din/auth.js";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { DirectoryOperator } from "../ledger/din/directory.js";
import { hashRequest, hashResponse, relayToJson, signRelay } from "../ledger/din/relay.js";
import { toQuantity } from "../rpc/blockTag.js";
import { toOperatorMetrics } from "./measurements.js";
import { type ProbeResult, Prober, type ProbeTarget, type SignedAnswer, type SignedBlock } from "./probe.js";
import { NetworkProber, type ProbeClient, type StateChecker } from "./prober.js";
import { epochEntry } from "./state.js";
import type { StateAnswer } from "./stateProofs.js";

const ETHEREUM: DinNetwork = { id: 1, name: "ethereum", chainId: 1n, minStake: 0n };
const DEVNET: DinNetwork = { id: 2, name: "devnet", chainId: BigInt(LEDGER_CHAIN_ID), minStake: 0n };
const TIMEOUT_MS = 2000;

const hash = (n: bigint | number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const address = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const [A, B, C, D] = [1, 2, 3, 4].map(address) as [Address, Address, Address, Address];

function registered(operator: Address, networkId = ETHEREUM.id): DirectoryOperator {
  return {
    address: operator,
    networkId,
    endpoint: `http://${operator.slice(-4)}.example:8545`,
    cloud: "aws",
    region: "eu",
    client: "geth",
    signer: operator,
    allocatedStake: 1n,
    jailedUntil: 0n,
    jailed: false,
    queuedSlashes: 0,
  };
}

/** How one fake operator answers. */
type Behaviour = {
  /** Its head; it answers blocks up to it. */
  head: bigint;
  /** The hash it gives block h. @default the canonical hash(h) */
  hashOf?: (height: bigint) => Hex;
  latencyMs?: number;
  /** Its answers are refused (by probe.ts's checks) for this reason. */
  refused?: string;
  /** Never answers: probe.ts fails the probe after its timeout. */
  silent?: boolean;
  /** The probe throws instead of reporting a failure. */
  throws?: boolean;
  /** Its signed answer to eth_getBalance. @default 1 */
  balance?: number;
};

/** Operators as probe.ts's Prober reports them: every call recorded with the (fake) time it was sent. */
class FakeOperators implements ProbeClient {
  readonly behaviours = new Map<Address, Behaviour>();
  readonly sent: { operator: Address; what: string; at: number }[] = [];
  private digests = 0;

  private answer<T>(target: ProbeTarget, what: string, ok: (b: Behaviour) => T): Promise<T | ProbeResult> {
    const b = this.behaviours.get(target.operator);
    this.sent.push({ operator: target.operator, what, at: Date.now() });
    if (!b) throw new Error(`unknown operator ${target.operator}`);
    if (b.throws)
      return Promise.reject(new TypeError("Cannot read properties of undefined (reading 'number')"));
    if (b.silent) {
      return new Promise((resolve) =>
        setTimeout(
          () => resolve({ ok: false, latencyMs: TIMEOUT_MS, reason: `no answer within ${TIMEOUT_MS} ms` }),
          TIMEOUT_MS,
        ),
      );
    }
    if (b.refused) return Promise.resolve({ ok: false, latencyMs: 5, reason: b.refused });
    return Promise.resolve(ok(b));
  }

  private signed(): { signature: Hex; digest: Hex } {
    return { signature: `0x${"11".repeat(65)}`, digest: hash(0xd000 + ++this.digests) };
  }

  probe(target: ProbeTarget, height?: bigint): Promise<ProbeResult> {
    return this.answer(target, height === undefined ? "latest" : `block ${height}`, (b): ProbeResult => {
      const blockNumber = height ?? b.head;
      if (blockNumber > b.head) return { ok: false, latencyMs: 5, reason: "result is not a block" };
      const blockHash = (b.hashOf ?? hash)(blockNumber);
      const relay = {
        chainId: target.chainId,
        requestHash: hash(1),
        responseHash: hash(2),
        blockNumber,
        blockHash,
        servedAt: 0n,
      };
      const block: SignedBlock = { blockNumber, blockHash, relay, ...this.signed() };
      return { ok: true, latencyMs: b.latencyMs ?? 10, block };
    }) as Promise<ProbeResult>;
  }

  call(target: ProbeTarget, method: string, params: readonly unknown[]): Promise<SignedAnswer> {
    return this.answer(target, `${method}(${params.join(", ")})`, (b): SignedAnswer => {
      const balance = b.balance ?? 1;
      const relay = {
        chainId: target.chainId,
        requestHash: hash(1),
        responseHash: hash(0xba1a0ce + balance),
        blockNumber: 0n,
        blockHash: hash(0),
        servedAt: 0n,
      };
      return {
        ok: true,
        latencyMs: b.latencyMs ?? 10,
        result: `0x${balance.toString(16)}`,
        relay,
        ...this.signed(),
      };
    }) as Promise<SignedAnswer>;
  }
}

type Accusation = { operator: Address; network: string; blockNumber: bigint; claimed: Hex; canonical: Hex };

function setup(
  operators: Record<number, DirectoryOperator[]>,
  options: { finalityDelay?: bigint; provable?: bigint; random?: () => number } = {},
) {
  const client = new FakeOperators();
  const state = freshState();
  const { log, problems } = recordingLog();
  const accused: Accusation[] = [];
  const checked: { network: string; call: string; answers: Address[] }[] = [];
  const stateProofs: StateChecker = {
    async check(network, call, answers: readonly StateAnswer[]) {
      checked.push({
        network: network.name,
        call: `${call.method}(${call.params.join(", ")})`,
        answers: answers.map((a) => a.operator.address),
      });
    },
  };
  const clock = { epoch: 5n as bigint | undefined };
  const prober = new NetworkProber({
    probes: client,
    finality: {
      finalityDelay: async () => options.finalityDelay ?? 0n,
      sample: async () => options.provable,
    },
    stateProofs,
    accuse: (operator, network, block, canonical) =>
      accused.push({
        operator: operator.address,
        network: network.name,
        blockNumber: block.blockNumber,
        claimed: block.blockHash,
        canonical,
      }),
    networks: [ETHEREUM, DEVNET],
    operators: (networkId) => operators[networkId] ?? [],
    epoch: () => clock.epoch,
    blockNumber: () => 1_000n,
    ledgerChainId: LEDGER_CHAIN_ID,
    address: WATCHER,
    state: () => state,
    log,
    random: options.random ?? (() => 0),
  });
  const counters = (operator: Address, networkId = ETHEREUM.id, epoch = 5n) =>
    epochEntry(state, networkId, epoch).operators[operator];
  const metrics = (operator: Address, networkId = ETHEREUM.id, epoch = 5n) =>
    toOperatorMetrics(operator, counters(operator, networkId, epoch));
  return { client, state, prober, accused, checked, clock, counters, metrics, problems };
}

/** Runs a promise to its end, firing the fake timers it waits on. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  const result = promise.finally(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) await vi.advanceTimersByTimeAsync(100);
  return result;
}

describe("a probe round", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("counts healthy operators up with their latency and lag behind the agreed head, and one that never answers down", async () => {
    const { client, prober, metrics, counters } = setup({
      [ETHEREUM.id]: [A, B, C, D].map((o) => registered(o)),
    });
    client.behaviours.set(A, { head: 100n, latencyMs: 12 });
    client.behaviours.set(B, { head: 100n, latencyMs: 30 });
    client.behaviours.set(C, { head: 97n, latencyMs: 20 });
    client.behaviours.set(D, { head: 100n, silent: true });
    await settle(prober.round(5n, false, 1000));

    expect(metrics(A)).toMatchObject({ availabilityBps: 10_000, p50LatencyMs: 12, lagBlocks: 0 });
    expect(metrics(B)).toMatchObject({ availabilityBps: 10_000, p50LatencyMs: 30, lagBlocks: 0 });
    expect(metrics(C)).toMatchObject({ availabilityBps: 10_000, lagBlocks: 3 });
    expect(counters(D)).toMatchObject({ probes: 1, ok: 0 });
    expect(prober.lastError(ETHEREUM.id, D)).toBe(`no answer within ${TIMEOUT_MS} ms`);
    expect(prober.lastError(ETHEREUM.id, A)).toBeUndefined();
  });

  it("spreads the probes over the first half of the round instead of firing them at once", async () => {
    const { client, prober } = setup({
      [ETHEREUM.id]: [registered(A), registered(B)],
      [DEVNET.id]: [registered(C, DEVNET.id), registered(D, DEVNET.id)],
    });
    for (const o of [A, B, C, D]) client.behaviours.set(o, { head: 10n });
    const start = Date.now();
    const round = prober.round(5n, false, 1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent.map((s) => s.operator)).toEqual([A]);
    await settle(round);
    expect(client.sent.map((s) => [s.operator, s.at - start])).toEqual([
      [A, 0],
      [B, 125],
      [C, 250],
      [D, 375],
    ]);
  });

  it("fails an operator whose signed answers are refused (a relay for another chain) and keeps why", async () => {
    const { client, prober, counters } = setup({ [ETHEREUM.id]: [A, B, C].map((o) => registered(o)) });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 100n, refused: "relay names chain 5, not 1" });
    await settle(prober.round(5n, false, 0));
    expect(counters(C)).toMatchObject({ probes: 1, ok: 0 });
    expect(prober.lastError(ETHEREUM.id, C)).toBe("relay names chain 5, not 1");
    expect(counters(A)).toMatchObject({ probes: 1, ok: 1 });
  });

  it("fails an operator serving another chain, whose block hashes contradict the majority, and hands its signed lie to the prover", async () => {
    const { client, prober, counters, accused } = setup({
      [ETHEREUM.id]: [A, B, C].map((o) => registered(o)),
    });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 100n, hashOf: (h) => hash(0xf0000 + Number(h)) });
    await settle(prober.round(5n, false, 0));
    expect(counters(C)).toMatchObject({ probes: 1, ok: 0 });
    expect(prober.lastError(ETHEREUM.id, C)).toBe(
      `block 100: hash ${hash(0xf0064)} contradicts ${hash(100)}`,
    );
    expect(accused).toEqual([
      { operator: C, network: "ethereum", blockNumber: 100n, claimed: hash(0xf0064), canonical: hash(100) },
    ]);
    expect(counters(A)).toMatchObject({ probes: 1, ok: 1 });
  });

  it("accuses nobody when there is no majority to contradict (one against one)", async () => {
    const { client, prober, counters, accused } = setup({ [ETHEREUM.id]: [A, B].map((o) => registered(o)) });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n, hashOf: (h) => hash(0xf0000 + Number(h)) });
    await settle(prober.round(5n, false, 0));
    expect(accused).toEqual([]);
    expect(counters(A)?.ok).toBe(1);
    expect(counters(B)?.ok).toBe(1);
  });

  it("a hostile operator whose answers make the probe throw fails alone: the round completes for the others", async () => {
    const { client, prober, counters, state } = setup({
      [ETHEREUM.id]: [A, B, C].map((o) => registered(o)),
      [DEVNET.id]: [registered(D, DEVNET.id)],
    });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 100n, throws: true });
    client.behaviours.set(D, { head: 7n });
    await settle(prober.round(5n, true, 1000));
    expect(counters(A)).toMatchObject({ probes: 1, ok: 1 });
    expect(counters(B)).toMatchObject({ probes: 1, ok: 1 });
    expect(counters(C)).toMatchObject({ probes: 1, ok: 0 });
    expect(prober.lastError(ETHEREUM.id, C)).toMatch(/^probe failed: Cannot read properties/);
    expect(epochEntry(state, DEVNET.id, 5n).operators[D]).toMatchObject({ probes: 1, ok: 1 });
  });

  it("a hostile operator claiming a far-away head cannot pull the agreed head up and make the others lag", async () => {
    const { client, prober, metrics } = setup({ [ETHEREUM.id]: [A, B, C].map((o) => registered(o)) });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 99n });
    client.behaviours.set(C, { head: 10n ** 18n });
    await settle(prober.round(5n, false, 0));
    // The agreed head is the highest a strict majority reached (100: A and C), not the hostile claim.
    expect(metrics(A).lagBlocks).toBe(0);
    expect(metrics(B).lagBlocks).toBe(1);
    expect(metrics(B).availabilityBps).toBe(10_000);
  });

  it("on sampled rounds asks for a settled height below the agreed head, but never a lagging operator for a block it has not reached", async () => {
    const { client, prober, checked } = setup({ [ETHEREUM.id]: [A, B, C].map((o) => registered(o)) });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 90n });
    await settle(prober.round(5n, false, 0)); // learns the heads: agreed 100
    client.sent.length = 0;
    await settle(prober.round(5n, true, 0)); // samples 100 - 2 - 0
    const asked = (o: Address) => client.sent.filter((s) => s.operator === o).map((s) => s.what);
    expect(asked(A)).toEqual(["latest", "block 98", `eth_getBalance(${WATCHER}, 0x62)`]);
    expect(asked(C)).toEqual(["latest"]);
    expect(checked).toEqual([
      { network: "ethereum", call: `eth_getBalance(${WATCHER}, 0x62)`, answers: [A, B] },
    ]);
  });

  it("fails an operator whose signed state answer contradicts the majority and keeps one record of it per epoch", async () => {
    const { client, prober, counters, state, clock } = setup({
      [ETHEREUM.id]: [A, B, C].map((o) => registered(o)),
    });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 100n, balance: 666 });
    await settle(prober.round(5n, false, 0));
    await settle(prober.round(5n, true, 0));
    await settle(prober.round(5n, true, 0));
    expect(counters(C)).toMatchObject({ probes: 3, ok: 1 });
    expect(prober.lastError(ETHEREUM.id, C)).toBe(
      `eth_getBalance(${WATCHER}, 0x62): answer contradicts 2 of 3 operators`,
    );
    expect(state.contradictions).toMatchObject([{ operator: C, networkId: 1, epoch: "5", result: "0x29a" }]);
    expect(counters(A)).toMatchObject({ probes: 3, ok: 3 });

    clock.epoch = 6n;
    await settle(prober.round(6n, true, 0));
    expect(state.contradictions.map((c) => c.epoch)).toEqual(["5", "6"]);
  });

  it("on the ledger's chain with a finality delay accuses only lies about a provable (final) height", async () => {
    const { client, prober, accused, counters } = setup(
      { [DEVNET.id]: [A, B, C].map((o) => registered(o, DEVNET.id)) },
      { finalityDelay: 12n, provable: 50n },
    );
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    client.behaviours.set(C, { head: 100n, hashOf: (h) => hash(0xf0000 + Number(h)) });
    await settle(prober.round(5n, false, 0)); // a lie about the head: fails, is not evidence
    expect(accused).toEqual([]);
    expect(counters(C, DEVNET.id)).toMatchObject({ probes: 1, ok: 0 });
    await settle(prober.round(5n, true, 0)); // a lie about block 50, final: evidence
    expect(accused.map((a) => [a.operator, a.blockNumber])).toEqual([[C, 50n]]);
  });

  it("counts a probe for the epoch current when it is sent, and gives every network an entry even with no operators", async () => {
    const { client, prober, clock, state } = setup({ [ETHEREUM.id]: [A, B].map((o) => registered(o)) });
    client.behaviours.set(A, { head: 100n });
    client.behaviours.set(B, { head: 100n });
    const round = prober.round(5n, false, 1000);
    await vi.advanceTimersByTimeAsync(0);
    clock.epoch = 6n; // the epoch changes between the first probe and the second (250 ms later)
    await settle(round);
    expect(Object.keys(epochEntry(state, ETHEREUM.id, 5n).operators)).toEqual([A]);
    expect(Object.keys(epochEntry(state, ETHEREUM.id, 6n).operators)).toEqual([B]);
    expect(state.measurements.some((m) => m.networkId === DEVNET.id && m.epoch === "5")).toBe(true);
  });
});

describe("a probe round against operators over HTTP", () => {
  const slasher = address(0x5145);
  const servers: { close(): void }[] = [];
  let probes: Prober | undefined;
  afterEach(async () => {
    await probes?.close();
    for (const server of servers.splice(0)) server.close();
  });

  type Request = { id: number; method: string; params: unknown[] };
  type Reply = { status?: number; headers?: Record<string, string>; body: string } | "hang up";

  /** An operator endpoint answering each JSON-RPC request with `answer`. */
  async function serve(answer: (request: Request) => Promise<Reply> | Reply): Promise<string> {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", async () => {
        const reply = await answer(JSON.parse(body) as Request);
        if (reply === "hang up") return void req.socket.destroy();
        res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...reply.headers });
        res.end(reply.body);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /** An honest answer to eth_getBlockByNumber: block `head` (or the one asked), signed by `key` for `chainId`. */
  const signedBlock =
    (key: LocalAccount, head: bigint, options: { chainId?: bigint; result?: unknown } = {}) =>
    async (request: Request): Promise<Reply> => {
      const height = request.params[0] === "latest" ? head : BigInt(request.params[0] as string);
      const result = options.result ?? { number: toQuantity(height), hash: hash(height) };
      const relay = {
        chainId: options.chainId ?? ETHEREUM.chainId,
        requestHash: hashRequest(request.method, request.params),
        responseHash: hashResponse({ result }),
        blockNumber: height,
        blockHash: hash(height),
        servedAt: BigInt(Math.floor(Date.now() / 1000)),
      };
      const signature = await signRelay(key, relay, LEDGER_CHAIN_ID, slasher);
      return {
        headers: { "din-relay": JSON.stringify(relayToJson(relay)), "din-signature": signature },
        body: JSON.stringify({ jsonrpc: "2.0", id: request.id, result }),
      };
    };

  it("counts honest operators up, and each hostile answer as that operator's failed probe only", async () => {
    const keys = Array.from({ length: 11 }, () => privateKeyToAccount(generatePrivateKey()));
    const stranger = privateKeyToAccount(generatePrivateKey());
    const hostile: [string, (request: Request) => Promise<Reply> | Reply, string | RegExp][] = [
      ["not JSON", () => ({ body: "<html>teapot</html>" }), "answer is not JSON"],
      ["null", () => ({ body: "null" }), "answer is not a JSON-RPC response"],
      ["too large", () => ({ body: "x".repeat(300 * 1024) }), "answer too large"],
      ["HTTP 500", () => ({ status: 500, body: "{}" }), "HTTP 500"],
      ["hang up", () => "hang up", /^request failed/],
      [
        "malformed relay",
        () => ({
          headers: { "din-relay": '{"chainId":"1e999"}', "din-signature": "0x00" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} }),
        }),
        "malformed din-relay header",
      ],
      [
        "another chain",
        signedBlock(keys[8] as LocalAccount, 100n, { chainId: 5n }),
        "relay names chain 5, not 1",
      ],
      [
        "another key",
        signedBlock(stranger, 100n),
        /^relay signed by 0x[0-9a-fA-F]{40}, not the registered signer/,
      ],
      [
        "garbage block",
        signedBlock(keys[10] as LocalAccount, 100n, { result: { number: "0xzz", hash: 7 } }),
        "result is not a block",
      ],
    ];
    const operators: DirectoryOperator[] = [];
    const reasons = new Map<Address, string | RegExp>();
    for (const [i, key] of keys.entries()) {
      const operator = address(0x100 + i);
      const answer = i < 2 ? signedBlock(key, 100n) : (hostile[i - 2]?.[1] ?? signedBlock(key, 100n));
      if (i >= 2) reasons.set(operator, hostile[i - 2]?.[2] ?? "");
      operators.push({ ...registered(operator), endpoint: await serve(answer), signer: key.address });
    }
    probes = new Prober({
      tokens: new AccessTokenCache(privateKeyToAccount(generatePrivateKey()), "watcher", LEDGER_CHAIN_ID),
      ledgerChainId: LEDGER_CHAIN_ID,
      slasher,
      timeoutMs: 10_000,
    });
    const state = freshState();
    const accused: Address[] = [];
    const prober = new NetworkProber({
      probes,
      finality: { finalityDelay: async () => 0n, sample: async () => undefined },
      stateProofs: { check: async () => {} },
      accuse: (operator) => accused.push(operator.address),
      networks: [ETHEREUM],
      operators: () => operators,
      epoch: () => 5n,
      blockNumber: () => 1_000n,
      ledgerChainId: LEDGER_CHAIN_ID,
      address: WATCHER,
      state: () => state,
      log: recordingLog().log,
    });
    await prober.round(5n, false, 0);

    const entry = epochEntry(state, ETHEREUM.id, 5n);
    for (const { address: operator } of operators.slice(0, 2)) {
      expect(entry.operators[operator]).toMatchObject({ probes: 1, ok: 1 });
    }
    for (const [operator, reason] of reasons) {
      expect(entry.operators[operator], String(reason)).toMatchObject({ probes: 1, ok: 0 });
      if (typeof reason === "string") expect(prober.lastError(ETHEREUM.id, operator)).toBe(reason);
      else expect(prober.lastError(ETHEREUM.id, operator)).toMatch(reason);
    }
    expect(accused).toEqual([]);
  });
});
