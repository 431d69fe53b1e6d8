// Registration on a network: metadata, minimum stake, unique endpoints, governed watcher and gateway sets.
import { type Address, type Hex, keccak256, toHex, zeroAddress } from "viem";
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

  it("refuses a second registration of the same endpoint, and invalid metadata", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.stake(other, 10n * WAD, ETHEREUM);
    await f.registerForSet(
      op,
      ETHEREUM,
      f.encodeMetadata(f.metadata(op, { endpoint: "https://same.example" })),
    );
    await expectRevert(
      f.registerForSet(
        other,
        ETHEREUM,
        f.encodeMetadata(f.metadata(other, { endpoint: "https://same.example" })),
      ),
      "EndpointTaken",
    );
    await expectRevert(
      f.registerForSet(other, ETHEREUM, f.encodeMetadata({ ...f.metadata(other), cloud: "" })),
      "InvalidMetadata",
    );
    await expectRevert(
      f.registerForSet(
        other,
        ETHEREUM,
        f.encodeMetadata(f.metadata(other, { signer: f.metadata(op).signer })),
      ),
      "SignerTaken",
    );
  });

  it("lets an operator update its metadata, freeing its old endpoint; deregistration frees it too", async () => {
    await f.stake(op, 10n * WAD, ETHEREUM);
    await f.registerForSet(
      op,
      ETHEREUM,
      f.encodeMetadata(f.metadata(op, { endpoint: "https://old.example" })),
    );
    const updated = { ...f.metadata(op, { endpoint: "https://new.example" }), region: "us-east-1" };
    await f.ledger.write(op, { ...f.registry, functionName: "updateMetadata", args: [ETHEREUM, updated] });
    const read = f.ledger.public.readContract;
    expect(await read({ ...f.registry, functionName: "getMetadata", args: [op, ETHEREUM] })).toMatchObject(
      updated,
    );
    await f.stake(other, 10n * WAD, ETHEREUM);
    await f.registerForSet(
      other,
      ETHEREUM,
      f.encodeMetadata(f.metadata(other, { endpoint: "https://old.example" })),
    );
    await expectRevert(
      f.ledger.write(f.outsider, {
        ...f.registry,
        functionName: "updateMetadata",
        args: [ETHEREUM, updated],
      }),
      "NotRegistered",
    );
    await f.ledger.write(op, {
      ...f.am,
      functionName: "deregisterFromOperatorSets",
      args: [{ operator: op, avs: f.addresses.registry, operatorSetIds: [ETHEREUM] }],
    });
    expect(
      await read({
        ...f.registry,
        functionName: "endpointOwner",
        args: [keccak256(toHex("https://new.example"))],
      }),
    ).toBe(zeroAddress);
    expect(await f.isMember(op)).toBe(false);
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
