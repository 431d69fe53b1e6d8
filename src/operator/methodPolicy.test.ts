// An admitted gateway or watcher is still only a client: node-administration and state-changing methods
// are refused by the operator node, never forwarded to its execution client, and never signed.
import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { type RecordingProxy, startRecordingProxy } from "../../test/support/recordingProxy.js";
import { ACCESS_TOKEN_HEADER, createAccessToken, type RelayCallerRole } from "../ledger/din/auth.js";
import { refusalOf } from "./methodPolicy.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";

const ledgerChainId = 31337;
const operator = privateKeyToAccount(generatePrivateKey()).address;
const caller = privateKeyToAccount(generatePrivateKey());
const victim = `0x${"42".repeat(20)}` as Address;

let chain: HardhatServer;
let recorder: RecordingProxy;
let node: OperatorNode;

const token = (role: RelayCallerRole) =>
  createAccessToken(caller, { role, audience: operator, ledgerChainId });

async function send(body: unknown, role: RelayCallerRole) {
  const response = await fetch(node.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [ACCESS_TOKEN_HEADER]: await token(role),
      "din-sign": "1",
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    signature: response.headers.get("din-signature"),
    signError: response.headers.get("din-sign-error"),
    body: (await response.json()) as unknown,
  };
}

const chainHead = async () => BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string);
const victimBalance = () => chain.provider.request({ method: "eth_getBalance", params: [victim, "latest"] });

beforeAll(async () => {
  chain = await startHardhatServer();
  recorder = await startRecordingProxy(chain.url);
  node = await startOperatorNode({
    id: "policy",
    upstream: recorder.url,
    // Every caller is admitted: the refusals below are the node's policy, not authentication.
    auth: { operator, ledgerChainId, isCaller: async () => true },
    relaySigner: {
      account: privateKeyToAccount(generatePrivateKey()),
      chainId: 31337,
      ledgerChainId,
      slasher: `0x${"05".repeat(20)}`,
    },
  });
});

afterAll(async () => {
  await node?.close();
  await recorder?.close();
  await chain?.close();
});

const attacks = [
  { method: "hardhat_setBalance", params: [victim, "0xffffffffffffffffffffffff"] },
  { method: "evm_mine", params: [] },
  { method: "debug_setHead", params: ["0x1"] },
  { method: "hardhat_mine", params: ["0x100"] },
];

describe("operator node method policy", () => {
  it("refuses node-administration methods from an admitted gateway or watcher, signs nothing and leaves the chain as it was", async () => {
    const head = await chainHead();
    const balance = await victimBalance();
    for (const role of ["gateway", "watcher"] as const) {
      for (const [index, attack] of attacks.entries()) {
        const answer = await send({ jsonrpc: "2.0", id: index, ...attack }, role);
        expect(answer.status, attack.method).toBe(200);
        expect(answer.body, attack.method).toMatchObject({ id: index, error: { code: -32601 } });
        expect(answer.signature, attack.method).toBeNull();
        expect(answer.signError, attack.method).toMatch(/refused/);
      }
    }
    const reached = recorder.calls.map((call) => call.method);
    for (const attack of attacks) expect(reached).not.toContain(attack.method);
    expect(await chainHead()).toBe(head);
    expect(await victimBalance()).toBe(balance);
    expect(node.stats().refused).toBeGreaterThanOrEqual(attacks.length * 2);
  });

  it("checks every entry of a batch: the reads are served, the attacks refused", async () => {
    const head = await chainHead();
    const balance = await victimBalance();
    const batch = [
      { jsonrpc: "2.0", id: "read", method: "eth_chainId", params: [] },
      ...attacks.map((attack, index) => ({ jsonrpc: "2.0", id: index, ...attack })),
      // A notification is refused silently, as it would be answered.
      { jsonrpc: "2.0", method: "evm_mine", params: [] },
    ];
    const answer = await send(batch, "gateway");
    expect(answer.status).toBe(200);
    const responses = answer.body as Array<{ id: unknown; result?: unknown; error?: { code: number } }>;
    expect(responses).toHaveLength(1 + attacks.length);
    expect(responses.find((response) => response.id === "read")?.result).toBe("0x7a69");
    for (const index of attacks.keys()) {
      expect(responses.find((response) => response.id === index)?.error?.code).toBe(-32601);
    }
    const reached = recorder.calls.map((call) => call.method);
    for (const attack of attacks) expect(reached).not.toContain(attack.method);
    expect(await chainHead()).toBe(head);
    expect(await victimBalance()).toBe(balance);
  });

  it("still serves and signs what a public RPC serves", async () => {
    const answer = await send(
      { jsonrpc: "2.0", id: 1, method: "eth_getBalance", params: [victim, "latest"] },
      "gateway",
    );
    expect(answer.body).toMatchObject({ id: 1, result: expect.stringMatching(/^0x/) });
    expect(answer.signature).toMatch(/^0x[0-9a-f]{130}$/);
  });
});

describe("refusalOf", () => {
  it("refuses administration, account, development-node and state-changing debug methods", () => {
    for (const method of [
      "admin_addPeer",
      "personal_unlockAccount",
      "miner_start",
      "engine_newPayloadV3",
      "hardhat_setCode",
      "evm_increaseTime",
      "anvil_setBalance",
      "clique_propose",
      "debug_setHead",
      "debug_setGCPercent",
      "debug_writeBlockProfile",
      "eth_sendTransaction",
      "eth_sign",
    ]) {
      expect(refusalOf({ jsonrpc: "2.0", id: 1, method, params: [] })?.code, method).toBe(-32601);
    }
  });

  it("refuses methods it does not know with -32601 and malformed calls with -32600", () => {
    expect(refusalOf({ jsonrpc: "2.0", id: 1, method: "eth_madeUp" })?.code).toBe(-32601);
    expect(refusalOf({ jsonrpc: "2.0", id: 1 })?.code).toBe(-32600);
    expect(refusalOf("eth_chainId")?.code).toBe(-32600);
  });

  it("lets reads and read-only traces through", () => {
    for (const [method, params] of [
      ["eth_chainId", []],
      ["eth_call", [{ to: victim, data: "0x" }, "latest"]],
      ["eth_getLogs", [{ fromBlock: "0x1", toBlock: "0x2" }]],
      ["eth_sendRawTransaction", ["0x02"]],
      ["debug_traceTransaction", [`0x${"ab".repeat(32)}`]],
      ["trace_block", ["latest"]],
    ] as const) {
      expect(refusalOf({ jsonrpc: "2.0", id: 1, method, params }), method).toBeUndefined();
    }
  });
});
