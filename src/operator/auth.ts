// Who may use an operator node: only gateways and watchers admitted on the ledger (DESIGN.md, "relays
// (gateway-authenticated)"). A caller sends a signed, expiring access token (src/ledger/din/auth.ts) naming
// this operator; the node checks the token and asks the registry whether its signer is an active gateway or
// watcher. A token taken from another operator's logs names another audience and is refused here.
//
// Everything a stranger can check for free comes first (form, expiry, audience, chain, signature); only
// then is the ledger asked, through a bounded cache that rate-limits addresses it has no answer for.
import type { Address, PublicClient } from "viem";
import { dinRegistryAbi } from "../ledger/artifacts/index.js";
import { type AccessClaims, type RelayCallerCheck, verifyAccessToken } from "../ledger/din/auth.js";
import { CallerRoles, type RoleAnswer } from "./callerRoles.js";
import { SourceRateLimiter } from "./sourceRateLimiter.js";

/** What the node needs to authenticate callers. */
export interface OperatorAuthOptions {
  /** This operator's ledger address: the audience every token must name. */
  operator: Address;
  /** Chain id of the ledger the callers are registered on. */
  ledgerChainId: number;
  /**
   * Whether an address is an active gateway or watcher: a ledger read (e.g. {@link registryRoleReader}).
   * The authenticator caches its answers; it need not.
   */
  isCaller: RelayCallerCheck;
  /** Verified tokens remembered at most, so a flood of tokens cannot grow memory. @default 4096 */
  maxRememberedTokens?: number;
  /** Ledger answers (admissions and refusals) remembered at most. @default 10000 */
  maxCachedRoles?: number;
  /** How long a ledger answer is trusted, in ms; a removed gateway loses access within it. @default 30000 */
  roleTtlMs?: number;
  /**
   * Ledger reads per second each source IP may cause for addresses the node has no answer for; over it
   * (and its burst) the request is answered 429 without a read. @default 2
   */
  lookupsPerSecond?: number;
  /** Such reads a source may make at once before the rate applies. @default 10 */
  lookupBurst?: number;
  /**
   * Such reads per second over all sources (and as many at once): a flood from many addresses delays
   * the first request of a new gateway, never one the node already admitted. @default 20
   */
  totalLookupsPerSecond?: number;
  /** Source IPs whose rate is tracked at most. @default 10000 */
  maxTrackedSources?: number;
  /** Such reads in flight at once, over all sources. @default 64 */
  maxConcurrentLookups?: number;
}

/** The outcome of one request's authentication. */
export type AuthVerdict =
  | { ok: true; claims: AccessClaims }
  /** Refused: answer 401 with `reason`. */
  | { ok: false; status: 401; reason: string }
  /** Too many ledger reads asked for by this source: answer 429, nothing was read. */
  | { ok: false; status: 429; reason: string }
  /** The ledger could not be asked: answer 503, the caller may retry later or elsewhere. */
  | { ok: false; status: 503; reason: string };

/**
 * Checks a request's token; `source` is the client's address, which pays for ledger reads. See
 * {@link createCallerAuthenticator}.
 */
export interface CallerAuthenticator {
  (token: string | undefined, source: string): Promise<AuthVerdict>;
  /** Ledger answers currently remembered (at most `maxCachedRoles`). */
  readonly cachedRoles: () => number;
}

const defaults = {
  maxRememberedTokens: 4096,
  maxCachedRoles: 10_000,
  roleTtlMs: 30_000,
  lookupsPerSecond: 2,
  lookupBurst: 10,
  totalLookupsPerSecond: 20,
  maxTrackedSources: 10_000,
  maxConcurrentLookups: 64,
} as const;

/**
 * JSON-RPC code of a refused caller (HTTP 401, `www-authenticate: DinToken`). The error message starts with
 * `unauthorized: ` and says why, so a gateway's operator can fix its key or registration.
 */
export const UNAUTHORIZED_CODE = -32001;

/**
 * An authenticator for one operator node. A token whose signature checked out and whose signer was
 * admitted is remembered (by its exact string) until it expires, so a caller reusing its token pays no
 * signature recovery per request; whether its signer is still admitted is the cached ledger answer, so a
 * gateway that leaves the registry loses access within `roleTtlMs`.
 */
export function createCallerAuthenticator(
  options: OperatorAuthOptions,
  nowMs: () => number = Date.now,
): CallerAuthenticator {
  const verified = new Map<string, AccessClaims>();
  const limit = options.maxRememberedTokens ?? defaults.maxRememberedTokens;
  const total = options.totalLookupsPerSecond ?? defaults.totalLookupsPerSecond;
  const roles = new CallerRoles({
    isCaller: options.isCaller,
    maxEntries: options.maxCachedRoles ?? defaults.maxCachedRoles,
    ttlMs: options.roleTtlMs ?? defaults.roleTtlMs,
    maxConcurrentLookups: options.maxConcurrentLookups ?? defaults.maxConcurrentLookups,
    limiter: new SourceRateLimiter({
      perSecond: options.lookupsPerSecond ?? defaults.lookupsPerSecond,
      burst: options.lookupBurst ?? defaults.lookupBurst,
      maxSources: options.maxTrackedSources ?? defaults.maxTrackedSources,
      now: nowMs,
    }),
    totalLimiter: new SourceRateLimiter({ perSecond: total, burst: total, maxSources: 1, now: nowMs }),
    now: nowMs,
  });
  const now = () => Math.floor(nowMs() / 1000);

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

  const authenticate = async (token: string | undefined, source: string): Promise<AuthVerdict> => {
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
    let answer: RoleAnswer;
    try {
      answer = await roles.check(claims.sub, claims.role, source);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      return { ok: false, status: 503, reason: `cannot check the caller on the ledger: ${reason}` };
    }
    if (answer === "rate-limited") {
      return { ok: false, status: 429, reason: "too many unknown callers from this address; retry later" };
    }
    if (answer === "refused") {
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
  return Object.assign(authenticate, { cachedRoles: () => roles.size });
}

/**
 * A {@link RelayCallerCheck} that asks the DIN registry every time (`isActiveGateway` / `isActiveWatcher`):
 * the authenticator keeps the answers, bounded.
 */
export function registryRoleReader(client: PublicClient, registry: Address): RelayCallerCheck {
  return (address, role) =>
    client.readContract({
      address: registry,
      abi: dinRegistryAbi,
      functionName: role === "gateway" ? "isActiveGateway" : "isActiveWatcher",
      args: [address],
    });
}
