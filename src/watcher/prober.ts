// A probe round: every registered operator of every network is asked, from the watcher's own vantage point,
// for its latest block (and on sampled rounds a block at a sampled height, a provable height and a signed
// state answer), and the answers are cross-checked: the agreed head gives each operator its lag, a block
// hash or state answer that contradicts most operators fails its probe, and a contradicted block hash is
// handed to the prover as evidence. The results are counted in the epoch's measurements. Nothing here
// writes to the ledger. An operator's answer, however hostile, fails only that operator's probe.
import type { Logger } from "pino";
import type { Address, Hex } from "viem";
import type { DinNetwork } from "../ledger/din/deploy.js";
import type { DirectoryOperator } from "../ledger/din/directory.js";
import { relayToJson } from "../ledger/din/relay.js";
import { toQuantity } from "../rpc/blockTag.js";
import {
  agreedHead,
  type BlockAnswer,
  canonicalByHeight,
  type MajorityVerdict,
  majorityOf,
} from "./canonical.js";
import { shortError } from "./errors.js";
import { nowSeconds } from "./finality.js";
import { type ProbeOutcome, recordProbe } from "./measurements.js";
import type { ProbeResult, ProbeTarget, SignedAnswer, SignedBlock } from "./probe.js";
import { epochEntry, recordContradiction, type WatcherState } from "./state.js";
import type { StateAnswer } from "./stateProofs.js";

/** How one operator is asked (probe.ts's Prober). */
export interface ProbeClient {
  /** Asks for the block at `height` ("latest" when undefined) and checks the signed answer. */
  probe(target: ProbeTarget, height?: bigint): Promise<ProbeResult>;
  /** Asks `method(params)` and checks the signed answer. */
  call(target: ProbeTarget, method: string, params: readonly unknown[]): Promise<SignedAnswer>;
}

/** Which heights of the ledger's chain a lie would be provable about (finality.ts's FinalHeights). */
export interface ProvableHeights {
  /** The slasher's finalityDelay; undefined while unknown. */
  finalityDelay(): Promise<bigint | undefined>;
  /** A provable height below `head` at `now` (seconds), or undefined. */
  sample(head: bigint, now: bigint): Promise<bigint | undefined>;
}

/** Checks signed state answers against a reference (stateProofs.ts); never throws. */
export interface StateChecker {
  check(
    network: DinNetwork,
    call: { method: string; params: readonly unknown[] },
    answers: readonly StateAnswer[],
  ): Promise<void>;
}

/** What a {@link NetworkProber} works with. */
export type NetworkProberDeps = {
  probes: ProbeClient;
  finality: ProvableHeights;
  stateProofs: StateChecker;
  /** Hands a signed block hash that contradicts the canonical one to the prover. */
  accuse: (operator: DirectoryOperator, network: DinNetwork, block: SignedBlock, canonical: Hex) => void;
  networks: readonly DinNetwork[];
  /** The operators registered on a network now. */
  operators: (networkId: number) => readonly DirectoryOperator[];
  /** The ledger's current epoch, as last read (a probe counts for the epoch current when it is sent). */
  epoch: () => bigint | undefined;
  /** The ledger block last seen. */
  blockNumber: () => bigint | undefined;
  /** The ledger's chain id: a network on it can have provable samples. */
  ledgerChainId: number;
  /** This watcher's address: the account whose balance is asked until a head block names a beneficiary. */
  address: Address;
  state: () => WatcherState;
  log: Logger;
  /** Draws sampled heights. @default Math.random */
  random?: () => number;
};

// Sampled heights are drawn from the last blocks below the agreed head (deep enough to be settled, recent
// enough that the ledger's blockhash() still proves a lie about its own chain: 256 blocks). Where the slasher
// has a finality delay these are too young to be evidence: provable samples come from finality.ts.
const sampleDepth = 32;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Probes the operators of every network and records what it measured. */
export class NetworkProber {
  /** `${networkId}:${operator}` → the head it last reported. */
  private readonly heads = new Map<string, bigint>();
  /** networkId → the head most operators reached. */
  private readonly agreed = new Map<number, bigint>();
  /** networkId → the account whose balance is cross-checked (the head block's beneficiary, as most report it). */
  private readonly stateAccounts = new Map<number, Address>();
  private readonly lastErrors = new Map<string, string>();
  private readonly random: () => number;

  constructor(private readonly deps: NetworkProberDeps) {
    this.random = deps.random ?? Math.random;
  }

  /** Why the last failed probe of an operator failed. */
  lastError(networkId: number, operator: Address): string | undefined {
    return this.lastErrors.get(`${networkId}:${operator}`);
  }

  /**
   * Probes every network once for `roundEpoch`, spreading the probes over the first half of `intervalMs`:
   * a burst would measure the watcher's own queueing (and the operators', when several share a host)
   * instead of their latency.
   */
  async round(roundEpoch: bigint, sampled: boolean, intervalMs: number): Promise<void> {
    const { networks, operators } = this.deps;
    const count = networks.reduce((n, net) => n + operators(net.id).length, 0);
    const spacingMs = count > 1 ? intervalMs / 2 / count : 0;
    let offset = 0;
    await Promise.all(
      networks.map((network) => {
        const start = offset;
        offset += operators(network.id).length;
        return this.probeNetwork(network, roundEpoch, sampled, start, spacingMs);
      }),
    );
  }

  /** Probes the operators of one network, cross-checks their answers and counts each probe. */
  async probeNetwork(
    network: DinNetwork,
    roundEpoch: bigint,
    sampled: boolean,
    firstSlot = 0,
    spacingMs = 0,
  ): Promise<void> {
    const { probes, finality, state: stateOf } = this.deps;
    // The epoch has an entry even with no operators: every network gets its (possibly empty) report.
    epochEntry(stateOf(), network.id, roundEpoch);
    const operators = this.deps.operators(network.id);
    if (operators.length === 0) return;
    const head = this.agreed.get(network.id);
    let height: bigint | undefined;
    if (sampled && head !== undefined && head >= 3n) {
      const depth = BigInt(Math.floor(this.random() * Math.min(sampleDepth, Number(head - 2n))));
      height = head - 2n - depth;
    }
    // On the ledger's own chain with a finality delay, a lie about a recent block is never evidence: sampled
    // rounds also ask for a block final now and within the ledger's reach, and only lies there are accused.
    const onLedger = network.chainId === BigInt(this.deps.ledgerChainId);
    const finalOnly = onLedger && ((await finality.finalityDelay()) ?? 0n) > 0n;
    const blockNumber = this.deps.blockNumber();
    const provable =
      finalOnly && sampled && blockNumber !== undefined
        ? await finality.sample(blockNumber, nowSeconds()).catch(() => undefined)
        : undefined;
    // A deterministic call at the sampled height: every honest operator returns the same state there. Where
    // only final blocks are evidence, it is asked at the provable height, so a wrong answer can be proven.
    const stateHeight = finalOnly ? provable : height;
    const stateCall =
      stateHeight === undefined
        ? undefined
        : {
            method: "eth_getBalance",
            params: [
              this.stateAccounts.get(network.id) ?? this.deps.address,
              toQuantity(stateHeight),
            ] as const,
          };
    const results = await Promise.all(
      operators.map(async (operator, index) => {
        if (spacingMs > 0) await sleep((firstSlot + index) * spacingMs);
        // A probe counts for the epoch of the ledger block current when it is sent.
        const epoch = this.deps.epoch() ?? roundEpoch;
        const target: ProbeTarget = {
          operator: operator.address,
          endpoint: operator.endpoint,
          signer: operator.signer,
          chainId: network.chainId,
        };
        const knownHead = this.heads.get(`${network.id}:${operator.address}`);
        // A lagging operator is not asked for blocks it has not reached: its lag is measured, not counted twice.
        const askSample = height !== undefined && (knownHead === undefined || knownHead >= height);
        const askState =
          stateCall && stateHeight !== undefined && (knownHead === undefined || knownHead >= stateHeight);
        const [latest, sample, state, deep] = await Promise.all([
          failed(probes.probe(target)),
          askSample ? failed(probes.probe(target, height)) : undefined,
          askState ? failed(probes.call(target, stateCall.method, stateCall.params)) : undefined,
          provable === undefined ? undefined : failed(probes.probe(target, provable)),
        ]);
        return { operator, latest, sample, state, deep, epoch };
      }),
    );

    const heads: bigint[] = [];
    const answers: BlockAnswer[] = [];
    const signed = new Map<string, { result: ProbeResult & { ok: true }; evidence: boolean }[]>();
    for (const { operator, latest, sample, deep } of results) {
      for (const result of [latest, sample, deep]) {
        if (!result?.ok) continue;
        answers.push({ operator: operator.address, ...result.block });
        const list = signed.get(operator.address) ?? [];
        list.push({ result, evidence: !finalOnly || result === deep });
        signed.set(operator.address, list);
      }
      if (latest.ok) {
        heads.push(latest.block.blockNumber);
        this.heads.set(`${network.id}:${operator.address}`, latest.block.blockNumber);
      }
    }
    const agreed = agreedHead(heads);
    if (agreed !== undefined) this.agreed.set(network.id, agreed);
    const miner = majorityOf(
      results.flatMap(({ operator, latest }) =>
        latest.ok && latest.block.miner ? [{ operator: operator.address, value: latest.block.miner }] : [],
      ),
    ).value;
    if (miner !== undefined) this.stateAccounts.set(network.id, miner as Address);
    const stateVerdict = majorityOf(
      results.flatMap(({ operator, state }) =>
        state?.ok ? [{ operator: operator.address, value: state.relay.responseHash }] : [],
      ),
    );
    const wrong = new Map<string, { blockNumber: bigint; canonical: Hex }>();
    for (const verdict of canonicalByHeight(answers)) {
      if (verdict.canonical === undefined) continue;
      for (const operator of verdict.contradictors) {
        wrong.set(`${operator}:${verdict.blockNumber}`, {
          blockNumber: verdict.blockNumber,
          canonical: verdict.canonical,
        });
      }
    }

    for (const { operator, latest, sample, state, epoch } of results) {
      const entry = epochEntry(stateOf(), network.id, epoch);
      const key = `${network.id}:${operator.address}`;
      let outcome: ProbeOutcome;
      let failure: string | undefined;
      if (!latest.ok) failure = latest.reason;
      else if (sample && !sample.ok) failure = `block ${height}: ${sample.reason}`;
      else if (state && !state.ok) failure = `${describeCall(stateCall)}: ${state.reason}`;
      if (state?.ok && stateCall && stateVerdict.contradictors.includes(operator.address)) {
        failure = `${describeCall(stateCall)}: answer contradicts ${stateVerdict.answered - stateVerdict.contradictors.length} of ${stateVerdict.answered} operators`;
        this.contradicted(operator, network, stateCall, state, stateVerdict);
      }
      // Wrong data fails the probe at any height (a provable sample that goes unanswered does not).
      for (const { result, evidence } of signed.get(operator.address) ?? []) {
        const contradiction = wrong.get(`${operator.address}:${result.block.blockNumber}`);
        if (!contradiction) continue;
        failure = `block ${result.block.blockNumber}: hash ${result.block.blockHash} contradicts ${contradiction.canonical}`;
        if (evidence) this.deps.accuse(operator, network, result.block, contradiction.canonical);
      }
      if (failure !== undefined || !latest.ok) {
        outcome = { ok: false };
        this.lastErrors.set(key, failure ?? "failed");
        this.deps.log.debug(
          { operator: operator.address, network: network.name, reason: failure },
          "probe failed",
        );
      } else {
        const lag =
          agreed !== undefined && agreed > latest.block.blockNumber ? agreed - latest.block.blockNumber : 0n;
        outcome = { ok: true, latencyMs: latest.latencyMs, lagBlocks: Number(lag) };
      }
      recordProbe(entry, operator.address, outcome);
    }
    // On the ledger's chain, each signed state answer is also checked against the ledger's node and proven.
    // After the block-hash accusations: an operator lying about both is proven by the cheaper proof first.
    if (stateCall) {
      const answers = results.flatMap(({ operator, state }): StateAnswer[] =>
        state?.ok ? [{ operator, answer: state }] : [],
      );
      await this.deps.stateProofs.check(network, stateCall, answers);
    }
  }

  /**
   * Keeps a signed answer to a deterministic call that contradicts most operators. The probe already
   * failed (wrong data counts against availability, so the SLA punishes it); the relay is kept as evidence
   * for anyone to re-check against an archive node (on the ledger's own chain stateProofs.ts also proves it
   * on-chain; elsewhere the watcher has no node to take a proof from). One
   * per operator, network and epoch proves it: an operator that keeps doing it would otherwise grow the
   * state file (saved every round) and flood the log.
   */
  private contradicted(
    operator: DirectoryOperator,
    network: DinNetwork,
    call: { method: string; params: readonly unknown[] },
    answer: SignedAnswer & { ok: true },
    verdict: MajorityVerdict,
  ): void {
    const state = this.deps.state();
    const epoch = (this.deps.epoch() ?? 0n).toString();
    const known = state.contradictions.some(
      (c) => c.operator === operator.address && c.networkId === network.id && c.epoch === epoch,
    );
    this.deps.log[known ? "debug" : "warn"](
      { operator: operator.address, network: network.name, method: call.method, params: call.params },
      "operator signed an answer that contradicts the other operators",
    );
    if (known) return;
    recordContradiction(state, {
      operator: operator.address,
      networkId: network.id,
      epoch,
      method: call.method,
      params: [...call.params],
      result: answer.result,
      relay: relayToJson(answer.relay),
      signature: answer.signature,
      majorityResponseHash: verdict.value as Hex,
      agreeing: verdict.answered - verdict.contradictors.length,
      answered: verdict.answered,
      at: new Date().toISOString(),
    });
  }
}

/**
 * A probe that threw (rather than reporting a failure) fails like any other: one operator's answer, however
 * malformed, must not abort the round for the others.
 */
function failed<T extends { ok: boolean }>(
  probe: Promise<T>,
): Promise<T | { ok: false; latencyMs: number; reason: string }> {
  return probe.catch((error: unknown) => ({
    ok: false as const,
    latencyMs: 0,
    reason: `probe failed: ${shortError(error)}`,
  }));
}

/** A call as a person reads it: `eth_getBalance(0x…, 0x1f)`. */
function describeCall(call: { method: string; params: readonly unknown[] } | undefined): string {
  return call ? `${call.method}(${call.params.map((p) => String(p)).join(", ")})` : "call";
}
