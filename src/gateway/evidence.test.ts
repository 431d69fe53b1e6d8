import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { hashRequest, hashResponse, type Relay, relayToJson, signRelay } from "../ledger/din/relay.js";
import { checkSignedReply, claimsBlock } from "./evidence.js";
import type { UpstreamReply } from "./upstream.js";

const ledgerChainId = 31337;
const slasher: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const signer = privateKeyToAccount(generatePrivateKey());
const operator = {
  upstream: "aws-x",
  address: privateKeyToAccount(generatePrivateKey()).address,
  signer: signer.address,
};
const request = { method: "eth_getBlockByNumber", params: ["0x5", false], chainId: 137 };
const block = { number: "0x5", hash: `0x${"ab".repeat(32)}` as const };

/** The reply an honest operator sends to a `din-sign: 1` request, signed by `key`. */
async function signedReply(key = signer, result: unknown = block, overrides: Partial<Relay> = {}) {
  const relay: Relay = {
    chainId: 137n,
    requestHash: hashRequest(request.method, request.params),
    responseHash: hashResponse({ result }),
    blockNumber: 5n,
    blockHash: block.hash,
    servedAt: BigInt(Math.floor(Date.now() / 1000)),
    ...overrides,
  };
  const signature = await signRelay(key, relay, ledgerChainId, slasher);
  const reply: UpstreamReply = {
    status: 200,
    body: { jsonrpc: "2.0", id: 1, result },
    signed: {
      operator: key.address,
      signature,
      relay: JSON.stringify(relayToJson(relay)),
      error: undefined,
    },
  };
  return reply;
}

const check = (reply: UpstreamReply, req = request) =>
  checkSignedReply(reply, req, operator, { ledgerChainId, slasher });

describe("checkSignedReply", () => {
  it("refuses a relay dated far from this clock: a backdated servedAt would dodge the finality rule", async () => {
    const backdated = BigInt(Math.floor(Date.now() / 1000)) - 3_600n;
    const verdict = await check(await signedReply(signer, block, { servedAt: backdated }));
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toMatch(/relay dated 3600 s from this clock/);
  });

  it("accepts a relay over the request sent and the response received, signed by the registered signer", async () => {
    const verdict = await check(await signedReply());
    expect(verdict.ok).toBe(true);
    if (verdict.ok) {
      expect(verdict.relay).toMatchObject({
        operator: operator.address,
        signer: signer.address,
        upstream: "aws-x",
      });
      expect(claimsBlock(verdict.relay.relay)).toBe(true);
    }
  });

  it("refuses a relay signed by another key than the registered signer", async () => {
    const impostor = privateKeyToAccount(generatePrivateKey());
    const verdict = await check(await signedReply(impostor));
    expect(verdict).toMatchObject({
      ok: false,
      reason: `relay signed by ${impostor.address}, not the registered signer ${signer.address}`,
    });
  });

  it("refuses a relay about another response, another request or another chain", async () => {
    const reply = await signedReply();
    const altered = {
      ...reply,
      body: { jsonrpc: "2.0", id: 1, result: { ...block, hash: `0x${"cd".repeat(32)}` } },
    };
    expect(await check(altered)).toMatchObject({
      ok: false,
      reason: "relay is not about the answer received",
    });
    expect(await check(reply, { ...request, params: ["0x6", false] })).toMatchObject({
      ok: false,
      reason: "relay is not about the request sent",
    });
    expect(await check(reply, { ...request, chainId: 1 })).toMatchObject({
      ok: false,
      reason: "relay names chain 137, not 1",
    });
  });

  it("refuses a malleated signature (upper-half s), as the DinSlasher would", async () => {
    const reply = await signedReply();
    const signature = reply.signed?.signature as string;
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const v = signature.endsWith("1b") ? "1c" : "1b";
    const malleated = `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, "0")}${v}`;
    const verdict = await check({ ...reply, signed: { ...reply.signed!, signature: malleated } });
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/upper half/) });
  });

  it("refuses a reply without a signature, saying why the operator gave none", async () => {
    const unsigned: UpstreamReply = {
      status: 200,
      body: { jsonrpc: "2.0", id: 1, result: block },
      signed: {
        operator: undefined,
        signature: undefined,
        relay: undefined,
        error: "this operator has no signing key",
      },
    };
    expect(await check(unsigned)).toMatchObject({
      ok: false,
      reason: "not signed: this operator has no signing key",
    });
    const garbled = await signedReply();
    garbled.signed!.relay = "{not json";
    expect(await check(garbled)).toMatchObject({ ok: false, reason: "malformed din-relay header" });
  });

  it("sees no provable block claim in a relay without a block hash", async () => {
    const verdict = await check(
      await signedReply(signer, "0x10", { blockNumber: 0n, blockHash: `0x${"0".repeat(64)}` }),
    );
    expect(verdict.ok && claimsBlock(verdict.relay.relay)).toBe(false);
  });
});
