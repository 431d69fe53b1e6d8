/**
 * Who a relay's signing key belongs to when it was served: the DIN registry's signer keys, read from the
 * ledger (DinRegistry.signerKey, cached a while per key) or from a snapshot the caller pins. The validity
 * window is checked here as DinRegistry.signerOperatorAt checks it, so the answer is the ledger's.
 */
import { type Address, createPublicClient, getAddress, http, parseAbi, zeroAddress } from "viem";

/** The one registry function read here (IDinRegistry.signerKey), not the whole ABI a client would carry. */
const signerKeyAbi = parseAbi([
  "function signerKey(uint32 networkId, address signer) view returns ((address operator, uint64 validFrom, uint64 retiredAt))",
]);

/** A registered signing key: the operator it signs for, from `validFrom` until `retiredAt` (0: still in use). */
export interface SignerKeyRecord {
  operator: Address;
  /** Unix seconds. */
  validFrom: bigint;
  /** Unix seconds; 0 while the key is in use. */
  retiredAt: bigint;
}

/** Looks up signing keys; undefined when the key was never registered. */
export interface SignerRegistry {
  signerKey(signer: Address): Promise<SignerKeyRecord | undefined>;
}

/** The operator a key signed for at `servedAt`, or why it signed for nobody then. */
export async function operatorAt(
  registry: SignerRegistry,
  signer: Address,
  servedAt: bigint,
): Promise<{ operator: Address } | { reason: string }> {
  const key = await registry.signerKey(signer);
  if (!key || key.operator === zeroAddress) return { reason: `key ${signer} is registered to no operator` };
  if (servedAt < key.validFrom || (key.retiredAt !== 0n && servedAt >= key.retiredAt)) {
    return {
      reason: `key ${signer} was not valid at ${servedAt} (valid from ${key.validFrom}${key.retiredAt !== 0n ? ` until ${key.retiredAt}` : ""})`,
    };
  }
  return { operator: getAddress(key.operator) };
}

/** Where to read signer keys on the ledger. */
export interface LedgerRegistryOptions {
  /** JSON-RPC URL of the ledger's chain. */
  rpcUrl: string;
  /** The DinRegistry's address. */
  registry: Address;
  /** The DIN network id the gateway's network is registered under. */
  networkId: number;
  /** How long a key read from the ledger is trusted before it is read again (ms). @default 60000 */
  cacheMs?: number;
}

/** Signer keys read from the ledger, each cached for `cacheMs`. */
export function ledgerRegistry(options: LedgerRegistryOptions): SignerRegistry {
  const client = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 1 }) });
  const cacheMs = options.cacheMs ?? 60_000;
  const cache = new Map<Address, { at: number; key: Promise<SignerKeyRecord | undefined> }>();
  return {
    signerKey(signer) {
      const now = Date.now();
      const hit = cache.get(signer);
      if (hit && now - hit.at < cacheMs) return hit.key;
      const key = client
        .readContract({
          address: options.registry,
          abi: signerKeyAbi,
          functionName: "signerKey",
          args: [options.networkId, signer],
        })
        .then((record) =>
          record.operator === zeroAddress
            ? undefined
            : {
                operator: record.operator,
                validFrom: BigInt(record.validFrom),
                retiredAt: BigInt(record.retiredAt),
              },
        );
      // A failed read is not remembered: the next request asks again.
      key.catch(() => cache.delete(signer));
      if (cache.size > 1_000) cache.clear();
      cache.set(signer, { at: now, key });
      return key;
    },
  };
}

/** A pinned snapshot of signer keys (from `din status`, or a registry read the caller trusts). */
export function snapshotRegistry(
  keys: ReadonlyArray<{
    signer: Address;
    operator: Address;
    validFrom?: bigint | number;
    retiredAt?: bigint | number;
  }>,
): SignerRegistry {
  const byKey = new Map<string, SignerKeyRecord>(
    keys.map((key) => [
      key.signer.toLowerCase(),
      {
        operator: key.operator,
        validFrom: BigInt(key.validFrom ?? 0),
        retiredAt: BigInt(key.retiredAt ?? 0),
      },
    ]),
  );
  return { signerKey: async (signer) => byKey.get(signer.toLowerCase()) };
}
