// Cross-checking operators against each other: the head they agree on, and for one height the block hash
// most of them report (a strict majority of those that answered) and who contradicts it. A lone operator,
// or a tie, proves nothing: the watcher only calls a hash canonical when most answers agree.
import type { Address, Hex } from "viem";

/** One operator's answer about one height. */
export type BlockAnswer = { operator: Address; blockNumber: bigint; blockHash: Hex };

/** The verdict for one height. */
export type CanonicalVerdict = {
  blockNumber: bigint;
  /** The hash a strict majority of the answers at this height report; undefined when none has one. */
  canonical: Hex | undefined;
  /** Operators whose answer differs from `canonical` (empty without a canonical hash). */
  contradictors: Address[];
  /** Operators whose answer was counted. */
  answered: number;
};

/**
 * The canonical hash at `blockNumber` among `answers` (answers about other heights are ignored; an
 * operator answering twice counts once, with its first answer).
 */
export function canonicalAt(answers: readonly BlockAnswer[], blockNumber: bigint): CanonicalVerdict {
  const byOperator = new Map<string, Hex>();
  for (const answer of answers) {
    if (answer.blockNumber !== blockNumber) continue;
    const key = answer.operator.toLowerCase();
    if (!byOperator.has(key)) byOperator.set(key, answer.blockHash.toLowerCase() as Hex);
  }
  const votes = new Map<Hex, number>();
  for (const hash of byOperator.values()) votes.set(hash, (votes.get(hash) ?? 0) + 1);
  const answered = byOperator.size;
  let canonical: Hex | undefined;
  for (const [hash, count] of votes) {
    if (count * 2 > answered) canonical = hash;
  }
  const contradictors: Address[] = [];
  if (canonical !== undefined) {
    const seen = new Set<string>();
    for (const answer of answers) {
      const key = answer.operator.toLowerCase();
      if (answer.blockNumber !== blockNumber || seen.has(key)) continue;
      seen.add(key);
      if (answer.blockHash.toLowerCase() !== canonical) contradictors.push(answer.operator);
    }
  }
  return { blockNumber, canonical, contradictors, answered };
}

/** {@link canonicalAt} for every height that appears in `answers`, lowest first. */
export function canonicalByHeight(answers: readonly BlockAnswer[]): CanonicalVerdict[] {
  const heights = [...new Set(answers.map((a) => a.blockNumber))].sort((a, b) => (a < b ? -1 : 1));
  return heights.map((height) => canonicalAt(answers, height));
}

/**
 * The head the operators agree on: the highest block that a strict majority of `heads` have reached
 * (undefined when no head was reported). One operator running ahead, or a minority on a private fork of
 * the future, cannot move it; lag is measured against it.
 */
export function agreedHead(heads: readonly bigint[]): bigint | undefined {
  if (heads.length === 0) return undefined;
  const descending = [...heads].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  // With n heads, the (⌊n/2⌋+1)-th highest is reached by ⌊n/2⌋+1 > n/2 of them.
  return descending[Math.floor(descending.length / 2)];
}
