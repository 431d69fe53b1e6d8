/**
 * Usage as the ledger pays for it: the relays each operator served (answered) through this gateway are
 * counted per network and epoch. During an epoch, once 60% of its blocks have passed, the fees earned so
 * far (relays × feePerRelay) are paid into it (DinEpochs.payFees), and what accrues later is topped up on
 * each new block while the epoch lasts (relays counted after its last top-up are paid into the next
 * epoch). Right after an epoch ends, its counts are reported (DinEpochs.reportUsage): that transaction,
 * sent from the gateway's key, is its signed report. Fees and report come from the same key because the
 * ledger splits each gateway's fees for an epoch by that gateway's own report only (fees paid without a
 * report stay carried for the gateway). Failures are logged and retried on the next block.
 */
import type { Logger } from "pino";
import type { Address, Chain, PublicClient, Transport } from "viem";
import { dinEpochsAbi, mockERC20Abi } from "../ledger/artifacts/index.js";
import { sortUsage, toPages } from "../ledger/din/epochs.js";
import { revertOf } from "../ledger/din/revert.js";
import type { LedgerTransactions } from "./ledgerTransactions.js";

/** Share of an epoch's blocks after which its fees are paid. */
export const FEE_PAYMENT_PROGRESS = 0.6;

/** The current epoch as `readEpochClock` reads it. */
export interface EpochClock {
  epoch: bigint;
  /** First block of the epoch. */
  start: bigint;
  /** First block after it. */
  end: bigint;
}

export interface UsageReporterOptions {
  publicClient: PublicClient<Transport, Chain>;
  /** Undefined without a ledger key: relays are counted, nothing is paid or reported. */
  transactions: LedgerTransactions | undefined;
  epochs: Address;
  feeToken: Address;
  /** Fee per relay in the token's smallest unit. */
  feePerRelay: bigint;
  logger: Logger;
}

type Counts = Map<Address, number>;

export class UsageReporter {
  /** Epoch the counters below belong to; undefined until the first sync. */
  private epoch: bigint | undefined;
  /** networkId → operator → relays this epoch (the hot path touches only this). */
  private current = new Map<number, Counts>();
  /** Ended epochs not reported yet: `${networkId}:${epoch}` → counts. */
  private readonly unreported = new Map<string, { networkId: number; epoch: bigint; counts: Counts }>();
  /** networkId → relays served and not paid for yet. */
  private readonly unpaid = new Map<number, number>();
  private busy = false;
  private warnedBalance = false;

  constructor(private readonly options: UsageReporterOptions) {}

  /** The epoch relays are counted in now. */
  get currentEpoch(): bigint | undefined {
    return this.epoch;
  }

  /** One relay answered by `operator` on `networkId`. */
  served(networkId: number, operator: Address): void {
    let counts = this.current.get(networkId);
    if (!counts) {
      counts = new Map();
      this.current.set(networkId, counts);
    }
    counts.set(operator, (counts.get(operator) ?? 0) + 1);
    this.unpaid.set(networkId, (this.unpaid.get(networkId) ?? 0) + 1);
  }

  relaysThisEpoch(networkId: number, operator: Address): number {
    return this.current.get(networkId)?.get(operator) ?? 0;
  }

  /**
   * A new ledger block: rolls the counters into the new epoch when it changed, then (in the background,
   * one round at a time) reports ended epochs and pays fees.
   */
  onBlock(block: bigint, clock: EpochClock): void {
    if (this.epoch === undefined) this.epoch = clock.epoch;
    else if (clock.epoch !== this.epoch) {
      for (const [networkId, counts] of this.current) {
        if (counts.size > 0) {
          this.unreported.set(`${networkId}:${this.epoch}`, { networkId, epoch: this.epoch, counts });
        }
      }
      this.current = new Map();
      this.epoch = clock.epoch;
    }
    if (this.busy || !this.options.transactions) return;
    this.busy = true;
    this.settle(block, clock)
      .catch((error: unknown) => {
        this.options.logger.warn(
          { err: describe(error) },
          "usage settlement failed; retrying on the next block",
        );
      })
      .finally(() => {
        this.busy = false;
      });
  }

  private async settle(block: bigint, clock: EpochClock): Promise<void> {
    for (const [key, report] of [...this.unreported]) {
      await this.report(report.networkId, report.epoch, report.counts);
      this.unreported.delete(key);
    }
    const length = clock.end - clock.start;
    const passed = block - clock.start;
    if (length <= 0n || Number(passed) < Number(length) * FEE_PAYMENT_PROGRESS) return;
    for (const [networkId, relays] of [...this.unpaid]) {
      if (relays === 0) continue;
      if (await this.pay(networkId, relays)) {
        this.unpaid.set(networkId, (this.unpaid.get(networkId) ?? relays) - relays);
      }
    }
  }

  private async report(networkId: number, epoch: bigint, counts: Counts): Promise<void> {
    const usage = sortUsage([...counts].map(([operator, relays]) => ({ operator, relays: BigInt(relays) })));
    try {
      // Page by page, resuming after the pages already on the ledger; the last page completes the report.
      const pages = toPages(usage);
      const posted = await this.options.publicClient.readContract({
        address: this.options.epochs,
        abi: dinEpochsAbi,
        functionName: "reportPages",
        args: [networkId, epoch, this.options.transactions!.account.address, true],
      });
      for (let page = Number(posted); page < pages.length; page++) {
        await this.options.transactions!.send({
          address: this.options.epochs,
          abi: dinEpochsAbi,
          functionName: "reportUsagePage",
          args: [networkId, epoch, BigInt(page), page === pages.length - 1, pages[page] ?? []],
        });
      }
    } catch (error) {
      const reason = describe(error);
      // Already on the ledger (a retry after a lost receipt), or too late to count: nothing to redo.
      if (usageNotNeeded.has(revertOf(error)?.errorName ?? "")) {
        this.options.logger.warn({ networkId, epoch: epoch.toString(), reason }, "usage report not needed");
        return;
      }
      throw error;
    }
    this.options.logger.info(
      { networkId, epoch: epoch.toString(), operators: usage.length },
      "usage reported to the ledger",
    );
  }

  /** Pays `relays` × feePerRelay into the current epoch; false when the balance is too low. */
  private async pay(networkId: number, relays: number): Promise<boolean> {
    const { publicClient, feeToken, epochs, logger } = this.options;
    const transactions = this.options.transactions!;
    const amount = BigInt(relays) * this.options.feePerRelay;
    if (amount === 0n) return true;
    const owner = transactions.account.address;
    const token = { address: feeToken, abi: mockERC20Abi } as const;
    const balance = await publicClient.readContract({ ...token, functionName: "balanceOf", args: [owner] });
    if (balance < amount) {
      if (!this.warnedBalance) {
        logger.warn(
          { account: owner, feeToken, balance: balance.toString(), needed: amount.toString() },
          "the gateway's fee token balance is too low to pay for its relays: fund this account",
        );
        this.warnedBalance = true;
      }
      return false;
    }
    this.warnedBalance = false;
    const allowance = await publicClient.readContract({
      ...token,
      functionName: "allowance",
      args: [owner, epochs],
    });
    if (allowance < amount) {
      await transactions.send({ ...token, functionName: "approve", args: [epochs, amount] });
    }
    await transactions.send({
      address: epochs,
      abi: dinEpochsAbi,
      functionName: "payFees",
      args: [networkId, amount],
    });
    logger.info({ networkId, relays, amount: amount.toString() }, "fees paid to the ledger");
    return true;
  }
}

/** Reverts that say the epoch's usage report is already on the ledger or too late to count. */
const usageNotNeeded = new Set(["UsageAlreadyReported", "AlreadyFinalized", "FinalizationStarted"]);

function describe(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error) {
    const e = error as { shortMessage: string; metaMessages?: string[] };
    return [e.shortMessage, ...(e.metaMessages ?? [])].join(" ").slice(0, 500);
  }
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}
