// WebSockets and subscriptions through real operators in front of a real devnet, with viem and ethers
// as the clients a dApp would use.
import { WebSocketProvider } from "ethers";
import { createPublicClient, webSocket } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { requestDevnet } from "../../src/devnet/chain.js";
import { PING_ABI } from "../../src/devnet/traffic.js";
import { type DataPlane, post, rpc, startDataPlane, waitFor } from "../support/dataPlane.js";

// Tests read arbitrary JSON-RPC messages field by field.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Message = any;

/** A raw WebSocket JSON-RPC client that records every message. */
async function openSocket(url: string) {
  const socket = new WebSocket(url);
  const messages: Message[] = [];
  const waiters = new Map<unknown, (message: Message) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (!Array.isArray(message) && message.id !== undefined && waiters.has(message.id)) {
      waiters.get(message.id)!(message);
      waiters.delete(message.id);
    } else messages.push(message);
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let nextId = 1;
  const call = (method: string, params: unknown[] = []) =>
    new Promise<Message>((resolve) => {
      const id = nextId++;
      waiters.set(id, resolve);
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  const raw = (text: string) =>
    new Promise<Message>((resolve) => {
      socket.once("message", (data) => resolve(JSON.parse(data.toString())));
      socket.send(text);
    });
  const notifications = (subscription: string) =>
    messages
      .filter((m) => m.method === "eth_subscription" && m.params.subscription === subscription)
      .map((m) => m.params.result);
  return { socket, messages, call, raw, notifications };
}

function expectConsecutive(numbers: readonly number[]) {
  expect(numbers.length).toBeGreaterThan(3);
  for (let i = 1; i < numbers.length; i++)
    expect(numbers[i], `after ${numbers[i - 1]}`).toBe(numbers[i - 1]! + 1);
}

describe("WebSocket subscriptions", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({ webSockets: { maxBufferedBytes: 64 * 1024 } });
  });

  afterAll(async () => {
    await plane?.close();
  });

  it("serves ordinary JSON-RPC over the socket, and bad frames get errors without closing it", async () => {
    const client = await openSocket(plane.wsUrl);
    expect((await client.call("eth_chainId")).result).toBe("0x7a69");
    expect((await client.raw("{not json")).error.code).toBe(-32700);
    expect((await client.call("eth_subscribe", ["newBananas"])).error.code).toBe(-32602);
    expect((await client.call("eth_subscribe", ["logs", { address: "0x12" }])).error.code).toBe(-32602);
    expect((await client.call("personal_sign", [])).error.code).toBe(-32601);
    const balance = await client.call("eth_getBalance", [plane.chain.accounts[0], "latest"]);
    expect(balance.result).toMatch(/^0x/);
    const id = (await client.call("eth_subscribe", ["newHeads"])).result;
    expect((await client.call("eth_unsubscribe", [id])).result).toBe(true);
    expect((await client.call("eth_unsubscribe", [id])).result).toBe(false);
    client.socket.close();
  });

  it("refuses an unknown network at the upgrade", async () => {
    const socket = new WebSocket(plane.wsUrl.replace("ethereum", "solana"));
    const status = await new Promise<number>((resolve) =>
      socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it("delivers every head and every log once, in order, while operators die and one lies (viem)", async () => {
    const client = createPublicClient({ transport: webSocket(plane.wsUrl) });
    const heads: number[] = [];
    const logs: string[] = [];
    const stopBlocks = client.watchBlocks({
      onBlock: (block) => {
        heads.push(Number(block.number));
      },
    });
    const stopLogs = client.watchContractEvent({
      address: plane.traffic.pingContract,
      abi: PING_ABI,
      eventName: "Ping",
      onLogs: (batch) => {
        for (const log of batch) logs.push(`${log.blockNumber}:${log.logIndex}`);
      },
    });
    await waitFor(() => heads.length >= 3, 20_000, "first heads");
    // Each outage lasts a few blocks (300 ms each) that the subscription must still deliver.
    const moreHeads = (count: number, what: string) => {
      const from = heads.length;
      return waitFor(() => heads.length >= from + count, 20_000, `${count} heads ${what}`);
    };
    await plane.operators.get("aws-use1")!.setChaos({ mode: "down" });
    await moreHeads(4, "with aws-use1 down");
    await plane.operators.get("gcp-usc1")!.setChaos({ mode: "down" });
    await moreHeads(4, "with gcp-usc1 down too");
    await plane.operators.get("hetzner-fsn1")!.setChaos({ mode: "lie" });
    await moreHeads(6, "with hetzner-fsn1 lying");
    for (const id of ["aws-use1", "gcp-usc1", "hetzner-fsn1"])
      await plane.operators.get(id)!.setChaos({ mode: "ok" });
    stopBlocks();
    stopLogs();
    expectConsecutive(heads);
    // Every Ping log of the blocks delivered, exactly once.
    const first = heads[0]!;
    const last = heads.at(-1)!;
    const direct = await post(
      plane.chain.url,
      rpc("eth_getLogs", [
        {
          fromBlock: `0x${first.toString(16)}`,
          toBlock: `0x${last.toString(16)}`,
          address: plane.traffic.pingContract,
        },
      ]),
    );
    const expected = direct.json.result.map(
      (log: { blockNumber: string; logIndex: string }) =>
        `${BigInt(log.blockNumber)}:${Number(log.logIndex)}`,
    );
    const delivered = logs.filter((entry) => {
      const block = Number(entry.split(":")[0]);
      return block >= first && block <= last;
    });
    expect(expected.length).toBeGreaterThan(4);
    expect(delivered).toEqual(expected);
  });

  it("delivers heads to an ethers WebSocketProvider", async () => {
    const provider = new WebSocketProvider(plane.wsUrl);
    const blocks: number[] = [];
    await provider.on("block", (number: number) => blocks.push(number));
    await waitFor(() => blocks.length >= 3, 20_000, "ethers blocks");
    expect(blocks[1]).toBe(blocks[0]! + 1);
    await provider.destroy();
  });

  it("emits the new canonical heads and removed logs on a reorg", async () => {
    const client = await openSocket(plane.wsUrl);
    const headsId = (await client.call("eth_subscribe", ["newHeads"])).result;
    const logsId = (await client.call("eth_subscribe", ["logs", { address: plane.traffic.pingContract }]))
      .result;
    await waitFor(() => client.notifications(headsId).length >= 2, 20_000, "heads before the snapshot");
    const snapshot = await requestDevnet(plane.chain.provider, "evm_snapshot");
    const logsAtSnapshot = client.notifications(logsId).length;
    const headsAtSnapshot = client.notifications(headsId).length;
    // Blocks with logs after the snapshot: the revert takes them out of the chain.
    await waitFor(
      () =>
        client.notifications(logsId).length >= logsAtSnapshot + 3 &&
        client.notifications(headsId).length >= headsAtSnapshot + 3,
      30_000,
      "blocks and logs after the snapshot",
    );
    await requestDevnet(plane.chain.provider, "evm_revert", [snapshot]);
    const removed = await waitFor(
      () => {
        const found = client.notifications(logsId).filter((log: { removed: boolean }) => log.removed);
        return found.length > 0 ? found : undefined;
      },
      40_000,
      "removed logs",
    );
    type Head = { number: string; hash: string; parentHash: string };
    // After the reorg the new chain continues from the fork point: a number repeats with a new hash.
    const replacedIn = (heads: Head[]) => {
      const seen = new Map<string, string>();
      let replaced = 0;
      for (const head of heads) {
        const previous = seen.get(head.number);
        if (previous && previous !== head.hash) replaced++;
        seen.set(head.number, head.hash);
      }
      return replaced;
    };
    await waitFor(
      () => replacedIn(client.notifications(headsId) as Head[]) > 0,
      20_000,
      "a head of the new chain at a number already delivered",
    );
    const heads = client.notifications(headsId) as Head[];
    expect(replacedIn(heads)).toBeGreaterThan(0);
    // Every head after the first links to the head before it, across the reorg too.
    const last = heads.at(-1)!;
    const parent = heads.filter((head) => head.hash === last.parentHash);
    expect(parent).toHaveLength(1);
    expect(removed.length).toBeGreaterThan(0);
    expect(
      removed.every(
        (log: { address: string }) => log.address.toLowerCase() === plane.traffic.pingContract.toLowerCase(),
      ),
    ).toBe(true);
    client.socket.close();
  });

  it("keeps a fast consumer whole next to 1,000 idle subscriptions and a slow consumer it disconnects", async () => {
    const idle = await Promise.all(Array.from({ length: 10 }, () => openSocket(plane.wsUrl)));
    for (const client of idle) {
      await Promise.all(Array.from({ length: 100 }, () => client.call("eth_subscribe", ["newHeads"])));
    }
    const overLimit = await idle[0]!.call("eth_subscribe", ["newHeads"]);
    expect(overLimit.error.code).toBe(-32005);
    const slow = await openSocket(plane.wsUrl);
    await Promise.all(Array.from({ length: 100 }, () => slow.call("eth_subscribe", ["logs"])));
    const slowClosed = new Promise<number>((resolve) => slow.socket.on("close", (code) => resolve(code)));
    // Stop reading: the gateway's send buffer for this client grows until it gives up on it.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const fast = await openSocket(plane.wsUrl);
    const fastId = (await fast.call("eth_subscribe", ["newHeads"])).result;
    const metrics = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/din_ws_subscriptions\{network="ethereum",type="newHeads"\} 100[1-9]/);
    // The gateway gives up on it (its connection count drops), and tells it why once it reads again.
    const connections = async () => {
      const text = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
      return Number(/din_ws_connections\{network="ethereum"\} (\d+)/.exec(text)?.[1]);
    };
    const open = await connections();
    await waitFor(async () => (await connections()) < open, 60_000, "the slow consumer to be dropped");
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await slowClosed).toBe(4008);
    await waitFor(() => fast.notifications(fastId).length >= 5, 20_000, "fast consumer heads");
    expectConsecutive(fast.notifications(fastId).map((head: { number: string }) => Number(head.number)));
    for (const client of [...idle, fast]) client.socket.close();
  }, 90_000);
});
