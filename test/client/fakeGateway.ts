// A gateway stand-in for the client's unit tests: a small synthetic chain (a real state trie, headers that
// hash to their hashes and link by parent hash) served over HTTP on 127.0.0.1, with signed relays from
// local keys and hooks that make one answer, its signature or its proof wrong.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createMerkleProof, MerklePatriciaTrie } from "@ethereumjs/mpt";
import {
  type Address,
  bytesToHex,
  type Hex,
  hexToBytes,
  keccak256,
  type LocalAccount,
  numberToHex,
  pad,
  toRlp,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { signServedRelay } from "../../src/operator/relaySigner.js";

export const CHAIN_ID = 137;
export const LEDGER_CHAIN_ID = 31337;
export const SLASHER: Address = "0x5FbDB2315678afecb367f032d7a762f46c4a8b4F".toLowerCase() as Address;
export const ACCOUNT: Address = "0x1111111111111111111111111111111111111111";
export const SLOT: Hex = "0x0";
export const STORED = 42n;
export const BALANCE = 5n * 10n ** 18n;
export const NONCE = 3n;
export const CODE: Hex = "0x6000";

export const operatorKey = privateKeyToAccount(`0x${"11".repeat(32)}`);
export const otherKey = privateKeyToAccount(`0x${"22".repeat(32)}`);
export const OPERATOR: Address = "0x000000000000000000000000000000000000a11c";
export const OTHER_OPERATOR: Address = "0x000000000000000000000000000000000000b0b0";

type Block = Record<string, Hex>;

/** Blocks 0..3 over one state root; `parentOf` overrides a block's parent hash (then re-hashed). */
function buildBlocks(stateRoot: Hex, parentOf: Record<number, Hex> = {}): Block[] {
  const blocks: Block[] = [];
  for (let n = 0; n <= 3; n++) {
    const fields: Block = {
      parentHash: parentOf[n] ?? (n === 0 ? pad("0x0", { size: 32 }) : blocks[n - 1]!.hash!),
      sha3Uncles: keccak256(toRlp([])),
      miner: pad("0x0", { size: 20 }),
      stateRoot,
      transactionsRoot: pad("0x1", { size: 32 }),
      receiptsRoot: pad("0x2", { size: 32 }),
      logsBloom: pad("0x0", { size: 256 }),
      difficulty: "0x0",
      number: numberToHex(n),
      gasLimit: "0x1c9c380",
      gasUsed: "0x0",
      timestamp: numberToHex(1_700_000_000 + n),
      extraData: "0x",
      mixHash: pad("0x0", { size: 32 }),
      nonce: "0x0000000000000000",
      baseFeePerGas: "0x7",
    };
    const q = (v: Hex) => (BigInt(v) === 0n ? "0x" : numberToHex(BigInt(v)));
    const rlp = toRlp([
      fields.parentHash!,
      fields.sha3Uncles!,
      fields.miner!,
      fields.stateRoot!,
      fields.transactionsRoot!,
      fields.receiptsRoot!,
      fields.logsBloom!,
      q(fields.difficulty!),
      q(fields.number!),
      q(fields.gasLimit!),
      q(fields.gasUsed!),
      q(fields.timestamp!),
      fields.extraData!,
      fields.mixHash!,
      fields.nonce!,
      q(fields.baseFeePerGas!),
    ]);
    blocks.push({ ...fields, hash: keccak256(rlp) });
  }
  return blocks;
}

export interface Chain {
  stateRoot: Hex;
  blocks: Block[];
  accountProof: Hex[];
  storageProof: Hex[];
}

export async function buildChain(): Promise<Chain> {
  const storage = new MerklePatriciaTrie({ useKeyHashing: true });
  const slotKey = hexToBytes(pad(SLOT, { size: 32 }));
  await storage.put(slotKey, hexToBytes(toRlp(numberToHex(STORED))));
  const state = new MerklePatriciaTrie({ useKeyHashing: true });
  const account = toRlp([
    numberToHex(NONCE),
    numberToHex(BALANCE),
    bytesToHex(storage.root()),
    keccak256(CODE),
  ]);
  await state.put(hexToBytes(ACCOUNT), hexToBytes(account));
  // A second account, so the proof has more than one node.
  await state.put(hexToBytes("0x2222222222222222222222222222222222222222"), hexToBytes(account));
  const stateRoot = bytesToHex(state.root());
  return {
    stateRoot,
    blocks: buildBlocks(stateRoot),
    accountProof: (await createMerkleProof(state, hexToBytes(ACCOUNT))).map((n) => bytesToHex(n)),
    storageProof: (await createMerkleProof(storage, slotKey)).map((n) => bytesToHex(n)),
  };
}

export { buildBlocks };

/** How the fake gateway misbehaves for one method (honest when absent). */
export interface Faults {
  /** Changes the signed result before it is signed (the operator lies and signs its lie). */
  lie?: Record<string, (result: unknown) => unknown>;
  /** Changes the result after signing (the answer no longer matches its relay). */
  swap?: Record<string, (result: unknown) => unknown>;
  /** Changes the signature. */
  signature?: (signature: Hex) => Hex;
  /** Signs with this key instead of the operator's. */
  signer?: LocalAccount;
  /** The quorum's answer for block reads (honest when absent). */
  quorum?: (params: unknown[]) => { result: unknown } | { error: unknown };
  /** Blocks served (the honest chain when absent). */
  blocks?: Block[];
}

export interface FakeGateway {
  url: string;
  faults: Faults;
  /** Methods asked for, with whether a signature was asked. */
  calls: Array<{ method: string; signed: boolean; quorum: boolean }>;
  close(): Promise<void>;
}

export async function startFakeGateway(chain: Chain): Promise<FakeGateway> {
  const calls: FakeGateway["calls"] = [];
  const gateway: FakeGateway = { url: "", faults: {}, calls, close: async () => {} };
  const honest = (method: string, params: unknown[]): unknown => {
    const blocks = gateway.faults.blocks ?? chain.blocks;
    switch (method) {
      case "eth_chainId":
        return numberToHex(CHAIN_ID);
      case "eth_blockNumber":
        return numberToHex(blocks.length - 1);
      case "eth_getBlockByNumber":
        return blocks[Number(BigInt(params[0] as string))] ?? null;
      case "eth_getBalance":
        return numberToHex(BALANCE);
      case "eth_getTransactionCount":
        return numberToHex(NONCE);
      case "eth_getCode":
        return CODE;
      case "eth_getStorageAt":
        return pad(numberToHex(STORED), { size: 32 });
      case "eth_getProof":
        return {
          address: ACCOUNT,
          accountProof: chain.accountProof,
          storageProof: (params[1] as string[]).map((key) => ({
            key,
            value: numberToHex(STORED),
            proof: chain.storageProof,
          })),
        };
      default:
        return null;
    }
  };
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", async () => {
      const { id, method, params } = JSON.parse(body) as { id: number; method: string; params: unknown[] };
      const signed = request.headers["din-sign"] === "1";
      const quorum = request.headers["din-quorum"] !== undefined;
      calls.push({ method, signed, quorum });
      const faults = gateway.faults;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "din-upstream": "fake-upstream",
      };
      if (quorum && faults.quorum) {
        response
          .writeHead(200, headers)
          .end(JSON.stringify({ jsonrpc: "2.0", id, ...faults.quorum(params) }));
        return;
      }
      let result = honest(method, params);
      if (signed) {
        result = faults.lie?.[method]?.(result) ?? result;
        const { headers: relayHeaders } = await signServedRelay(
          {
            account: faults.signer ?? operatorKey,
            chainId: CHAIN_ID,
            ledgerChainId: LEDGER_CHAIN_ID,
            slasher: SLASHER,
          },
          { method, params },
          { result },
        );
        Object.assign(headers, relayHeaders, { "din-operator": OPERATOR });
        if (faults.signature) headers["din-signature"] = faults.signature(relayHeaders["din-signature"]);
        result = faults.swap?.[method]?.(result) ?? result;
      }
      response.writeHead(200, headers).end(JSON.stringify({ jsonrpc: "2.0", id, result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gateway.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/polygon`;
  gateway.close = () => new Promise((resolve) => server.close(() => resolve()));
  return gateway;
}
