import { describe, expect, it, vi } from "vitest";
import {
  chain,
  connectOutcome,
  fakeTimers,
  head,
  post,
  type RpcResponse,
  result,
  setChaosOverHttp,
  startNode,
  until,
  useOperatorHarness,
} from "./fixtures/operatorNodes.js";

useOperatorHarness();

describe("chaos modes", () => {
  it("down refuses connections, then comes back on the same port with ok", async () => {
    const node = await startNode();
    const { url, port } = node;
    expect(await connectOutcome(url)).toBe("answered");

    await setChaosOverHttp(node, { mode: "down" });
    expect(await connectOutcome(url)).toBe("ECONNREFUSED");
    expect(await (await fetch(`${node.controlUrl}/chaos`)).json()).toEqual({ mode: "down" });

    await setChaosOverHttp(node, { mode: "ok" });
    expect(node.port).toBe(port);
    expect(await connectOutcome(url)).toBe("answered");
  });

  it("down also cuts keep-alive connections that are already open", async () => {
    const node = await startNode();
    // Warm a keep-alive connection, then hold a request open with slow so it is in flight at down.
    expect(await connectOutcome(node.url)).toBe("answered");
    await node.setChaos({ mode: "slow", value: 400 });
    const inFlight = connectOutcome(node.url);
    // In flight once the node has counted it: the slow fault holds it from there.
    await until(
      () => node.stats().requests,
      (requests) => requests === 2,
    );
    await node.setChaos({ mode: "down" });
    expect(await inFlight).not.toBe("answered");
    await node.setChaos({ mode: "ok" });
    expect(await connectOutcome(node.url)).toBe("answered");
  });

  it("ends a fault given forMs by itself, unless another state replaced it first", async () => {
    const node = await startNode();
    fakeTimers();
    await setChaosOverHttp(node, { mode: "down", forMs: 300 });
    expect(await connectOutcome(node.url)).not.toBe("answered");
    await vi.advanceTimersByTimeAsync(299);
    expect(await connectOutcome(node.url)).not.toBe("answered");
    await vi.advanceTimersByTimeAsync(1);
    // Back by itself: wait for the listener, not for the time.
    await until(
      () => connectOutcome(node.url),
      (outcome) => outcome === "answered",
    );
    expect(await connectOutcome(node.url)).toBe("answered");

    // A later state wins over the first one's end: lag stays after the down's 200 ms are over.
    await node.setChaos({ mode: "down", forMs: 200 });
    await node.setChaos({ mode: "lag", value: 5 });
    await vi.advanceTimersByTimeAsync(400);
    expect(node.state()).toEqual({ mode: "lag", value: 5 });
  });

  it("slow adds the configured delay before answering", async () => {
    const slow = await startNode();
    const fast = await startNode();
    await setChaosOverHttp(slow, { mode: "slow", value: 300 });
    const finished: string[] = [];
    const started = performance.now();
    const slowAnswer = result(slow.url, "eth_chainId").then(() => {
      finished.push("slow");
      return performance.now() - started;
    });
    await result(fast.url, "eth_chainId").then(() => finished.push("fast"));
    const elapsed = await slowAnswer;
    expect(finished).toEqual(["fast", "slow"]);
    // Timers may round down by a millisecond; the delay is still the configured one.
    expect(elapsed).toBeGreaterThanOrEqual(299);

    await setChaosOverHttp(slow, { mode: "ok" });
    expect(await result(slow.url, "eth_chainId")).toBe("0x7a69");
  });

  it("lag 20 serves the chain as if the head were 20 blocks behind", async () => {
    const node = await startNode();
    const [sender] = (await chain.provider.request({ method: "eth_accounts" })) as string[];
    const recipient = `0x${"42".repeat(20)}`;
    // A balance that changes after head-20, so a lagging answer is distinguishable from a real one.
    const before = await head();
    const txHash = (await chain.provider.request({
      method: "eth_sendTransaction",
      params: [{ from: sender, to: recipient, value: "0xde0b6b3a7640000" }],
    })) as string;
    await chain.provider.request({ method: "hardhat_mine", params: ["0x5"] });
    const realHead = await head();
    const laggedHead = realHead - 20n;
    expect(laggedHead).toBeLessThan(before);

    await setChaosOverHttp(node, { mode: "lag", value: 20 });
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(laggedHead);

    const latest = (await result(node.url, "eth_getBlockByNumber", ["latest", false])) as { number: string };
    expect(BigInt(latest.number)).toBe(laggedHead);
    const finalized = (await result(node.url, "eth_getBlockByNumber", ["finalized", false])) as {
      number: string;
    };
    expect(BigInt(finalized.number)).toBe(laggedHead);
    expect(await result(node.url, "eth_getBlockByNumber", [`0x${realHead.toString(16)}`, false])).toBeNull();

    const laggedBalance = await result(node.url, "eth_getBalance", [recipient, "latest"]);
    const balanceAtLaggedHead = await chain.provider.request({
      method: "eth_getBalance",
      params: [recipient, `0x${laggedHead.toString(16)}`],
    });
    const realBalance = await chain.provider.request({
      method: "eth_getBalance",
      params: [recipient, "latest"],
    });
    expect(laggedBalance).toBe(balanceAtLaggedHead);
    expect(laggedBalance).not.toBe(realBalance);

    expect(await result(node.url, "eth_getTransactionReceipt", [txHash])).toBeNull();
    expect(await result(node.url, "eth_getTransactionByHash", [txHash])).toBeNull();

    // A batch is lagged item by item, ids kept.
    const { body } = await post(node.url, [
      { jsonrpc: "2.0", id: 1, method: "eth_blockNumber" },
      { jsonrpc: "2.0", id: 2, method: "eth_chainId" },
    ]);
    expect(body).toEqual([
      { jsonrpc: "2.0", id: 1, result: `0x${laggedHead.toString(16)}` },
      { jsonrpc: "2.0", id: 2, result: "0x7a69" },
    ]);

    await setChaosOverHttp(node, { mode: "ok" });
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(realHead);
    expect(await result(node.url, "eth_getTransactionReceipt", [txHash])).not.toBeNull();
  });

  it("lie serves wrong block hashes and balances while its head looks healthy", async () => {
    const node = await startNode();
    const [account] = (await chain.provider.request({ method: "eth_accounts" })) as string[];
    await setChaosOverHttp(node, { mode: "lie" });

    const realHead = await head();
    expect(BigInt((await result(node.url, "eth_blockNumber")) as string)).toBe(realHead);

    const tag = `0x${realHead.toString(16)}`;
    const real = (await chain.provider.request({ method: "eth_getBlockByNumber", params: [tag, false] })) as {
      hash: string;
      parentHash: string;
    };
    const lie = (await result(node.url, "eth_getBlockByNumber", [tag, false])) as {
      hash: string;
      parentHash: string;
    };
    expect(lie.hash).not.toBe(real.hash);
    expect(lie.parentHash).not.toBe(real.parentHash);
    const byHash = (await result(node.url, "eth_getBlockByHash", [real.hash, false])) as { hash: string };
    expect(byHash.hash).not.toBe(real.hash);

    const realBalance = BigInt(
      (await chain.provider.request({ method: "eth_getBalance", params: [account, tag] })) as string,
    );
    const lieBalance = BigInt((await result(node.url, "eth_getBalance", [account, tag])) as string);
    expect(lieBalance).toBe(realBalance + 10n ** 18n);

    await setChaosOverHttp(node, { mode: "ok" });
    const honest = (await result(node.url, "eth_getBlockByNumber", [tag, false])) as { hash: string };
    expect(honest.hash).toBe(real.hash);
  });

  it("errors 100 answers every request with HTTP 503 and a JSON-RPC error", async () => {
    const node = await startNode();
    await setChaosOverHttp(node, { mode: "errors", value: 100 });
    for (let i = 0; i < 5; i++) {
      const { status, body } = await post(node.url, { jsonrpc: "2.0", id: i, method: "eth_chainId" });
      expect(status).toBe(503);
      expect(body).toMatchObject({ jsonrpc: "2.0", id: i, error: { code: -32002 } });
    }
    const batch = await post(node.url, [
      { jsonrpc: "2.0", id: "x", method: "eth_chainId" },
      { jsonrpc: "2.0", id: "y", method: "eth_chainId" },
    ]);
    expect(batch.status).toBe(503);
    expect((batch.body as RpcResponse[]).map((response) => response.id)).toEqual(["x", "y"]);

    await setChaosOverHttp(node, { mode: "errors", value: 0 });
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
    await setChaosOverHttp(node, { mode: "ok" });
    expect(await result(node.url, "eth_chainId")).toBe("0x7a69");
  });

  it("flap alternates between refusing and answering, and ok ends it on the same port", async () => {
    const node = await startNode();
    fakeTimers();
    await setChaosOverHttp(node, { mode: "flap", value: 150 });
    const outcomes = new Set<string>();
    const transitions: string[] = [];
    const seen = (outcome: string) => {
      outcomes.add(outcome);
      if (outcome !== "ECONNRESET" && transitions.at(-1) !== outcome) transitions.push(outcome);
    };
    // Down at once, then up and down again on each interval: each phase waited for at its listener.
    for (const [i, phase] of ["ECONNREFUSED", "answered", "ECONNREFUSED", "answered"].entries()) {
      if (i > 0) await vi.advanceTimersByTimeAsync(150);
      await until(
        () => connectOutcome(node.url),
        (outcome) => outcome === phase,
        seen,
      );
    }
    expect(outcomes).toContain("ECONNREFUSED");
    expect(outcomes).toContain("answered");
    // A probe in flight when a down phase starts has its connection cut instead of refused.
    for (const outcome of outcomes) expect(["ECONNREFUSED", "answered", "ECONNRESET"]).toContain(outcome);
    expect(transitions.length).toBeGreaterThanOrEqual(3);

    await setChaosOverHttp(node, { mode: "ok" });
    for (let i = 0; i < 5; i++) {
      expect(await connectOutcome(node.url)).toBe("answered");
      await vi.advanceTimersByTimeAsync(50);
    }
  });

  it("close stops both listeners", async () => {
    const node = await startNode();
    await node.setChaos({ mode: "flap", value: 50 });
    await node.close();
    expect(await connectOutcome(node.url)).toBe("ECONNREFUSED");
    await expect(fetch(`${node.controlUrl}/chaos`)).rejects.toThrow();
  });
});
