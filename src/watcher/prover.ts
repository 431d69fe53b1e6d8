// Fraud proofs of wrong block hashes. The prober hands over each signed block hash that contradicts what
// most operators answered; the prover keeps one piece of evidence per offence and, on keeper passes, proves
// it on the ledger: on the ledger's own chain at once with the canonical block's header
// (proveWrongBlockHash), elsewhere once the watchers attested the canonical hash and its dispute period
// passed (proveWrongBlockHashAttested). The watcher designated for the operator proves at once; the others
// wait a few passes and drop their evidence once the registry shows the operator jailed, since a second
// proof of the same lie would be charged as a repeat offence. Wrong state answers are proven by
// stateProofs.ts under the same rules.
import type { Logger } from "pino";
import type { Address, Hash, Hex } from "viem";
import { zeroHash } from "viem";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { DirectoryOperator } from "../ledger/din/directory.js";
import type { Relay } from "../ledger/din/relay.js";
import { designated } from "./duties.js";
import { revertName, shortError } from "./errors.js";
import { type FraudRecord, recordFraud, relayUsed, rememberRelay, type WatcherState } from "./state.js";

/** The ledger calls the prover makes (DinSlasher, the registry, and the ledger's own blocks). */
export interface EvidenceLedger {
  /** Whether the slasher already used this relay as evidence. */
  relayUsed(digest: Hex): Promise<boolean>;
  isJailed(operator: Address, networkId: number): Promise<boolean>;
  /** Active watchers, sorted by address. */
  activeWatchers(): Promise<Address[]>;
  /** A block of the ledger's own chain. */
  block(blockNumber: bigint): Promise<{ hash: Hex; timestamp: bigint }>;
  /** The RLP header of a block of the ledger's own chain. */
  blockHeader(blockNumber: bigint): Promise<Hex>;
  /** Proves a wrong block hash about the ledger's own chain; resolves once mined. */
  proveWrongBlockHash(relay: Relay, signature: Hex, header: Hex): Promise<Hash>;
  /** Attests the canonical hash of a block of another chain; resolves once mined. */
  attestBlockHash(chainId: bigint, blockNumber: bigint, hash: Hex): Promise<Hash>;
  /** The attested canonical hash of a block of another chain (zero while none has a quorum). */
  canonicalHash(chainId: bigint, blockNumber: bigint): Promise<Hex>;
  /** The ledger block from which that attested hash is fixed. */
  canonicalFixedAt(chainId: bigint, blockNumber: bigint): Promise<bigint>;
  /** Proves a wrong block hash against the attested canonical one; resolves once mined. */
  proveWrongBlockHashAttested(relay: Relay, signature: Hex): Promise<Hash>;
}

/** What a {@link Prover} works with. */
export type ProverDeps = {
  ledger: EvidenceLedger;
  /** This watcher's address (which operators it is designated for). */
  address: Address;
  /** The ledger's chain id: block hashes about it are proven against the ledger's own blocks. */
  ledgerChainId: number;
  /** The slasher's finalityDelay; undefined while unknown. */
  finalityDelay: () => Promise<bigint | undefined>;
  state: () => WatcherState;
  save: () => void;
  /** True once the watcher is closing: a pass in flight stops. */
  closed: () => boolean;
  /** Asks for a keeper pass (to submit at once). */
  kick: () => void;
  /** A monotonic clock, in ms. */
  now: () => number;
  /** After accusing an operator, its next offences wait this long for the registry to show the jail (ms). */
  quietMs: number;
  log: Logger;
};

/** A signed contradiction waiting to be submitted. */
type Evidence = {
  operator: Address;
  network: DinNetwork;
  relay: Relay;
  signature: Hex;
  digest: Hex;
  canonical: Hex;
  passes: number;
  attested: boolean;
};

/** Beyond this many blocks the ledger no longer proves a block's hash (blockhash(): 256), with a margin. */
const onChainProofHorizon = 250n;
// An attested-canonical proof waits this many keeper passes for other watchers' attestations.
const attestPatience = 120;
/** Keeper passes a watcher not designated for the operator waits before proving in its place. */
const patience = 4;

/** Keeps and submits evidence of wrong block hashes. */
export class Prover {
  private readonly evidence: Evidence[] = [];
  private readonly recentlyAccused = new Map<string, number>();

  constructor(private readonly deps: ProverDeps) {}

  /** Evidence waiting to be submitted. */
  get queued(): number {
    return this.evidence.length;
  }

  /** Queues a signed contradiction as evidence, once per relay and not against an operator already jailed for it. */
  accuse(
    operator: Pick<DirectoryOperator, "address" | "jailed">,
    network: DinNetwork,
    block: { relay: Relay; signature: Hex; digest: Hex },
    canonical: Hex,
  ): void {
    const key = `${network.id}:${operator.address}`;
    if (operator.jailed || relayUsed(this.deps.state(), block.digest)) return;
    const since = this.recentlyAccused.get(key);
    // One proof per offence: the next ones wait until the registry shows the jail (or that it failed).
    if (since !== undefined && this.deps.now() - since < this.deps.quietMs) return;
    if (this.evidence.some((e) => e.operator === operator.address && e.network.id === network.id)) return;
    this.recentlyAccused.set(key, this.deps.now());
    this.evidence.push({
      operator: operator.address,
      network,
      relay: block.relay,
      signature: block.signature,
      digest: block.digest,
      canonical,
      passes: 0,
      attested: false,
    });
    this.deps.log.warn(
      { operator: operator.address, network: network.name, blockNumber: block.relay.blockNumber.toString() },
      "operator signed a block hash that contradicts the other operators",
    );
    this.deps.kick();
  }

  /** Submits the queued evidence at ledger block `block` (a keeper pass). */
  async submit(block: bigint): Promise<void> {
    const { ledger, log } = this.deps;
    let watchers: Address[] | undefined;
    for (const evidence of [...this.evidence]) {
      if (this.deps.closed()) return;
      const done = () => {
        const i = this.evidence.indexOf(evidence);
        if (i >= 0) this.evidence.splice(i, 1);
      };
      evidence.passes++;
      const onLedger = evidence.network.chainId === BigInt(this.deps.ledgerChainId);
      try {
        if (await ledger.relayUsed(evidence.digest)) {
          rememberRelay(this.deps.state(), evidence.digest);
          done();
          continue;
        }
        // One offence, one slash: the watcher designated for this operator proves at once; the others wait a
        // few passes and drop their evidence once the registry shows the operator jailed (a second proof of
        // the same lie would be charged as a repeat offence).
        watchers ??= await ledger.activeWatchers();
        if (!designated(watchers, this.deps.address, BigInt(evidence.operator)) && evidence.passes < patience)
          continue;
        if (await ledger.isJailed(evidence.operator, evidence.network.id)) {
          log.info(
            { operator: evidence.operator },
            "operator already jailed for wrong data; evidence kept, not submitted",
          );
          done();
          continue;
        }
        if (onLedger) {
          if (block - evidence.relay.blockNumber > onChainProofHorizon) {
            log.warn({ operator: evidence.operator }, "evidence too old for an on-chain proof; dropped");
            done();
            continue;
          }
          // The slasher takes the canonical block's header and counts only answers served once it was final.
          const [canonical, finalityDelay] = await Promise.all([
            ledger.block(evidence.relay.blockNumber),
            this.deps.finalityDelay(),
          ]);
          if (finalityDelay === undefined) continue; // read again next pass
          if (canonical.hash.toLowerCase() === evidence.relay.blockHash.toLowerCase()) {
            log.warn(
              { operator: evidence.operator },
              "the ledger's block hash agrees with the operator; dropped",
            );
            done();
            continue;
          }
          if (canonical.timestamp + finalityDelay > evidence.relay.servedAt) {
            log.info(
              { operator: evidence.operator },
              "the block was not final when the answer was served; evidence kept, not submitted",
            );
            done();
            continue;
          }
          const header = await ledger.blockHeader(evidence.relay.blockNumber);
          const transaction = await ledger.proveWrongBlockHash(evidence.relay, evidence.signature, header);
          this.proven(evidence, "proven", transaction);
          done();
          continue;
        }
        const chainId = evidence.network.chainId;
        const height = evidence.relay.blockNumber;
        if (!evidence.attested) {
          try {
            await ledger.attestBlockHash(chainId, height, evidence.canonical);
          } catch (error) {
            if (revertName(error) !== "AlreadyAttested") throw error;
          }
          evidence.attested = true;
        }
        const canonical = await ledger.canonicalHash(chainId, height);
        if (canonical === zeroHash) {
          if (evidence.passes > attestPatience) {
            log.warn({ operator: evidence.operator }, "no attestation quorum for the evidence; dropped");
            done();
          }
          continue;
        }
        if (canonical.toLowerCase() === evidence.relay.blockHash.toLowerCase()) {
          log.warn(
            { operator: evidence.operator },
            "the attested canonical hash agrees with the operator; dropped",
          );
          done();
          continue;
        }
        // An attested hash is fixed only after its dispute period: wait for it (a majority may replace it).
        const fixedAt = await ledger.canonicalFixedAt(chainId, height);
        if (block < fixedAt) continue;
        const transaction = await ledger.proveWrongBlockHashAttested(evidence.relay, evidence.signature);
        this.proven(evidence, "attested", transaction);
        done();
      } catch (error) {
        const name = revertName(error);
        if (name === "RelayAlreadyUsed") {
          rememberRelay(this.deps.state(), evidence.digest);
          done();
        } else if (name !== undefined && name !== "EnforcedPause") {
          log.warn({ operator: evidence.operator, reason: name }, "evidence refused; dropped");
          done();
        } else {
          log.error(
            { operator: evidence.operator, error: shortError(error) },
            "submitting evidence failed; retrying",
          );
        }
      }
    }
  }

  private proven(evidence: Evidence, kind: FraudRecord["kind"], transaction: Hash): void {
    const state = this.deps.state();
    rememberRelay(state, evidence.digest);
    recordFraud(state, {
      operator: evidence.operator,
      networkId: evidence.network.id,
      blockNumber: evidence.relay.blockNumber.toString(),
      digest: evidence.digest,
      kind,
      transaction,
    });
    this.deps.save();
    this.deps.log.warn(
      { operator: evidence.operator, network: evidence.network.name, kind, transaction },
      "fraud proof submitted",
    );
  }
}
