import { describe, expect, it } from "vitest";
import { tally, type Vote } from "./quorum.js";

const vote = (upstream: string, cloud: string, digest: string): Vote => ({
  upstream,
  cloud,
  digest,
  answer: { result: digest },
});

describe("quorum tally", () => {
  it("agrees once N operators on enough clouds gave one answer, naming the dissenters", () => {
    const votes = [
      vote("liar", "gcp", "b"),
      vote("a1", "aws", "a"),
      vote("h", "hetzner", "a"),
      vote("m", "metal", "a"),
    ];
    const verdict = tally(votes, 3, 3, "answer");
    expect(verdict.kind).toBe("agreed");
    if (verdict.kind !== "agreed") return;
    expect(verdict.agreed.map((v) => v.upstream)).toEqual(["a1", "h", "m"]);
    expect(verdict.dissenting.map((v) => v.upstream)).toEqual(["liar"]);
  });

  it("asks for as many more votes as the best answer lacks", () => {
    const verdict = tally(
      [vote("liar", "gcp", "b"), vote("a1", "aws", "a"), vote("h", "hetzner", "a")],
      3,
      3,
      "answer",
    );
    expect(verdict).toMatchObject({ kind: "open", missing: 1 });
  });

  it("does not let one cloud's operators make a quorum alone", () => {
    const votes = [
      vote("a1", "aws", "x"),
      vote("a2", "aws", "x"),
      vote("a3", "aws", "x"),
      vote("g", "gcp", "y"),
    ];
    const verdict = tally(votes, 3, 2, "answer");
    expect(verdict.kind).toBe("open");
    if (verdict.kind === "open") expect(verdict.missing).toBe(1);
    // Once the network has only one cloud that can answer, its operators are the quorum.
    expect(tally(votes.slice(0, 3), 3, 1, "answer").kind).toBe("agreed");
  });

  it("a lying minority, however loud, never outvotes a quorum: two liars telling one lie among five", () => {
    const votes = [
      vote("l1", "gcp", "lie"),
      vote("l2", "hetzner", "lie"),
      vote("a1", "aws", "truth"),
      vote("m", "metal", "truth"),
      vote("a2", "aws", "truth"),
    ];
    const verdict = tally(votes, 3, 3, "answer");
    expect(verdict.kind).toBe("open");
    const withMore = tally([...votes, vote("o", "ovh", "truth")], 3, 3, "answer");
    expect(withMore).toMatchObject({ kind: "agreed" });
    if (withMore.kind === "agreed")
      expect(withMore.dissenting.map((v) => v.upstream).sort()).toEqual(["l1", "l2"]);
  });

  it("strict mode needs every one asked to agree", () => {
    expect(
      tally([vote("a", "aws", "x"), vote("b", "gcp", "y"), vote("c", "metal", "x")], 3, 3, "strict").kind,
    ).toBe("split");
    expect(tally([vote("a", "aws", "x"), vote("c", "metal", "x")], 3, 3, "strict")).toMatchObject({
      kind: "open",
      missing: 1,
    });
    expect(
      tally([vote("a", "aws", "x"), vote("b", "aws", "x"), vote("c", "aws", "x")], 3, 3, "strict").kind,
    ).toBe("agreed");
  });
});
