/**
 * The gateway's link to the DIN ledger. It follows the registry (on start, then on every new ledger block
 * seen at most every `syncMs`): each network's operators become upstreams with their endpoint, labels,
 * stake, jail and queued slashes; requests to them carry the gateway's access token; a sample of relays
 * (and every quorum answer) is signed and checked; bad signatures and contradictions are kept as evidence
 * (proven on-chain when the ledger can check them); relays served are counted, paid for and reported per
 * epoch. An unreachable ledger leaves the last known operators in place.
 */
import type { Logger } from "pino";
import {
  type Account,
  type Address,
  type Chain,
  createWalletClient,
  custom,
  type Hash,
  type LocalAccount,
  type PublicClient,
  parseUnits,
  type Transport,
  type WalletClient,
} from "viem";
import { dinSlasherAbi } from "../ledger/artifacts/index.js";
import { AccessTokenCache } from "../ledger/din/auth.js";
import type { DinDeployment } from "../ledger/din/deploy.js";
import {
  connectLedger,
  type DirectoryOperator,
  findNetwork,
  readDeployment,
  readEpochClock,
  readOperators,
  readSlashes,
} from "../ledger/din/directory.js";
import { blockHeader } from "../ledger/din/header.js";
import { relayToJson } from "../ledger/din/relay.js";
import { revertOf } from "../ledger/din/revert.js";
import { riskSnapshot } from "../ledger/din/riskInputs.js";
import { loadSigningKey } from "../ledger/din/signingKey.js";
import {
  gatherStateEvidence,
  STATE_METHODS,
  StateEvidenceError,
  stateProofArgs,
} from "../ledger/din/stateProof.js";
import { ConfigError, type LedgerConfig } from "./config.js";
import {
  checkSignedReply,
  claimsBlock,
  EvidenceLog,
  type SignedRelay,
  signedRelayToJson,
} from "./evidence.js";
import { LedgerTransactions } from "./ledgerTransactions.js";
import type { GatewayMetrics } from "./metrics.js";
import { type Contradiction, ledgerUpstreamId, type Network } from "./network.js";
import { RelaySampler } from "./relaySampler.js";
import type { RelayHooks } from "./upstream.js";
import { type EpochClock, UsageReporter } from "./usageReporter.js";

export interface LedgerLinkOptions {
  config: LedgerConfig;
  networks: ReadonlyMap<string, Network>;
  logger: Logger;
  /** The gateway's ledger key. @default loaded from `keyFile` / `keyEnv`; none: no auth, no usage reports */
  account?: LocalAccount | undefined;
  /** A ledger client to use instead of connecting to `config.rpc` (e.g. an in-process chain). */
  client?: PublicClient<Transport, Chain> | undefined;
  /** Where the registry's risk figures (`din_risk_*`) go; none: not computed. */
  metrics?: Pick<GatewayMetrics, "risk"> | undefined;
}

interface Target {
  network: Network;
  networkId: number;
  hooks: RelayHooks;
}

export class LedgerLink {
  readonly deployment: DinDeployment;
  readonly evidence: EvidenceLog;
  readonly usage: UsageReporter;
  /** The gateway's ledger address; undefined when it runs without a key. */
  readonly account: Address | undefined;
  private readonly client: PublicClient<Transport, Chain>;
  private readonly transactions: LedgerTransactions | undefined;
  private readonly tokens: AccessTokenCache | undefined;
  private readonly targets: Target[];
  private readonly logger: Logger;
  private lastBlock: bigint | undefined;
  private clockState: EpochClock | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private unreachable = false;
  private stopped = false;

  constructor(private readonly options: LedgerLinkOptions) {
    const { config } = options;
    this.logger = options.logger.child({ component: "ledger" });
    let account: LocalAccount | undefined;
    try {
      this.deployment = readDeployment(config.deployment);
      account =
        options.account ??
        (config.keyFile !== undefined || config.keyEnv !== undefined
          ? loadSigningKey({
              ...(config.keyFile !== undefined ? { keyFile: config.keyFile } : {}),
              ...(config.keyEnv !== undefined ? { keyEnv: config.keyEnv } : {}),
            })
          : undefined);
    } catch (error) {
      throw new ConfigError(`ledger: ${(error as Error).message}`);
    }
    this.account = account?.address;
    let wallet: WalletClient<Transport, Chain, Account> | undefined;
    if (options.client) {
      this.client = options.client;
      const client = options.client;
      wallet = account
        ? (createWalletClient({
            account,
            chain: client.chain,
            transport: custom({ request: (args) => client.request(args as never) }),
            pollingInterval: 100,
          }) as WalletClient<Transport, Chain, Account>)
        : undefined;
    } else {
      const connected = connectLedger(config.rpc, this.deployment.chainId, account);
      this.client = connected.public;
      wallet = connected.wallet;
    }
    this.transactions = wallet ? new LedgerTransactions(this.client, wallet) : undefined;
    this.tokens = account ? new AccessTokenCache(account, "gateway", this.deployment.chainId) : undefined;
    this.evidence = new EvidenceLog(config.evidenceFile, this.logger);
    this.usage = new UsageReporter({
      publicClient: this.client,
      transactions: this.transactions,
      epochs: this.deployment.addresses.epochs,
      feeToken: this.deployment.addresses.feeToken,
      feePerRelay: parseUnits(config.feePerRelay, 18),
      logger: this.logger,
    });
    const sampler = new RelaySampler(config.signSampleRate);
    this.targets = [...options.networks.values()].flatMap((network) => {
      if (network.config.ledgerNetwork === undefined && network.config.upstreams.length > 0) {
        // A network with its own upstreams joins the ledger only when it is in the deployment.
        if (!this.deployment.networks.some((n) => n.name === network.name)) return [];
      }
      let networkId: number;
      try {
        networkId = findNetwork(this.deployment, network.config.ledgerNetwork ?? network.name).id;
      } catch (error) {
        throw new ConfigError(`network ${network.name}: ${(error as Error).message}`);
      }
      const hooks = this.hooksFor(network, networkId, sampler);
      network.ledger = {
        networkId,
        epoch: () => this.usage.currentEpoch,
        relaysThisEpoch: (operator) => this.usage.relaysThisEpoch(networkId, operator),
        contradiction: (contradiction) => this.onContradiction(network, contradiction),
      };
      return [{ network, networkId, hooks }];
    });
    if (!account) {
      this.logger.warn(
        "no ledger key (ledger.keyFile or ledger.keyEnv): operators that require access tokens will refuse this gateway, and usage is not reported",
      );
    }
  }

  /** The last epoch clock read; undefined before the first successful sync. */
  get clock(): EpochClock | undefined {
    return this.clockState;
  }

  /** First sync (a failure is logged, not thrown), then one every `syncMs`. */
  async start(): Promise<void> {
    await this.sync();
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.sync();
        if (!this.stopped) tick();
      }, this.options.config.syncMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.syncing;
    await this.evidence.flush();
  }

  /** Reads the registry if the ledger moved since the last read; keeps the last known state on failure. */
  sync(): Promise<void> {
    this.syncing ??= this.syncRound()
      .then(
        () => {
          if (this.unreachable) this.logger.info("the ledger answers again");
          this.unreachable = false;
        },
        (error: unknown) => {
          if (!this.unreachable) {
            this.logger.warn(
              { err: (error as Error).message?.slice(0, 300) },
              "the ledger cannot be read: routing keeps the last known operators",
            );
          }
          this.unreachable = true;
        },
      )
      .finally(() => {
        this.syncing = undefined;
      });
    return this.syncing;
  }

  private async syncRound(): Promise<void> {
    const client = this.client;
    const addresses = this.deployment.addresses;
    const block = await client.getBlockNumber({ cacheTime: 0 });
    if (block === this.lastBlock) return;
    const slashes = await readSlashes(client, addresses);
    const [clock, ...lists] = await Promise.all([
      readEpochClock(client, addresses.epochs),
      ...this.targets.map((target) => readOperators(client, addresses, target.networkId, slashes)),
    ]);
    // Tokens are minted before an operator is routed to, so no request of the hot path waits for one.
    const tokens = this.tokens;
    if (tokens) {
      await Promise.all(
        lists.flat().flatMap((operator) => (operator.jailed ? [] : [tokens.get(operator.address)])),
      );
    }
    if (this.stopped) return;
    this.targets.forEach((target, index) => {
      target.network.applyLedgerOperators(lists[index] ?? [], target.hooks);
    });
    this.updateRisk(lists);
    this.lastBlock = block;
    this.clockState = { epoch: clock.epoch, start: clock.start, end: clock.end };
    this.usage.onBlock(block, this.clockState);
  }

  /**
   * The risk gauges over the operators just read: their allocated stake, and the relays each answered
   * through this gateway in the current epoch as their traffic. A failure here never stops routing.
   */
  private updateRisk(lists: ReadonlyArray<ReadonlyArray<DirectoryOperator>>): void {
    const gauges = this.options.metrics?.risk;
    if (!gauges) return;
    try {
      gauges.update(
        this.targets.map((target, index) => {
          const operators = lists[index] ?? [];
          const relays = new Map(
            operators.map((o) => [o.address, this.usage.relaysThisEpoch(target.networkId, o.address)]),
          );
          return riskSnapshot(target.network.name, operators, { idOf: ledgerUpstreamId, relays });
        }),
      );
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, "risk figures not updated");
    }
  }

  private hooksFor(network: Network, networkId: number, sampler: RelaySampler): RelayHooks {
    const ledgerChainId = this.deployment.chainId;
    const slasher = this.deployment.addresses.slasher;
    const tokens = this.tokens;
    return {
      authToken: tokens ? (upstream) => tokens.peek(upstream.operator!.address) : () => undefined,
      sampleSign: () => sampler.sample(),
      verifyRelay: async (upstream, method, params, reply) => {
        const operator = upstream.operator!;
        // Operators sign only successful single answers; an HTTP error carries no relay to check.
        if (reply.status !== 200) return { ok: true, relay: undefined };
        const check = checkSignedReply(
          reply,
          { method, params, chainId: network.chainId },
          { upstream: upstream.id, address: operator.address, signer: operator.signer },
          { ledgerChainId, slasher },
        );
        if (check.ok) return { ok: true, relay: check.relay };
        this.evidence.record({
          kind: "bad-signature",
          at: new Date().toISOString(),
          network: network.name,
          upstream: upstream.id,
          operator: operator.address,
          registeredSigner: operator.signer,
          method,
          params,
          reason: check.reason,
          relay: check.relay,
          signature: check.signature,
        });
        return { ok: false, reason: check.reason };
      },
      served: (upstream) => this.usage.served(networkId, upstream.operator!.address),
    };
  }

  /**
   * Keeps a quorum contradiction as evidence. A signed relay about the ledger's own chain that claims a
   * block hash, on a side that is not the majority, is proven on-chain (DinSlasher.proveWrongBlockHash):
   * the contract checks it against blockhash() and refuses an honest one (NotFraudulent).
   */
  private onContradiction(network: Network, contradiction: Contradiction): void {
    this.evidence.record({
      kind: "contradiction",
      at: new Date().toISOString(),
      network: network.name,
      method: contradiction.method,
      params: contradiction.params,
      sides: contradiction.sides.map((side) => ({
        digest: side.digest,
        majority: side.majority,
        relays: side.relays.map(signedRelayToJson),
      })),
    });
    const transactions = this.transactions;
    if (!transactions) return;
    const ledgerChainId = BigInt(this.deployment.chainId);
    const isState = (STATE_METHODS as readonly string[]).includes(contradiction.method);
    for (const side of contradiction.sides) {
      if (side.majority) continue;
      for (const signed of side.relays) {
        // Only the ledger's own chain can be checked here: blockhash() vouches for its headers, and this
        // gateway's ledger node is an honest source of its state. Another chain's lie stays evidence.
        if (signed.relay.chainId !== ledgerChainId) continue;
        if (isState) this.proveState(signed, contradiction, side.answer, transactions);
        else if (claimsBlock(signed.relay)) this.proveBlockHash(signed, transactions);
      }
    }
  }

  /** Proves a signed wrong block hash on the ledger (DinSlasher.proveWrongBlockHash). */
  private proveBlockHash(signed: SignedRelay, transactions: LedgerTransactions): void {
    // The slasher takes the canonical block's header (it counts only answers served once that block was
    // final); a block this node cannot read or encode is no proof.
    this.reportProof(
      signed,
      "wrong block hash",
      blockHeader(this.client, signed.relay.blockNumber).then((header) =>
        transactions.send({
          address: this.deployment.addresses.slasher,
          abi: dinSlasherAbi,
          functionName: "proveWrongBlockHash",
          args: [signed.relay, signed.signature, header],
        }),
      ),
    );
  }

  /**
   * Proves a signed wrong balance, nonce, code or storage slot on the ledger (DinSlasher.proveWrongState)
   * from the ledger node's header and eth_getProof; nothing is sent when that node agrees with the answer.
   */
  private proveState(
    signed: SignedRelay,
    contradiction: Contradiction,
    answer: { result?: unknown; error?: unknown },
    transactions: LedgerTransactions,
  ): void {
    this.reportProof(
      signed,
      "wrong state",
      gatherStateEvidence(this.client, {
        relay: signed.relay,
        signature: signed.signature,
        method: contradiction.method,
        params: contradiction.params,
        response: answer,
      }).then((evidence) =>
        transactions.send({
          address: this.deployment.addresses.slasher,
          abi: dinSlasherAbi,
          functionName: "proveWrongState",
          args: stateProofArgs(evidence),
        }),
      ),
    );
  }

  private reportProof(signed: SignedRelay, what: string, sent: Promise<Hash>): void {
    sent.then(
      (hash) =>
        this.logger.warn(
          { operator: signed.operator, relay: relayToJson(signed.relay), transaction: hash },
          `fraud proven on the ledger: ${what}`,
        ),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.info(
          { operator: signed.operator, reason: message.slice(0, 300) },
          foundRight(error)
            ? `the ledger found the minority's answer right: no fraud (${what})`
            : "fraud proof not accepted",
        );
      },
    );
  }
}

/** The ledger (NotFraudulent) or the evidence gathered before sending it found the accused answer right. */
function foundRight(error: unknown): boolean {
  if (error instanceof StateEvidenceError) return error.problem === "not-fraudulent";
  return revertOf(error)?.errorName === "NotFraudulent";
}

/** Connects the gateway's networks to the ledger and runs the first sync. */
export async function startLedgerLink(options: LedgerLinkOptions): Promise<LedgerLink> {
  const link = new LedgerLink(options);
  await link.start();
  return link;
}
