/**
 * Quorum on demand (`din-quorum: N`): N upstreams of different operators answer the same pinned read;
 * agreement is the answer, disagreement is an error naming who disagreed, logged as evidence. Operators
 * from the ledger are asked to sign every quorum answer, so a disagreement among them is a contradiction
 * between signed relays: evidence for the fraud-proof path.
 */
import { keccak256, stringToHex } from "viem";
import { canonicalJson } from "../rpc/canonical.js";
import { InvalidRequestError, QuorumDisagreementError, UpstreamUnavailableError } from "../rpc/errors.js";
import type { SignedRelay } from "./evidence.js";
import type { AttemptOutcome } from "./outcome.js";
import type { Answer, RequestContext, RouteConstraints } from "./pipeline.js";
import { pickNext, type RankedUpstream } from "./selection.js";

interface Vote {
  upstream: string;
  answer: Answer;
  digest: string;
  /** The operator's signed relay of this answer (ledger-sourced upstreams). */
  relay: SignedRelay | undefined;
}

export async function quorumCall(
  method: string,
  params: readonly unknown[],
  context: RequestContext,
  constraints: RouteConstraints,
): Promise<Answer> {
  const { network } = context;
  const size = context.quorum!;
  if (size > network.routing.maxQuorum || size > network.upstreams.length) {
    throw new InvalidRequestError(
      `din-quorum ${size} is more than this network offers (at most ${Math.min(network.routing.maxQuorum, network.upstreams.length)})`,
    );
  }
  const ranked = network.rank(
    constraints.maxLagBlocks !== undefined ? { maxLagBlocks: constraints.maxLagBlocks } : {},
  );
  const tried: RankedUpstream[] = [];
  const votes: Vote[] = [];
  /** Why each upstream that did not vote failed (said in the error when too few answered). */
  const failures = new Map<string, string>();
  const timeoutMs = Math.max(1, Math.min(network.routing.attemptTimeoutMs, context.deadline - Date.now()));
  // Ask N at once; replace each one that fails by a fresh upstream, so every vote is a distinct operator.
  const ask = async (): Promise<void> => {
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
    if (!answer) {
      failures.set(
        next.id,
        !outcome ? "not available" : outcome.kind === "retry" ? outcome.reason : outcome.kind,
      );
    }
    if (answer) {
      votes.push({
        upstream: next.id,
        answer,
        digest: keccak256(stringToHex(canonicalJson(answer))),
        relay: evidence.relay as SignedRelay | undefined,
      });
      return;
    }
    if (Date.now() < context.deadline) await ask();
  };
  await Promise.all(Array.from({ length: size }, ask));
  if (votes.length < size) {
    throw new UpstreamUnavailableError(
      `quorum of ${size} needs ${size} answering operators, ${votes.length} answered (tried: ${tried
        .map((u) => (failures.has(u.id) ? `${u.id}: ${failures.get(u.id)}` : u.id))
        .join(", ")})`,
    );
  }
  const groups = new Map<string, Vote[]>();
  for (const vote of votes) groups.set(vote.digest, [...(groups.get(vote.digest) ?? []), vote]);
  if (groups.size === 1) return votes[0]!.answer;
  const majority = [...groups.values()].sort((a, b) => b.length - a.length)[0]!;
  const majorityDigest = majority.length > size / 2 ? majority[0]!.digest : undefined;
  const disagreeing = votes.filter((vote) => vote.digest !== majorityDigest).map((vote) => vote.upstream);
  network.metrics.quorumDisagreements.inc({ network: network.name });
  if (network.ledger && votes.some((vote) => vote.relay !== undefined)) {
    network.ledger.contradiction({
      method,
      params,
      sides: [...groups.values()].map((group) => ({
        digest: group[0]!.digest,
        majority: group[0]!.digest === majorityDigest,
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
      disagreeing,
    },
    "quorum disagreement",
  );
  throw new QuorumDisagreementError(
    majorityDigest
      ? `${disagreeing.join(", ")} disagreed with the majority of ${majority.length}/${size}`
      : `no majority among ${votes.map((vote) => vote.upstream).join(", ")}`,
    {
      data: {
        disagreeing,
        answers: votes.map((vote) => ({ upstream: vote.upstream, digest: vote.digest })),
      },
    },
  );
}

function answerOf(outcome: AttemptOutcome | { kind: "cancelled" }): Answer | undefined {
  if (outcome.kind === "result") return { result: outcome.result };
  if (outcome.kind === "error") return { error: outcome.error };
  return undefined;
}
