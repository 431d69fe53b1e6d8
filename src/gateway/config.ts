/**
 * Gateway configuration: a YAML file (`din gateway --config din.yaml`) validated with zod. Every default
 * lives here, next to its option; an invalid file is refused with messages naming the bad key.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { riskAssumptionsSchema } from "../risk/assumptions.js";
import { keysConfigSchema } from "./keys/config.js";

const upstreamSchema = z
  .object({
    /** Unique within the network; names the operator in logs, metrics and errors. */
    id: z.string().min(1).max(64),
    /** The operator's JSON-RPC URL (http or https). */
    url: z
      .string()
      .url()
      .refine((url) => /^https?:\/\//.test(url), "must be an http:// or https:// URL"),
    /** Cloud provider label used for diversity (aws, gcp, hetzner, bare-metal…). @default "unknown" */
    cloud: z.string().min(1).default("unknown"),
    /** Region label used for diversity. @default "unknown" */
    region: z.string().min(1).default("unknown"),
    /** Lower tiers are preferred; a tier is left only when it has no healthy upstream. @default 0 */
    priority: z.number().int().min(0).max(100).default(0),
    /** Relative share of traffic among equals. @default 1 */
    weight: z.number().positive().max(1000).default(1),
    /** Heavy methods this upstream serves, exact names or `prefix_*` patterns (e.g. `debug_*`). @default [] */
    methods: z
      .array(z.string().regex(/^[A-Za-z0-9_]+\*?$/, "a method name or a prefix ending in *"))
      .default([]),
    /** Most blocks this upstream accepts in one eth_getLogs. @default the network's logsMaxRange */
    logsMaxRange: z.number().int().positive().optional(),
  })
  .strict();

const networkSchema = z
  .object({
    /** URL path segment: /v1/<name>. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "lowercase letters, digits and dashes"),
    chainId: z.number().int().positive(),
    /**
     * Hash of block 0: an upstream whose genesis differs (a fork, a testnet reusing the chain id) is never
     * routed to. @default only eth_chainId is checked
     */
    genesisHash: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, "a 32-byte block hash, 0x and 64 hex digits")
      .transform((hash) => hash.toLowerCase())
      .optional(),
    /** Fixed upstreams; operators read from the ledger (when `ledger` is set) are added to them. @default [] */
    upstreams: z.array(upstreamSchema).default([]),
    /** This network's name in the DIN deployment, when `ledger` is set. @default the network's own name */
    ledgerNetwork: z.string().min(1).optional(),
    /** Blocks per eth_getLogs sent to one upstream; larger ranges are split and merged. @default 2000 */
    logsMaxRange: z.number().int().positive().default(2000),
    /** Largest eth_getLogs range a client may ask for at all. @default 100000 */
    logsMaxTotalRange: z.number().int().positive().default(100_000),
    /** Gas cap of eth_call-like requests on this network. @default routing.callGasCap */
    callGasCap: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((network, context) => {
    const seen = new Set<string>();
    network.upstreams.forEach((upstream, index) => {
      if (seen.has(upstream.id)) {
        context.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["upstreams", index, "id"],
          message: `duplicate upstream id "${upstream.id}"`,
        });
      }
      seen.add(upstream.id);
    });
  });

const routingSchema = z
  .object({
    /** Total time a client request may take, all attempts included. @default 10000 */
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** Time one attempt on one upstream may take. @default 3000 */
    attemptTimeoutMs: z.number().int().positive().default(3_000),
    /** Time one attempt of a heavy (debug_/trace_) method may take. @default 30000 */
    heavyTimeoutMs: z.number().int().positive().default(30_000),
    /** Most upstreams tried for one request (DIN: 5). @default 5 */
    maxAttempts: z.number().int().min(1).max(20).default(5),
    /** Send a read to a second upstream after the first one's observed p90 latency. @default true */
    hedge: z.boolean().default(true),
    /** Bounds of the hedge delay, whatever the observed latency. @default 50 / 2000 */
    hedgeMinDelayMs: z.number().int().min(1).default(50),
    hedgeMaxDelayMs: z.number().int().min(1).default(2_000),
    /** Head-dependent reads go only to upstreams at most this many blocks behind the network head. @default 2 */
    readMaxLagBlocks: z.number().int().min(0).default(2),
    /** Upstreams an eth_sendRawTransaction is sent to. @default 3 */
    broadcastFanout: z.number().int().min(1).max(10).default(3),
    /** Upstreams asked for the highest pending nonce. @default 3 */
    nonceFanout: z.number().int().min(1).max(10).default(3),
    /** A sticky primary is left when a rival scores this much better (eRPC: 30%). @default 1.3 */
    stickyRivalFactor: z.number().min(1).default(1.3),
    /**
     * Most of a network's requests one cloud serves while operators on other clouds are healthy (1: no
     * cap); it gives way when they are not (cloudShare.ts). @default 1/3
     */
    cloudShareCap: z
      .number()
      .gt(0)
      .max(1)
      .default(1 / 3),
    /** Requests the cloud share is measured over. @default 1000 */
    cloudShareWindow: z.number().int().min(10).max(100_000).default(1_000),
    /** Most upstreams a `din-quorum` header may ask for. @default 5 */
    maxQuorum: z.number().int().min(2).max(20).default(5),
    /**
     * Most operators one quorum request may ask in all: when some of the first N disagree (or fail), more
     * are asked, up to this, until N on different clouds agree. @default 7
     */
    maxQuorumAsk: z.number().int().min(2).max(40).default(7),
    /**
     * How long an operator that contradicted a quorum's agreed answer is kept out of routing for that
     * network (0: never quarantined). @default 600000 (10 minutes)
     */
    quarantineMs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600_000)
      .default(600_000),
    /**
     * Most gas an eth_call, eth_estimateGas, eth_createAccessList or debug_traceCall may burn (geth's
     * RPCGasCap), lowered further to the network's block gas limit once operators report it; a call
     * asking for more, or for nothing, runs with the cap. @default 50000000
     */
    callGasCap: z.number().int().positive().default(50_000_000),
    /**
     * Operator milliseconds per second one client (API key, or address where keys are off) may spend on
     * expensive requests — calls, log ranges, traces — on average (costBudget.ts). @default 2000
     */
    costlyMsPerSecond: z.number().int().positive().default(2_000),
    /** Operator milliseconds a client may spend on expensive requests in a burst. @default 20000 */
    costlyBurstMs: z.number().int().positive().default(20_000),
    /** Expensive requests one client may have running; more wait their turn. @default 16 */
    costlyMaxInFlight: z.number().int().positive().default(16),
    /**
     * Expensive requests one client may have waiting; more are refused (-32005). Above the largest batch,
     * so a full batch of calls is served, serially if need be. @default 256
     */
    costlyMaxQueued: z.number().int().positive().default(256),
    /** Sessions (`din-session-id`) kept per network, least recently used first out. @default 100000 */
    maxSessions: z.number().int().positive().default(100_000),
    /** Sessions one API key (or one address where keys are off) may keep; its oldest goes first. @default 10000 */
    maxSessionsPerClient: z.number().int().positive().default(10_000),
    /** Filters (eth_newFilter…) kept per network. @default 100000 */
    maxFilters: z.number().int().positive().default(100_000),
    /** Filters one API key (or address) may keep; its oldest is dropped for a new one. @default 1000 */
    maxFiltersPerClient: z.number().int().positive().default(1_000),
  })
  .strict();

const healthSchema = z
  .object({
    /** How often each upstream's latest/safe/finalized head is polled. @default 2000 */
    headPollMs: z.number().int().min(50).default(2_000),
    /** Consecutive failures that make an upstream unhealthy and open its circuit (DIN: > 2). @default 3 */
    failureThreshold: z.number().int().min(1).default(3),
    /** First open period of the circuit breaker; doubles on each failed half-open probe. @default 2000 */
    breakerCooldownMs: z.number().int().min(10).default(2_000),
    /** Longest open period of the circuit breaker. @default 60000 */
    breakerMaxCooldownMs: z.number().int().min(10).default(60_000),
    /** Blocks behind the p75 head that give a warning (DIN: 5). @default 5 */
    warnLagBlocks: z.number().int().min(0).default(5),
    /** Blocks off the p75 head, either way, that make an upstream unhealthy (DIN: 10). @default 10 */
    unhealthyLagBlocks: z.number().int().min(1).default(10),
    /** How long an upstream whose tags go backwards or out of order is excluded (proxyd: 5 min). @default 300000 */
    banMs: z.number().int().min(0).default(300_000),
    /**
     * How often an upstream's chain (eth_chainId, genesis hash) is checked again while it answers; it is
     * also checked at start and whenever it answers again after a failure. @default 30000
     */
    chainCheckMs: z.number().int().min(50).default(30_000),
  })
  .strict();

const cacheSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Memory bound of cached answers, in bytes. @default 67108864 (64 MiB) */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /** Lifetime of answers about blocks that are not final yet. @default 2000 */
    unfinalizedTtlMs: z.number().int().positive().default(2_000),
  })
  .strict();

const serverSchema = z
  .object({
    host: z.string().default("127.0.0.1"),
    /** 0 lets the OS pick a free port. @default 8545 */
    port: z.number().int().min(0).max(65535).default(8545),
    /** Largest request body. @default 1048576 (1 MiB) */
    maxBodyBytes: z.number().int().positive().default(1_048_576),
    /** Most requests in one batch. @default 100 */
    maxBatchSize: z.number().int().positive().default(100),
    /** Processes sharing the port. @default 1 */
    workers: z.number().int().min(1).max(64).default(1),
    /** pino level. @default "info" */
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .strict();

const ledgerSchema = z
  .object({
    /** JSON-RPC URL of the ledger chain (where the DIN contracts live). */
    rpc: z
      .string()
      .url()
      .refine((url) => /^https?:\/\//.test(url), "must be an http:// or https:// URL"),
    /** The DinDeployment JSON written by `deployDin` (addresses, networks). */
    deployment: z.string().min(1),
    /** File holding the gateway's ledger key (0x hex, mode 0600): a gateway admitted in GATEWAY_SET. */
    keyFile: z.string().min(1).optional(),
    /** Environment variable holding that key instead. */
    keyEnv: z.string().min(1).optional(),
    /** Share of single relays whose operator is asked to sign them (quorum requests always are). @default 0.01 */
    signSampleRate: z.number().min(0).max(1).default(0.01),
    /** How often the ledger is checked for a new block (and then operators re-read). @default 1000 */
    syncMs: z.number().int().min(10).default(1_000),
    /** Fee paid per relay served, in fee-token units (a decimal, 18 decimals). @default "0.001" */
    feePerRelay: z
      .string()
      .regex(/^\d+(\.\d{1,18})?$/, 'a decimal number of fee-token units, e.g. "0.001"')
      .default("0.001"),
    /** Evidence (bad signatures, contradictions) is appended here as JSON lines. @default logs only */
    evidenceFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((ledger) => ledger.keyFile === undefined || ledger.keyEnv === undefined, {
    message: "set keyFile or keyEnv, not both",
    path: ["keyEnv"],
  });

export const gatewayConfigSchema = z
  .object({
    server: serverSchema.default({}),
    routing: routingSchema.default({}),
    health: healthSchema.default({}),
    cache: cacheSchema.default({}),
    /** API keys, allowlists, credits and usage (docs/keys.md). @default off */
    keys: keysConfigSchema.default({}),
    /** The DIN ledger: operators, stakes and jails are read from it; usage is reported to it. @default none */
    ledger: ledgerSchema.optional(),
    /**
     * What the restaking check of the `din_risk_*` gauges assumes: corruption threshold, the shock, and what
     * corrupting each network is worth (docs/risk.md). @default 1/3, 1%, no profit declared
     */
    risk: riskAssumptionsSchema.optional(),
    networks: z.array(networkSchema).min(1, "list at least one network"),
  })
  .strict()
  .superRefine((config, context) => {
    const names = new Set<string>();
    config.networks.forEach((network, index) => {
      if (names.has(network.name)) {
        context.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["networks", index, "name"],
          message: `duplicate network "${network.name}"`,
        });
      }
      names.add(network.name);
      if (network.ledgerNetwork !== undefined && config.ledger === undefined) {
        context.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["networks", index, "ledgerNetwork"],
          message: "ledgerNetwork needs a top-level ledger section",
        });
      }
    });
    if (config.keys.enabled && config.keys.databaseUrl === undefined && config.server.workers > 1) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["keys", "databaseUrl"],
        message: "an embedded database has one owner process: with server.workers > 1 set keys.databaseUrl",
      });
    }
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type NetworkConfig = GatewayConfig["networks"][number];
export type UpstreamConfig = NetworkConfig["upstreams"][number];
export type RoutingConfig = GatewayConfig["routing"];
export type HealthConfig = GatewayConfig["health"];
export type CacheConfig = GatewayConfig["cache"];
export type KeysConfig = GatewayConfig["keys"];
export type LedgerConfig = NonNullable<GatewayConfig["ledger"]>;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join("\n")}` : message);
  }
}

/** Validates a configuration value; throws a `ConfigError` listing every bad key by its path. */
export function parseGatewayConfig(value: unknown, source = "config"): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(value);
  // Checked on the raw value: zod skips an object's refinements once any of its keys is invalid, and a
  // network without upstreams is worth naming beside the other mistakes.
  const empty = networksWithoutUpstreams(value);
  if (result.success && empty.length === 0) return result.data;
  const issues = result.success ? [] : result.error.issues;
  const problems = [
    ...empty.map(
      (index) =>
        `networks[${index}].upstreams: a network needs at least one upstream (or a ledger to read its operators from)`,
    ),
    ...issues.map((issue) => {
      const path = issue.path.length
        ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")
        : "";
      const key = path.replace(/^\./, "") || "(root)";
      return `${key}: ${issue.message}`;
    }),
  ];
  throw new ConfigError(`invalid gateway configuration in ${source}`, problems);
}

/** Indexes of networks that list no upstreams in a configuration without a ledger section. */
function networksWithoutUpstreams(value: unknown): number[] {
  if (typeof value !== "object" || value === null) return [];
  const { ledger, networks } = value as { ledger?: unknown; networks?: unknown };
  if (ledger !== undefined || !Array.isArray(networks)) return [];
  return networks.flatMap((network, index) => {
    if (typeof network !== "object" || network === null) return [];
    const upstreams = (network as { upstreams?: unknown }).upstreams;
    return upstreams === undefined || (Array.isArray(upstreams) && upstreams.length === 0) ? [index] : [];
  });
}

export function loadGatewayConfig(path: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read ${path}: ${(cause as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid YAML: ${(cause as Error).message}`);
  }
  return parseGatewayConfig(value, path);
}
