import { getAddress, type PublicClient } from "viem";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { mockERC20Abi, mockERC20Bytecode } from "../../src/ledger/artifacts/index.js";
import { EventLogCache } from "../../src/ledger/eventLog.js";
import { createHardhatLedger, type HardhatLedger } from "../../src/ledger/hardhat.js";
import { deployContract } from "./fixture.js";

let ledger: HardhatLedger;
let token: `0x${string}`;
let minter: `0x${string}`;

beforeAll(async () => {
  ledger = await createHardhatLedger();
  minter = ledger.accounts[0]!;
  token = await deployContract(ledger, minter, mockERC20Abi, mockERC20Bytecode, ["Event", "EVT"]);
});

async function mint(amount: bigint) {
  await ledger.write(minter, {
    address: token,
    abi: mockERC20Abi,
    functionName: "mint",
    args: [minter, amount],
  });
}

const transfers = () => ({
  address: token,
  abi: mockERC20Abi,
  eventName: "Transfer" as const,
  fromBlock: 0n,
});

const amounts = (logs: readonly { args: { value?: bigint } }[]) => logs.map((log) => log.args.value);

describe("event log cache", () => {
  it("reads the whole history once, then only the blocks after the last one read", async () => {
    const cache = new EventLogCache();
    await mint(1n);
    await mint(2n);
    const first = await cache.read(ledger.public as unknown as PublicClient, transfers());
    expect(amounts(first)).toEqual([1n, 2n]);
    const headThen = await ledger.blockNumber();

    const calls: Array<{ fromBlock?: unknown; toBlock?: unknown }> = [];
    const client = ledger.public as unknown as PublicClient;
    const read = client.getContractEvents.bind(client);
    const spy = vi.spyOn(client, "getContractEvents").mockImplementation(((parameters: {
      fromBlock?: unknown;
      toBlock?: unknown;
    }) => {
      calls.push({ fromBlock: parameters.fromBlock, toBlock: parameters.toBlock });
      return read(parameters as never);
    }) as never);
    try {
      await mint(3n);
      const second = await cache.read(client, transfers());
      expect(amounts(second)).toEqual([1n, 2n, 3n]);
      expect(calls).toEqual([{ fromBlock: headThen + 1n, toBlock: headThen + 1n }]);
      // Nothing new: no event read at all.
      expect(amounts(await cache.read(client, transfers()))).toEqual([1n, 2n, 3n]);
      expect(calls).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
    // The same as a whole read.
    const whole = await client.getContractEvents({ ...transfers(), strict: true });
    expect(ids(whole)).toEqual(ids(await cache.read(client, transfers())));
  });

  it("forgets what a reverted chain no longer has: never a log the chain dropped", async () => {
    const cache = new EventLogCache();
    const client = ledger.public as unknown as PublicClient;
    const before = amounts(await cache.read(client, transfers()));
    const snapshot = await ledger.snapshot();
    await mint(100n);
    await mint(101n);
    expect(amounts(await cache.read(client, transfers()))).toEqual([...before, 100n, 101n]);
    await ledger.revert(snapshot);
    // As many blocks again, with other events: same numbers, other hashes.
    await mint(200n);
    await mint(201n);
    expect(amounts(await cache.read(client, transfers()))).toEqual([...before, 200n, 201n]);
    // Shorter than before: the last block read is gone.
    const again = await ledger.snapshot();
    await mint(300n);
    expect(amounts(await cache.read(client, transfers()))).toEqual([...before, 200n, 201n, 300n]);
    await ledger.revert(again);
    expect(amounts(await cache.read(client, transfers()))).toEqual([...before, 200n, 201n]);
  });

  it("keeps queries apart (event, address, filter) and serves concurrent reads of one query alike", async () => {
    const cache = new EventLogCache();
    const client = ledger.public as unknown as PublicClient;
    const other = ledger.accounts[1]!;
    await ledger.write(minter, {
      address: token,
      abi: mockERC20Abi,
      functionName: "mint",
      args: [other, 7n],
    });
    const toOther = await cache.read(client, { ...transfers(), args: { to: other } });
    expect(toOther.map((log) => getAddress(log.args.to!))).toEqual([getAddress(other)]);
    const [a, b] = await Promise.all([cache.read(client, transfers()), cache.read(client, transfers())]);
    expect(amounts(a)).toEqual(amounts(b));
    expect(amounts(a)).toContain(7n);
    expect(cache.size).toBe(2);
  });
});

describe("event log cache, queries read together", () => {
  it("reads the head and checks the last block once for all of them, not once per query", async () => {
    const cache = new EventLogCache();
    const client = ledger.public as unknown as PublicClient;
    const queries = [
      transfers(),
      { ...transfers(), args: { to: minter } },
      { ...transfers(), args: { from: minter } },
    ];
    await Promise.all(queries.map((query) => cache.read(client, query)));
    await mint(5n);
    const spy = vi.spyOn(client, "getBlock");
    try {
      const logs = await Promise.all(queries.map((query) => cache.read(client, query)));
      expect(amounts(logs[0]!).at(-1)).toBe(5n);
      // One read of the head and one of the block they all read last, for three queries.
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});

function ids<T extends readonly { transactionHash: string; logIndex: number }[]>(logs: T) {
  return logs.map((log) => `${log.transactionHash}:${log.logIndex}`);
}
