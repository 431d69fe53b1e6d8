// The verification core against a stand-in gateway serving a small synthetic chain: honest answers pass,
// and each kind of fault is a typed error naming the operator, with its evidence.
import { JsonRpcProvider } from "ethers";
import { createPublicClient, type Hex, keccak256, numberToHex, pad, stringToHex } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DinProvider } from "../../src/client/ethers.js";
import {
  DinVerificationError,
  DinVerifier,
  type DinVerifierOptions,
  dinTransport,
  type VerificationKind,
} from "../../src/client/index.js";
import {
  ACCOUNT,
  BALANCE,
  buildBlocks,
  buildChain,
  CHAIN_ID,
  type Chain,
  CODE,
  type FakeGateway,
  LEDGER_CHAIN_ID,
  NONCE,
  OPERATOR,
  OTHER_OPERATOR,
  operatorKey,
  otherKey,
  SLASHER,
  SLOT,
  STORED,
  startFakeGateway,
} from "./fakeGateway.js";

const signers = [
  { signer: operatorKey.address, operator: OPERATOR },
  { signer: otherKey.address, operator: OTHER_OPERATOR },
];
const options = (extra: Partial<DinVerifierOptions> = {}): DinVerifierOptions => ({
  ledger: { chainId: LEDGER_CHAIN_ID, slasher: SLASHER, signers },
  verify: "always",
  ...extra,
});

describe("the client's verification core", () => {
  let chain: Chain;
  let gateway: FakeGateway;

  beforeAll(async () => {
    chain = await buildChain();
    gateway = await startFakeGateway(chain);
  });
  afterAll(() => gateway.close());
  beforeEach(() => {
    gateway.faults = {};
    gateway.calls.length = 0;
  });

  /** The typed error a request fails with. */
  async function failure(promise: Promise<unknown>): Promise<DinVerificationError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DinVerificationError);
    return error as DinVerificationError;
  }
  async function expectFault(
    request: (v: DinVerifier) => Promise<unknown>,
    kind: VerificationKind,
    verifierOptions: Partial<DinVerifierOptions> = {},
  ): Promise<DinVerificationError> {
    const error = await failure(request(new DinVerifier(gateway.url, options(verifierOptions))));
    expect(error.kind).toBe(kind);
    expect(error.operator).toBe(OPERATOR);
    expect(error.upstream).toBe("fake-upstream");
    return error;
  }
  const balance = (v: DinVerifier) => v.request("eth_getBalance", [ACCOUNT, "latest"]);

  it("passes honest answers, each checked against its proof at a resolved block", async () => {
    const v = new DinVerifier(gateway.url, options());
    expect(await balance(v)).toBe(numberToHex(BALANCE));
    expect(await v.request("eth_getTransactionCount", [ACCOUNT, "0x2"])).toBe(numberToHex(NONCE));
    expect(await v.request("eth_getCode", [ACCOUNT, "latest"])).toBe(CODE);
    expect(await v.request("eth_getStorageAt", [ACCOUNT, SLOT, "latest"])).toBe(
      pad(numberToHex(STORED), { size: 32 }),
    );
    expect(await v.request("eth_getBlockByNumber", ["latest", false])).toMatchObject({
      hash: chain.blocks[3]!.hash,
    });
    // Every state read was sent pinned to a number and signed; headers were asked of a quorum once per block.
    const stateCalls = gateway.calls.filter((c) => c.method === "eth_getBalance");
    expect(stateCalls.every((c) => c.signed)).toBe(true);
    const quorums = gateway.calls.filter((c) => c.quorum).length;
    expect(quorums).toBe(2); // blocks 3 and 2
  });

  it("checks only the sample, and every marked request", async () => {
    const v = new DinVerifier(
      gateway.url,
      options({ verify: "sample", sampleRate: 0, mark: (m) => m === "eth_getCode" }),
    );
    gateway.faults.lie = { eth_getBalance: () => numberToHex(1n) };
    expect(await balance(v)).toBe(numberToHex(BALANCE)); // unsigned answers are the fake's honest ones
    expect(gateway.calls.some((c) => c.signed)).toBe(false);
    expect(await v.request("eth_getCode", [ACCOUNT, "latest"])).toBe(CODE);
    expect(gateway.calls.some((c) => c.signed && c.method === "eth_getCode")).toBe(true);
  });

  it("refuses a tampered signature", async () => {
    gateway.faults.signature = (s) => `${s.slice(0, -2)}1d` as Hex;
    await expectFault(balance, "bad-signature");
  });

  it("refuses a signature by another operator's key", async () => {
    gateway.faults.signer = otherKey;
    const error = await expectFault(balance, "wrong-signer");
    expect(error.evidence.signer).toBe(otherKey.address);
  });

  it("refuses a key that was not registered when the answer was served", async () => {
    const late = [
      {
        signer: operatorKey.address,
        operator: OPERATOR,
        validFrom: BigInt(Math.floor(Date.now() / 1000) + 3600),
      },
    ];
    await expectFault(balance, "unregistered-signer", {
      ledger: { chainId: LEDGER_CHAIN_ID, slasher: SLASHER, signers: late },
    });
  });

  it("refuses an answer that is not the one its relay signs", async () => {
    gateway.faults.swap = { eth_getTransactionCount: () => numberToHex(NONCE + 1n) };
    await expectFault((v) => v.request("eth_getTransactionCount", [ACCOUNT, "latest"]), "response-mismatch");
  });

  it("refuses headers that do not link by parent hash", async () => {
    const v = new DinVerifier(gateway.url, options());
    await v.header(2n);
    // Block 3 now names another parent, consistently re-hashed and agreed by the quorum.
    gateway.faults.blocks = buildBlocks(chain.stateRoot, { 3: pad("0xdead", { size: 32 }) });
    gateway.faults.quorum = (params) => ({
      result: gateway.faults.blocks![Number(BigInt(params[0] as string))],
    });
    const error = await failure(v.header(3n));
    expect(error.kind).toBe("broken-parent-link");
    expect(error.operator).toBe(OPERATOR);
  });

  it("refuses a header the majority disagrees with, with the canonical header as evidence", async () => {
    const liar = buildBlocks(chain.stateRoot, { 3: pad("0xbad", { size: 32 }) });
    gateway.faults.lie = {
      eth_getBlockByNumber: (block) => ((block as { number: Hex }).number === "0x3" ? liar[3] : block),
    };
    const error = await expectFault(
      (v) => v.request("eth_getBlockByNumber", ["0x3", false]),
      "wrong-block-hash",
    );
    expect(keccak256(error.evidence.header!)).toBe(chain.blocks[3]!.hash);
    expect(error.evidence.relay?.blockHash).toBe(liar[3]!.hash);
  });

  it("finds the majority from a quorum's disagreement", async () => {
    const liar = buildBlocks(chain.stateRoot, { 3: pad("0xbad", { size: 32 }) });
    gateway.faults.lie = {
      eth_getBlockByNumber: (block) => ((block as { number: Hex }).number === "0x3" ? liar[3] : block),
    };
    const digest = (block: unknown) => keccak256(stringToHex(JSON.stringify({ result: sortKeys(block) })));
    gateway.faults.quorum = () => ({
      error: {
        code: -32099,
        message: "fake-upstream disagreed with the majority of 2/3",
        data: {
          answers: [
            { upstream: "a", digest: digest(chain.blocks[3]) },
            { upstream: "b", digest: digest(chain.blocks[3]) },
            { upstream: "fake-upstream", digest: digest(liar[3]) },
          ],
        },
      },
    });
    await expectFault((v) => v.request("eth_getBlockByNumber", ["0x3", false]), "wrong-block-hash");
  });

  it("asks a smaller quorum when too few operators can answer, and names nobody when none can", async () => {
    const sizes: number[] = [];
    gateway.faults.quorum = (params) => {
      sizes.push(sizes.length);
      return sizes.length < 2
        ? {
            error: {
              code: -32603,
              message: "quorum of 3 needs 3 answering operators on 3 clouds, 2 answered",
            },
          }
        : { result: chain.blocks[Number(BigInt(params[0] as string))] };
    };
    const v = new DinVerifier(gateway.url, options());
    expect((await v.header(3n)).hash).toBe(chain.blocks[3]!.hash);
    expect(sizes).toHaveLength(2);
    gateway.faults.quorum = () => ({ error: { code: -32603, message: "no operator answered" } });
    const error = await failure(v.header(2n));
    expect(error.kind).toBe("no-majority");
    expect(error.operator).toBeUndefined();
  });

  it("refuses a wrong balance against a valid proof of the true one, with state evidence", async () => {
    gateway.faults.lie = { eth_getBalance: () => numberToHex(BALANCE + 10n ** 18n) };
    const error = await expectFault(balance, "wrong-state");
    const evidence = error.stateEvidence()!;
    expect(keccak256(stringToHex(evidence.request))).toBe(evidence.relay.requestHash);
    expect(keccak256(stringToHex(evidence.response))).toBe(evidence.relay.responseHash);
    expect(keccak256(evidence.header)).toBe(chain.blocks[3]!.hash);
    expect(evidence.accountProof).toEqual(chain.accountProof);
    expect(evidence.storageProof).toEqual([]);
  });

  it("refuses wrong storage and wrong code against their proofs", async () => {
    gateway.faults.lie = { eth_getStorageAt: () => pad("0x7", { size: 32 }), eth_getCode: () => "0x6001" };
    const storage = await expectFault(
      (v) => v.request("eth_getStorageAt", [ACCOUNT, SLOT, "latest"]),
      "wrong-state",
    );
    expect(storage.stateEvidence()!.storageProof).toEqual(chain.storageProof);
    await expectFault((v) => v.request("eth_getCode", [ACCOUNT, "latest"]), "wrong-state");
  });

  it("refuses a garbled proof", async () => {
    gateway.faults.lie = {
      eth_getProof: (proof) => {
        const p = proof as { accountProof: Hex[] };
        return { ...p, accountProof: [`${p.accountProof[0]!.slice(0, -4)}beef`, ...p.accountProof.slice(1)] };
      },
    };
    await expectFault(balance, "bad-proof");
  });

  it("is a viem transport whose failed checks reach the caller unchanged", async () => {
    const client = createPublicClient({ transport: dinTransport(gateway.url, options()) });
    expect(await client.getBalance({ address: ACCOUNT })).toBe(BALANCE);
    gateway.faults.lie = { eth_getBalance: () => numberToHex(1n) };
    const error = await failure(client.getBalance({ address: ACCOUNT }));
    expect(error.kind).toBe("wrong-state");
    // A failed check is never retried: one signed balance read.
    expect(gateway.calls.filter((c) => c.method === "eth_getBalance" && c.signed)).toHaveLength(2);
  });

  it("is an ethers provider sharing the same checks", async () => {
    const provider = new DinProvider(gateway.url, {
      ...options(),
      network: CHAIN_ID,
      provider: { cacheTimeout: -1 },
    });
    expect(provider).toBeInstanceOf(JsonRpcProvider);
    expect(await provider.getBalance(ACCOUNT)).toBe(BALANCE);
    gateway.faults.lie = { eth_getBalance: () => numberToHex(1n) };
    const error = await failure(provider.getBalance(ACCOUNT));
    expect(error.kind).toBe("wrong-state");
    expect(error.operator).toBe(OPERATOR);
    provider.destroy();
  });

  it("refuses to start without the ledger's domain", () => {
    expect(() => new DinVerifier(gateway.url, { ledger: {} } as unknown as DinVerifierOptions)).toThrow(
      /slasher/,
    );
  });
});

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}
