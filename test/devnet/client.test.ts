// A dApp reading through the verifying client against `din up`, with one operator lying about blocks and
// balances (`lie`) and one about balances only (`corrupt`): every read is either the devnet's true value
// or a typed error naming one of the two; with honest operators, no error at all. The same through the
// ethers provider.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createPublicClient, getAddress, http, numberToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DinProvider } from "../../src/client/ethers.js";
import {
  DinVerificationError,
  type DinVerifierOptions,
  dinTransport,
  GatewayClient,
} from "../../src/client/index.js";
import { applyChaos } from "../../src/devnet/chaos.js";
import { type RunningNetwork, up } from "../../src/devnet/up.js";
import { findNetwork } from "../../src/ledger/din/directory.js";

const READS = 1_000;
const ETHERS_READS = 200;
const CONCURRENCY = 8;

describe("the verifying client against din up", () => {
  let network: RunningNetwork;
  const dataDir = mkdtempSync(join(tmpdir(), "din-client-"));
  let rpc: string;
  let direct: ReturnType<typeof createPublicClient>;
  let options: DinVerifierOptions;
  let addresses: Address[];
  const bad = new Set<Address>();

  beforeAll(async () => {
    network = await up({ dataDir, port: 0, host: "127.0.0.1", blockTimeMs: 1_000 });
    const served = network.state.networks.find((n) => n.name === "ethereum")!;
    rpc = served.rpc;
    direct = createPublicClient({ transport: http(served.chain) });
    const deployment = network.ledger.deployment;
    options = {
      ledger: {
        chainId: deployment.chainId,
        slasher: deployment.addresses.slasher,
        registry: deployment.addresses.registry,
        rpcUrl: network.state.ledger.rpc,
        networkId: findNetwork(deployment, "ethereum").id,
      },
      chainId: served.chainId,
      verify: "always",
      // A session per request: the gateway's sticky routing would otherwise send every read to one operator.
      fetch: (url, init) =>
        fetch(url, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), "din-session-id": String(Math.random()) },
        }),
    };
    addresses = [
      ...(network.state.accounts ?? []).slice(0, 4).map((a) => getAddress(a.address)),
      network.state.operators[0]!.address as Address,
    ];
  }, 240_000);

  /**
   * The gateway sends every first attempt to its best-ranked operator: that one corrupts balances (its
   * blocks stay right, so it stays first), and another lies about blocks and balances. Both are named bad
   * for the rest of the test (an operator's answers signed while it lied stay wrong).
   */
  async function corruptThePrimary(): Promise<void> {
    // Asked as the client asks (signed, a session of its own), so it lands where the client's reads land.
    const probe = await new GatewayClient(rpc, { headers: { "din-session-id": "probe" } }).call(
      "eth_getBalance",
      [addresses[0], "latest"],
      { sign: true },
    );
    const operators = network.state.operators.filter((o) => o.network === "ethereum");
    const primary = operators.find((o) => probe.upstream?.includes(o.address.slice(2, 10).toLowerCase()))!;
    const liar = operators.find((o) => o !== primary)!;
    await applyChaos(dataDir, { network: "ethereum" }, { mode: "ok" });
    bad.add(getAddress(primary.address));
    bad.add(getAddress(liar.address));
    await applyChaos(dataDir, { operator: primary.id }, { mode: "corrupt" });
    await applyChaos(dataDir, { operator: liar.id }, { mode: "lie" });
  }

  afterAll(async () => {
    await network?.stop();
  }, 60_000);

  /** Runs `count` reads, `CONCURRENCY` at a time: each is compared with the devnet's own value at its block. */
  async function readMany(count: number, read: (address: Address, block: bigint) => Promise<bigint>) {
    const outcome = {
      correct: 0,
      wrong: [] as string[],
      caught: new Map<string, number>(),
      blamed: new Set<Address>(),
    };
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const address = addresses[i % addresses.length]!;
        const block = await direct.getBlockNumber({ cacheTime: 0 });
        const truth = await direct.getBalance({ address, blockNumber: block });
        try {
          const value = await read(address, block);
          if (value === truth) outcome.correct++;
          else outcome.wrong.push(`${address}@${block}: ${value} != ${truth}`);
        } catch (error) {
          if (!(error instanceof DinVerificationError)) throw error;
          outcome.caught.set(error.kind, (outcome.caught.get(error.kind) ?? 0) + 1);
          outcome.blamed.add(error.operator!);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return outcome;
  }

  it("returns no wrong value through viem: each read is true or a typed error naming a lying operator", async () => {
    await corruptThePrimary();
    const client = createPublicClient({ transport: dinTransport(rpc, options) });
    const lying = await readMany(READS, (address, blockNumber) =>
      client.getBalance({ address, blockNumber }),
    );
    console.log("viem, lie + corrupt:", lying.correct, "correct,", Object.fromEntries(lying.caught));
    expect(lying.wrong).toEqual([]);
    for (const operator of lying.blamed) expect(bad).toContain(operator);
    expect(lying.correct + [...lying.caught.values()].reduce((a, b) => a + b, 0)).toBe(READS);
    expect(lying.caught.get("wrong-state")).toBeGreaterThan(0);

    await corruptThePrimary();
    const provider = new DinProvider(rpc, { ...options, network: 31337, provider: { cacheTimeout: -1 } });
    const viaEthers = await readMany(ETHERS_READS, (address, block) =>
      provider.getBalance(address, numberToHex(block)),
    );
    console.log(
      "ethers, lie + corrupt:",
      viaEthers.correct,
      "correct,",
      Object.fromEntries(viaEthers.caught),
    );
    expect(viaEthers.wrong).toEqual([]);
    for (const operator of viaEthers.blamed) expect(bad).toContain(operator);
    expect(viaEthers.caught.get("wrong-state")).toBeGreaterThan(0);
    provider.destroy();
  }, 600_000);

  it("raises no error at all when every operator is honest", async () => {
    await applyChaos(dataDir, { network: "ethereum" }, { mode: "ok" });
    const client = createPublicClient({ transport: dinTransport(rpc, options) });
    const honest = await readMany(READS, (address, blockNumber) =>
      client.getBalance({ address, blockNumber }),
    );
    expect(honest.wrong).toEqual([]);
    expect(Object.fromEntries(honest.caught)).toEqual({});
    expect(honest.correct).toBe(READS);
    const provider = new DinProvider(rpc, { ...options, network: 31337, provider: { cacheTimeout: -1 } });
    const viaEthers = await readMany(ETHERS_READS, (address, block) =>
      provider.getBalance(address, numberToHex(block)),
    );
    expect(Object.fromEntries(viaEthers.caught)).toEqual({});
    expect(viaEthers.correct).toBe(ETHERS_READS);
    provider.destroy();
  }, 600_000);
});
