// An operator node signs what it serves (`din-sign: 1`); a lying operator's signed relay is evidence the
// ledger slashes at once. The operator proxy stands in front of the ledger's own (real Hardhat) chain.
import { type Address, type Hex, recoverTypedDataAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { blockHeader } from "../../src/ledger/din/header.js";
import {
  hashRequest,
  hashResponse,
  type Relay,
  relayDomain,
  relayTypes,
} from "../../src/ledger/din/relay.js";
import { type OperatorNode, startOperatorNode } from "../../src/operator/proxy.js";
import { type HardhatServer, startHardhatServer } from "../support/hardhatServer.js";
import { type DinFixture, deployDinFixture, expectRevert, WAD } from "./fixture.js";

interface SignedAnswer {
  body: { result?: { number: string; hash: Hex } };
  relay: Relay;
  signature: Hex;
  operator: string | null;
  error: string | null;
}

async function signedCall(url: string, method: string, params: unknown[]): Promise<SignedAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "din-sign": "1" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
  });
  const body = (await response.json()) as SignedAnswer["body"];
  const raw = response.headers.get("din-relay");
  const parsed = raw ? (JSON.parse(raw) as Record<keyof Relay, string>) : undefined;
  const relay = parsed && {
    chainId: BigInt(parsed.chainId),
    requestHash: parsed.requestHash as Hex,
    responseHash: parsed.responseHash as Hex,
    blockNumber: BigInt(parsed.blockNumber),
    blockHash: parsed.blockHash as Hex,
    servedAt: BigInt(parsed.servedAt),
  };
  return {
    body,
    relay: relay as Relay,
    signature: response.headers.get("din-signature") as Hex,
    operator: response.headers.get("din-operator"),
    error: response.headers.get("din-sign-error"),
  };
}

describe("operator relay signing", () => {
  let f: DinFixture;
  let op: Address;
  let chainId: number;
  let server: HardhatServer;
  let node: OperatorNode;
  let unsigned: OperatorNode;

  beforeAll(async () => {
    f = await deployDinFixture();
    // The in-process chain mines blocks a second apart, faster than the clock: the node's clock (servedAt)
    // is set to the chain's so that its answers come after the blocks they are about.
    vi.useFakeTimers({
      toFake: ["Date"],
      now: Number((await f.ledger.public.getBlock()).timestamp + 3600n) * 1000,
    });
    chainId = f.ledger.chain.id;
    op = f.operators[0]!;
    await f.registerWatchersAndGateway();
    await f.registerOperator(op);
    await f.ledger.mine(5);
    server = await startHardhatServer();
    const account = f.signers.get(op)!;
    node = await startOperatorNode({
      id: "signing-operator",
      upstream: server.url,
      chaos: true,
      relaySigner: { account, chainId, ledgerChainId: chainId, slasher: f.addresses.slasher },
    });
    unsigned = await startOperatorNode({ id: "keyless", upstream: server.url });
  });

  afterAll(async () => {
    vi.useRealTimers();
    await node?.close();
    await unsigned?.close();
    await server?.close();
  });

  const prove = async (relay: Relay, signature: Hex) =>
    f.ledger.write(f.outsider, {
      ...f.slasher,
      functionName: "proveWrongBlockHash",
      args: [relay, signature, await blockHeader(f.ledger.public, relay.blockNumber)],
    });

  it("signs an honest answer that anyone can re-check, and that proves nothing against it", async () => {
    const head = await f.ledger.blockNumber();
    const params = [`0x${(head - 1n).toString(16)}`, false];
    const answer = await signedCall(node.url, "eth_getBlockByNumber", params);
    const signer = f.signers.get(op)!;
    expect(answer.operator).toBe(signer.address);
    expect(answer.relay.requestHash).toBe(hashRequest("eth_getBlockByNumber", params));
    expect(answer.relay.responseHash).toBe(hashResponse({ result: answer.body.result }));
    expect(answer.relay.blockNumber).toBe(head - 1n);
    expect(answer.relay.blockHash).toBe((await f.ledger.public.getBlock({ blockNumber: head - 1n })).hash);
    const recovered = await recoverTypedDataAddress({
      domain: relayDomain(chainId, f.addresses.slasher),
      types: relayTypes,
      primaryType: "Relay",
      message: answer.relay,
      signature: answer.signature,
    });
    expect(recovered).toBe(signer.address);
    await expectRevert(prove(answer.relay, answer.signature), "NotFraudulent");
  });

  it("turns a lying operator's signed wrong block hash into an immediate slash", async () => {
    await node.setChaos({ mode: "lie" });
    const head = await f.ledger.blockNumber();
    const answer = await signedCall(node.url, "eth_getBlockByNumber", [
      `0x${(head - 1n).toString(16)}`,
      false,
    ]);
    await node.setChaos({ mode: "ok" });
    expect(answer.relay.blockHash).not.toBe(
      (await f.ledger.public.getBlock({ blockNumber: head - 1n })).hash,
    );
    const before = await f.maxMagnitude(op);
    await prove(answer.relay, answer.signature);
    expect(await f.maxMagnitude(op)).toBeLessThan(before);
    expect(before).toBeLessThanOrEqual(WAD);
    expect(await f.jailed(op)).toBe(true);
    await expectRevert(prove(answer.relay, answer.signature), "RelayAlreadyUsed");
  });

  it("says so when it cannot sign, instead of silently leaving the signature out", async () => {
    const answer = await signedCall(unsigned.url, "eth_blockNumber", []);
    expect(answer.body.result).toBeDefined();
    expect(answer.signature).toBeNull();
    expect(answer.error).toMatch(/no signing key/);
  });
});
