import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyJwt } from "./jwt.js";

function signJwt(
  alg: "RS256" | "ES256",
  key: KeyObject,
  payload: Record<string, unknown>,
  kid?: string,
): string {
  const header = Buffer.from(JSON.stringify({ alg, typ: "JWT", ...(kid ? { kid } : {}) })).toString(
    "base64url",
  );
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  const signature = sign(
    "sha256",
    Buffer.from(`${header}.${body}`),
    alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
  );
  return `${header}.${body}.${signature.toString("base64url")}`;
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const pem = (key: KeyObject) => key.export({ type: "spki", format: "pem" }).toString();
const publicKeys = [
  { id: "rsa-1", pem: pem(rsa.publicKey) },
  { id: "ec-1", pem: pem(ec.publicKey) },
];
const now = Date.UTC(2026, 0, 1);
const exp = now / 1000 + 600;

describe("JWT verification", () => {
  it("accepts RS256 and ES256 tokens signed by the key's public keys", () => {
    expect(verifyJwt(signJwt("RS256", rsa.privateKey, { exp }), publicKeys, "key-a", now)).toEqual({
      ok: true,
    });
    expect(
      verifyJwt(signJwt("ES256", ec.privateKey, { exp, aud: "key-a" }, "ec-1"), publicKeys, "key-a", now),
    ).toEqual({ ok: true });
  });

  it("refuses a token signed by another key, expired, not yet valid or for another API key", () => {
    const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const cases: Array<[string, string]> = [
      [signJwt("ES256", stranger.privateKey, { exp }), "signature"],
      [signJwt("RS256", rsa.privateKey, { exp: now / 1000 - 1 }), "expired"],
      [signJwt("RS256", rsa.privateKey, { exp, nbf: now / 1000 + 60 }), "not valid yet"],
      [signJwt("RS256", rsa.privateKey, { exp, aud: ["key-b"] }), "aud"],
      [signJwt("RS256", rsa.privateKey, {}), "exp"],
      [signJwt("RS256", rsa.privateKey, { exp }, "unknown-kid"), "kid"],
      ["not.a.jwt", "malformed"],
    ];
    for (const [token, reason] of cases) {
      const verdict = verifyJwt(token, publicKeys, "key-a", now);
      expect(verdict.ok).toBe(false);
      expect((verdict as { reason: string }).reason).toContain(reason);
    }
  });

  it("refuses alg none and HMAC tokens", () => {
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const body = Buffer.from(JSON.stringify({ exp })).toString("base64url");
    expect(verifyJwt(`${header}.${body}.`, publicKeys, "key-a", now).ok).toBe(false);
  });
});
