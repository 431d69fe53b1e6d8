// The method rules of reference/rpc-routing.md, end to end through real operators and a real devnet.
import { createWalletClient, custom, type Hex, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestDevnet } from "../../src/devnet/chain.js";
import { gatewayOnlyStatus } from "../../src/devnet/status.js";
import { formatStatus } from "../../src/devnet/statusText.js";
import { type DataPlane, post, rpc, sleep, startDataPlane, waitFor } from "../support/dataPlane.js";

/** Runtime code that always reverts: PUSH1 0 PUSH1 0 REVERT. */
const revertingCode = "0x60006000fd";
const revertingAddress = "0x00000000000000000000000000000000000dead1";

function countOf(plane: DataPlane, method: string): Record<string, number> {
  return Object.fromEntries(
    [...plane.operators.entries()].map(([id, operator]) => [id, operator.stats().byMethod[method] ?? 0]),
  );
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

describe("method rules", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({
      gateway: { routing: { hedge: false } },
      network: { logsMaxRange: 7 },
      // Declaring whole namespaces, dev-node ones included, must not let their state-changing methods through.
      upstreams: {
        "gcp-usc1": {
          methods: ["debug_*", "hardhat_*", "evm_*", "anvil_*", "admin_*", "miner_*", "personal_*"],
        },
      },
    });
    await requestDevnet(plane.chain.provider, "hardhat_setCode", [revertingAddress, revertingCode]);
    await waitFor(async () => {
      const { json } = await post(plane.rpcUrl, rpc("eth_blockNumber"));
      return Number(json.result) >= 12;
    });
  });

  afterAll(async () => {
    await plane?.close();
  });

  it("answers eth_chainId and net_version locally, without asking any operator", async () => {
    const before = total(countOf(plane, "eth_chainId"));
    const { json } = await post(plane.rpcUrl, [rpc("eth_chainId", [], 1), rpc("net_version", [], 2)]);
    expect(json).toEqual([
      { jsonrpc: "2.0", id: 1, result: "0x7a69" },
      { jsonrpc: "2.0", id: 2, result: "31337" },
    ]);
    expect(total(countOf(plane, "eth_chainId"))).toBe(before);
  });

  it("returns a revert once and does not retry it on another operator", async () => {
    const before = countOf(plane, "eth_call");
    const { json } = await post(
      plane.rpcUrl,
      rpc("eth_call", [{ to: revertingAddress, data: "0x01" }, "latest"]),
    );
    expect(json.error).toBeDefined();
    expect(json.error.message).toMatch(/revert/i);
    const after = countOf(plane, "eth_call");
    expect(total(after) - total(before)).toBe(1);
  });

  it("does not retry invalid params the operator rejects either", async () => {
    const before = total(countOf(plane, "eth_getBlockByNumber"));
    const { json } = await post(plane.rpcUrl, rpc("eth_getBlockByNumber", ["0x1", "yes"]));
    expect(json.error.code).toBe(-32602);
    expect(total(countOf(plane, "eth_getBlockByNumber"))).toBe(before);
  });

  it("broadcasts a raw transaction to several operators once each and answers once, idempotently", async () => {
    const key = generatePrivateKey();
    const account = privateKeyToAccount(key);
    await requestDevnet(plane.chain.provider, "hardhat_setBalance", [
      account.address,
      `0x${parseEther("10").toString(16)}`,
    ]);
    const wallet = createWalletClient({ account, transport: custom(plane.chain.provider) });
    const raw = await wallet.signTransaction({
      chain: null,
      chainId: plane.chain.chainId,
      to: plane.chain.accounts[3]!,
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: 100_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      nonce: 0,
      type: "eip1559",
    });
    const before = countOf(plane, "eth_sendRawTransaction");
    const { json } = await post(plane.rpcUrl, rpc("eth_sendRawTransaction", [raw]));
    expect(json.result).toMatch(/^0x[0-9a-f]{64}$/);
    await sleep(200); // let the other operators of the fan-out answer too
    const after = countOf(plane, "eth_sendRawTransaction");
    const sends = Object.keys(after).map((id) => after[id]! - before[id]!);
    expect(sends.filter((count) => count === 1)).toHaveLength(3);
    expect(sends.every((count) => count <= 1)).toBe(true);
    // A client retry of the same transaction gets the same answer, not "already known".
    const again = await post(plane.rpcUrl, rpc("eth_sendRawTransaction", [raw]));
    expect(again.json.result).toBe(json.result);
    const receipt = await waitFor(async () => {
      const { json: answer } = await post(plane.rpcUrl, rpc("eth_getTransactionReceipt", [json.result]));
      return answer.result;
    });
    expect(receipt.status).toBe("0x1");
  });

  it("splits a large eth_getLogs range into chunks and merges them exactly like a direct query", async () => {
    const head = Number((await post(plane.rpcUrl, rpc("eth_blockNumber"))).json.result);
    const filter = {
      fromBlock: "0x0",
      toBlock: `0x${head.toString(16)}`,
      address: plane.traffic.pingContract,
    };
    const before = total(countOf(plane, "eth_getLogs"));
    const viaGateway = await post(plane.rpcUrl, rpc("eth_getLogs", [filter]));
    const direct = await post(plane.chain.url, rpc("eth_getLogs", [filter]));
    expect(viaGateway.json.result.length).toBeGreaterThan(4);
    expect(viaGateway.json.result).toEqual(direct.json.result);
    expect(total(countOf(plane, "eth_getLogs")) - before).toBe(Math.ceil((head + 1) / 7));
  });

  it("refuses an eth_getLogs range over the total limit with -32005 and a reversed range with -32602", async () => {
    const tooLarge = await post(
      plane.rpcUrl,
      rpc("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0xfffffff" }]),
    );
    expect(tooLarge.json.error.code).toBe(-32005);
    const reversed = await post(plane.rpcUrl, rpc("eth_getLogs", [{ fromBlock: "0x5", toBlock: "0x1" }]));
    expect(reversed.json.error.code).toBe(-32602);
  });

  it("never lets eth_blockNumber go backwards within a session, even when most operators fall behind", async () => {
    const seen: number[] = [];
    const headers = { "din-session-id": "wallet-42" };
    const laggards = ["aws-use1", "aws-euw1", "gcp-usc1", "hetzner-fsn1"];
    for (let round = 0; round < 4; round++) {
      for (const id of laggards)
        await plane.operators.get(id)!.setChaos({ mode: round % 2 ? "ok" : "lag", value: 6 });
      for (let i = 0; i < 15; i++) {
        const { json } = await post(plane.rpcUrl, rpc("eth_blockNumber", [], i), headers);
        seen.push(Number(json.result));
        await sleep(20);
      }
    }
    for (const id of laggards) await plane.operators.get(id)!.setChaos({ mode: "ok" });
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });

  it("answers the pending nonce with the highest value across operators", async () => {
    const { json } = await post(
      plane.rpcUrl,
      rpc("eth_getTransactionCount", [plane.chain.accounts[0], "pending"]),
    );
    const direct = await post(
      plane.chain.url,
      rpc("eth_getTransactionCount", [plane.chain.accounts[0], "pending"]),
    );
    expect(BigInt(json.result)).toBeGreaterThanOrEqual(BigInt(direct.json.result) - 2n);
  });

  it("keeps a filter on the operator that created it", async () => {
    const { json: created } = await post(plane.rpcUrl, rpc("eth_newBlockFilter"));
    expect(created.result).toMatch(/^0x[0-9a-f]{32}$/);
    const before = countOf(plane, "eth_getFilterChanges");
    await sleep(700);
    for (let i = 0; i < 3; i++) {
      const { json } = await post(plane.rpcUrl, rpc("eth_getFilterChanges", [created.result]));
      expect(Array.isArray(json.result)).toBe(true);
    }
    const after = countOf(plane, "eth_getFilterChanges");
    const used = Object.keys(after).filter((id) => after[id]! > before[id]!);
    expect(used).toHaveLength(1);
    expect(after[used[0]!]! - before[used[0]!]!).toBe(3);
    const { json: unknown } = await post(plane.rpcUrl, rpc("eth_getFilterChanges", ["0x1234"]));
    expect(unknown.error.message).toMatch(/filter not found/);
    const { json: removed } = await post(plane.rpcUrl, rpc("eth_uninstallFilter", [created.result]));
    expect(removed.result).toBe(true);
  });

  it("sends heavy methods only to operators that declare them, and refuses those nobody serves", async () => {
    const block = (await post(plane.rpcUrl, rpc("eth_getBlockByNumber", ["latest", false]))).json.result;
    const txHash: Hex = block.transactions[0];
    const before = countOf(plane, "debug_traceTransaction");
    const { json } = await post(plane.rpcUrl, rpc("debug_traceTransaction", [txHash]));
    expect(json.result).toBeDefined();
    const after = countOf(plane, "debug_traceTransaction");
    expect(after["gcp-usc1"]! - before["gcp-usc1"]!).toBe(1);
    expect(total(after) - total(before)).toBe(1);
    const { json: refused } = await post(plane.rpcUrl, rpc("trace_block", ["0x1"]));
    expect(refused.error.code).toBe(-32004);
    expect(refused.error.message).toMatch(/no operator of ethereum serves it/);
  });

  it.each([
    ["debug_setHead", ["0x1"]],
    ["debug_startCPUProfile", ["/tmp/x"]],
    ["debug_writeMemProfile", ["/etc/cron.d/x"]],
    ["debug_setGCPercent", [1]],
    ["debug_chaindbCompact", []],
    ["hardhat_setBalance", ["0x00000000000000000000000000000000000000aa", "0x1"]],
    ["evm_mine", []],
    ["anvil_x", []],
    ["admin_peers", []],
    ["miner_start", []],
    ["personal_unlockAccount", ["0x00000000000000000000000000000000000000aa", "x"]],
  ])("refuses %s whatever an operator declares, and no operator sees it", async (method, params) => {
    const { json } = await post(plane.rpcUrl, rpc(method, params));
    expect(json.error.code).toBe(-32601);
    expect(json.error.message).toMatch(/not allowed/);
    expect(total(countOf(plane, method))).toBe(0);
  });

  it("serves repeated reads of a final block from the cache", async () => {
    const params = [plane.chain.accounts[2], "0x2"];
    const before = total(countOf(plane, "eth_getBalance"));
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => post(plane.rpcUrl, rpc("eth_getBalance", params, i))),
    );
    await post(plane.rpcUrl, rpc("eth_getBalance", params));
    expect(new Set(answers.map((answer) => answer.json.result)).size).toBe(1);
    expect(total(countOf(plane, "eth_getBalance")) - before).toBe(1);
    const metrics = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/din_cache_requests_total\{network="ethereum",result="hit"\} [1-9]/);
  });

  it("pins `latest` to the tracked head so a read and eth_blockNumber agree", async () => {
    const headers = { "din-session-id": "dapp-7" };
    const { json } = await post(
      plane.rpcUrl,
      [rpc("eth_blockNumber", [], 1), rpc("eth_getBlockByNumber", ["latest", false], 2)],
      headers,
    );
    expect(BigInt(json[1].result.number)).toBeGreaterThanOrEqual(BigInt(json[0].result));
  });
});

describe("quorum", () => {
  let plane: DataPlane;

  beforeAll(async () => {
    plane = await startDataPlane({ gateway: { routing: { hedge: false } } });
  });

  afterAll(async () => {
    await plane?.close();
  });

  it("returns the agreed answer when every operator asked agrees", async () => {
    const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [plane.chain.accounts[5], "latest"]), {
      "din-quorum": "3",
    });
    expect(json.result).toMatch(/^0x/);
  });

  it("catches a lying operator and names it", async () => {
    await plane.operators.get("hetzner-fsn1")!.setChaos({ mode: "lie" });
    for (const request of [
      rpc("eth_getBalance", [plane.chain.accounts[5], "latest"]),
      rpc("eth_getBlockByNumber", ["latest", false]),
    ]) {
      const { json } = await post(plane.rpcUrl, request, { "din-quorum": "5" });
      expect(json.error.message).toMatch(
        /Operators disagree: hetzner-fsn1 disagreed with the majority of 4\/5/,
      );
      expect(json.error.data.disagreeing).toEqual(["hetzner-fsn1"]);
    }
    const metrics = await fetch(`${plane.gateway.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/din_quorum_disagreements_total\{network="ethereum"\} 2/);
  });

  it("refuses a quorum larger than the network", async () => {
    const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [plane.chain.accounts[5], "latest"]), {
      "din-quorum": "9",
    });
    expect(json.error.code).toBe(-32600);
  });
});

describe("quorum that answers", () => {
  let plane: DataPlane;
  const liar = "gcp-usc1";
  const others = ["aws-use1", "aws-euw1", "hetzner-fsn1", "bare-ams"];

  beforeAll(async () => {
    // The liar ranks first (lowest priority number), so the first quorum asks it for sure.
    plane = await startDataPlane({
      gateway: { routing: { hedge: false, quarantineMs: 600_000 } },
      upstreams: Object.fromEntries([[liar, { priority: 0 }], ...others.map((id) => [id, { priority: 1 }])]),
    });
    await waitFor(
      async () => Number((await post(plane.rpcUrl, rpc("eth_blockNumber"))).json.result ?? 0) >= 45,
      60_000,
      "45 blocks",
    );
  });

  afterAll(async () => {
    await plane?.close();
  });

  /** A balance at a fixed past block, read straight from the devnet: what every honest operator answers. */
  const truth = (account: string, block: Hex) =>
    requestDevnet(plane.chain.provider, "eth_getBalance", [account, block]) as Promise<Hex>;
  const liarReads = () => plane.operators.get(liar)!.stats().byMethod.eth_getBalance ?? 0;

  it("answers every quorum-3 read correctly with one liar among five, and quarantines the liar at its first contradiction", async () => {
    await plane.operators.get(liar)!.setChaos({ mode: "lie" });
    // Each read is of another account or block, so none is answered from the cache.
    for (let i = 0; i < 20; i++) {
      const account = plane.chain.accounts[i % 10]!;
      const block = `0x${(i + 1).toString(16)}` as Hex;
      const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [account, block], i), {
        "din-quorum": "3",
      });
      expect(json.error).toBeUndefined();
      expect(json.result).toBe(await truth(account, block));
    }
    // Asked once, by the first quorum: it contradicted the three others and was taken out of routing.
    expect(liarReads()).toBe(1);
    const health = await (await fetch(`${plane.gateway.url}/healthz`)).json();
    const entry = health.networks[0].upstreams.find((u: { id: string }) => u.id === liar);
    expect(Date.parse(entry.quarantinedUntil)).toBeGreaterThan(Date.now());
    expect(entry.reasons.join("; ")).toMatch(
      /quarantined until .*contradicted the answer 3 operators agreed on/,
    );
    // din status prints it on the liar's line.
    const status = formatStatus(gatewayOnlyStatus(plane.gateway.url, health));
    expect(status.split("\n").find((line) => line.includes(liar))).toMatch(/quarantined until/);
    const metrics = await (await fetch(`${plane.gateway.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`din_upstream_quarantined\\{network="ethereum",upstream="${liar}"\\} 1`),
    );
    expect(metrics).toMatch(/din_quarantines_total\{network="ethereum"\} 1/);
    expect(metrics).toMatch(/din_quorum_extra_asks_total\{network="ethereum"\} [1-9]/);
  });

  it("routes no ordinary traffic to a quarantined operator, however much it would be preferred", async () => {
    const before = liarReads();
    for (let i = 0; i < 30; i++) {
      const account = plane.chain.accounts[10 + (i % 10)]!;
      const block = `0x${(i + 1).toString(16)}` as Hex;
      const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [account, block], i), {
        "din-session-id": `plain-${i}`,
      });
      expect(json.result).toBe(await truth(account, block));
    }
    expect(liarReads()).toBe(before);
  });

  it("strict mode refuses when any of the N asked disagrees, and quarantines nobody", async () => {
    await plane.operators.get("hetzner-fsn1")!.setChaos({ mode: "lie" });
    try {
      // Four operators are routable (the liar is quarantined): a strict quorum of four asks them all.
      const { json } = await post(plane.rpcUrl, rpc("eth_getBalance", [plane.chain.accounts[3], "0x21"]), {
        "din-quorum": "4",
        "din-quorum-mode": "strict",
      });
      expect(json.error.message).toMatch(/hetzner-fsn1 disagreed with the majority of 3\/4$/);
      const health = await (await fetch(`${plane.gateway.url}/healthz`)).json();
      const hetzner = health.networks[0].upstreams.find((u: { id: string }) => u.id === "hetzner-fsn1");
      expect(hetzner.quarantinedUntil).toBeUndefined();
    } finally {
      await plane.operators.get("hetzner-fsn1")!.setChaos({ mode: "ok" });
    }
  });

  it("refuses an unknown din-quorum-mode", async () => {
    const response = await fetch(plane.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "din-quorum": "3", "din-quorum-mode": "lenient" },
      body: JSON.stringify(rpc("eth_chainId")),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/din-quorum-mode must be one of: answer, strict/);
  });
});
