// Registration on a network: metadata, minimum stake, signing keys proven by their signature and valid
// from registration to rotation, governed watcher and gateway sets.
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DinFixture,
  deployDinFixture,
  ETHEREUM,
  expectRevert,
  GATEWAY_SET,
  POLYGON,
  WAD,
  WATCHER_SET,
} from "./fixture.js";

describe("service registry", () => {
  let f: DinFixture;
  let op: Address;
  let other: Address;
  let snapshot: Hex;

  beforeAll(async () => {
    f = await deployDinFixture();
    [op, other] = f.operators;
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });

  it("registers an operator with its metadata and signing key when its allocated stake meets the minimum", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    const metadata = f.metadata(op, { endpoint: "https://eth.op.example" });
    await f.registerForSet(op, ETHEREUM, f.encodeMetadata(metadata));
    expect(await f.isMember(op)).toBe(true);
    const read = f.ledger.public.readContract;
    expect(await read({ ...f.registry, functionName: "getMetadata", args: [op, ETHEREUM] })).toMatchObject(
      metadata,
    );
    expect(
      await read({ ...f.registry, functionName: "operatorOfSigner", args: [ETHEREUM, metadata.signer] }),
    ).toBe(op);
    expect(await f.allocatedStake(op)).toBe(5n * WAD);
  });

  it("refuses an operator below the minimum allocated stake", async () => {
    await f.stake(op, WAD, ETHEREUM); // 0.5 allocated < 1
    await expectRevert(f.registerForSet(op, ETHEREUM, f.encodeMetadata(f.metadata(op))), "InsufficientStake");
  });

  it("refuses invalid metadata and a signer bound to another operator", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.stake(other, 10n * WAD, ETHEREUM);
    await f.registerForSet(op, ETHEREUM, f.encodeMetadata(f.metadata(op)));
    await expectRevert(
      f.registerForSet(other, ETHEREUM, f.encodeMetadata({ ...f.metadata(other), cloud: "" })),
      "InvalidMetadata",
    );
    // Even with the key's own consent (the fixture holds op's key), a key signs for one operator only.
    await expectRevert(
      f.registerForSet(
        other,
        ETHEREUM,
        f.encodeMetadata(f.metadata(other, { signer: f.metadata(op).signer })),
      ),
      "SignerTaken",
    );
  });

  it("lets an operator update its metadata with its signer's consent; deregistration keeps the key bound", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.registerForSet(
      op,
      ETHEREUM,
      f.encodeMetadata(f.metadata(op, { endpoint: "https://old.example" })),
    );
    const updated = { ...f.metadata(op, { endpoint: "https://new.example" }), region: "us-east-1" };
    await f.updateMetadata(op, ETHEREUM, updated);
    const read = f.ledger.public.readContract;
    expect(await read({ ...f.registry, functionName: "getMetadata", args: [op, ETHEREUM] })).toMatchObject(
      updated,
    );
    await expectRevert(f.updateMetadata(f.outsider, ETHEREUM, updated), "NotRegistered");
    await f.ledger.write(op, {
      ...f.am,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: op, avs: f.addresses.registry, operatorSetIds: [ETHEREUM] }],
    });
    expect(await f.isMember(op)).toBe(false);
    expect(
      await read({ ...f.registry, functionName: "operatorOfSigner", args: [ETHEREUM, updated.signer] }),
    ).toBe(op);
  });

  describe("proof of control of the signing key", () => {
    const fresh = () => privateKeyToAccount(generatePrivateKey());

    it("refuses a signer registered without its signature", async () => {
      await f.stake(op, 10n * WAD, ETHEREUM);
      const key = fresh();
      const metadata = { ...f.metadata(op), signer: key.address };
      await expectRevert(
        f.registerWithProof(op, ETHEREUM, metadata, { deadline: 2n ** 63n, signature: "0x" }),
        "InvalidSignerProof",
      );
      // Signed by the operator (or anyone) instead of the key: refused too.
      const byOther = await f.signerProof(fresh(), op, ETHEREUM, metadata.endpoint);
      await expectRevert(f.registerWithProof(op, ETHEREUM, metadata, byOther), "InvalidSignerProof");
    });

    it("refuses a signer's consent given to another operator, network, endpoint, or past its deadline", async () => {
      await f.stake(op, 10n * WAD, ETHEREUM);
      const key = fresh();
      const metadata = { ...f.metadata(op), signer: key.address };
      const refused = async (proof: Promise<{ deadline: bigint; signature: Hex }>) =>
        expectRevert(f.registerWithProof(op, ETHEREUM, metadata, await proof), "InvalidSignerProof");
      await refused(f.signerProof(key, other, ETHEREUM, metadata.endpoint));
      await refused(f.signerProof(key, op, POLYGON, metadata.endpoint));
      await refused(f.signerProof(key, op, ETHEREUM, "https://elsewhere.example"));
      const now = (await f.ledger.public.getBlock()).timestamp;
      await refused(f.signerProof(key, op, ETHEREUM, metadata.endpoint, now - 1n));
      await f.registerWithProof(
        op,
        ETHEREUM,
        metadata,
        await f.signerProof(key, op, ETHEREUM, metadata.endpoint),
      );
      expect(await f.isMember(op)).toBe(true);
    });

    it("does not let an outsider who registers the owner's endpoint first lock the owner out or sign as it", async () => {
      await f.stake(other, 10n * WAD, ETHEREUM);
      await f.stake(op, 10n * WAD, ETHEREUM);
      const url = "https://owner.example:8545";
      // The outsider names the owner's URL with its own key (the only key it can prove).
      await f.registerForSet(other, ETHEREUM, f.encodeMetadata(f.metadata(other, { endpoint: url })));
      // It cannot claim the owner's key without the key's signature...
      const ownerKey = fresh();
      const claim = { ...f.metadata(other, { endpoint: url }), signer: ownerKey.address };
      await expectRevert(
        f.ledger.write(other, {
          ...f.registry,
          functionName: "updateMetadata",
          args: [ETHEREUM, claim, await f.signerProof(fresh(), other, ETHEREUM, url)],
        }),
        "InvalidSignerProof",
      );
      // ...nor replay the owner's own consent, which names the owner.
      const ownerProof = await f.signerProof(ownerKey, op, ETHEREUM, url);
      await expectRevert(
        f.ledger.write(other, {
          ...f.registry,
          functionName: "updateMetadata",
          args: [ETHEREUM, claim, ownerProof],
        }),
        "InvalidSignerProof",
      );
      // The owner registers its URL and key all the same.
      const owner = { ...f.metadata(op, { endpoint: url }), signer: ownerKey.address };
      await f.registerWithProof(op, ETHEREUM, owner, ownerProof);
      const read = f.ledger.public.readContract;
      expect(
        await read({ ...f.registry, functionName: "operatorOfSigner", args: [ETHEREUM, ownerKey.address] }),
      ).toBe(op);
      // Relays from the URL are signed by the owner's key, so they count for (and against) the owner only.
      const squatter = await read({ ...f.registry, functionName: "getMetadata", args: [other, ETHEREUM] });
      expect(squatter.signer).not.toBe(ownerKey.address);
      expect(
        await read({
          ...f.registry,
          functionName: "signerOperatorAt",
          args: [ETHEREUM, ownerKey.address, (await f.ledger.public.getBlock()).timestamp + 1n],
        }),
      ).toBe(op);
    });
  });

  describe("key rotation", () => {
    const rotateTo = async (key: ReturnType<typeof privateKeyToAccount>) => {
      f.addSignerKey(key);
      const metadata = await f.ledger.public.readContract({
        ...f.registry,
        functionName: "getMetadata",
        args: [op, ETHEREUM],
      });
      return f.updateMetadata(op, ETHEREUM, { ...metadata, signer: key.address });
    };

    it("retires the old key at the rotation: valid from its registration until then", async () => {
      await f.registerOperator(op);
      const old = f.metadata(op).signer;
      const read = f.ledger.public.readContract;
      const before = await read({ ...f.registry, functionName: "signerKey", args: [ETHEREUM, old] });
      expect(before.retiredAt).toBe(0n);
      const key = privateKeyToAccount(generatePrivateKey());
      await rotateTo(key);
      const rotatedAt = (await f.ledger.public.getBlock()).timestamp;
      const after = await read({ ...f.registry, functionName: "signerKey", args: [ETHEREUM, old] });
      expect(after).toMatchObject({ operator: op, validFrom: before.validFrom, retiredAt: rotatedAt });
      expect(
        await read({ ...f.registry, functionName: "signerKey", args: [ETHEREUM, key.address] }),
      ).toMatchObject({
        operator: op,
        validFrom: rotatedAt,
        retiredAt: 0n,
      });
      expect(
        await read({
          ...f.registry,
          functionName: "signerOperatorAt",
          args: [ETHEREUM, old, rotatedAt - 1n],
        }),
      ).toBe(op);
      await expectRevert(
        read({ ...f.registry, functionName: "signerOperatorAt", args: [ETHEREUM, old, rotatedAt] }),
        "KeyNotValidWhenServed",
      );
    });

    it("never lets anyone register a retired key again, its old operator included", async () => {
      await f.registerOperator(op);
      const oldKey = f.signers.get(op);
      if (!oldKey) throw new Error("no signer");
      await rotateTo(privateKeyToAccount(generatePrivateKey()));
      // Its old operator cannot rotate back to it.
      const metadata = await f.ledger.public.readContract({
        ...f.registry,
        functionName: "getMetadata",
        args: [op, ETHEREUM],
      });
      await expectRevert(
        f.updateMetadata(op, ETHEREUM, { ...metadata, signer: oldKey.address }),
        "SignerRetired",
      );
      // Whoever holds the leaked key cannot bind it to another operator (to frame it, or to sign as it).
      await f.stake(other, 10n * WAD, ETHEREUM);
      await expectRevert(
        f.registerForSet(other, ETHEREUM, f.encodeMetadata({ ...f.metadata(other), signer: oldKey.address })),
        "SignerTaken",
      );
    });
  });

  it("admits watchers and gateways only when governance listed them and they are staked", async () => {
    await f.stake(f.outsider, 10n * WAD, WATCHER_SET);
    await expectRevert(f.registerForSet(f.outsider, WATCHER_SET), "NotAdmitted");
    const [watcher] = f.watchers as [Address];
    await f.stake(watcher, WAD, WATCHER_SET); // 0.5 allocated < 1
    await expectRevert(f.registerForSet(watcher, WATCHER_SET), "InsufficientStake");
    await f.stake(f.gateway, 4n * WAD, GATEWAY_SET);
    await f.registerForSet(f.gateway, GATEWAY_SET);
    const read = f.ledger.public.readContract;
    expect(await read({ ...f.registry, functionName: "isActiveGateway", args: [f.gateway] })).toBe(true);
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setGateway", args: [f.gateway, false] });
    expect(await read({ ...f.registry, functionName: "isActiveGateway", args: [f.gateway] })).toBe(false);
  });

  it("keeps networks apart: one network per registration, networks added by governance only", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.stake(op, 0n, POLYGON, WAD / 4n);
    await expectRevert(
      f.ledger.write(op, {
        ...f.am,
        functionName: "registerForOperatorSets",
        args: [
          op,
          {
            avs: f.addresses.registry,
            operatorSetIds: [ETHEREUM, POLYGON],
            data: f.encodeMetadata(f.metadata(op)),
          },
        ],
      }),
      "OneNetworkPerRegistration",
    );
    await expectRevert(
      f.ledger.write(f.outsider, {
        ...f.registry,
        functionName: "addNetwork",
        args: [3, "base", 8453n, WAD],
      }),
      "AccessControlUnauthorizedAccount",
    );
    await f.ledger.write(f.deployer, {
      ...f.registry,
      functionName: "addNetwork",
      args: [3, "base", 8453n, WAD],
    });
    await expectRevert(
      f.ledger.write(f.deployer, {
        ...f.registry,
        functionName: "addNetwork",
        args: [4, "base2", 8453n, WAD],
      }),
      "NetworkExists",
    );
  });

  it("refuses registration while the guardian has paused it", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.ledger.write(f.guardian, { ...f.registry, functionName: "pause", args: [] });
    await expectRevert(f.registerForSet(op, ETHEREUM, f.encodeMetadata(f.metadata(op))), "EnforcedPause");
  });
  it("lets anyone eject an operator whose allocated stake fell below the minimum", async () => {
    await f.registerOperator(op); // 5 allocated, minimum 1
    const ejectUnderstaked = () =>
      f.ledger.write(f.outsider, { ...f.registry, functionName: "ejectUnderstaked", args: [op, ETHEREUM] });
    await expectRevert(ejectUnderstaked(), "StakeNotBelowMinimum");
    await f.ledger.write(f.deployer, {
      ...f.registry,
      functionName: "setMinStake",
      args: [ETHEREUM, 6n * WAD],
    });
    await ejectUnderstaked();
    expect(await f.isMember(op)).toBe(false);
    await expectRevert(ejectUnderstaked(), "NotRegistered");
  });
});
