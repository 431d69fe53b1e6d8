/**
 * Block tags and numbers: parsing, resolution against a tracked head, hex quantities.
 * A block parameter is a tag (`latest`, `safe`, `finalized`, `earliest`, `pending`), a hex number, or an
 * EIP-1898 object (`{ blockHash }` / `{ blockNumber }`).
 */

export type BlockTagName = "latest" | "safe" | "finalized" | "earliest" | "pending";

export type BlockRef =
  | { kind: "tag"; tag: BlockTagName }
  | { kind: "number"; number: bigint }
  | { kind: "hash"; hash: string; requireCanonical: boolean };

/** What the gateway knows about a chain's head; `safe` and `finalized` are absent where unsupported. */
export interface HeadView {
  latest: bigint;
  safe?: bigint | undefined;
  finalized?: bigint | undefined;
}

const tagNames = new Set<string>(["latest", "safe", "finalized", "earliest", "pending"]);
const quantityPattern = /^0x(0|[1-9a-f][0-9a-f]*)$/i;
const hash32Pattern = /^0x[0-9a-f]{64}$/i;

export function isQuantity(value: unknown): value is string {
  return typeof value === "string" && value.length <= 66 && quantityPattern.test(value);
}

export function isHash32(value: unknown): value is string {
  return typeof value === "string" && hash32Pattern.test(value);
}

/** Parses a block parameter; `undefined` when the value is not one. */
export function parseBlockRef(value: unknown): BlockRef | undefined {
  if (typeof value === "string") {
    if (tagNames.has(value)) return { kind: "tag", tag: value as BlockTagName };
    if (isQuantity(value)) return { kind: "number", number: BigInt(value) };
    return undefined;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    if (isHash32(object.blockHash)) {
      return {
        kind: "hash",
        hash: object.blockHash.toLowerCase(),
        requireCanonical: object.requireCanonical === true,
      };
    }
    if (object.blockNumber !== undefined) return parseBlockRef(object.blockNumber);
  }
  return undefined;
}

/**
 * The block number a reference means at the given head, or `undefined` when it cannot be pinned
 * (`pending`, a hash, or a tag the head does not track).
 */
export function resolveBlockNumber(ref: BlockRef, head: HeadView): bigint | undefined {
  switch (ref.kind) {
    case "number":
      return ref.number;
    case "hash":
      return undefined;
    case "tag":
      switch (ref.tag) {
        case "latest":
          return head.latest;
        case "safe":
          return head.safe;
        case "finalized":
          return head.finalized;
        case "earliest":
          return 0n;
        case "pending":
          return undefined;
      }
  }
}

export function toQuantity(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

export function fromQuantity(value: unknown): bigint | undefined {
  return isQuantity(value) ? BigInt(value) : undefined;
}

/** True when the block is final on this chain (at or below the finalized head). */
export function isFinalized(blockNumber: bigint, head: HeadView): boolean {
  return head.finalized !== undefined && blockNumber <= head.finalized;
}
