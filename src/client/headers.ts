/**
 * Block headers a client can build on: signed by a registered operator, equal to what the majority of
 * operators answer (the gateway's `din-quorum: N`), hashing to their own hash, and linked by parent hash
 * to every neighbour verified before. Verified headers are kept (bounded), so a state read about a block
 * already seen costs no header round trip.
 */
import type { Hex } from "viem";
import { encodeBlockHeader } from "../ledger/din/header.js";
import { hashResponse } from "../ledger/din/relay.js";
import { DinVerificationError } from "./errors.js";
import { type GatewayReply, quantity } from "./gateway.js";
import { answerError, type CheckedAnswer, type SignedCallContext, signedCall } from "./signed.js";

export interface VerifiedHeader {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  stateRoot: Hex;
  /** The RLP header (what the ledger's fraud proofs take). */
  rlp: Hex;
}

type RpcBlock = Record<string, Hex | undefined> & { hash: Hex };

export interface HeaderVerifierOptions {
  /** Operators whose majority decides a header. @default 3 */
  quorum?: number;
  /** Verified headers kept. @default 4096 */
  maxHeaders?: number;
}

/** The digest the gateway's quorum compares answers by: a relay's response hash of the answer. */
function answerDigest(result: unknown): Hex {
  return hashResponse({ result });
}

function isBlock(value: unknown): value is RpcBlock {
  return (
    typeof value === "object" && value !== null && typeof (value as { hash?: unknown }).hash === "string"
  );
}

export class HeaderVerifier {
  private readonly headers = new Map<bigint, VerifiedHeader>();
  private readonly pending = new Map<bigint, Promise<VerifiedHeader>>();
  private quorum: number;
  private readonly maxHeaders: number;

  constructor(
    private readonly context: SignedCallContext,
    options: HeaderVerifierOptions = {},
  ) {
    this.quorum = options.quorum ?? 3;
    this.maxHeaders = options.maxHeaders ?? 4096;
  }

  /** The verified header of block `number` (verified once, then remembered). */
  header(number: bigint): Promise<VerifiedHeader> {
    const known = this.headers.get(number);
    if (known) return Promise.resolve(known);
    let pending = this.pending.get(number);
    if (!pending) {
      pending = this.verify(number).finally(() => this.pending.delete(number));
      this.pending.set(number, pending);
    }
    return pending;
  }

  /** Checks that a block an operator served (signed, already relay-checked) is the verified block. */
  async checkServedBlock(checked: CheckedAnswer, block: unknown): Promise<void> {
    if (!isBlock(block)) throw answerError(checked, "bad-header", "the answer is not a block");
    const number = BigInt(block.number ?? "0x0");
    const header = await this.header(number);
    if (block.hash !== header.hash) {
      throw answerError(
        checked,
        "wrong-block-hash",
        `block ${number} is ${header.hash} to the majority, not ${block.hash}`,
        {
          header: header.rlp,
          servedBlock: block,
        },
      );
    }
    this.ownHeader(checked, block);
  }

  private async verify(number: bigint): Promise<VerifiedHeader> {
    const params = [quantity(number), false] as const;
    const checked = await signedCall(this.context, "eth_getBlockByNumber", params);
    if ("error" in checked.answer) {
      throw new DinVerificationError(
        "bad-header",
        `block ${number} was not served: ${checked.answer.error.message}`,
        {
          operator: checked.operator,
          upstream: checked.upstream,
          method: checked.method,
        },
      );
    }
    const served = checked.answer.result;
    if (!isBlock(served))
      throw answerError(checked, "bad-header", `block ${number} was answered with no block`);
    const majority = await this.majorityBlock(number, checked, served);
    let canonicalRlp: Hex | undefined;
    try {
      canonicalRlp = encodeBlockHeader(majority);
    } catch {
      canonicalRlp = undefined;
    }
    if (served.hash !== majority.hash) {
      throw answerError(
        checked,
        "wrong-block-hash",
        `block ${number} is ${majority.hash} to the majority, not ${served.hash}`,
        {
          header: canonicalRlp,
          servedBlock: served,
        },
      );
    }
    if (answerDigest(served) !== answerDigest(majority)) {
      throw answerError(checked, "bad-header", `block ${number}'s fields differ from the majority's`, {
        header: canonicalRlp,
        servedBlock: served,
      });
    }
    const rlp = this.ownHeader(checked, served);
    const header: VerifiedHeader = {
      number,
      hash: served.hash,
      parentHash: served.parentHash as Hex,
      stateRoot: served.stateRoot as Hex,
      rlp,
    };
    const parent = this.headers.get(number - 1n);
    const child = this.headers.get(number + 1n);
    if ((parent && parent.hash !== header.parentHash) || (child && child.parentHash !== header.hash)) {
      throw answerError(
        checked,
        "broken-parent-link",
        parent && parent.hash !== header.parentHash
          ? `block ${number}'s parent is ${header.parentHash}, not the verified ${parent.hash}`
          : `verified block ${number + 1n}'s parent is ${child!.parentHash}, not ${header.hash}`,
        { header: rlp, servedBlock: served },
      );
    }
    if (this.headers.size >= this.maxHeaders) {
      const oldest = this.headers.keys().next().value;
      if (oldest !== undefined) this.headers.delete(oldest);
    }
    this.headers.set(number, header);
    return header;
  }

  /** The block's own RLP header; a block whose fields do not hash to its hash is a bad header. */
  private ownHeader(checked: CheckedAnswer, block: RpcBlock): Hex {
    try {
      return encodeBlockHeader(block);
    } catch (error) {
      throw answerError(checked, "bad-header", (error as Error).message, { servedBlock: block });
    }
  }

  /**
   * The gateway's quorum answer for a block: an agreed answer or a disagreement naming each answer's
   * digest. A network with fewer operators than asked lowers the quorum for good; a quorum too few
   * operators can answer right now (some quarantined, down, or on too few clouds) is asked smaller, down
   * to 2; undefined when not even 2 can answer.
   */
  private async askQuorum(params: unknown[]): Promise<GatewayReply | undefined> {
    for (let size = this.quorum; size >= 2; size--) {
      const reply = await this.context.gateway.call("eth_getBlockByNumber", params, { quorum: size });
      if ("result" in reply.answer) return reply;
      const offered = /at most (\d+)\)/.exec(reply.answer.error.message);
      if (offered && Number(offered[1]) < size) {
        if (Number(offered[1]) < 2) return undefined;
        this.quorum = Number(offered[1]);
        size = this.quorum + 1;
        continue;
      }
      if ((reply.answer.error.data as { answers?: unknown } | undefined)?.answers) return reply;
    }
    return undefined;
  }

  /**
   * What the majority of `quorum` operators answer for block `number`. When they disagree, the gateway
   * names each answer's digest: the served block is the majority's if its digest is; otherwise the
   * majority's block is asked again (signed) until an operator serves it.
   */
  private async majorityBlock(number: bigint, checked: CheckedAnswer, served: RpcBlock): Promise<RpcBlock> {
    const params = [quantity(number), false];
    const reply = await this.askQuorum(params);
    if (!reply) {
      // Too few operators answer to form any quorum: nobody is shown wrong, and nothing is verified.
      throw new DinVerificationError("no-majority", `too few operators answer to verify block ${number}`, {
        operator: undefined,
        upstream: undefined,
        method: checked.method,
      });
    }
    if ("result" in reply.answer) {
      if (!isBlock(reply.answer.result))
        throw answerError(checked, "no-majority", `the operators agree on no block ${number}`);
      return reply.answer.result;
    }
    const data = reply.answer.error.data as
      | { answers?: Array<{ upstream: string; digest: string }> }
      | undefined;
    const votes = new Map<string, number>();
    for (const answer of data?.answers ?? []) votes.set(answer.digest, (votes.get(answer.digest) ?? 0) + 1);
    const total = data?.answers?.length ?? 0;
    const [majorityDigest] = [...votes.entries()].find(([, count]) => count > total / 2) ?? [];
    if (majorityDigest === undefined) {
      throw answerError(
        checked,
        "no-majority",
        `no majority of operators on block ${number}: ${reply.answer.error.message}`,
        {
          servedBlock: served,
        },
      );
    }
    if (answerDigest(served) === majorityDigest) return served;
    for (let attempt = 0; attempt < 4; attempt++) {
      const again = await signedCall(this.context, "eth_getBlockByNumber", params).catch(() => undefined);
      if (again && "result" in again.answer && answerDigest(again.answer.result) === majorityDigest) {
        return again.answer.result as RpcBlock;
      }
    }
    // The majority's block was not served again: the served one is still not it.
    throw answerError(
      checked,
      "wrong-block-hash",
      `block ${number} disagrees with the majority of operators`,
      {
        servedBlock: served,
      },
    );
  }
}
