// Relay access tokens: how a gateway or a watcher proves to an operator node who it is. The caller signs
// (EIP-191) a short payload naming itself, its role, the one operator it is talking to and an expiry; the
// operator recovers the signer, checks the audience and the expiry, and asks the ledger whether that
// address is an admitted, staked gateway or watcher. A token taken from one operator's logs is useless at
// another (audience) and after a minute (expiry); a stranger cannot mint one without a registered key.
import {
  type Address,
  getAddress,
  type Hex,
  isAddress,
  type LocalAccount,
  recoverMessageAddress,
} from "viem";

/** The request header that carries the token. */
export const ACCESS_TOKEN_HEADER = "din-auth";

/** Who may call an operator node. */
export type RelayCallerRole = "gateway" | "watcher";

/** What a token says. */
export type AccessClaims = {
  /** The caller's ledger address (its registered gateway or watcher identity). */
  sub: Address;
  role: RelayCallerRole;
  /** The operator (ledger address) the token is for. */
  aud: Address;
  /** Chain id of the ledger the caller is registered on. */
  chainId: number;
  /** Unix seconds after which the token is refused. */
  exp: number;
};

/** Options of {@link createAccessToken}. */
export type CreateAccessTokenOptions = {
  role: RelayCallerRole;
  /** The operator's ledger address. */
  audience: Address;
  ledgerChainId: number;
  /** Seconds the token lives. @default 60 */
  ttlSeconds?: number;
  /** Unix seconds. @default now */
  now?: number;
};

/** Longest life an operator accepts, so a leaked token cannot be made to last. */
export const MAX_TOKEN_TTL_SECONDS = 300;

/** Signs a token `din1.<payload base64url>.<signature>` with the caller's ledger key. */
export async function createAccessToken(
  account: LocalAccount,
  options: CreateAccessTokenOptions,
): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    sub: account.address,
    role: options.role,
    aud: getAddress(options.audience),
    chainId: options.ledgerChainId,
    exp: now + (options.ttlSeconds ?? 60),
  };
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const signature = await account.signMessage({ message: `din-auth:${payload}` });
  return `din1.${payload}.${signature}`;
}

/** Why a token was refused, in words a caller's operator can act on. */
export type AccessTokenVerdict = { ok: true; claims: AccessClaims } | { ok: false; reason: string };

/** Options of {@link verifyAccessToken}. */
export type VerifyAccessTokenOptions = {
  /** This operator's ledger address: tokens for anyone else are refused. */
  audience: Address;
  ledgerChainId: number;
  /** Unix seconds. @default now */
  now?: number;
};

/**
 * Checks a token's form, signature, audience, chain and expiry (not yet whether the signer is registered:
 * that is a ledger read, {@link RelayCallerCheck}).
 */
export async function verifyAccessToken(
  token: string | undefined,
  options: VerifyAccessTokenOptions,
): Promise<AccessTokenVerdict> {
  if (!token) return { ok: false, reason: `missing ${ACCESS_TOKEN_HEADER} header` };
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== "din1") return { ok: false, reason: "malformed access token" };
  const [, payload, signature] = parts as [string, string, string];
  if (payload.length > 1024 || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    return { ok: false, reason: "malformed access token" };
  }
  let claims: AccessClaims;
  try {
    const parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    if (
      typeof parsed.sub !== "string" ||
      !isAddress(parsed.sub) ||
      typeof parsed.aud !== "string" ||
      !isAddress(parsed.aud) ||
      (parsed.role !== "gateway" && parsed.role !== "watcher") ||
      typeof parsed.chainId !== "number" ||
      typeof parsed.exp !== "number"
    ) {
      return { ok: false, reason: "malformed access token" };
    }
    claims = {
      sub: getAddress(parsed.sub),
      role: parsed.role,
      aud: getAddress(parsed.aud),
      chainId: parsed.chainId,
      exp: parsed.exp,
    };
  } catch {
    return { ok: false, reason: "malformed access token" };
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (claims.exp <= now) return { ok: false, reason: "access token expired" };
  if (claims.exp > now + MAX_TOKEN_TTL_SECONDS) return { ok: false, reason: "access token lives too long" };
  if (claims.aud !== getAddress(options.audience)) {
    return { ok: false, reason: "access token is for another operator" };
  }
  if (claims.chainId !== options.ledgerChainId)
    return { ok: false, reason: "access token is for another ledger" };
  let signer: Address;
  try {
    signer = await recoverMessageAddress({ message: `din-auth:${payload}`, signature: signature as Hex });
  } catch {
    return { ok: false, reason: "bad access token signature" };
  }
  if (signer !== claims.sub) return { ok: false, reason: "bad access token signature" };
  return { ok: true, claims };
}

/** Whether an address is an admitted, staked caller of `role` on the ledger (DinRegistry). */
export type RelayCallerCheck = (address: Address, role: RelayCallerRole) => Promise<boolean>;

/**
 * Mints and reuses tokens per operator, renewing them well before they expire: one signature per operator
 * per `ttlSeconds / 2`, not one per request.
 */
export class AccessTokenCache {
  private readonly tokens = new Map<Address, { token: string; renewAt: number }>();
  private readonly pending = new Map<Address, Promise<string>>();

  constructor(
    private readonly account: LocalAccount,
    private readonly role: RelayCallerRole,
    private readonly ledgerChainId: number,
    private readonly ttlSeconds = 60,
  ) {}

  /** A valid token for `operator`, if one is ready; callers that cannot wait use this. */
  peek(operator: Address): string | undefined {
    const entry = this.tokens.get(operator);
    if (entry && Date.now() < entry.renewAt) return entry.token;
    void this.get(operator);
    return entry?.token;
  }

  /** A token for `operator`, minted if needed. */
  get(operator: Address): Promise<string> {
    const entry = this.tokens.get(operator);
    if (entry && Date.now() < entry.renewAt) return Promise.resolve(entry.token);
    let minting = this.pending.get(operator);
    if (!minting) {
      minting = createAccessToken(this.account, {
        role: this.role,
        audience: operator,
        ledgerChainId: this.ledgerChainId,
        ttlSeconds: this.ttlSeconds,
      })
        .then((token) => {
          this.tokens.set(operator, { token, renewAt: Date.now() + (this.ttlSeconds * 1000) / 2 });
          return token;
        })
        .finally(() => this.pending.delete(operator));
      this.pending.set(operator, minting);
    }
    return minting;
  }
}
