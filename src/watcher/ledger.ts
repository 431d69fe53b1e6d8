// The watcher's ledger: the narrow interfaces its parts declare (ReportLedger, EvidenceLedger, KeeperLedger)
// implemented over one viem public client and one wallet. Transactions go one at a time (nonces never
// collide), and each resolves once mined successfully: a reverted receipt is an error.
import type { Account, Address, Chain, Hash, Hex, PublicClient, Transport, WalletClient } from "viem";
import { getAddress } from "viem";
import {
  allocationManagerAbi,
  dinEpochsAbi,
  dinRegistryAbi,
  dinSlasherAbi,
} from "../ledger/artifacts/index.js";
import type { DinAddresses } from "../ledger/din/deploy.js";
import { readEpochClock, readSlashes, type SlashRecord } from "../ledger/din/directory.js";
import {
  type OperatorMetrics,
  readEpochReportPages,
  readEpochUsagePages,
  readFinalization,
  runFinalization,
} from "../ledger/din/epochs.js";
import { blockHeader } from "../ledger/din/header.js";
import { GATEWAY_SET, WATCHER_SET } from "../ledger/din/registry.js";
import type { Relay } from "../ledger/din/relay.js";
import { TransactionQueue, waitMined } from "../ledger/send.js";
import type { KeeperLedger } from "./keeper.js";
import type { EvidenceLedger } from "./prover.js";
import type { ReportLedger } from "./reporter.js";

/** The epoch the ledger is in, with its bounds and parameters. */
export type EpochClock = Awaited<ReturnType<typeof readEpochClock>>;

/** The ledger as one watcher reads and writes it. */
export class WatcherLedger implements ReportLedger, EvidenceLedger, KeeperLedger {
  private readonly transactions = new TransactionQueue();
  private readonly epochs: { address: Address; abi: typeof dinEpochsAbi };
  private readonly slasher: { address: Address; abi: typeof dinSlasherAbi };
  private readonly registry: { address: Address; abi: typeof dinRegistryAbi };

  constructor(
    readonly client: PublicClient<Transport, Chain>,
    readonly wallet: WalletClient<Transport, Chain, Account>,
    private readonly addresses: DinAddresses,
    /** The watcher's address (whose reports are asked about). */
    private readonly self: Address,
  ) {
    this.epochs = { address: addresses.epochs, abi: dinEpochsAbi };
    this.slasher = { address: addresses.slasher, abi: dinSlasherAbi };
    this.registry = { address: addresses.registry, abi: dinRegistryAbi };
  }

  /** Sends one transaction at a time (nonces never collide) and waits for it to be mined successfully. */
  send(what: string, write: () => Promise<Hash>): Promise<Hash> {
    return this.transactions.run(async () => waitMined(this.client, await write(), what));
  }

  /** The account and chain every write is sent with. */
  private get sender() {
    return { account: this.wallet.account, chain: this.wallet.chain };
  }

  // ---- following ----

  epochClock(): Promise<EpochClock> {
    return readEpochClock(this.client, this.addresses.epochs);
  }

  isActiveWatcher(watcher: Address): Promise<boolean> {
    return this.client.readContract({ ...this.registry, functionName: "isActiveWatcher", args: [watcher] });
  }

  /** Active members of the watcher or gateway set, sorted by address. */
  async activeMembers(setId: number): Promise<Address[]> {
    const members = await this.client.readContract({
      address: this.addresses.allocationManager,
      abi: allocationManagerAbi,
      functionName: "getMembers",
      args: [{ avs: this.addresses.registry, id: setId }],
    });
    const active = await Promise.all(
      members.map((m) =>
        this.client.readContract({
          ...this.registry,
          functionName: setId === WATCHER_SET ? "isActiveWatcher" : "isActiveGateway",
          args: [m],
        }),
      ),
    );
    return members
      .filter((_, i) => active[i])
      .map((m) => getAddress(m))
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  }

  activeWatchers(): Promise<Address[]> {
    return this.activeMembers(WATCHER_SET);
  }

  activeGateways(): Promise<Address[]> {
    return this.activeMembers(GATEWAY_SET);
  }

  // ---- reports ----

  reportDeadline(epoch: bigint): Promise<bigint> {
    return this.client.readContract({ ...this.epochs, functionName: "reportDeadline", args: [epoch] });
  }

  hasReported(networkId: number, epoch: bigint): Promise<boolean> {
    return this.client.readContract({
      ...this.epochs,
      functionName: "hasReported",
      args: [networkId, epoch, this.self],
    });
  }

  reportPages(networkId: number, epoch: bigint): Promise<bigint> {
    return this.client.readContract({
      ...this.epochs,
      functionName: "reportPages",
      args: [networkId, epoch, this.self, false],
    });
  }

  submitReportPage(
    networkId: number,
    epoch: bigint,
    page: bigint,
    last: boolean,
    metrics: readonly OperatorMetrics[],
  ): Promise<Hash> {
    return this.send("submitReportPage", () =>
      this.wallet.writeContract({
        ...this.epochs,
        ...this.sender,
        functionName: "submitReportPage",
        args: [networkId, epoch, page, last, metrics],
      }),
    );
  }

  // ---- finalization ----

  async getEpoch(networkId: number, epoch: bigint): Promise<{ reportCount: bigint; finalized: boolean }> {
    const [, reportCount, finalized] = await this.client.readContract({
      ...this.epochs,
      functionName: "getEpoch",
      args: [networkId, epoch],
    });
    return { reportCount, finalized };
  }

  epochBounds(epoch: bigint): Promise<readonly [bigint, bigint]> {
    return this.client.readContract({ ...this.epochs, functionName: "epochBounds", args: [epoch] });
  }

  usageReportCount(networkId: number, epoch: bigint): Promise<bigint> {
    return this.client.readContract({
      ...this.epochs,
      functionName: "usageReportCount",
      args: [networkId, epoch],
    });
  }

  async finalize(networkId: number, epoch: bigint, fromBlock: bigint): Promise<void> {
    const { client } = this;
    const address = this.addresses.epochs;
    const [reports, usage] = await Promise.all([
      readEpochReportPages(client, address, networkId, epoch, fromBlock),
      readEpochUsagePages(client, address, networkId, epoch, fromBlock),
    ]);
    await runFinalization(
      networkId,
      epoch,
      reports,
      usage,
      () => readFinalization(client, address, networkId, epoch),
      async (step) => {
        await this.send(step.functionName, () =>
          this.wallet.writeContract({ ...this.epochs, ...step, ...this.sender } as Parameters<
            typeof this.wallet.writeContract
          >[0]),
        );
      },
    );
  }

  // ---- slashes ----

  readSlashes(fromId: bigint): Promise<SlashRecord[]> {
    return readSlashes(this.client, this.addresses, fromId);
  }

  execute(slashId: bigint): Promise<Hash> {
    return this.send("execute", () =>
      this.wallet.writeContract({
        ...this.slasher,
        ...this.sender,
        functionName: "execute",
        args: [slashId],
      }),
    );
  }

  // ---- evidence ----

  relayUsed(digest: Hex): Promise<boolean> {
    return this.client.readContract({ ...this.slasher, functionName: "relayUsed", args: [digest] });
  }

  isJailed(operator: Address, networkId: number): Promise<boolean> {
    return this.client.readContract({
      ...this.registry,
      functionName: "isJailed",
      args: [operator, networkId],
    });
  }

  finalityDelay(): Promise<bigint> {
    return this.client.readContract({ ...this.slasher, functionName: "finalityDelay" });
  }

  async block(blockNumber: bigint): Promise<{ hash: Hex; timestamp: bigint }> {
    const { hash, timestamp } = await this.client.getBlock({ blockNumber });
    return { hash, timestamp };
  }

  blockHeader(blockNumber: bigint): Promise<Hex> {
    return blockHeader(this.client, blockNumber);
  }

  proveWrongBlockHash(relay: Relay, signature: Hex, header: Hex): Promise<Hash> {
    return this.send("proveWrongBlockHash", () =>
      this.wallet.writeContract({
        ...this.slasher,
        ...this.sender,
        functionName: "proveWrongBlockHash",
        args: [relay, signature, header],
      }),
    );
  }

  attestBlockHash(chainId: bigint, blockNumber: bigint, hash: Hex): Promise<Hash> {
    return this.send("attestBlockHash", () =>
      this.wallet.writeContract({
        ...this.slasher,
        ...this.sender,
        functionName: "attestBlockHash",
        args: [chainId, blockNumber, hash],
      }),
    );
  }

  canonicalHash(chainId: bigint, blockNumber: bigint): Promise<Hex> {
    return this.client.readContract({
      ...this.slasher,
      functionName: "canonicalHash",
      args: [chainId, blockNumber],
    });
  }

  canonicalFixedAt(chainId: bigint, blockNumber: bigint): Promise<bigint> {
    return this.client.readContract({
      ...this.slasher,
      functionName: "canonicalFixedAt",
      args: [chainId, blockNumber],
    });
  }

  proveWrongBlockHashAttested(relay: Relay, signature: Hex): Promise<Hash> {
    return this.send("proveWrongBlockHashAttested", () =>
      this.wallet.writeContract({
        ...this.slasher,
        ...this.sender,
        functionName: "proveWrongBlockHashAttested",
        args: [relay, signature],
      }),
    );
  }
}
