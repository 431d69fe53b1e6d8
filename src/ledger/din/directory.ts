// The DIN service as the roles read it from the ledger: the deployment file, viem clients for a ledger RPC,
// the networks, every registered operator of a network with its endpoint, labels, signer, stake, jail and
// queued slashes, and whether an address is an admitted gateway or watcher. One place for these reads so
// the gateway, the watchers, operator nodes and the CLI agree on what the registry says.

import { readFileSync } from "node:fs";
import { LRUCache } from "lru-cache";
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { allocationManagerAbi, dinEpochsAbi, dinRegistryAbi, dinSlasherAbi } from "../artifacts/index.js";
import type { LedgerClients } from "../deploy.js";
import type { RelayCallerCheck, RelayCallerRole } from "./auth.js";
import type { DinAddresses, DinDeployment, DinNetwork } from "./deploy.js";

/** Reads a deployment JSON written by `deployDin` (bigints are decimal strings there). */
export function readDeployment(file: string): DinDeployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read the DIN deployment file ${file}: ${(error as Error).message}`);
  }
  return parseDeployment(raw, file);
}

/** Validates and revives a deployment document. */
export function parseDeployment(raw: unknown, source = "deployment"): DinDeployment {
  const doc = raw as Partial<DinDeployment> & { addresses?: Partial<DinAddresses> };
  const a = doc?.addresses;
  if (
    !doc ||
    typeof doc !== "object" ||
    !a ||
    typeof doc.chainId !== "number" ||
    !Array.isArray(doc.networks)
  ) {
    throw new Error(`${source} is not a DIN deployment (expected chainId, addresses and networks)`);
  }
  for (const key of ["registry", "slasher", "epochs", "allocationManager", "delegationManager"] as const) {
    if (typeof a[key] !== "string") throw new Error(`${source} lacks addresses.${key}`);
  }
  return {
    ...(doc as DinDeployment),
    networks: doc.networks.map((n) => ({
      id: Number(n.id),
      name: String(n.name),
      chainId: BigInt(n.chainId),
      minStake: BigInt(n.minStake),
    })),
  };
}

/** Clients for a ledger reached over HTTP; `account` (a local key) signs, the node never holds keys. */
export function connectLedger(
  rpcUrl: string,
  chainId: number,
  account?: LocalAccount,
): { public: PublicClient<Transport, Chain>; wallet: WalletClient<Transport, Chain, Account> | undefined } {
  const chain = defineChain({
    id: chainId,
    name: `ledger-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  // Receipts are polled often: a devnet mines every second, and waiting 4 s (viem's default) per
  // transaction would make every multi-step action slow.
  const transport = http(rpcUrl, { retryCount: 2, timeout: 15_000 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient<
    Transport,
    Chain
  >;
  const wallet = account
    ? (createWalletClient({ account, chain, transport, pollingInterval: 100 }) as WalletClient<
        Transport,
        Chain,
        Account
      >)
    : undefined;
  return { public: publicClient, wallet };
}

/** {@link connectLedger} with a signing account, as the deploy helpers take it. */
export function ledgerClients(rpcUrl: string, chainId: number, account: LocalAccount): LedgerClients {
  const clients = connectLedger(rpcUrl, chainId, account);
  return { public: clients.public, wallet: clients.wallet as WalletClient<Transport, Chain, Account> };
}

/** A network by name or id, with a clear error naming the known ones. */
export function findNetwork(deployment: DinDeployment, nameOrId: string | number): DinNetwork {
  const network = deployment.networks.find((n) => n.name === nameOrId || String(n.id) === String(nameOrId));
  if (!network) {
    throw new Error(
      `unknown network "${nameOrId}"; this deployment serves: ${deployment.networks.map((n) => n.name).join(", ")}`,
    );
  }
  return network;
}

/** A slash waiting for its veto window, or done (IDinSlasher.QueuedSlash). */
export type SlashRecord = {
  id: bigint;
  operator: Address;
  networkId: number;
  queuedAt: number;
  status: "queued" | "vetoed" | "executed";
  reason: "availability" | "latency" | "down" | "wrong-data";
  wad: bigint;
  /** The veto window the slash was queued with (later changes of the parameter do not apply to it). */
  vetoWindow: number;
};

const slashStatuses = ["none", "queued", "vetoed", "executed"] as const;
const slashReasons = ["none", "availability", "latency", "down", "wrong-data"] as const;

/** Every slash the slasher has queued, from `fromId` on (the queue only grows). */
export async function readSlashes(
  client: PublicClient,
  addresses: Pick<DinAddresses, "slasher">,
  fromId = 0n,
): Promise<SlashRecord[]> {
  const slasher = { address: addresses.slasher, abi: dinSlasherAbi } as const;
  const length = await client.readContract({ ...slasher, functionName: "queueLength" });
  const ids: bigint[] = [];
  for (let id = fromId; id < length; id++) ids.push(id);
  const records = await Promise.all(
    ids.map((id) => client.readContract({ ...slasher, functionName: "getQueuedSlash", args: [id] })),
  );
  return records.map((s, i) => ({
    id: ids[i] as bigint,
    operator: getAddress(s.operator),
    networkId: Number(s.networkId),
    queuedAt: Number(s.queuedAt),
    status: (slashStatuses[s.status] ?? "queued") as SlashRecord["status"],
    reason: (slashReasons[s.reason] ?? "availability") as SlashRecord["reason"],
    wad: s.wad,
    vetoWindow: Number(s.vetoWindow),
  }));
}

/** One registered operator of a network, as the registry and the restaking core describe it. */
export type DirectoryOperator = {
  /** Ledger address (the restaking operator). */
  address: Address;
  networkId: number;
  endpoint: string;
  cloud: string;
  region: string;
  client: string;
  /** Key that signs its relays. */
  signer: Address;
  /** Allocated stake in the network's operator set, summed over the service's strategies (shares). */
  allocatedStake: bigint;
  /** Block until which it is jailed (0 when never). */
  jailedUntil: bigint;
  /** Jailed at the ledger's current block: excluded from routing and rewards. */
  jailed: boolean;
  /** Slashes queued and not yet vetoed or executed. */
  queuedSlashes: number;
};

/** Every registered operator of `networkId` with its metadata, stake, jail and pending slashes. */
export async function readOperators(
  client: PublicClient,
  addresses: Pick<DinAddresses, "registry" | "allocationManager" | "slasher">,
  networkId: number,
  slashes?: readonly SlashRecord[],
): Promise<DirectoryOperator[]> {
  const registry = { address: addresses.registry, abi: dinRegistryAbi } as const;
  const [members, block, allSlashes] = await Promise.all([
    client.readContract({
      address: addresses.allocationManager,
      abi: allocationManagerAbi,
      functionName: "getMembers",
      args: [{ avs: addresses.registry, id: networkId }],
    }),
    client.getBlockNumber({ cacheTime: 0 }),
    slashes ? Promise.resolve(slashes) : readSlashes(client, addresses),
  ]);
  return Promise.all(
    members.map(async (member) => {
      const address = getAddress(member);
      const [metadata, stake, jailedUntil] = await Promise.all([
        client.readContract({ ...registry, functionName: "getMetadata", args: [address, networkId] }),
        client.readContract({ ...registry, functionName: "allocatedStake", args: [address, networkId] }),
        client.readContract({ ...registry, functionName: "jailedUntil", args: [address, networkId] }),
      ]);
      return {
        address,
        networkId,
        endpoint: metadata.endpoint,
        cloud: metadata.cloud,
        region: metadata.region,
        client: metadata.client,
        signer: getAddress(metadata.signer),
        allocatedStake: stake,
        jailedUntil,
        // The registry's isJailed compares with block.number of the next call: a view at the latest block.
        jailed: jailedUntil > block,
        queuedSlashes: allSlashes.filter(
          (s) => s.operator === address && s.networkId === networkId && s.status === "queued",
        ).length,
      };
    }),
  );
}

/** A {@link RelayCallerCheck} against the registry, remembering answers for `ttlMs`. */
export function registryCallerCheck(
  client: PublicClient,
  registry: Address,
  ttlMs = 30_000,
): RelayCallerCheck {
  // Bounded: the addresses asked about come from callers' tokens, which anyone can mint.
  const answers = new LRUCache<string, { ok: boolean }>({ max: 10_000, ttl: ttlMs });
  return async (address: Address, role: RelayCallerRole) => {
    const key = `${role}:${address}`;
    const cached = answers.get(key);
    if (cached) return cached.ok;
    const ok = await client.readContract({
      address: registry,
      abi: dinRegistryAbi,
      functionName: role === "gateway" ? "isActiveGateway" : "isActiveWatcher",
      args: [address],
    });
    answers.set(key, { ok });
    return ok;
  };
}

/** The current epoch, its block bounds and the epoch parameters. */
export async function readEpochClock(client: PublicClient, epochs: Address) {
  const contract = { address: epochs, abi: dinEpochsAbi } as const;
  const [current, params] = await Promise.all([
    client.readContract({ ...contract, functionName: "currentEpoch" }),
    client.readContract({ ...contract, functionName: "getEpochParams" }),
  ]);
  const [start, end] = await client.readContract({
    ...contract,
    functionName: "epochBounds",
    args: [current],
  });
  return {
    epoch: current,
    start,
    end,
    epochLength: Number(params.epochLength),
    reportWindow: Number(params.reportWindow),
    reportQuorum: Number(params.reportQuorum),
  };
}

/**
 * A stable, readable id for a registered operator: `<cloud>-<region>-<address's first 8 hex>`. The gateway
 * names its ledger upstreams with it and the watcher its operators, so their metrics' labels match.
 */
export function ledgerUpstreamId(operator: Pick<DirectoryOperator, "cloud" | "region" | "address">): string {
  const label = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 24) || "unknown";
  return `${label(operator.cloud)}-${label(operator.region)}-${operator.address.slice(2, 10).toLowerCase()}`;
}
