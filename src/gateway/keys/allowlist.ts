/**
 * Allowlists of an API key: contract addresses, origins, user agents and methods. Types combine with AND,
 * entries within a type with OR, an empty type allows everything (Infura's semantics). A refusal names
 * the rule that refused, so a developer knows which list to edit. Pure functions over plain data.
 */
import { z } from "zod";
import type { JsonRpcRequest } from "../../rpc/jsonrpc.js";
import { positionalParams } from "../../rpc/jsonrpc.js";

export interface Allowlists {
  /** Contract addresses (lowercase 0x…) that address-taking methods may target. */
  contracts: string[];
  /** Origins (`https://app.example`, `app.example`, `*.example.com`) browsers may call from. */
  origins: string[];
  /** Substrings, any of which the `User-Agent` must contain (case-insensitive). */
  userAgents: string[];
  /** Methods, exact names or `prefix_*` patterns. */
  methods: string[];
}

export type AllowlistRule = keyof Allowlists;

export interface AllowlistRefusal {
  rule: AllowlistRule;
  reason: string;
}

export const emptyAllowlists: Allowlists = { contracts: [], origins: [], userAgents: [], methods: [] };

const originEntry = /^(?:(https?):\/\/)?(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/;

/** Admin input of allowlists: every entry checked, addresses lowercased, duplicates dropped. */
export const allowlistsSchema = z
  .object({
    contracts: z
      .array(z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 20-byte hex address"))
      .max(1000)
      .default([]),
    origins: z
      .array(
        z
          .string()
          .transform((origin) => origin.toLowerCase())
          .refine(
            (origin) => originEntry.test(origin),
            "an origin such as https://app.example.com, app.example.com or *.example.com",
          ),
      )
      .max(1000)
      .default([]),
    userAgents: z.array(z.string().min(1).max(256)).max(1000).default([]),
    methods: z
      .array(z.string().regex(/^[A-Za-z0-9_]+\*?$/, "a method name or a prefix ending in *"))
      .max(1000)
      .default([]),
  })
  .strict()
  .transform(
    (lists): Allowlists => ({
      contracts: unique(lists.contracts.map((address) => address.toLowerCase())),
      origins: unique(lists.origins),
      userAgents: unique(lists.userAgents),
      methods: unique(lists.methods),
    }),
  );

/** What a server-side caller of a browser key is told: the secret skips the client allowlists. */
const FROM_A_SERVER =
  'from a server, send the key\'s secret instead (Authorization: Basic base64(":<secret>"), HTTP basic auth with the secret as password): the origin and user-agent allowlists do not apply to it';

/** Checks what applies to a whole HTTP request or WebSocket connection: origin and user agent. */
export function checkClient(
  allowlists: Allowlists,
  client: { origin?: string | undefined; userAgent?: string | undefined },
): AllowlistRefusal | undefined {
  if (allowlists.origins.length > 0 && !originAllowed(allowlists.origins, client.origin)) {
    return {
      rule: "origins",
      reason:
        client.origin === undefined
          ? `the key's origin allowlist requires an Origin header, which browsers send; ${FROM_A_SERVER}`
          : `origin ${truncate(client.origin)} is not in the key's origin allowlist`,
    };
  }
  if (allowlists.userAgents.length > 0) {
    const agent = client.userAgent?.toLowerCase();
    if (agent === undefined || !allowlists.userAgents.some((entry) => agent.includes(entry.toLowerCase()))) {
      return {
        rule: "userAgents",
        reason:
          agent === undefined
            ? `the key's user-agent allowlist requires a User-Agent header; ${FROM_A_SERVER}`
            : `user agent ${truncate(client.userAgent!)} is not in the key's user-agent allowlist`,
      };
    }
  }
  return undefined;
}

/** Checks what applies to one JSON-RPC request: its method and the contracts it targets. */
export function checkRequest(allowlists: Allowlists, request: JsonRpcRequest): AllowlistRefusal | undefined {
  if (allowlists.methods.length > 0 && !methodAllowed(allowlists.methods, request.method)) {
    return {
      rule: "methods",
      reason: `method ${truncate(request.method)} is not in the key's method allowlist`,
    };
  }
  if (allowlists.contracts.length > 0) {
    const targets = contractTargets(request);
    if (targets === null) {
      return {
        rule: "contracts",
        reason: `${request.method} without a target address would reach any contract; the key's contract allowlist requires one of its addresses`,
      };
    }
    for (const target of targets ?? []) {
      if (!allowlists.contracts.includes(target)) {
        return {
          rule: "contracts",
          reason: `contract ${target} is not in the key's contract allowlist`,
        };
      }
    }
  }
  return undefined;
}

/**
 * The addresses a request targets (lowercase): `undefined` when the method targets no contract (it is
 * not restricted by the contract allowlist), `null` when it could target any contract (a call without
 * `to`, logs without `address`).
 */
export function contractTargets(request: JsonRpcRequest): string[] | null | undefined {
  const params = positionalParams(request);
  switch (request.method) {
    case "eth_call":
    case "eth_estimateGas":
    case "eth_createAccessList": {
      const to = (params[0] as { to?: unknown } | undefined)?.to;
      return typeof to === "string" ? [to.toLowerCase()] : null;
    }
    case "eth_getBalance":
    case "eth_getCode":
    case "eth_getStorageAt":
    case "eth_getProof":
    case "eth_getTransactionCount":
      return typeof params[0] === "string" ? [params[0].toLowerCase()] : null;
    case "eth_getLogs":
    case "eth_newFilter":
      return filterAddresses(params[0]);
    case "eth_subscribe":
      return params[0] === "logs" ? filterAddresses(params[1]) : undefined;
    default:
      return undefined;
  }
}

function filterAddresses(filter: unknown): string[] | null {
  const address = (filter as { address?: unknown } | undefined)?.address;
  if (typeof address === "string") return [address.toLowerCase()];
  if (Array.isArray(address) && address.length > 0 && address.every((entry) => typeof entry === "string")) {
    return address.map((entry: string) => entry.toLowerCase());
  }
  return null;
}

export function methodAllowed(entries: readonly string[], method: string): boolean {
  return entries.some((entry) =>
    entry.endsWith("*") ? method.startsWith(entry.slice(0, -1)) : entry === method,
  );
}

/**
 * An origin matches an entry when the host matches (exactly, or as a subdomain of a `*.` entry; the
 * bare domain does not match `*.example.com`) and, where the entry names them, the scheme and port too.
 */
export function originAllowed(entries: readonly string[], origin: string | undefined): boolean {
  if (origin === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin.toLowerCase());
  } catch {
    return false;
  }
  const scheme = url.protocol.replace(/:$/, "");
  const host = url.hostname;
  const port = url.port || (scheme === "https" ? "443" : scheme === "http" ? "80" : "");
  return entries.some((entry) => {
    const match = originEntry.exec(entry);
    if (!match) return false;
    const [, entryScheme, wildcard, entryHost, entryPort] = match;
    if (entryScheme !== undefined && entryScheme !== scheme) return false;
    if (entryPort !== undefined && entryPort !== port) return false;
    return wildcard ? host.endsWith(`.${entryHost}`) : host === entryHost;
  });
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
