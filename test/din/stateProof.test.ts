// Wrong state as evidence: an operator's signed answer to a state request (balance, nonce, code, storage
// slot at a numbered block) is proven wrong on the ledger from the block's header and eth_getProof proofs,
// and slashed like a wrong block hash: at once about the ledger's chain, queued about another chain.
import { type Address, type Hex, keccak256, toHex, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DinVerificationError, submitWrongState } from "../../src/client/index.js";
import { dinStateVerifierAbi } from "../../src/ledger/artifacts/index.js";
import { blockHeader } from "../../src/ledger/din/header.js";
import { hashRequest, hashResponse, type Relay, signRelay } from "../../src/ledger/din/relay.js";
import {
  gatherStateEvidence,
  parseStateCall,
  proveWrongState,
  type StateEvidence,
  StateEvidenceError,
  stateProofArgs,
} from "../../src/ledger/din/stateProof.js";
import { mulDivUp } from "../../src/ledger/slashing.js";
import { lieResult } from "../../src/operator/chaos.js";
import { signServedRelay } from "../../src/operator/relaySigner.js";
import { type DinFixture, deployDinFixture, expectRevert, POLYGON, WAD } from "./fixture.js";

describe("state evidence", () => {
  let f: DinFixture;
  let op: Address;
  let chainId: number;
  let snapshot: Hex;
  /** A funded account that never sent a transaction. */
  let funded: Address;

  /** A relay of `result` to `method(params)`, served after the head's block was final (delay 12 s). */
  const answer = async (
    method: string,
    params: unknown[],
    result: unknown,
    served = 1n,
    chain = BigInt(chainId),
  ) => {
    const signer = f.signers.get(op);
    if (!signer) throw new Error("no signer");
    const servedAt = (await f.ledger.public.getBlock()).timestamp + 60n + served;
    const { relay, headers } = await signServedRelay(
      { account: signer, chainId: Number(chain), ledgerChainId: chainId, slasher: f.addresses.slasher },
      { method, params },
      { result },
      servedAt,
    );
    return { relay, signature: headers["din-signature"], method, params, response: { result } };
  };
  const prove = (
    evidence: StateEvidence,
    functionName: "proveWrongState" | "proveWrongStateAttested" = "proveWrongState",
  ) => f.ledger.write(f.outsider, { ...f.slasher, functionName, args: stateProofArgs(evidence) });
  /** A block a few blocks below the head, and the balance of `funded` there. */
  const balanceAt = async () => {
    const blockNumber = (await f.ledger.blockNumber()) - 2n;
    const balance = await f.ledger.public.getBalance({ address: funded, blockNumber });
    return { blockNumber, balance, params: [funded, toHex(blockNumber)] };
  };
  /** Evidence of a signed balance `delta` above the real one at a recent block. */
  const balanceLie = async (delta: bigint) => {
    const at = await balanceAt();
    const answered = await answer("eth_getBalance", at.params, toHex(at.balance + delta));
    return { ...at, evidence: await gatherStateEvidence(f.ledger.public, answered) };
  };
  /** Evidence with its request and answer replaced, re-signed so only the proof is at fault. */
  const resigned = async (
    evidence: StateEvidence,
    request: string,
    response: string,
  ): Promise<StateEvidence> => {
    const relay: Relay = {
      ...evidence.relay,
      requestHash: keccak256(toHex(request)),
      responseHash: keccak256(toHex(response)),
    };
    const signer = f.signers.get(op);
    if (!signer) throw new Error("no signer");
    return {
      ...evidence,
      relay,
      request,
      response,
      signature: await signRelay(signer, relay, chainId, f.addresses.slasher),
    };
  };

  beforeAll(async () => {
    f = await deployDinFixture({ params: { finalityDelay: 12 } });
    chainId = f.ledger.chain.id;
    [op] = f.operators;
    funded = f.ledger.accounts[17] as Address;
    await f.registerWatchersAndGateway();
    await f.registerOperator(op);
    await f.ledger.mine(5);
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });

  it("fits the slasher under the EIP-170 limit with the trie code in its own verifier", async () => {
    const verifier = await f.ledger.public.readContract({ ...f.slasher, functionName: "stateVerifier" });
    for (const address of [f.addresses.slasher, verifier]) {
      const code = await f.ledger.public.getCode({ address });
      expect(((code?.length ?? 0) - 2) / 2).toBeLessThanOrEqual(24_576);
    }
  });

  it("slashes and jails a corrupt operator's signed wrong balance at once", async () => {
    const { balance, params } = await balanceAt();
    const lie = lieResult("eth_getBalance", toHex(balance), "corrupt");
    expect(lie).not.toBe(toHex(balance));
    const evidence = await gatherStateEvidence(f.ledger.public, await answer("eth_getBalance", params, lie));
    const hash = await proveWrongState(f.ledger.wallet(f.outsider), f.addresses.slasher, evidence);
    expect((await f.ledger.public.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await f.maxMagnitude(op)).toBe(WAD - mulDivUp(WAD / 2n, WAD / 100n, WAD));
    expect(await f.jailed(op)).toBe(true);
    // The same relay twice is refused.
    await expectRevert(prove(evidence), "RelayAlreadyUsed");
  });

  it("proves a verifying client's wrong-state error in one call", async () => {
    const { evidence } = await balanceLie(10n ** 18n);
    const error = new DinVerificationError("wrong-state", "balance refuted by its proof", {
      operator: op,
      upstream: "aws-us-east-1",
      method: "eth_getBalance",
      evidence,
    });
    expect(error.stateEvidence()).toEqual(evidence);
    const before = await f.maxMagnitude(op);
    const hash = await submitWrongState(f.ledger.wallet(f.outsider), f.addresses.slasher, error);
    expect((await f.ledger.public.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await f.maxMagnitude(op)).toBeLessThan(before);
    const other = new DinVerificationError("bad-proof", "x", {
      operator: op,
      upstream: undefined,
      method: "m",
    });
    expect(() => submitWrongState(f.ledger.wallet(f.outsider), f.addresses.slasher, other)).toThrow(
      /only a wrong-state error/,
    );
  });

  it("refuses a correct answer with a valid proof (NotFraudulent), and the client never sends it", async () => {
    const { balance, params } = await balanceAt();
    const honest = await answer("eth_getBalance", params, toHex(balance));
    await expect(gatherStateEvidence(f.ledger.public, honest)).rejects.toThrow(StateEvidenceError);
    // Built by hand from a lie's evidence, with the honest answer re-signed.
    const evidence = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getBalance", params, toHex(balance + 1n)),
    );
    const honestEvidence = await resigned(
      evidence,
      evidence.request,
      JSON.stringify({ result: toHex(balance) }),
    );
    await expectRevert(prove(honestEvidence), "NotFraudulent");
    // Leading zeros are the same quantity.
    const padded = await resigned(evidence, evidence.request, `{"result":"0x000${balance.toString(16)}"}`);
    await expectRevert(prove(padded), "NotFraudulent");
  });

  it("refuses proofs of another account, another block's header, garbled or truncated nodes", async () => {
    const { evidence, blockNumber } = await balanceLie(7n);
    const other = (await f.ledger.public.request({
      method: "eth_getProof",
      params: [f.ledger.accounts[18] as Address, [], toHex(blockNumber)],
    } as never)) as { accountProof: Hex[] };
    await expectRevert(prove({ ...evidence, accountProof: other.accountProof }), "InvalidStateProof");
    const header = await blockHeader(f.ledger.public, blockNumber - 1n);
    await expectRevert(prove({ ...evidence, header }), "InvalidHeader");
    const last = evidence.accountProof.length - 1;
    const garbled = evidence.accountProof.map((node, i) =>
      i === last ? (`${node.slice(0, -2)}00` as Hex) : node,
    );
    await expectRevert(prove({ ...evidence, accountProof: garbled }), "InvalidStateProof");
    await expectRevert(
      prove({ ...evidence, accountProof: evidence.accountProof.slice(0, -1) }),
      "InvalidStateProof",
    );
    const cut = evidence.accountProof.map((node, i) => (i === 0 ? (node.slice(0, 40) as Hex) : node));
    await expectRevert(prove({ ...evidence, accountProof: cut }), "InvalidStateProof");
    await expectRevert(prove({ ...evidence, header: "0x" }), "InvalidHeader");
  });

  it("refuses a request or response not matching the relay, a tag, and malformed requests and answers", async () => {
    const { evidence, balance } = await balanceLie(7n);
    await expectRevert(
      prove({ ...evidence, request: evidence.request.replace("0x", "0X") }),
      "RequestHashMismatch",
    );
    await expectRevert(prove({ ...evidence, response: '{"result":"0x1"}' }), "ResponseHashMismatch");
    const tagged = evidence.request.replace(/"0x[0-9a-f]+"\]\}$/, '"latest"]}');
    await expectRevert(prove(await resigned(evidence, tagged, evidence.response)), "BlockNotPinned");
    await expect(
      gatherStateEvidence(
        f.ledger.public,
        await answer("eth_getBalance", [funded, "latest"], toHex(balance + 1n)),
      ),
    ).rejects.toMatchObject({ problem: "block-not-pinned" });
    const spaced = evidence.request.replace('"params":', '"params": ');
    await expectRevert(prove(await resigned(evidence, spaced, evidence.response)), "UnprovableRequest");
    const call = evidence.request.replace("eth_getBalance", "eth_call");
    await expectRevert(prove(await resigned(evidence, call, evidence.response)), "UnprovableRequest");
    await expectRevert(
      prove(await resigned(evidence, evidence.request, '{"result":"0x"}')),
      "MalformedResponse",
    );
    await expectRevert(
      prove(await resigned(evidence, evidence.request, '{"result":12}')),
      "MalformedResponse",
    );
    await expectRevert(
      prove(await resigned(evidence, evidence.request, '{"error":{"code":-32000}}')),
      "MalformedResponse",
    );
  });

  it("punishes one incident once: a second relay about the same block, a block-hash lie about it too", async () => {
    const { evidence: first, blockNumber } = await balanceLie(1n);
    await prove(first);
    const second = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getBalance", [f.ledger.accounts[18], toHex(blockNumber)], "0x1", 9n),
    );
    await expectRevert(prove(second), "IncidentAlreadyPunished");
    // A wrong block hash about the same block is the same incident.
    const signer = f.signers.get(op);
    if (!signer) throw new Error("no signer");
    const hashLie: Relay = {
      ...first.relay,
      blockNumber,
      blockHash: keccak256("0xbad"),
      servedAt: first.relay.servedAt + 2n,
    };
    await expectRevert(
      f.ledger.write(f.outsider, {
        ...f.slasher,
        functionName: "proveWrongBlockHash",
        args: [
          hashLie,
          await signRelay(signer, hashLie, chainId, f.addresses.slasher),
          await blockHeader(f.ledger.public, blockNumber),
        ],
      }),
      "IncidentAlreadyPunished",
    );
  });

  it("refuses a relay signed by a new key before it was the operator's", async () => {
    const { evidence } = await balanceLie(1n);
    // The lie was served (servedAt) before the operator rotated to a fresh key, which then signs it.
    const block = await f.ledger.public.getBlock();
    const early = await reserve(evidence, block.timestamp + 20n);
    await f.ledger.test.increaseTime({ seconds: 100 });
    const fresh = privateKeyToAccount(generatePrivateKey());
    f.addSignerKey(fresh);
    const metadata = await f.ledger.public.readContract({
      ...f.registry,
      functionName: "getMetadata",
      args: [op, 1],
    });
    await f.updateMetadata(op, 1, { ...metadata, signer: fresh.address });
    await expectRevert(
      prove({ ...early, signature: await signRelay(fresh, early.relay, chainId, f.addresses.slasher) }),
      "KeyNotValidWhenServed",
    );
  });

  it("refuses a relay signed by a key that was not the operator's, and an answer about a block not final when served", async () => {
    const { evidence, blockNumber } = await balanceLie(1n);
    const stranger = privateKeyToAccount(generatePrivateKey());
    await expectRevert(
      prove({
        ...evidence,
        signature: await signRelay(stranger, evidence.relay, chainId, f.addresses.slasher),
      }),
      "UnknownSigner",
    );
    const block = await f.ledger.public.getBlock({ blockNumber });
    await expectRevert(prove(await reserve(evidence, block.timestamp + 5n)), "NotFinalWhenServed");
  });

  it("proves a wrong nonce", async () => {
    const blockNumber = (await f.ledger.blockNumber()) - 1n;
    const nonce = await f.ledger.public.getTransactionCount({ address: f.deployer, blockNumber });
    expect(nonce).toBeGreaterThan(0);
    const params = [f.deployer, toHex(blockNumber)];
    await prove(
      await gatherStateEvidence(
        f.ledger.public,
        await answer("eth_getTransactionCount", params, toHex(nonce + 3)),
      ),
    );
    expect(await f.jailed(op)).toBe(true);
  });

  it("proves wrong code, and refuses the right code", async () => {
    const blockNumber = (await f.ledger.blockNumber()) - 1n;
    const evidence = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getCode", [f.addresses.registry, toHex(blockNumber)], "0x"),
    );
    await expectRevert(
      prove(await resigned(evidence, evidence.request, '{"result":"0xzz"}')),
      "MalformedResponse",
    );
    await expectRevert(
      prove(await resigned(evidence, evidence.request, '{"result":"0x123"}')),
      "MalformedResponse",
    );
    // The right code (of a small contract: a revert with a whole contract's code in calldata is slow to
    // trace on the in-process chain) is refused.
    const small = "0x0000000000000000000000000000000000c0de01";
    await f.ledger.test.setCode({ address: small, bytecode: "0x6001600055" });
    await f.ledger.mine(2);
    const at = (await f.ledger.blockNumber()) - 1n;
    const honest = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getCode", [small, toHex(at)], "0x60"),
    );
    await expectRevert(
      prove(await resigned(honest, honest.request, '{"result":"0x6001600055"}')),
      "NotFraudulent",
    );
    await prove(evidence);
    expect(await f.jailed(op)).toBe(true);
  });

  it("decodes code answers of any length and case, and refuses a non-hex digit anywhere", async () => {
    // 100 bytes: six 16-byte chunks decoded a word at a time, then four bytes one at a time.
    const bytecode = toHex(Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) % 256));
    const contract = "0x0000000000000000000000000000000000c0de02";
    await f.ledger.test.setCode({ address: contract, bytecode });
    await f.ledger.mine(2);
    const at = (await f.ledger.blockNumber()) - 1n;
    const evidence = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getCode", [contract, toHex(at)], "0x"),
    );
    const verifier = await f.ledger.public.readContract({ ...f.slasher, functionName: "stateVerifier" });
    const verdict = async (code: string) => {
      const changed = await resigned(evidence, evidence.request, JSON.stringify({ result: code }));
      const [, , wrong] = await f.ledger.public.readContract({
        address: verifier,
        abi: dinStateVerifierAbi,
        functionName: "check",
        args: [stateProofArgs(changed)[2]],
      });
      return wrong;
    };
    const flip = (code: string, at: number) =>
      `${code.slice(0, at)}${code[at] === "0" ? "1" : "0"}${code.slice(at + 1)}`;
    expect(await verdict(bytecode)).toBe(false);
    expect(await verdict(`0x${bytecode.slice(2).toUpperCase()}`)).toBe(false);
    expect(await verdict(flip(bytecode, 2))).toBe(true);
    expect(await verdict(flip(bytecode, 2 + 70))).toBe(true);
    expect(await verdict(flip(bytecode, 2 + 199))).toBe(true);
    expect(await verdict(bytecode.slice(0, -2))).toBe(true);
    for (const at of [2, 2 + 45, 2 + 197]) {
      for (const bad of ["g", "G", ":", "@", "`", "/", "\u00e9"]) {
        await expect(verdict(`${bytecode.slice(0, at)}${bad}${bytecode.slice(at + 1)}`)).rejects.toThrow(
          /MalformedResponse/,
        );
      }
    }
  });

  it("proves a wrong storage slot, and refuses another slot's proof and the right value", async () => {
    const n = (await f.ledger.blockNumber()) - 1n;
    const slot = await nonZeroSlot(f.addresses.slasher, n);
    const value = await f.ledger.public.getStorageAt({ address: f.addresses.slasher, slot, blockNumber: n });
    const storage = await gatherStateEvidence(
      f.ledger.public,
      await answer("eth_getStorageAt", [f.addresses.slasher, slot, toHex(n)], zeroHash),
    );
    // Another slot's proof proves nothing about this one.
    const otherSlot = toHex(BigInt(slot) + 1n, { size: 32 });
    const other = (await f.ledger.public.request({
      method: "eth_getProof",
      params: [f.addresses.slasher, [otherSlot], toHex(n)],
    } as never)) as { storageProof: { proof: Hex[] }[] };
    await expectRevert(
      prove({ ...storage, storageProof: other.storageProof[0]?.proof ?? [] }),
      "InvalidStateProof",
    );
    await expectRevert(prove({ ...storage, storageProof: [] }), "InvalidStateProof");
    await expectRevert(
      prove(await resigned(storage, storage.request, JSON.stringify({ result: value }))),
      "NotFraudulent",
    );
    await prove(storage);
    expect(await f.jailed(op)).toBe(true);
  });

  it("queues a slash for a wrong state answer about another chain against its attested hash", async () => {
    const polygonOp = f.operators[1] as Address;
    await f.registerOperator(polygonOp, POLYGON);
    op = polygonOp;
    try {
      // The ledger's own blocks stand in for chain 137's: the watchers attest one of them.
      const { balance, params, blockNumber } = await balanceAt();
      const block = await f.ledger.public.getBlock({ blockNumber });
      const evidence = await gatherStateEvidence(
        f.ledger.public,
        await answer("eth_getBalance", params, toHex(balance * 2n), 1n, 137n),
      );
      await expectRevert(prove(evidence, "proveWrongStateAttested"), "CanonicalHashUnavailable");
      await expectRevert(prove(evidence), "CanonicalHashUnavailable");
      for (const w of f.watchers.slice(0, 2)) {
        await f.ledger.write(w as Address, {
          ...f.slasher,
          functionName: "attestBlockHash",
          args: [137n, blockNumber, block.hash],
        });
      }
      await expectRevert(prove(evidence, "proveWrongStateAttested"), "CanonicalHashDisputable");
      await f.ledger.mine(f.deployment.params.slash.vetoWindow);
      await prove(evidence, "proveWrongStateAttested");
      expect(await f.queuedSlash((await f.queueLength()) - 1n)).toMatchObject({
        operator: polygonOp,
        networkId: POLYGON,
        wad: WAD / 100n,
        status: 1,
        reason: 0,
      });
      expect(await f.maxMagnitude(polygonOp)).toBe(WAD);
      expect(await f.jailed(polygonOp, POLYGON)).toBe(true);
    } finally {
      [op] = f.operators;
    }
  });

  /** The evidence with its relay re-dated to `servedAt` and re-signed. */
  async function reserve(evidence: StateEvidence, servedAt: bigint): Promise<StateEvidence> {
    const relay = { ...evidence.relay, servedAt };
    const signer = f.signers.get(op);
    if (!signer) throw new Error("no signer");
    return { ...evidence, relay, signature: await signRelay(signer, relay, chainId, f.addresses.slasher) };
  }

  /** The first non-zero storage slot of `address` at `blockNumber`. */
  async function nonZeroSlot(address: Address, blockNumber: bigint): Promise<Hex> {
    for (let i = 0n; i < 64n; i++) {
      const value = await f.ledger.public.getStorageAt({ address, slot: toHex(i), blockNumber });
      if (value && BigInt(value) !== 0n) return toHex(i);
    }
    throw new Error("no non-zero slot");
  }
});

// The client side parses requests as the contract does, so it never sends a proof the slasher refuses.
describe("state evidence JSON", () => {
  const account = "0x00000000000000000000000000000000000000aA";
  it("hashes the canonical request and response the relay hashes", () => {
    expect(keccak256(toHex(`{"method":"eth_getBalance","params":["${account}","0x10"]}`))).toBe(
      hashRequest("eth_getBalance", [account, "0x10"]),
    );
    expect(keccak256(toHex('{"result":"0x5"}'))).toBe(hashResponse({ result: "0x5" }));
  });

  it("parses the four provable requests and names why others are not", () => {
    expect(parseStateCall("eth_getBalance", [account, "0x10"])).toEqual({
      method: "eth_getBalance",
      address: account,
      blockNumber: 16n,
    });
    expect(parseStateCall("eth_getStorageAt", [account, "0x0", "0x1"])).toMatchObject({
      slot: "0x0",
      blockNumber: 1n,
    });
    const problem = (method: string, params: unknown[]) => {
      try {
        parseStateCall(method, params);
        return "none";
      } catch (error) {
        return error instanceof StateEvidenceError ? error.problem : "other";
      }
    };
    expect(problem("eth_getBalance", [account, "latest"])).toBe("block-not-pinned");
    expect(problem("eth_getBalance", [account, { blockNumber: "0x1" }])).toBe("block-not-pinned");
    expect(problem("eth_call", [{ to: account }, "0x1"])).toBe("unprovable");
    expect(problem("eth_getBalance", ["0x1234", "0x1"])).toBe("unprovable");
    expect(problem("eth_getBalance", [account, "0x1", "extra"])).toBe("unprovable");
    expect(problem("eth_getStorageAt", [account, `0x${"1".repeat(65)}`, "0x1"])).toBe("unprovable");
    expect(problem("eth_getCode", [account, "0x"])).toBe("unprovable");
  });
});
