// Who may use an operator node: only gateways and watchers admitted on the ledger (DESIGN.md, "relays
// (gateway-authenticated)"). A caller sends a signed, expiring access token (src/ledger/din/auth.ts) naming
// this operator; the node checks the token and asks the registry whether its signer is an active gateway or
// watcher. A token taken from another operator's logs names another audience and is refused here.
import type { Address } from "viem";
import { type AccessClaims, type RelayCallerCheck, verifyAccessToken } from "../ledger/din/auth.js";

/** What the node needs to authenticate callers. */
export interface OperatorAuthOptions {
  /** This operator's ledger address: the audience every token must name. */
  operator: Address;
  /** Chain id of the ledger the callers are registered on. */
  ledgerChainId: number;
  /** Whether an address is an active gateway or watcher (e.g. `registryCallerCheck`, cached there). */
  isCaller: RelayCallerCheck;
  /** Verified tokens remembered at most, so a flood of tokens cannot grow memory. @default 4096 */
  maxRememberedTokens?: number;
}

/** The outcome of one request's authentication. */
export type AuthVerdict =
  | { ok: true; claims: AccessClaims }
  /** Refused: answer 401 with `reason`. */
  | { ok: false; status: 401; reason: string }
  /** The ledger could not be asked: answer 503, the caller may retry later or elsewhere. */
  | { ok: false; status: 503; reason: string };

/** Checks a request's token; see {@link createCallerAuthenticator}. */
export type CallerAuthenticator = (token: string | undefined) => Promise<AuthVerdict>;

const defaultMaxRememberedTokens = 4096;

/**
 * JSON-RPC code of a refused caller (HTTP 401, `www-authenticate: DinToken`). The error message starts with
 * `unauthorized: ` and says why, so a gateway's operator can fix its key or registration.
 */
export const UNAUTHORIZED_CODE = -32001;

/**
 * An authenticator for one operator node. A token whose signature checked out and whose signer was
 * admitted is remembered (by its exact string) until it expires, so a caller reusing its token pays no
 * signature recovery per request; the registry is still asked every time through `isCaller`, which caches
 * its answers, so a gateway that leaves the registry loses access when that cache expires.
 */
export function createCallerAuthenticator(
  options: OperatorAuthOptions,
  now: () => number = () => Math.floor(Date.now() / 1000),
): CallerAuthenticator {
  const verified = new Map<string, AccessClaims>();
  const limit = options.maxRememberedTokens ?? defaultMaxRememberedTokens;

  const remember = (token: string, claims: AccessClaims) => {
    if (verified.size >= limit) {
      const at = now();
      for (const [key, value] of verified) if (value.exp <= at) verified.delete(key);
      // Still full: forget the oldest (a Map iterates in insertion order).
      const oldest = verified.keys().next();
      if (verified.size >= limit && !oldest.done) verified.delete(oldest.value);
    }
    verified.set(token, claims);
  };

  return async (token) => {
    let claims = token === undefined ? undefined : verified.get(token);
    if (claims !== undefined && token !== undefined && claims.exp <= now()) {
      verified.delete(token);
      claims = undefined;
    }
    const fresh = claims === undefined;
    if (claims === undefined) {
      const verdict = await verifyAccessToken(token, {
        audience: options.operator,
        ledgerChainId: options.ledgerChainId,
        now: now(),
      });
      if (!verdict.ok) return { ok: false, status: 401, reason: verdict.reason };
      claims = verdict.claims;
    }
    let admitted: boolean;
    try {
      admitted = await options.isCaller(claims.sub, claims.role);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      return { ok: false, status: 503, reason: `cannot check the caller on the ledger: ${reason}` };
    }
    if (!admitted) {
      if (token !== undefined) verified.delete(token);
      return {
        ok: false,
        status: 401,
        reason: `${claims.sub} is not an active ${claims.role} on the ledger`,
      };
    }
    if (fresh && token !== undefined) remember(token, claims);
    return { ok: true, claims };
  };
}
