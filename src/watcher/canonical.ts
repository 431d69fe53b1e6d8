// Cross-checking operators against each other: the head they agree on, for one height the block hash most
// of them report, and for a deterministic call the result most of them return (a strict majority of those
// that answered) and who contradicts it. A lone operator, or a tie, proves nothing: the watcher only calls
// an answer canonical when most answers agree.
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

/** One operator's answer to one question (a block hash at a height, the result of a call). */
export type Answer = { operator: Address; value: string };

/** What most operators answered to one question, and who answered otherwise. */
export type MajorityVerdict = {
  /** The value a strict majority of the operators answered; undefined when none has one. */
  value: string | undefined;
  /** Operators whose answer differs from `value` (empty without a majority value). */
  contradictors: Address[];
  /** Operators whose answer was counted. */
  answered: number;
};

/**
 * The value a strict majority of `answers` agree on (values compared exactly; an operator answering twice
 * counts once, with its first answer), and the operators that contradict it.
 */
export function majorityOf(answers: readonly Answer[]): MajorityVerdict {
  const byOperator = new Map<string, { operator: Address; value: string }>();
  for (const answer of answers) {
    const key = answer.operator.toLowerCase();
    if (!byOperator.has(key)) byOperator.set(key, answer);
  }
  const votes = new Map<string, number>();
  for (const { value } of byOperator.values()) votes.set(value, (votes.get(value) ?? 0) + 1);
  const answered = byOperator.size;
  let value: string | undefined;
  for (const [candidate, count] of votes) {
    if (count * 2 > answered) value = candidate;
  }
  const contradictors =
    value === undefined
      ? []
      : [...byOperator.values()].filter((a) => a.value !== value).map((a) => a.operator);
  return { value, contradictors, answered };
}

/**
 * The canonical hash at `blockNumber` among `answers` (answers about other heights are ignored; an
 * operator answering twice counts once, with its first answer).
 */
export function canonicalAt(answers: readonly BlockAnswer[], blockNumber: bigint): CanonicalVerdict {
  const verdict = majorityOf(
    answers
      .filter((a) => a.blockNumber === blockNumber)
      .map((a) => ({ operator: a.operator, value: a.blockHash.toLowerCase() })),
  );
  return {
    blockNumber,
    canonical: verdict.value as Hex | undefined,
    contradictors: verdict.contradictors,
    answered: verdict.answered,
  };
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
