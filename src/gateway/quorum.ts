/**
 * Quorum on demand (`din-quorum: N`): the answer N operators on different clouds agree on. The gateway asks
 * N at once, each on a cloud not asked yet where it can; when some disagree (or fail) it asks more, up to
 * `routing.maxQuorumAsk` operators in all, and fails only when no N can agree. An operator that contradicted
 * the agreed answer is quarantined from the network's routing (quarantine.ts). `din-quorum-mode: strict`
 * keeps the stricter rule: the N asked must all agree, or the request fails naming who disagreed.
 *
 * Operators from the ledger are asked to sign every quorum answer, so any disagreement among them is a
 * contradiction between signed relays, kept as evidence for the fraud-proof path.
 */
import { hashResponse } from "../ledger/din/relay.js";
import { InvalidRequestError, QuorumDisagreementError, UpstreamUnavailableError } from "../rpc/errors.js";
import type { Answer, RequestContext, RouteConstraints } from "./context.js";
import type { SignedRelay } from "./evidence.js";
import type { AttemptOutcome } from "./outcome.js";
import { quarantine } from "./quarantine.js";
import { pickNext, type RankedUpstream } from "./selection.js";

/** `answer` (the default): N agreeing operators suffice; `strict`: every one of the N asked must agree. */
export type QuorumMode = "answer" | "strict";

export const quorumModes: readonly QuorumMode[] = ["answer", "strict"];

/** One operator's answer to a quorum request. */
export interface Vote {
  upstream: string;
  cloud: string;
  answer: Answer;
  digest: string;
  /** The operator's signed relay of this answer (ledger-sourced upstreams). */
  relay?: SignedRelay | undefined;
}

/** What the votes so far decide. */
export type Tally =
  | { kind: "agreed"; agreed: Vote[]; dissenting: Vote[] }
  /** No answer has a quorum yet; `missing` more votes could give the best one its quorum. */
  | { kind: "open"; missing: number; best: Vote[] }
  /** Strict mode: the N asked did not all agree. */
  | { kind: "split"; best: Vote[] };

/**
 * Counts votes. An answer is agreed once `size` operators gave it from at least `cloudsNeeded` distinct
 * clouds (so one cloud's operators, or one cloud's network path, cannot make a quorum alone). Pure.
 */
export function tally(votes: readonly Vote[], size: number, cloudsNeeded: number, mode: QuorumMode): Tally {
  const groups = new Map<string, Vote[]>();
  for (const vote of votes) groups.set(vote.digest, [...(groups.get(vote.digest) ?? []), vote]);
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || cloudCount(b) - cloudCount(a));
  const best = ordered[0] ?? [];
  if (mode === "strict") {
    if (groups.size > 1) return { kind: "split", best };
    return best.length >= size
      ? { kind: "agreed", agreed: best, dissenting: [] }
      : { kind: "open", missing: size - best.length, best };
  }
  const agreed = ordered.find((group) => group.length >= size && cloudCount(group) >= cloudsNeeded);
  if (agreed) return { kind: "agreed", agreed, dissenting: votes.filter((vote) => !agreed.includes(vote)) };
  const missing = Math.max(size - best.length, cloudsNeeded - cloudCount(best), 1);
  return { kind: "open", missing, best };
}

function cloudCount(votes: readonly Vote[]): number {
  return new Set(votes.map((vote) => vote.cloud)).size;
}

export async function quorumCall(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints,
): Promise<Answer> {
  const { network } = context;
  const size = context.quorum!;
  const mode = context.quorumMode ?? "answer";
  if (size > network.routing.maxQuorum || size > network.upstreams.length) {
    throw new InvalidRequestError(
      `din-quorum ${size} is more than this network offers (at most ${Math.min(network.routing.maxQuorum, network.upstreams.length)})`,
    );
  }
  const ranked = network.rank(
    constraints.maxLagBlocks !== undefined ? { maxLagBlocks: constraints.maxLagBlocks } : {},
  );
  const maxAsk = Math.max(size, network.routing.maxQuorumAsk);
  const tried: RankedUpstream[] = [];
  const votes: Vote[] = [];
  /** Why each upstream that did not vote failed (said in the error when too few answered). */
  const failures = new Map<string, string>();
  const timeoutMs = Math.max(1, Math.min(network.routing.attemptTimeoutMs, context.deadline - Date.now()));
  // Asks the next upstream (on a cloud not asked yet where one is left) until one answers; every vote is a
  // distinct operator, and all asks together stay within maxAsk.
  const ask = async (): Promise<void> => {
    while (tried.length < maxAsk && Date.now() < context.deadline) {
      const next = pickNext(ranked, tried);
      if (!next) return;
      tried.push(next);
      const upstream = network.upstream(next.id);
      const evidence: { relay?: unknown } = {};
      const outcome = upstream
        ? await upstream.call(method, params, {
            timeoutMs,
            nullIsMissing: constraints.nullIsMissing ?? false,
            sign: true,
            evidence,
          })
        : undefined;
      const answer = outcome && answerOf(outcome);
      if (answer) {
        votes.push({
          upstream: next.id,
          cloud: next.cloud,
          answer,
          // A relay's response hash of the answer: the digest signed relays and clients compare by.
          digest: hashResponse(answer),
          relay: evidence.relay as SignedRelay | undefined,
        });
        return;
      }
      failures.set(
        next.id,
        !outcome ? "not available" : outcome.kind === "retry" ? outcome.reason : outcome.kind,
      );
    }
  };
  // The agreeing operators must span as many clouds as can answer (up to N): a cloud all of whose
  // operators failed no longer counts, so an outage of a whole cloud does not make quorums impossible.
  const cloudsNeeded = () =>
    Math.min(size, new Set(ranked.filter((u) => !failures.has(u.id)).map((u) => u.cloud)).size);
  await Promise.all(Array.from({ length: size }, ask));
  let verdict = tally(votes, size, cloudsNeeded(), mode);
  while (
    verdict.kind === "open" &&
    votes.length > 0 &&
    tried.length < maxAsk &&
    Date.now() < context.deadline
  ) {
    const before = tried.length;
    await Promise.all(Array.from({ length: verdict.missing }, ask));
    if (tried.length === before) break;
    network.metrics.quorumExtraAsks.inc({ network: network.name }, tried.length - before);
    verdict = tally(votes, size, cloudsNeeded(), mode);
  }
  const disagreed = new Set(votes.map((vote) => vote.digest)).size > 1;
  if (disagreed) keepEvidence(method, params, context, votes, verdict);
  if (verdict.kind === "agreed") {
    for (const vote of verdict.dissenting) {
      const upstream = network.upstream(vote.upstream);
      if (!upstream) continue;
      quarantine(
        network,
        upstream,
        network.routing.quarantineMs,
        `contradicted the answer ${verdict.agreed.length} operators agreed on to ${method}`,
      );
    }
    return verdict.agreed[0]!.answer;
  }
  if (!disagreed) {
    throw new UpstreamUnavailableError(
      `quorum of ${size} needs ${size} answering operators on ${cloudsNeeded()} clouds, ${votes.length} answered on ${new Set(votes.map((vote) => vote.cloud)).size} (tried: ${tried
        .map((u) => (failures.has(u.id) ? `${u.id}: ${failures.get(u.id)}` : u.id))
        .join(", ")})`,
    );
  }
  const best = verdict.best;
  const majority = best.length > votes.length / 2 ? best[0]!.digest : undefined;
  const disagreeing = votes.filter((vote) => vote.digest !== majority).map((vote) => vote.upstream);
  throw new QuorumDisagreementError(
    majority
      ? `${disagreeing.join(", ")} disagreed with the majority of ${best.length}/${votes.length}${
          mode === "answer" ? `, and no ${size} operators on ${cloudsNeeded()} clouds agreed` : ""
        }`
      : `no majority among ${votes.map((vote) => vote.upstream).join(", ")}`,
    {
      data: {
        disagreeing,
        answers: votes.map((vote) => ({ upstream: vote.upstream, digest: vote.digest })),
      },
    },
  );
}

/** A disagreement is evidence: logged, and kept (with its signed relays) by the ledger follower. */
function keepEvidence(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  votes: readonly Vote[],
  verdict: Tally,
): void {
  const { network } = context;
  network.metrics.quorumDisagreements.inc({ network: network.name });
  const trusted =
    verdict.kind === "agreed"
      ? verdict.agreed[0]!.digest
      : verdict.best.length > votes.length / 2
        ? verdict.best[0]!.digest
        : undefined;
  const groups = new Map<string, Vote[]>();
  for (const vote of votes) groups.set(vote.digest, [...(groups.get(vote.digest) ?? []), vote]);
  if (network.ledger && votes.some((vote) => vote.relay !== undefined)) {
    network.ledger.contradiction({
      method,
      params,
      sides: [...groups.values()].map((group) => ({
        digest: group[0]!.digest,
        majority: group[0]!.digest === trusted,
        answer: group[0]!.answer,
        relays: group.flatMap((vote) => (vote.relay ? [vote.relay] : [])),
      })),
    });
  }
  network.logger.warn(
    {
      evidence: {
        method,
        params,
        answers: votes.map((vote) => ({ upstream: vote.upstream, digest: vote.digest, answer: vote.answer })),
      },
      disagreeing: votes.filter((vote) => vote.digest !== trusted).map((vote) => vote.upstream),
      agreed: verdict.kind === "agreed",
    },
    "quorum disagreement",
  );
}

function answerOf(outcome: AttemptOutcome | { kind: "cancelled" }): Answer | undefined {
  if (outcome.kind === "result") return { result: outcome.result };
  if (outcome.kind === "error") return { error: outcome.error };
  return undefined;
}
