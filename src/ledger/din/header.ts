// The RLP header of a block of the ledger's chain, as DinSlasher.proveWrongBlockHash takes it: the slasher
// checks its keccak256 against the canonical hash and reads the block's timestamp from it (an answer served
// before the block was final is no evidence).
import { type Hex, keccak256, numberToHex, type PublicClient, toRlp } from "viem";

/** A block as eth_getBlockByNumber returns it (hex strings; fields of later forks optional). */
type RpcBlock = Record<string, Hex | undefined> & { hash: Hex };

/** Header fields in RLP order; quantities are encoded as minimal big-endian integers. */
const FIELDS: [name: string, kind: "bytes" | "quantity", since?: "optional"][] = [
  ["parentHash", "bytes"],
  ["sha3Uncles", "bytes"],
  ["miner", "bytes"],
  ["stateRoot", "bytes"],
  ["transactionsRoot", "bytes"],
  ["receiptsRoot", "bytes"],
  ["logsBloom", "bytes"],
  ["difficulty", "quantity"],
  ["number", "quantity"],
  ["gasLimit", "quantity"],
  ["gasUsed", "quantity"],
  ["timestamp", "quantity"],
  ["extraData", "bytes"],
  ["mixHash", "bytes"],
  ["nonce", "bytes"],
  ["baseFeePerGas", "quantity", "optional"],
  ["withdrawalsRoot", "bytes", "optional"],
  ["blobGasUsed", "quantity", "optional"],
  ["excessBlobGas", "quantity", "optional"],
  ["parentBeaconBlockRoot", "bytes", "optional"],
  ["requestsHash", "bytes", "optional"],
];

/** RLP-encodes the header of an RPC block; throws unless it hashes to the block's hash. */
export function encodeBlockHeader(block: RpcBlock): Hex {
  const items: Hex[] = [];
  for (const [name, kind, optional] of FIELDS) {
    const value = block[name];
    if (value === undefined || value === null) {
      if (optional) break;
      throw new Error(`block ${block.hash} has no ${name}`);
    }
    items.push(kind === "quantity" ? (BigInt(value) === 0n ? "0x" : numberToHex(BigInt(value))) : value);
  }
  const rlp = toRlp(items);
  if (keccak256(rlp) !== block.hash) throw new Error(`the header of block ${block.hash} does not hash to it`);
  return rlp;
}

/** The RLP header of block `blockNumber` of the chain `client` reads. */
export async function blockHeader(client: Pick<PublicClient, "request">, blockNumber: bigint): Promise<Hex> {
  const block = (await client.request({
    method: "eth_getBlockByNumber",
    params: [numberToHex(blockNumber), false],
  })) as unknown as RpcBlock | null;
  if (!block) throw new Error(`block ${blockNumber} not found`);
  return encodeBlockHeader(block);
}
