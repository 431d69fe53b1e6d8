// Signed relays as evidence: a wrong block hash about the ledger's own chain is proven against blockhash()
// and slashed at once; about another chain, against a hash attested by a quorum of watchers, queued.
import { type Address, type Hex, keccak256, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DinVerificationError, submitWrongBlockHash } from "../../src/client/index.js";
import { blockHeader } from "../../src/ledger/din/header.js";
import { hashRequest, hashResponse, type Relay, relayDigest, signRelay } from "../../src/ledger/din/relay.js";
import { mulDivUp } from "../../src/ledger/slashing.js";
import { type DinFixture, deployDinFixture, ETHEREUM, expectRevert, POLYGON, WAD } from "./fixture.js";

const HISTORY_CONTRACT = "0x0000F90827F1C53a10cb7A02335B175320002935";
/** EIP-2935's runtime code: get (hash of block n, for number - 8191 <= n < number) and the system set. */
const EIP2935_CODE =
  "0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500";

describe("relay evidence", () => {
  let f: DinFixture;
  let op: Address;
  let chainId: number;
  let snapshot: Hex;

  /** A relay served `served` seconds after the latest block (past the devnet's finality delay). */
  const relayAt = async (
    blockNumber: bigint,
    blockHash: Hex,
    served = 1n,
    chain = BigInt(chainId),
  ): Promise<Relay> => ({
    chainId: chain,
    requestHash: hashRequest("eth_getBlockByNumber", [toHex(blockNumber), false]),
    responseHash: hashResponse({ result: { number: toHex(blockNumber), hash: blockHash } }),
    blockNumber,
    blockHash,
    servedAt: (await f.ledger.public.getBlock()).timestamp + 60n + served,
  });
  const sign = (relay: Relay, operator: Address = op) => {
    const signer = f.signers.get(operator);
    if (!signer) throw new Error("no signer");
    return signRelay(signer, relay, chainId, f.addresses.slasher);
  };
  const prove = async (relay: Relay, signature: Hex) =>
    f.ledger.write(f.outsider, {
      ...f.slasher,
      functionName: "proveWrongBlockHash",
      args: [relay, signature, await blockHeader(f.ledger.public, relay.blockNumber)],
    });

  beforeAll(async () => {
    // Blocks are final 12 s after their timestamp (the devnet preset has no delay).
    f = await deployDinFixture({ params: { finalityDelay: 12 } });
    chainId = f.ledger.chain.id;
    [op] = f.operators;
    await f.registerWatchersAndGateway();
    await f.registerOperator(op);
    await f.ledger.mine(5);
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });

  it("computes the same EIP-712 digest as the contract", async () => {
    const relay = await relayAt(3n, keccak256("0x01"));
    const onChain = await f.ledger.public.readContract({
      ...f.slasher,
      functionName: "relayDigest",
      args: [relay],
    });
    expect(onChain).toBe(relayDigest(relay, chainId, f.addresses.slasher));
  });

  it("slashes a signed wrong block hash at once (1%), 5% on repeat, and ejects the repeat offender", async () => {
    const head = await f.ledger.blockNumber();
    const first = await relayAt(head - 2n, keccak256("0xbad1"));
    await prove(first, await sign(first));
    const afterFirst = WAD - mulDivUp(WAD / 2n, WAD / 100n, WAD);
    expect(await f.maxMagnitude(op)).toBe(afterFirst);
    expect(await f.jailed(op)).toBe(true);
    expect(await f.isMember(op)).toBe(true);

    // The same relay a second time is rejected.
    await expectRevert(prove(first, await sign(first)), "RelayAlreadyUsed");
    // Another relay about the same block is the same incident.
    const again = await relayAt(head - 2n, keccak256("0xbad1"), 7n);
    await expectRevert(prove(again, await sign(again)), "IncidentAlreadyPunished");

    // One wrong-data penalty per epoch: the repeat is proven in the next one.
    await f.endEpoch(await f.currentEpoch());
    await f.ledger.mine(1);
    const next = await f.ledger.blockNumber();
    const second = await relayAt(next - 1n, keccak256("0xbad2"), 2n);
    await prove(second, await sign(second));
    const current = WAD / 2n - (WAD - afterFirst);
    expect(await f.maxMagnitude(op)).toBe(afterFirst - mulDivUp(current, (5n * WAD) / 100n, WAD));
    // Second offence on the network (ejectAfter = 2): deregistered, still slashable for the delay.
    expect(await f.isMember(op)).toBe(false);
    expect(
      await f.ledger.public.readContract({ ...f.slasher, functionName: "offences", args: [op, ETHEREUM] }),
    ).toBe(2n);
  });

  it("rejects a relay with the canonical hash, one signed by an unknown key, and one older than 256 blocks", async () => {
    const head = await f.ledger.blockNumber();
    const block = await f.ledger.public.getBlock({ blockNumber: head - 1n });
    const honest = await relayAt(head - 1n, block.hash);
    await expectRevert(prove(honest, await sign(honest)), "NotFraudulent");
    const wrong = await relayAt(head - 1n, keccak256("0xbad"));
    const stranger = privateKeyToAccount(generatePrivateKey());
    await expectRevert(
      prove(wrong, await signRelay(stranger, wrong, chainId, f.addresses.slasher)),
      "UnknownSigner",
    );
    // Past 256 blocks, a chain without the EIP-2935 history contract (Hardhat's cancun) has no proof.
    await f.ledger.mine(300);
    await expectRevert(prove(wrong, await sign(wrong)), "CanonicalHashUnavailable");
  });

  describe("signing key lifetimes", () => {
    /** Rotates `op`'s signing key to a fresh one; returns the old and the new key. */
    const rotate = async () => {
      const old = f.signers.get(op);
      if (!old) throw new Error("no signer");
      const fresh = privateKeyToAccount(generatePrivateKey());
      f.addSignerKey(fresh);
      const metadata = await f.ledger.public.readContract({
        ...f.registry,
        functionName: "getMetadata",
        args: [op, ETHEREUM],
      });
      await f.updateMetadata(op, ETHEREUM, { ...metadata, signer: fresh.address });
      return { old, fresh };
    };
    /** A wrong relay about a recent block, served once that block was final (before any later rotation). */
    const servedBeforeRotation = async () => {
      const blockNumber = (await f.ledger.blockNumber()) - 2n;
      const block = await f.ledger.public.getBlock({ blockNumber });
      return { ...(await relayAt(blockNumber, keccak256("0xbad5"))), servedAt: block.timestamp + 13n };
    };

    it("still slashes a lie a retired key signed while it was current", async () => {
      const relay = await servedBeforeRotation();
      await f.ledger.test.increaseTime({ seconds: 100 });
      const { old } = await rotate();
      await prove(relay, await signRelay(old, relay, chainId, f.addresses.slasher));
      expect(await f.jailed(op)).toBe(true);
      expect(await f.maxMagnitude(op)).toBeLessThan(WAD);
    });

    it("refuses a relay a retired key signed after its rotation: a leaked old key frames no one", async () => {
      const { old } = await rotate();
      const relay = await relayAt((await f.ledger.blockNumber()) - 1n, keccak256("0xbad6"));
      await expectRevert(
        prove(relay, await signRelay(old, relay, chainId, f.addresses.slasher)),
        "KeyNotValidWhenServed",
      );
      expect(await f.maxMagnitude(op)).toBe(WAD);
    });

    it("refuses a lie backdated into a retired key's lifetime once its evidence window is over", async () => {
      const relay = await servedBeforeRotation();
      await f.ledger.test.increaseTime({ seconds: 100 });
      const { old } = await rotate();
      // Whoever obtains the old key later can date a lie while it was current; a day after the rotation
      // such relays are no longer evidence.
      await f.ledger.test.increaseTime({ seconds: 86_400 });
      await f.ledger.mine(1);
      await expectRevert(
        prove(relay, await signRelay(old, relay, chainId, f.addresses.slasher)),
        "RetiredKeyEvidenceExpired",
      );
      expect(await f.maxMagnitude(op)).toBe(WAD);
    });

    it("refuses a relay a new key signed before it was registered", async () => {
      const relay = await servedBeforeRotation();
      await f.ledger.test.increaseTime({ seconds: 100 });
      const { fresh } = await rotate();
      await expectRevert(
        prove(relay, await signRelay(fresh, relay, chainId, f.addresses.slasher)),
        "KeyNotValidWhenServed",
      );
    });

    it("refuses a relay signed by a key that never belonged to any operator", async () => {
      const stranger = privateKeyToAccount(generatePrivateKey());
      const relay = await relayAt((await f.ledger.blockNumber()) - 1n, keccak256("0xbad7"));
      await expectRevert(
        prove(relay, await signRelay(stranger, relay, chainId, f.addresses.slasher)),
        "UnknownSigner",
      );
      expect(
        await f.ledger.public.readContract({
          ...f.registry,
          functionName: "signerKey",
          args: [ETHEREUM, stranger.address],
        }),
      ).toMatchObject({ operator: "0x0000000000000000000000000000000000000000" });
    });
  });

  it("proves a verifying client's wrong-block-hash error in one call", async () => {
    const block = (await f.ledger.blockNumber()) - 2n;
    const lie = await relayAt(block, keccak256("0xclient-lie"));
    const error = new DinVerificationError("wrong-block-hash", "block disagrees with the majority", {
      operator: op,
      upstream: "aws-us-east-1",
      method: "eth_getBlockByNumber",
      evidence: { relay: lie, signature: await sign(lie), header: await blockHeader(f.ledger.public, block) },
    });
    const before = await f.maxMagnitude(op);
    const hash = await submitWrongBlockHash(f.ledger.wallet(f.outsider), f.addresses.slasher, error);
    expect((await f.ledger.public.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await f.maxMagnitude(op)).toBe(before - mulDivUp(WAD / 2n, WAD / 100n, WAD));
    // An error of another kind carries no such proof.
    const other = new DinVerificationError("wrong-state", "x", {
      operator: op,
      upstream: undefined,
      method: "m",
    });
    await expect(
      submitWrongBlockHash(f.ledger.wallet(f.outsider), f.addresses.slasher, other),
    ).rejects.toThrow(/only a wrong-block-hash error/);
  });

  it("proves a lie about a block 1,000 blocks old against the EIP-2935 history contract", async () => {
    const head = await f.ledger.blockNumber();
    const old = head - 2n;
    const lie = await relayAt(old, keccak256("0xold"));
    const signature = await sign(lie);
    await f.ledger.mine(1000);
    await expectRevert(prove(lie, signature), "CanonicalHashUnavailable");
    // The history contract as a Prague chain has it: EIP-2935's code, its ring buffer filled by the
    // protocol's system call at each block (Hardhat runs neither, so the test installs both).
    await f.ledger.test.setCode({ address: HISTORY_CONTRACT, bytecode: EIP2935_CODE });
    const canonical = (await f.ledger.public.getBlock({ blockNumber: old })).hash;
    await f.ledger.test.setStorageAt({
      address: HISTORY_CONTRACT,
      index: Number(old % 8191n),
      value: canonical,
    });
    const before = await f.maxMagnitude(op);
    await prove(lie, signature);
    expect(await f.maxMagnitude(op)).toBe(before - mulDivUp(WAD / 2n, WAD / 100n, WAD));
    // A header that is not the canonical block's proves nothing.
    const other = await relayAt(old + 1n, keccak256("0xold2"));
    const next = (await f.ledger.public.getBlock({ blockNumber: old + 1n })).hash;
    await f.ledger.test.setStorageAt({
      address: HISTORY_CONTRACT,
      index: Number((old + 1n) % 8191n),
      value: next,
    });
    await expectRevert(
      f.ledger.write(f.outsider, {
        ...f.slasher,
        functionName: "proveWrongBlockHash",
        args: [other, await sign(other), await blockHeader(f.ledger.public, old)],
      }),
      "InvalidHeader",
    );
  });

  it("never slashes an honest answer about a head block later reorged out; a lie about a final block slashes at once", async () => {
    // The operator answers honestly about the head it sees, one second after it was mined.
    const fork = await f.ledger.snapshot();
    await f.ledger.mine(1);
    const head = await f.ledger.public.getBlock();
    const honest: Relay = {
      ...(await relayAt(head.number, head.hash)),
      servedAt: head.timestamp + 1n,
    };
    const signature = await sign(honest);
    // A reorg replaces that block with another at the same height.
    await f.ledger.revert(fork);
    await f.ledger.test.increaseTime({ seconds: 5 });
    await f.ledger.mine(3);
    const replaced = await f.ledger.public.getBlock({ blockNumber: head.number });
    expect(replaced.hash).not.toBe(head.hash);
    await expectRevert(prove(honest, signature), "NotFinalWhenServed");
    expect(await f.maxMagnitude(op)).toBe(WAD);

    // A lie about a block final when served (its timestamp + finalityDelay <= servedAt) slashes at once.
    const final = await f.ledger.public.getBlock({ blockNumber: head.number - 1n });
    const lie: Relay = {
      ...(await relayAt(final.number, keccak256("0xreorg-lie"))),
      servedAt: final.timestamp + BigInt(f.deployment.params.finalityDelay),
    };
    await prove(lie, await sign(lie));
    expect(await f.maxMagnitude(op)).toBe(WAD - mulDivUp(WAD / 2n, WAD / 100n, WAD));
  });

  it("queues a slash for a relay about another chain once a quorum of watchers attests the canonical hash", async () => {
    const polygonOp = f.operators[1];
    await f.registerOperator(polygonOp, POLYGON);
    const canonical = keccak256("0xcafe");
    const relay = await relayAt(1000n, keccak256("0xbeef"), 1n, 137n);
    const signature = await sign(relay, polygonOp);
    const proveAttested = () =>
      f.ledger.write(f.outsider, {
        ...f.slasher,
        functionName: "proveWrongBlockHashAttested",
        args: [relay, signature],
      });
    const attest = (w: Address) =>
      f.ledger.write(w, { ...f.slasher, functionName: "attestBlockHash", args: [137n, 1000n, canonical] });
    await attest(f.watchers[0] as Address);
    await expectRevert(proveAttested(), "CanonicalHashUnavailable");
    await expectRevert(attest(f.watchers[0] as Address), "AlreadyAttested");
    await expectRevert(attest(f.outsider), "InvalidCaller");
    await attest(f.watchers[1] as Address);
    // Fixed only after its dispute period (one veto window).
    await expectRevert(proveAttested(), "CanonicalHashDisputable");
    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    await proveAttested();
    const slash = await f.queuedSlash((await f.queueLength()) - 1n);
    expect(slash).toMatchObject({
      operator: polygonOp,
      networkId: POLYGON,
      wad: WAD / 100n,
      status: 1,
      reason: 0,
    });
    expect(await f.maxMagnitude(polygonOp)).toBe(WAD); // queued: nothing taken yet
    expect(await f.isMember(polygonOp, POLYGON)).toBe(true);
    await expectRevert(proveAttested(), "RelayAlreadyUsed");
  });
  it("lets a conflicting majority of the watchers, or governance, replace an attested hash during its dispute period only", async () => {
    const polygonOp = f.operators[1];
    await f.registerOperator(polygonOp, POLYGON);
    const [w0, w1, w2] = f.watchers as [Address, Address, Address];
    const wrong = keccak256("0xwrong-majority");
    const right = keccak256("0xright");
    const attest = (w: Address, hash: Hex, block = 2000n) =>
      f.ledger.write(w, { ...f.slasher, functionName: "attestBlockHash", args: [137n, block, hash] });
    const canonical = (block = 2000n) =>
      f.ledger.public.readContract({ ...f.slasher, functionName: "canonicalHash", args: [137n, block] });
    // Three active watchers: a majority is two.
    expect(await f.ledger.public.readContract({ ...f.slasher, functionName: "attestThreshold" })).toBe(2n);
    await attest(w0, wrong);
    await attest(w1, wrong);
    expect(await canonical()).toBe(wrong);
    // The operator answered the right hash: while the wrong one is disputable, no proof.
    const relay = await relayAt(2000n, right, 1n, 137n);
    const signature = await sign(relay, polygonOp);
    const proveAttested = () =>
      f.ledger.write(f.outsider, {
        ...f.slasher,
        functionName: "proveWrongBlockHashAttested",
        args: [relay, signature],
      });
    await expectRevert(proveAttested(), "CanonicalHashDisputable");
    // A watcher attests once per block; governance replaces the wrong hash, fixed at once.
    await expectRevert(attest(w0, right), "AlreadyAttested");
    await f.ledger.write(f.deployer, {
      ...f.slasher,
      functionName: "setCanonicalHash",
      args: [137n, 2000n, right],
    });
    expect(await canonical()).toBe(right);
    await expectRevert(proveAttested(), "NotFraudulent");

    // Another block: one conflicting vote is no majority, and after the dispute period the hash is fixed.
    await attest(w0, wrong, 2001n);
    await attest(w1, wrong, 2001n);
    expect(await canonical(2001n)).toBe(wrong);
    await attest(w2, right, 2001n); // one vote: not a majority
    expect(await canonical(2001n)).toBe(wrong);
    // After the dispute period the hash is fixed, whatever is attested later.
    await f.ledger.mine(f.deployment.params.slash.vetoWindow);
    expect(await canonical(2001n)).toBe(wrong);
  });

  it("lifts a jail on veto only when no other slash of the operator stands", async () => {
    const epochSlashes = async (metrics: { availabilityBps: number; p50LatencyMs: number }) => {
      const e = await f.currentEpoch();
      await f.endEpoch(e);
      const m = [{ operator: op, lagBlocks: 0, ...metrics }];
      for (const w of f.watchers) await f.submitReport(w, ETHEREUM, e, m);
      await f.finalize(ETHEREUM, e);
      return f.queueLength();
    };
    const veto = (id: bigint) =>
      f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [id] });
    // Availability and latency both missed: two queued slashes.
    const length = await epochSlashes({ availabilityBps: 9950, p50LatencyMs: 300 });
    await veto(length - 2n);
    expect(await f.jailed(op)).toBe(true);
    await veto(length - 1n);
    expect(await f.jailed(op)).toBe(false);

    // A proven wrong block hash stands: vetoing a slash queued before it leaves that jail in place.
    const queued = await epochSlashes({ availabilityBps: 9950, p50LatencyMs: 50 });
    const head = await f.ledger.blockNumber();
    const relay = await relayAt(head - 1n, keccak256("0xbad3"));
    await prove(relay, await sign(relay));
    const proofJail = await f.ledger.public.readContract({
      ...f.registry,
      functionName: "jailedUntil",
      args: [op, ETHEREUM],
    });
    await veto(queued - 1n);
    expect(await f.jailed(op)).toBe(true);
    expect(
      await f.ledger.public.readContract({
        ...f.registry,
        functionName: "jailedUntil",
        args: [op, ETHEREUM],
      }),
    ).toBe(proofJail);
  });
});
