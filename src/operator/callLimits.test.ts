// The operator node's own cost caps, whatever the gateway in front of it allows: gas clamped on calls the
// EVM executes, long log ranges refused. The cap in these tests is low so the chain stays small.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HardhatServer, startHardhatServer } from "../../test/support/hardhatServer.js";
import { type RecordingProxy, startRecordingProxy } from "../../test/support/recordingProxy.js";
import { type CallLimits, limitCall } from "./callLimits.js";
import { type OperatorNode, startOperatorNode } from "./proxy.js";
import type { UpstreamHeadInfo } from "./upstreamHead.js";

// JUMPDEST PUSH1 0 JUMP: loops until it runs out of gas.
const infiniteLoop = "0x5b600056";
const gasCap = 1_000_000;

let chain: HardhatServer;
let recorder: RecordingProxy;
let node: OperatorNode;

async function rpc(method: string, params: unknown[]) {
  const response = await fetch(node.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await response.json()) as { result?: unknown; error?: { code: number; message: string } };
}

beforeAll(async () => {
  chain = await startHardhatServer();
  await chain.provider.request({ method: "hardhat_mine", params: ["0x40"] });
  recorder = await startRecordingProxy(chain.url);
  node = await startOperatorNode({ id: "limits", upstream: recorder.url, gasCap, maxLogRange: 10 });
});

afterAll(async () => {
  await node?.close();
  await recorder?.close();
  await chain?.close();
});

describe("operator node cost caps", () => {
  it("clamps an infinite loop's eth_call to the gas cap: it runs out of gas and the chain keeps serving", async () => {
    const answer = await rpc("eth_call", [{ data: infiniteLoop, gas: "0x1c9c380" }, "latest"]);
    expect(answer.error?.message).toMatch(/gas/i);
    const forwarded = recorder.calls.filter((call) => call.method === "eth_call");
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.params).toMatchObject([{ gas: `0x${gasCap.toString(16)}` }, "latest"]);
    expect(await rpc("eth_chainId", [])).toMatchObject({ result: "0x7a69" });
  });

  it("gives a call without gas the cap, not the execution client's default", async () => {
    await rpc("eth_estimateGas", [{ data: infiniteLoop }]);
    const forwarded = recorder.calls.filter((call) => call.method === "eth_estimateGas").at(-1);
    expect(forwarded?.params).toMatchObject([{ gas: `0x${gasCap.toString(16)}` }]);
  });

  it("refuses log ranges over the limit with -32005, whatever tags they use", async () => {
    for (const filter of [
      { fromBlock: "pending", toBlock: "0xffffffff" },
      { fromBlock: "earliest", toBlock: "latest" },
      { fromBlock: "0x0" },
    ]) {
      const answer = await rpc("eth_getLogs", [filter]);
      expect(answer.error?.code, JSON.stringify(filter)).toBe(-32005);
      expect(answer.error?.message).toMatch(/limit exceeded.*10 blocks/i);
    }
    expect(recorder.calls.filter((call) => call.method === "eth_getLogs")).toHaveLength(0);
  });

  it("serves log ranges within the limit and single-block filters", async () => {
    const block = (await chain.provider.request({
      method: "eth_getBlockByNumber",
      params: ["latest", false],
    })) as {
      hash: string;
    };
    expect(await rpc("eth_getLogs", [{ fromBlock: "latest" }])).toMatchObject({ result: [] });
    expect(await rpc("eth_getLogs", [{ blockHash: block.hash }])).toMatchObject({ result: [] });
  });
});

describe("limitCall", () => {
  const limits: CallLimits = { gasCap: 1_000_000n, maxLogRange: 100 };
  let headReads = 0;
  const head = async (): Promise<UpstreamHeadInfo> => {
    headReads++;
    return { number: 1_000n, gasLimit: 500_000n };
  };
  const call = (method: string, params: unknown[]) => ({ jsonrpc: "2.0", id: 1, method, params });

  it("caps gas at the block gas limit when it is lower than the configured cap", async () => {
    const limited = await limitCall(call("eth_call", [{ gas: "0xffffff" }]), limits, head);
    expect(limited).toMatchObject({ call: { params: [{ gas: "0x7a120" }] } });
  });

  it("leaves a call within the cap untouched", async () => {
    const original = call("debug_traceCall", [{ gas: "0x10" }, "latest", {}]);
    expect(await limitCall(original, limits, head)).toEqual({ call: original });
  });

  it("caps every call of a trace_callMany", async () => {
    const limited = await limitCall(
      call("trace_callMany", [
        [
          [{ gas: "0xffffffff" }, ["trace"]],
          [{}, ["trace"]],
          [{ gas: "0x1" }, ["trace"]],
        ],
        "latest",
      ]),
      limits,
      head,
    );
    expect(limited).toEqual({
      call: call("trace_callMany", [
        [
          [{ gas: "0x7a120" }, ["trace"]],
          [{ gas: "0x7a120" }, ["trace"]],
          [{ gas: "0x1" }, ["trace"]],
        ],
        "latest",
      ]),
    });
  });

  it("refuses a gas that is not a hex quantity", async () => {
    const limited = await limitCall(call("trace_call", [{ gas: 5 }, ["trace"]]), limits, head);
    expect("refusal" in limited && limited.refusal.code).toBe(-32602);
  });

  it("measures ranges from the head and does not read it for numbered ranges", async () => {
    headReads = 0;
    const inRange = await limitCall(
      call("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x63" }]),
      limits,
      head,
    );
    expect("call" in inRange).toBe(true);
    const over = await limitCall(
      call("eth_newFilter", [{ fromBlock: "0x0", toBlock: "0x64" }]),
      limits,
      head,
    );
    expect("refusal" in over && over.refusal.code).toBe(-32005);
    expect(headReads).toBe(0);
    const fromHead = await limitCall(
      call("eth_getLogs", [{ fromBlock: "0x384", toBlock: "safe" }]),
      limits,
      head,
    );
    expect("refusal" in fromHead && fromHead.refusal.message).toMatch(/101 blocks/);
    expect(headReads).toBe(1);
  });
});
