// The guardian trying to stop slashing (or registrations and key rotations) for good: a pause expires by itself
// after MAX_PAUSE_BLOCKS, and a new one waits as long as the last one lasted, so chained pauses stop the
// contract for at most half of any long stretch.
import type { Hex } from "viem";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pauseStatus, setPaused } from "../../src/ledger/din/pauses.js";
import { LedgerActionError } from "../../src/ledger/din/perform.js";
import { type DinFixture, deployDinFixture, expectRevert } from "./fixture.js";

const MAX_PAUSE_BLOCKS = 21_600;

describe("guardian pauses", () => {
  let f: DinFixture;
  let snapshot: Hex;

  beforeAll(async () => {
    f = await deployDinFixture();
    snapshot = await f.ledger.snapshot();
  });
  beforeEach(async () => {
    await f.ledger.revert(snapshot);
    snapshot = await f.ledger.snapshot();
  });

  for (const name of ["slasher", "registry", "epochs"] as const) {
    describe(name, () => {
      const contract = () => f[name];
      const paused = () =>
        f.ledger.public.readContract({ ...contract(), functionName: "paused" } as never) as Promise<boolean>;
      const pause = () =>
        f.ledger.write(f.guardian, { ...contract(), functionName: "pause", args: [] } as never);
      const unpause = () =>
        f.ledger.write(f.guardian, { ...contract(), functionName: "unpause", args: [] } as never);

      const read = async (functionName: "pausedUntil" | "pauseReadyAt") =>
        BigInt((await f.ledger.public.readContract({ ...contract(), functionName } as never)) as bigint);
      /** Mines until the next transaction lands in block `n`. */
      const nextBlockIs = async (n: bigint) => {
        const head = await f.ledger.blockNumber();
        if (n - 1n > head) await f.ledger.mine(Number(n - 1n - head));
      };

      it("expires by itself, and a pause chained on its end is refused until as long again has passed", async () => {
        await pause();
        const began = await f.ledger.blockNumber();
        expect(await read("pausedUntil")).toBe(began + BigInt(MAX_PAUSE_BLOCKS));
        expect(await paused()).toBe(true);
        await expectRevert(pause(), "EnforcedPause");
        await nextBlockIs(began + BigInt(MAX_PAUSE_BLOCKS));
        await expectRevert(pause(), "PauseCoolingDown");
        expect(await paused()).toBe(false);
        const readyAt = await read("pauseReadyAt");
        expect(readyAt).toBe(began + 2n * BigInt(MAX_PAUSE_BLOCKS));
        await nextBlockIs(readyAt - 1n);
        await expectRevert(pause(), "PauseCoolingDown");
        await pause();
        expect(await paused()).toBe(true);
      });

      it("lets a short pause, lifted early, be followed by another after as short a wait", async () => {
        await pause();
        const began = await f.ledger.blockNumber();
        await nextBlockIs(began + 10n);
        await unpause();
        expect(await paused()).toBe(false);
        await expectRevert(unpause(), "ExpectedPause");
        expect(await read("pauseReadyAt")).toBe(began + 20n);
        await nextBlockIs(began + 19n);
        await expectRevert(pause(), "PauseCoolingDown");
        await pause();
        expect(await paused()).toBe(true);
      });

      it("refuses a pause from anyone but the guardian", async () => {
        await expect(
          f.ledger.write(f.outsider, { ...contract(), functionName: "pause", args: [] } as never),
        ).rejects.toThrow();
      });
    });
  }

  describe("din guardian pause|unpause|pauses", () => {
    const actor = (who: `0x${string}`) => ({
      clients: { wallet: f.ledger.wallet(who), public: f.ledger.public },
      deployment: f.deployment,
    });

    it("pauses and lifts each contract as the guardian, says until when, and refuses what the contract would", async () => {
      for (const contract of ["registry", "slasher", "epochs"] as const) {
        const paused = await setPaused(actor(f.guardian), { contract, paused: true });
        const began = await f.ledger.blockNumber();
        expect(paused.summary).toContain(
          `paused the ${contract} until block ${began + BigInt(MAX_PAUSE_BLOCKS)}`,
        );
        await expect(setPaused(actor(f.guardian), { contract, paused: true })).rejects.toThrow(
          /already paused/,
        );
        await expect(setPaused(actor(f.outsider), { contract, paused: false })).rejects.toThrow(
          LedgerActionError,
        );
        await f.ledger.mine(5);
        const status = await pauseStatus(f.ledger.public, f.deployment);
        expect(status.contracts.find((c) => c.contract === contract)?.paused).toBe(true);
        const lifted = await setPaused(actor(f.guardian), { contract, paused: false });
        expect(lifted.summary).toContain(
          `a new pause may start at block ${2n * (await f.ledger.blockNumber()) - began}`,
        );
        await expect(setPaused(actor(f.guardian), { contract, paused: true })).rejects.toThrow(
          /paused recently/,
        );
        await expect(setPaused(actor(f.guardian), { contract, paused: false })).rejects.toThrow(/not paused/);
      }
    });
  });
});
