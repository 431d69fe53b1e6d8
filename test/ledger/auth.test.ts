// Access tokens, the proof a gateway or watcher shows an operator node: signed by the caller's ledger key,
// for one operator, on one ledger, for a short time.
import { type Address, getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_HEADER,
  AccessTokenCache,
  createAccessToken,
  MAX_TOKEN_TTL_SECONDS,
  verifyAccessToken,
} from "../../src/ledger/din/auth.js";

const gateway = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());
const operatorA = getAddress("0x00000000000000000000000000000000000000a1");
const operatorB = getAddress("0x00000000000000000000000000000000000000b2");
const ledgerChainId = 31337;
const now = 1_700_000_000;

const mint = (options: { ttlSeconds?: number; audience?: Address; ledgerChainId?: number } = {}) =>
  createAccessToken(gateway, {
    role: "gateway",
    audience: options.audience ?? operatorA,
    ledgerChainId: options.ledgerChainId ?? ledgerChainId,
    now,
    ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
  });

const verifyAtA = (token: string | undefined, at = now) =>
  verifyAccessToken(token, { audience: operatorA, ledgerChainId, now: at });

/** The token's payload, decoded. */
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;

/** A token carrying `claims` with the original signature. */
const withClaims = (token: string, claims: Record<string, unknown>) => {
  const [prefix, , signature] = token.split(".");
  return `${prefix}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
};

describe("relay access tokens", () => {
  it("names the caller, its role, the operator, the ledger and an expiry, and verifies at that operator", async () => {
    const token = await mint();
    expect(token).toMatch(/^din1\.[A-Za-z0-9_-]+\.0x[0-9a-f]{130}$/);
    expect(ACCESS_TOKEN_HEADER).toBe("din-auth");
    const verdict = await verifyAtA(token, now + 59);
    expect(verdict).toEqual({
      ok: true,
      claims: {
        sub: gateway.address,
        role: "gateway",
        aud: operatorA,
        chainId: ledgerChainId,
        exp: now + 60,
      },
    });
  });

  it("accepts the operator's address in any letter case", async () => {
    const token = await mint({ audience: operatorA.toLowerCase() as Address });
    const verdict = await verifyAccessToken(token, {
      audience: operatorA.toLowerCase() as Address,
      ledgerChainId,
      now,
    });
    expect(verdict.ok).toBe(true);
  });

  it("refuses a token at or after its expiry", async () => {
    const token = await mint({ ttlSeconds: 30 });
    expect(await verifyAtA(token, now + 30)).toEqual({ ok: false, reason: "access token expired" });
    expect(await verifyAtA(token, now + 3600)).toEqual({ ok: false, reason: "access token expired" });
  });

  it("refuses a token that lives longer than the operator allows, so a leak cannot last", async () => {
    expect((await verifyAtA(await mint({ ttlSeconds: MAX_TOKEN_TTL_SECONDS }))).ok).toBe(true);
    const tooLong = await mint({ ttlSeconds: MAX_TOKEN_TTL_SECONDS + 1 });
    expect(await verifyAtA(tooLong)).toEqual({ ok: false, reason: "access token lives too long" });
  });

  it("refuses a token for operator A replayed at operator B", async () => {
    const token = await mint({ audience: operatorA });
    expect((await verifyAtA(token)).ok).toBe(true);
    const atB = await verifyAccessToken(token, { audience: operatorB, ledgerChainId, now });
    expect(atB).toEqual({ ok: false, reason: "access token is for another operator" });
  });

  it("refuses a token minted for another ledger", async () => {
    const token = await mint({ ledgerChainId: 1 });
    expect(await verifyAtA(token)).toEqual({ ok: false, reason: "access token is for another ledger" });
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const token = await mint();
    const claims = claimsOf(token);
    // Pointing a token at another operator or stretching its life breaks the signature.
    for (const tampered of [
      withClaims(token, { ...claims, exp: now + 120 }),
      withClaims(token, { ...claims, role: "watcher" }),
    ]) {
      expect(await verifyAtA(tampered)).toEqual({ ok: false, reason: "bad access token signature" });
    }
    const retargeted = withClaims(token, { ...claims, aud: operatorB });
    const atB = await verifyAccessToken(retargeted, { audience: operatorB, ledgerChainId, now });
    expect(atB).toEqual({ ok: false, reason: "bad access token signature" });
  });

  it("refuses a token that claims a registered caller but is signed by another key", async () => {
    const forged = await createAccessToken(stranger, {
      role: "gateway",
      audience: operatorA,
      ledgerChainId,
      now,
    });
    const claimingGateway = withClaims(forged, { ...claimsOf(forged), sub: gateway.address });
    expect(await verifyAtA(claimingGateway)).toEqual({ ok: false, reason: "bad access token signature" });
    // Signed by its own key, the stranger's token is well formed: whether it may call is the ledger's word.
    expect(await verifyAtA(forged)).toMatchObject({ ok: true, claims: { sub: stranger.address } });
  });

  it("refuses missing, malformed and garbage tokens with a reason", async () => {
    expect(await verifyAtA(undefined)).toEqual({ ok: false, reason: "missing din-auth header" });
    expect(await verifyAtA("")).toEqual({ ok: false, reason: "missing din-auth header" });
    const token = await mint();
    const [, payload, signature] = token.split(".") as [string, string, string];
    const garbage = [
      "hello",
      "Bearer abc",
      `din2.${payload}.${signature}`,
      `din1.${payload}`,
      `din1.${payload}.0x1234`,
      `din1.${payload}.${signature}.extra`,
      `din1.!!!.${signature}`,
      `din1.${Buffer.from("[1,2]").toString("base64url")}.${signature}`,
      `din1.${Buffer.from('{"sub":"0x1"}').toString("base64url")}.${signature}`,
      `din1.${"A".repeat(2000)}.${signature}`,
    ];
    for (const bad of garbage) {
      expect(await verifyAtA(bad), bad.slice(0, 40)).toEqual({ ok: false, reason: "malformed access token" });
    }
    const zeroSignature = `din1.${payload}.0x${"00".repeat(65)}`;
    expect(await verifyAtA(zeroSignature)).toEqual({ ok: false, reason: "bad access token signature" });
  });

  it("reuses one token per operator until half its life has passed", async () => {
    const cache = new AccessTokenCache(gateway, "watcher", ledgerChainId, 60);
    const [first, again] = await Promise.all([cache.get(operatorA), cache.get(operatorA)]);
    expect(again).toBe(first);
    expect(cache.peek(operatorA)).toBe(first);
    const forB = await cache.get(operatorB);
    expect(forB).not.toBe(first);
    const verdict = await verifyAccessToken(forB, { audience: operatorB, ledgerChainId });
    expect(verdict).toMatchObject({ ok: true, claims: { role: "watcher", aud: operatorB } });
  });
});
