// A stolen rewards-updater key publishes a root that pays the thief every escrowed fee. The root waits out
// its activation delay, during which the guardian (the root guardian the DIN deployment names) disables it;
// nobody else can, an active root cannot be disabled, and governance (the coordinator's owner) names the
// guardian.
import type { Address, Hex } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockERC20Abi } from "../../src/ledger/artifacts/index.js";
import { DEVNET_DIN_PARAMS } from "../../src/ledger/din/deploy.js";
import { LedgerActionError } from "../../src/ledger/din/perform.js";
import { disableRewardsRoot, listRewardsRoots } from "../../src/ledger/din/rewardsRoots.js";
import { buildRewardsTree } from "../../src/ledger/rewards.js";
import { type DinFixture, deployDinFixture, expectRevert, WAD } from "./fixture.js";

const DELAY = 3600;

describe("rewards roots under a stolen updater key", () => {
  let f: DinFixture;
  let snapshot: Hex;
  let escrow: bigint;

  /** The thief's root: everything the coordinator holds, to the thief. Returns its index and claim. */
  const publishTheft = async () => {
    const thief = f.outsider;
    const tree = buildRewardsTree(new Map([[`${thief}:${f.addresses.feeToken}`, escrow]]));
    await f.ledger.test.increaseTime({ seconds: 2 });
    await f.ledger.mine(1);
    const end = (await f.ledger.public.getBlock()).timestamp - 1n;
    await f.ledger.write(f.deployer, { ...f.rc, functionName: "submitRoot", args: [tree.root, Number(end)] });
    const rootIndex =
      Number(await f.ledger.public.readContract({ ...f.rc, functionName: "getDistributionRootsLength" })) - 1;
    const proof = tree.claim(thief, [f.addresses.feeToken]);
    if (!proof) throw new Error("the thief's tree has no claim for it");
    const claim = () =>
      f.ledger.write(thief, {
        ...f.rc,
        functionName: "processClaim",
        args: [{ rootIndex, ...proof }, thief],
      });
    return { rootIndex, claim };
  };
  const pastDelay = async () => {
    await f.ledger.test.increaseTime({ seconds: DELAY + 1 });
    await f.ledger.mine(1);
  };
  const actor = (who: Address) => ({
    clients: { wallet: f.ledger.wallet(who), public: f.ledger.public },
    deployment: f.deployment,
  });

  beforeAll(async () => {
    f = await deployDinFixture({
      params: { restaking: { ...DEVNET_DIN_PARAMS.restaking, rewardsActivationDelay: DELAY } },
    });
    // Fees escrowed for operators and stakers.
    escrow = 1_000n * WAD;
    await f.ledger.write(f.deployer, {
      address: f.addresses.feeToken,
      abi: mockERC20Abi,
      functionName: "mint",
      args: [f.addresses.rewardsCoordinator, escrow],
    });
    await f.ledger.fund(f.outsider);
    await f.ledger.mine(2);
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });

  it("lets the thief drain the escrow when nobody disables the root (the attack is real)", async () => {
    const { claim } = await publishTheft();
    await expectRevert(claim(), "RootNotActivated");
    await pastDelay();
    await claim();
    expect(await f.balanceOf(f.outsider)).toBe(escrow);
  });

  it("names the deployment's guardian as root guardian; the guardian disables the root and the claim fails", async () => {
    expect(await f.ledger.public.readContract({ ...f.rc, functionName: "rootGuardian" })).toBe(f.guardian);
    const { rootIndex, claim } = await publishTheft();
    const listed = await listRewardsRoots(f.ledger.public, f.deployment);
    expect(listed.roots[rootIndex]?.status).toBe("pending");
    const done = await disableRewardsRoot(actor(f.guardian), { rootIndex });
    expect(done.summary).toContain(`disabled rewards root ${rootIndex}`);
    expect(done.transactions).toHaveLength(1);
    expect((await listRewardsRoots(f.ledger.public, f.deployment)).roots[rootIndex]?.status).toBe("disabled");
    await pastDelay();
    await expectRevert(claim(), "RootDisabled");
    expect(await f.balanceOf(f.addresses.rewardsCoordinator)).toBe(escrow);
  });

  it("refuses an outsider's disable, and a disable once the root is active", async () => {
    const { rootIndex } = await publishTheft();
    await expectRevert(
      f.ledger.write(f.alice, { ...f.rc, functionName: "disableRoot", args: [rootIndex] }),
      "UnauthorizedCaller",
    );
    await expect(disableRewardsRoot(actor(f.alice), { rootIndex })).rejects.toThrow(LedgerActionError);
    await pastDelay();
    expect((await listRewardsRoots(f.ledger.public, f.deployment)).roots[rootIndex]?.status).toBe("active");
    await expect(disableRewardsRoot(actor(f.guardian), { rootIndex })).rejects.toThrow(/cannot be disabled/);
    await expectRevert(
      f.ledger.write(f.guardian, { ...f.rc, functionName: "disableRoot", args: [rootIndex] }),
      "RootAlreadyActivated",
    );
  });

  it("lets only the coordinator's owner name or remove the root guardian", async () => {
    await expect(
      f.ledger.write(f.guardian, { ...f.rc, functionName: "setRootGuardian", args: [f.guardian] }),
    ).rejects.toThrow();
    await f.ledger.write(f.deployer, { ...f.rc, functionName: "setRootGuardian", args: [f.bob] });
    const { rootIndex } = await publishTheft();
    await expectRevert(
      f.ledger.write(f.guardian, { ...f.rc, functionName: "disableRoot", args: [rootIndex] }),
      "UnauthorizedCaller",
    );
    await f.ledger.fund(f.bob);
    await f.ledger.write(f.bob, { ...f.rc, functionName: "disableRoot", args: [rootIndex] });
  });
});
