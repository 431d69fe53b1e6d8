/**
 * JWT verification for keys that require one (`Authorization: Bearer <jwt>`): RS256 or ES256, signed by
 * one of the key's public keys, with an `exp` in the future and, when it has an `aud`, the API key among
 * its audiences. Verified tokens are remembered until they expire so a client reusing its token costs
 * one lookup, not one signature check, per request.
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { JwtPublicKey } from "./store.js";

export type JwtVerdict = { ok: true } | { ok: false; reason: string };

const publicKeyObjects = new Map<string, KeyObject>();
const verified = new Map<string, number>();
const maxRemembered = 10_000;

/** Parses a PEM public key; throws with a readable message when it is not one. */
export function parsePublicKey(pem: string): KeyObject {
  let key = publicKeyObjects.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "ec") {
      throw new Error(`unsupported key type ${key.asymmetricKeyType}; use RSA (RS256) or EC P-256 (ES256)`);
    }
    if (publicKeyObjects.size < maxRemembered) publicKeyObjects.set(pem, key);
  }
  return key;
}

export function verifyJwt(
  token: string,
  publicKeys: readonly JwtPublicKey[],
  apiKey: string,
  nowMs = Date.now(),
): JwtVerdict {
  const cacheKey = `${apiKey}.${token}`;
  const expiresAt = verified.get(cacheKey);
  if (expiresAt !== undefined) {
    if (expiresAt > nowMs) return { ok: true };
    verified.delete(cacheKey);
  }
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "the JWT is malformed" };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let payload: { exp?: unknown; nbf?: unknown; aud?: unknown };
  try {
    header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
    payload = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "the JWT is malformed" };
  }
  if (header.alg !== "RS256" && header.alg !== "ES256") {
    return { ok: false, reason: "the JWT must be signed with RS256 or ES256" };
  }
  const candidates =
    typeof header.kid === "string" ? publicKeys.filter((key) => key.id === header.kid) : publicKeys;
  if (candidates.length === 0)
    return { ok: false, reason: "the JWT's kid names no public key of this API key" };
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, "base64url");
  const valid = candidates.some((candidate) => {
    try {
      const key = parsePublicKey(candidate.pem);
      if ((header.alg === "ES256") !== (key.asymmetricKeyType === "ec")) return false;
      return verify(
        "sha256",
        data,
        header.alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
        signature,
      );
    } catch {
      return false;
    }
  });
  if (!valid) return { ok: false, reason: "the JWT's signature does not verify" };
  const nowSeconds = nowMs / 1000;
  if (typeof payload.exp !== "number") return { ok: false, reason: "the JWT must have an exp claim" };
  if (payload.exp <= nowSeconds) return { ok: false, reason: "the JWT has expired" };
  if (typeof payload.nbf === "number" && payload.nbf > nowSeconds) {
    return { ok: false, reason: "the JWT is not valid yet (nbf)" };
  }
  if (payload.aud !== undefined) {
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes(apiKey)) return { ok: false, reason: "the JWT's aud does not name this API key" };
  }
  if (verified.size >= maxRemembered) verified.clear();
  verified.set(cacheKey, payload.exp * 1000);
  return { ok: true };
}
