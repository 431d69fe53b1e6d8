// An operator node with authentication on serves only gateways and watchers the ledger's registry admits.
// The registry is a real DIN deployment on the in-process Hardhat chain, which the node also serves.
import type { Address } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DinFixture, deployDinFixture, GATEWAY_SET, WAD } from "../../test/din/fixture.js";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { ACCESS_TOKEN_HEADER, createAccessToken, type RelayCallerCheck } from "../ledger/din/auth.js";
import { connectLedger } from "../ledger/din/directory.js";
import { createCallerAuthenticator, type OperatorAuthOptions, registryRoleReader } from "./auth.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";

let f: DinFixture;
let chain: HardhatServer;
let node: OperatorNode;
let chainId: number;
let operator: Address;
let otherOperator: Address;
let gateway: PrivateKeyAccount;
const stranger = privateKeyToAccount(generatePrivateKey());
const nodes: OperatorNode[] = [];

async function post(url: string, body: unknown, token?: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { [ACCESS_TOKEN_HEADER]: token } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    authenticate: response.headers.get("www-authenticate"),
    body: (await response.json()) as {
      id: unknown;
      result?: unknown;
      error?: { code: number; message: string };
    },
  };
}

const token = (
  account: PrivateKeyAccount,
  options: { audience?: Address; now?: number; role?: "gateway" | "watcher" } = {},
) =>
  createAccessToken(account, {
    role: options.role ?? "gateway",
    audience: options.audience ?? operator,
    ledgerChainId: chainId,
    ...(options.now !== undefined ? { now: options.now } : {}),
  });

const blockNumber = async () =>
  BigInt((await chain.provider.request({ method: "eth_blockNumber" })) as string);

async function startAuthNode(
  isCaller: RelayCallerCheck,
  options: Partial<OperatorAuthOptions> = {},
): Promise<OperatorNode> {
  const started = await startOperatorNode({
    id: `auth-${nodes.length}`,
    upstream: chain.url,
    auth: { operator, ledgerChainId: chainId, isCaller, ...options },
  });
  nodes.push(started);
  return started;
}

beforeAll(async () => {
  f = await deployDinFixture();
  chainId = f.ledger.chain.id;
  [operator, otherOperator] = f.operators;
  // A gateway with its own key: admitted by governance, staked and registered in the gateway set.
  gateway = privateKeyToAccount(generatePrivateKey());
  await f.ledger.fund(gateway.address);
  await f.ledger.write(f.deployer, {
    ...f.registry,
    functionName: "setGateway",
    args: [gateway.address, true],
  });
  await f.stake(gateway.address, 2n * WAD, GATEWAY_SET);
  await f.registerForSet(gateway.address, GATEWAY_SET);
  chain = await startHardhatServer();
  node = await startAuthNode(registryRoleReader(f.ledger.public, f.addresses.registry));
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
  await chain?.close();
});

describe("operator node authentication", () => {
  it("serves a registered gateway's token, and again from memory", async () => {
    const t = await token(gateway);
    for (const id of [1, 2]) {
      const answer = await post(node.url, { jsonrpc: "2.0", id, method: "eth_chainId", params: [] }, t);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ jsonrpc: "2.0", id, result: `0x${chainId.toString(16)}` });
    }
    // Counted as the gateway's: an operator tells client traffic from watchers' probes.
    expect(node.stats().byCaller.gateway?.eth_chainId).toBeGreaterThanOrEqual(2);
    expect(node.stats().byCaller.watcher).toBeUndefined();
  });

  it("answers strangers 401 with a JSON-RPC error and forwards nothing", async () => {
    const tokens: [string, string | undefined][] = [
      ["missing din-auth header", undefined],
      [`${stranger.address} is not an active gateway on the ledger`, await token(stranger)],
      ["access token expired", await token(gateway, { now: Math.floor(Date.now() / 1000) - 120 })],
      ["access token is for another operator", await token(gateway, { audience: otherOperator })],
      // A registered gateway's key does not make it a watcher.
      [
        `${gateway.address} is not an active watcher on the ledger`,
        await token(gateway, { role: "watcher" }),
      ],
      ["malformed access token", "garbage"],
    ];
    const before = node.stats();
    const head = await blockNumber();
    for (const [reason, t] of tokens) {
      // A forwarded evm_mine would move the chain: the head staying put shows nothing reached it.
      const answer = await post(node.url, { jsonrpc: "2.0", id: 9, method: "evm_mine", params: [] }, t);
      expect(answer.status).toBe(401);
      expect(answer.authenticate).toBe("DinToken");
      expect(answer.body).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32001, message: `unauthorized: ${reason}` },
      });
    }
    expect(await blockNumber()).toBe(head);
    const after = node.stats();
    expect(after.requests).toBe(before.requests);
    expect(after.unauthorized).toBe(before.unauthorized + tokens.length);
  });

  it("keeps /healthz open to anyone", async () => {
    const response = await fetch(`${node.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it("answers 503, not 401, while the ledger cannot be read", async () => {
    const ledger = await startHardhatServer();
    const client = connectLedger(ledger.url, chainId).public;
    await ledger.close();
    const cut = await startAuthNode(registryRoleReader(client, f.addresses.registry));
    const answer = await post(
      cut.url,
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      await token(gateway),
    );
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: -32002 });
    expect(answer.body.error?.message).toMatch(/ledger unavailable/);
    expect(cut.stats()).toMatchObject({ requests: 0, unauthorized: 0, authUnavailable: 1 });
  });

  it("refuses a gateway the registry no longer answers for, once its cached answer expires", async () => {
    // The node's own view of the registry: a set the test changes, standing in for a governance removal.
    const admitted = new Set<string>([gateway.address]);
    const byNode = await startAuthNode(async (address) => admitted.has(address), { roleTtlMs: 0 });
    const t = await token(gateway);
    const call = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };
    expect((await post(byNode.url, call, t)).status).toBe(200);
    admitted.delete(gateway.address);
    const refused = await post(byNode.url, call, t);
    expect(refused.status).toBe(401);
    expect(refused.body.error?.message).toBe(
      `unauthorized: ${gateway.address} is not an active gateway on the ledger`,
    );
  });
});

describe("caller authenticator", () => {
  const ledgerChainId = 31337;
  const audience = "0x00000000000000000000000000000000000000a1" as Address;
  const caller = privateKeyToAccount(generatePrivateKey());
  const mint = (now: number, ttlSeconds = 60) =>
    createAccessToken(caller, { role: "watcher", audience, ledgerChainId, now, ttlSeconds });

  const source = "192.0.2.1";

  it("forgets a remembered token when it expires, even though its caller is still admitted", async () => {
    let clock = 1_000_000;
    const authenticate = createCallerAuthenticator(
      { operator: audience, ledgerChainId, isCaller: async () => true },
      () => clock,
    );
    const t = await mint(clock / 1000, 60);
    expect(await authenticate(t, source)).toMatchObject({ ok: true, claims: { sub: caller.address } });
    clock += 59_000;
    expect((await authenticate(t, source)).ok).toBe(true);
    clock += 1_000;
    expect(await authenticate(t, source)).toEqual({ ok: false, status: 401, reason: "access token expired" });
  });

  it("asks the ledger again once its answer expires, and answers 503 when it cannot", async () => {
    let clock = Date.now();
    const answers: (boolean | Error)[] = [true, new Error("HTTP request failed.\nURL: http://ledger"), false];
    const asked: string[] = [];
    const authenticate = createCallerAuthenticator(
      {
        operator: audience,
        ledgerChainId,
        roleTtlMs: 10_000,
        isCaller: async (address, role) => {
          asked.push(`${role}:${address}`);
          const answer = answers.shift();
          if (answer instanceof Error) throw answer;
          return answer ?? false;
        },
      },
      () => clock,
    );
    const t = await mint(Math.floor(clock / 1000));
    expect((await authenticate(t, source)).ok).toBe(true);
    expect((await authenticate(t, source)).ok).toBe(true);
    expect(asked).toHaveLength(1);
    clock += 10_000;
    expect(await authenticate(t, source)).toEqual({
      ok: false,
      status: 503,
      reason: "cannot check the caller on the ledger: HTTP request failed.",
    });
    expect(await authenticate(t, source)).toEqual({
      ok: false,
      status: 401,
      reason: `${caller.address} is not an active watcher on the ledger`,
    });
    // The refusal is remembered too.
    expect((await authenticate(t, source)).ok).toBe(false);
    expect(asked).toEqual(Array(3).fill(`watcher:${caller.address}`));
  });

  it("keeps serving admitted callers when more tokens arrive than it remembers", async () => {
    const authenticate = createCallerAuthenticator({
      operator: audience,
      ledgerChainId,
      isCaller: async () => true,
      maxRememberedTokens: 2,
    });
    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all([1, 2, 3, 4].map((i) => mint(now, 60 + i)));
    for (const t of [...tokens, ...tokens]) expect((await authenticate(t, source)).ok).toBe(true);
  });
});
