// Signed state probes as fraud proofs. On sampled rounds the watcher asks every operator of a network for a
// signed state answer (a balance at a block final now and within the ledger's reach); for a network on the
// ledger's own chain it compares each answer with its own reference (the ledger's node), and on a mismatch
// gathers the header and eth_getProof there and proves it with DinSlasher.proveWrongState, under the rule
// the block-hash proofs follow: the watcher designated for the operator proves at once, the others wait and
// drop their evidence once the registry shows the operator jailed.
import type { Logger } from "pino";
import type { Account, Address, Chain, Hash, PublicClient, Transport, WalletClient } from "viem";
import { dinRegistryAbi, dinSlasherAbi } from "../ledger/artifacts/index.js";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { DirectoryOperator } from "../ledger/din/directory.js";
import { hashResponse } from "../ledger/din/relay.js";
import {
  gatherStateEvidence,
  parseStateCall,
  proveWrongState,
  type StateEvidence,
  StateEvidenceError,
} from "../ledger/din/stateProof.js";
import type { SignedAnswer } from "./probe.js";
import { recordFraud, relayUsed, rememberRelay, type WatcherState } from "./state.js";

/** What the state prover needs of its watcher. */
export type StateProofHost = {
  log: Logger;
  /** The ledger's node: the reference for its own chain, and where proofs go. */
  ledger: PublicClient<Transport, Chain>;
  wallet: WalletClient<Transport, Chain, Account>;
  slasher: Address;
  registry: Address;
  ledgerChainId: number;
  state: () => WatcherState;
  save: () => void;
  /** Sends one transaction (after the watcher's others) and resolves once it is mined successfully. */
  send: (what: string, write: () => Promise<Hash>) => Promise<Hash>;
  /** Whether this watcher is the one designated for the operator (the others wait). */
  designatedFor: (operator: Address) => Promise<boolean>;
  /** The slasher's finalityDelay; undefined while unknown. */
  finalityDelay: () => Promise<bigint | undefined>;
  /** The custom error a ledger call reverted with. */
  revertName: (error: unknown) => string | undefined;
  /** Asks the keeper for a pass (to submit at once). */
  kick: () => void;
};

/** A call the watcher asked every operator, with a signed answer of one of them. */
export type StateAnswer = { operator: DirectoryOperator; answer: SignedAnswer & { ok: true } };

type Pending = {
  operator: Address;
  network: DinNetwork;
  evidence: StateEvidence;
  digest: Hash;
  blockNumber: bigint;
  passes: number;
};

/** Beyond this many blocks the ledger no longer proves a block's hash (blockhash(): 256), with a margin. */
const onChainProofHorizon = 250n;
/** Keeper passes a watcher not designated for the operator waits before proving in its place. */
const patience = 4;

/** Gathers and submits proofs of wrong state answers about the ledger's own chain. */
export class StateProofs {
  private readonly pending: Pending[] = [];

  constructor(private readonly host: StateProofHost) {}

  /** Whether `network` is on the ledger's chain, where the watcher has a reference and the ledger a proof. */
  provable(network: DinNetwork): boolean {
    return network.chainId === BigInt(this.host.ledgerChainId);
  }

  /**
   * Compares the operators' signed answers to `call` with the ledger node's own answer; for each that
   * differs and can be proven (see gatherStateEvidence), queues the evidence. Never throws: a reference that
   * cannot be read is tried again on a later round.
   */
  async check(
    network: DinNetwork,
    call: { method: string; params: readonly unknown[] },
    answers: readonly StateAnswer[],
  ): Promise<void> {
    if (!this.provable(network) || answers.length === 0) return;
    let reference: unknown;
    try {
      parseStateCall(call.method, call.params);
      reference = await this.host.ledger.request({ method: call.method, params: call.params } as never);
    } catch (error) {
      this.host.log.debug({ error: (error as Error).message }, "no reference for the state probe");
      return;
    }
    const honest = hashResponse({ result: reference });
    for (const { operator, answer } of answers) {
      if (answer.relay.responseHash === honest || !this.accusable(operator, network, answer.digest)) continue;
      try {
        const evidence = await gatherStateEvidence(this.host.ledger, {
          relay: answer.relay,
          signature: answer.signature,
          method: call.method,
          params: call.params,
          response: { result: answer.result },
        });
        const { blockNumber } = parseStateCall(call.method, call.params);
        this.pending.push({
          operator: operator.address,
          network,
          evidence,
          digest: answer.digest,
          blockNumber,
          passes: 0,
        });
        this.host.log.warn(
          { operator: operator.address, network: network.name, method: call.method, params: call.params },
          "operator signed a wrong state answer",
        );
        this.host.kick();
      } catch (error) {
        const problem = error instanceof StateEvidenceError ? error.problem : "unreadable";
        this.host.log.debug({ operator: operator.address, problem }, "state answer not provable");
      }
    }
  }

  /** Submits the queued evidence (a keeper pass). */
  async submit(block: bigint): Promise<void> {
    for (const pending of [...this.pending]) {
      pending.passes++;
      const done = () => {
        const i = this.pending.indexOf(pending);
        if (i >= 0) this.pending.splice(i, 1);
      };
      try {
        if (await this.settled(pending, block)) {
          done();
          continue;
        }
        if (pending.passes < patience && !(await this.host.designatedFor(pending.operator))) continue;
        const transaction = await this.host.send("proveWrongState", () =>
          proveWrongState(this.host.wallet, this.host.slasher, pending.evidence),
        );
        this.proven(pending, transaction);
        done();
      } catch (error) {
        const name = this.host.revertName(error);
        if (name === "RelayAlreadyUsed") rememberRelay(this.host.state(), pending.digest);
        if (name !== undefined && name !== "EnforcedPause") {
          this.host.log.warn({ operator: pending.operator, reason: name }, "state evidence refused; dropped");
          done();
        } else {
          this.host.log.error(
            { operator: pending.operator, error: (error as Error).message },
            "submitting state evidence failed; retrying",
          );
        }
      }
    }
  }

  /** Whether one pending proof is already settled (used, jailed for it, or no longer provable). */
  private async settled(pending: Pending, block: bigint): Promise<boolean> {
    const { ledger, log } = this.host;
    const { relay } = pending.evidence;
    if (
      await ledger.readContract({
        address: this.host.slasher,
        abi: dinSlasherAbi,
        functionName: "relayUsed",
        args: [pending.digest],
      })
    ) {
      rememberRelay(this.host.state(), pending.digest);
      return true;
    }
    if (block - pending.blockNumber > onChainProofHorizon) {
      log.warn({ operator: pending.operator }, "state evidence too old for an on-chain proof; dropped");
      return true;
    }
    const jailed = await ledger.readContract({
      address: this.host.registry,
      abi: dinRegistryAbi,
      functionName: "isJailed",
      args: [pending.operator, pending.network.id],
    });
    if (jailed) {
      log.info({ operator: pending.operator }, "operator already jailed; state evidence kept, not submitted");
      return true;
    }
    const delay = await this.host.finalityDelay();
    if (delay === undefined) throw new Error("the slasher's finality delay is unknown"); // read again next pass
    const { timestamp } = await ledger.getBlock({ blockNumber: pending.blockNumber });
    if (timestamp + delay > relay.servedAt) {
      log.info(
        { operator: pending.operator },
        "the block was not final when the answer was served; not submitted",
      );
      return true;
    }
    return false;
  }

  /** Whether an answer may be accused: not a used relay, not a jailed operator, none pending for it. */
  private accusable(operator: DirectoryOperator, network: DinNetwork, digest: Hash): boolean {
    if (operator.jailed || relayUsed(this.host.state(), digest)) return false;
    return !this.pending.some((p) => p.operator === operator.address && p.network.id === network.id);
  }

  private proven(pending: Pending, transaction: Hash): void {
    const state = this.host.state();
    rememberRelay(state, pending.digest);
    recordFraud(state, {
      operator: pending.operator,
      networkId: pending.network.id,
      blockNumber: pending.blockNumber.toString(),
      digest: pending.digest,
      kind: "state",
      transaction,
    });
    this.host.save();
    this.host.log.warn(
      { operator: pending.operator, network: pending.network.name, transaction },
      "state fraud proof submitted",
    );
  }
}
