// The DAO owns every setter: a proposal passes, waits in the timelock and changes the SLA table (and retires
// the guardian's veto); direct calls revert. Setters keep the slashing timing rule.
import { type Address, encodeFunctionData, type Hex, keccak256, toHex } from "viem";
import { beforeAll, describe, expect, it } from "vitest";
import {
  dinEpochsAbi,
  dinGovernorAbi,
  dinSlasherAbi,
  dinTokenAbi,
} from "../../src/ledger/artifacts/index.js";
import { DEFAULT_SLA_TABLE, VETO_ROLE } from "../../src/ledger/din/deploy.js";
import { type DinFixture, deployDinFixture, expectRevert } from "./fixture.js";

describe("governance", () => {
  let f: DinFixture;
  let governor: { address: Address; abi: typeof dinGovernorAbi };

  beforeAll(async () => {
    f = await deployDinFixture({ keepDeployerRoles: false });
    governor = { address: f.addresses.governor, abi: dinGovernorAbi };
    await f.ledger.write(f.deployer, {
      address: f.addresses.governanceToken,
      abi: dinTokenAbi,
      functionName: "delegate",
      args: [f.deployer],
    });
  });

  it("refuses a direct call to a setter: only the timelock governs", async () => {
    const table = { ...DEFAULT_SLA_TABLE, maxP50LatencyMs: 300 };
    await expectRevert(
      f.ledger.write(f.deployer, { ...f.epochs, functionName: "setSlaTable", args: [table] }),
      "AccessControlUnauthorizedAccount",
    );
    const read = f.ledger.public.readContract;
    expect(
      await read({
        ...f.epochs,
        functionName: "hasRole",
        args: [keccak256(toHex("GOVERNANCE_ROLE")), f.addresses.timelock],
      }),
    ).toBe(true);
    expect(await read({ ...f.slasher, functionName: "hasRole", args: [VETO_ROLE, f.guardian] })).toBe(true);
  });

  it("passes a proposal that waits in the timelock, then changes the SLA threshold and retires the guardian's veto", async () => {
    const table = { ...DEFAULT_SLA_TABLE, maxP50LatencyMs: 300 };
    const targets = [f.addresses.epochs, f.addresses.slasher];
    const values = [0n, 0n];
    const calldatas: Hex[] = [
      encodeFunctionData({ abi: dinEpochsAbi, functionName: "setSlaTable", args: [table] }),
      encodeFunctionData({ abi: dinSlasherAbi, functionName: "revokeRole", args: [VETO_ROLE, f.guardian] }),
    ];
    const description = "Raise the p50 latency threshold to 300 ms; retire the guardian's veto";
    const descriptionHash = keccak256(toHex(description));
    await f.ledger.write(f.deployer, {
      ...governor,
      functionName: "propose",
      args: [targets, values, calldatas, description],
    });
    const id = await f.ledger.public.readContract({
      ...governor,
      functionName: "hashProposal",
      args: [targets, values, calldatas, descriptionHash],
    });
    const g = f.deployment.params.governance;
    await f.ledger.mine(g.votingDelay + 1);
    await f.ledger.write(f.deployer, { ...governor, functionName: "castVote", args: [id, 1] });
    await f.ledger.mine(g.votingPeriod + 1);
    const state = () => f.ledger.public.readContract({ ...governor, functionName: "state", args: [id] });
    expect(await state()).toBe(4); // Succeeded
    await f.ledger.write(f.deployer, {
      ...governor,
      functionName: "queue",
      args: [targets, values, calldatas, descriptionHash],
    });
    expect(await state()).toBe(5); // Queued
    await expectRevert(
      f.ledger.write(f.deployer, {
        ...governor,
        functionName: "execute",
        args: [targets, values, calldatas, descriptionHash],
      }),
      "TimelockUnexpectedOperationState",
    );
    await f.ledger.test.increaseTime({ seconds: Number(g.timelockDelay) + 1 });
    await f.ledger.write(f.outsider, {
      ...governor,
      functionName: "execute",
      args: [targets, values, calldatas, descriptionHash],
    });
    expect(await state()).toBe(7); // Executed
    const read = f.ledger.public.readContract;
    expect((await read({ ...f.epochs, functionName: "getSlaTable" })).maxP50LatencyMs).toBe(300);
    expect(await read({ ...f.slasher, functionName: "hasRole", args: [VETO_ROLE, f.guardian] })).toBe(false);
    await expectRevert(
      f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [0n] }),
      "AccessControlUnauthorizedAccount",
    );
  });
});

describe("the timing rule in the setters", () => {
  let f: DinFixture;

  beforeAll(async () => {
    f = await deployDinFixture();
  });

  it("refuses a veto window that would let an operator withdraw before the slash lands", async () => {
    // devnet: epoch 20 + report window 10 + veto + margin 10 must stay below the core's 300-block delays.
    const params = { ...f.deployment.params.slash, vetoWindow: 260 };
    await expectRevert(
      f.ledger.write(f.deployer, { ...f.slasher, functionName: "setSlashParams", args: [params] }),
      "TimingRuleViolated",
    );
    await f.ledger.write(f.deployer, {
      ...f.slasher,
      functionName: "setSlashParams",
      args: [{ ...params, vetoWindow: 259 }],
    });
  });

  it("refuses epochs too long for the veto window, and applies a new length from the next epoch", async () => {
    // After the previous test: 20 + 10 + 259 + 10 = 299 < 300, so 21 blocks is one too many.
    const epochs = f.deployment.params.epochs;
    await expectRevert(
      f.ledger.write(f.deployer, {
        ...f.epochs,
        functionName: "setEpochParams",
        args: [{ ...epochs, epochLength: 21 }],
      }),
      "TimingRuleViolated",
    );
    const current = await f.currentEpoch();
    await f.ledger.write(f.deployer, {
      ...f.epochs,
      functionName: "setEpochParams",
      args: [{ ...epochs, epochLength: 5 }],
    });
    const [start, end] = await f.epochBounds(current);
    expect(end - start).toBe(20n);
    const [nextStart, nextEnd] = await f.epochBounds(current + 1n);
    expect(nextStart).toBe(end);
    expect(nextEnd - nextStart).toBe(5n);
  });
});
