// Who runs each operator, as the operator declares it: the `name` of the public profile its EigenLayer
// metadata URI points to (the core's OperatorMetadataURIUpdated events). Operators of one organization
// declare the same name and count as one entity in the risk figures. A profile that cannot be read or
// does not validate declares nothing: the operator then counts as an entity of its own.
import { type Address, getAddress, type PublicClient } from "viem";
import { delegationManagerAbi } from "../artifacts/index.js";
import type { DinDeployment } from "./deploy.js";
import { validateOperatorMetadata } from "./operatorMetadata.js";

/** Largest profile read (EigenLayer's metadata.json is a few hundred bytes). */
const MAX_PROFILE_BYTES = 64 * 1024;

export type EntityOptions = {
  /** Fetch http(s) metadata URIs (data: URIs are always read). @default false */
  fetchRemote?: boolean;
  /** Per URI. @default 3000 */
  timeoutMs?: number;
};

/** The profile JSON text a metadata URI holds: a data: URI in place, an http(s) one fetched when allowed. */
async function profileText(uri: string, options: EntityOptions): Promise<string | undefined> {
  const data = /^data:([^,]*?)(;base64)?,(.*)$/s.exec(uri);
  if (data) {
    const body = data[2] ? Buffer.from(data[3]!, "base64").toString("utf8") : decodeURIComponent(data[3]!);
    return body.length <= MAX_PROFILE_BYTES ? body : undefined;
  }
  if (!options.fetchRemote || !/^https?:\/\//.test(uri)) return undefined;
  const response = await fetch(uri, { signal: AbortSignal.timeout(options.timeoutMs ?? 3_000) });
  if (!response.ok || !response.body) return undefined;
  // Read at most MAX_PROFILE_BYTES: a profile URL is anyone's to point at something huge.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_PROFILE_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The entity name each of `operators` declares, by address (those that declare none are left out). */
export async function readOperatorEntities(
  client: PublicClient,
  deployment: DinDeployment,
  operators: readonly Address[],
  options: EntityOptions = {},
): Promise<Map<Address, string>> {
  const entities = new Map<Address, string>();
  if (operators.length === 0) return entities;
  const events = await client.getContractEvents({
    address: deployment.addresses.delegationManager,
    abi: delegationManagerAbi,
    eventName: "OperatorMetadataURIUpdated",
    args: { operator: operators.map((o) => getAddress(o)) },
    fromBlock: 0n,
    strict: true,
  });
  // The latest URI of each operator (events come in order).
  const latest = new Map<Address, string>();
  for (const event of events) latest.set(getAddress(event.args.operator), event.args.metadataURI);
  await Promise.all(
    [...latest].map(async ([operator, uri]) => {
      try {
        const text = await profileText(uri, options);
        if (text === undefined) return;
        entities.set(operator, validateOperatorMetadata(JSON.parse(text)).name);
      } catch {
        // Unreadable or invalid: declares nothing.
      }
    }),
  );
  return entities;
}
