import { describe, expect, it } from "vitest";
import type { OperatorStatus, StatusReport } from "./status.js";
import { alignColumns, formatStatus } from "./statusText.js";

const A = "0x00000000000000000000000000000000000000aA";
const B = "0x00000000000000000000000000000000000000bB";
const STRANGER = "0x00000000000000000000000000000000000000cC";

function operator(id: string, address: string): OperatorStatus {
  return {
    id,
    address,
    cloud: "aws",
    region: "us-east-1",
    health: "healthy",
    lagBlocks: 0,
    reasons: [],
    stake: "10",
    allocated: "5",
    jailed: false,
    jailedUntil: "0",
    lastEpoch: { epoch: "3", availabilityBps: 10_000, p50LatencyMs: 12, lagBlocks: 0, multiplierBps: 10_000 },
    rewards: "0.5",
    slashes: { queued: 0, vetoed: 0, executed: 1 },
  };
}

const report: StatusReport = {
  status: "ok",
  gateway: "http://127.0.0.1:1",
  ledger: { rpc: "http://127.0.0.1:2", chainId: 31337, block: "100", epoch: "5", epochEndsAt: "119" },
  units: { stake: "stETH+rETH", fee: "USDC" },
  networks: [
    {
      name: "ethereum",
      chainId: 31337,
      head: { latest: "99", safe: "99", finalized: "99" },
      upstreams: [],
      clouds: { cap: 1 / 3, measured: 0, shares: [] },
      operators: [
        operator("ethereum-aws-us-east-1", A),
        operator("ethereum-gcp", B),
        operator(STRANGER, STRANGER),
      ],
    },
  ],
  slashes: [
    {
      id: "1",
      operator: A,
      networkId: 1,
      queuedAt: 40,
      status: "executed",
      reason: "availability",
      vetoWindow: 60,
      percent: "0.1%",
      network: "ethereum",
    },
    {
      id: "2",
      operator: B,
      networkId: 1,
      queuedAt: 60,
      status: "queued",
      reason: "latency",
      vetoWindow: 60,
      percent: "0.05%",
      network: "ethereum",
    },
  ],
  fraudProofs: [],
  epochs: [
    {
      network: "ethereum",
      epoch: "4",
      reports: 3,
      paid: "1.5",
      carried: "0",
      judged: [
        { operator: A, epoch: "4", availabilityBps: 9_000, p50LatencyMs: 20, lagBlocks: 0, multiplierBps: 0 },
      ],
      heldForGovernance: [],
    },
  ],
} as StatusReport;

describe("din status as text", () => {
  it("names operators by their id, lists slashes newest first and prints amounts with their tokens", () => {
    const text = formatStatus(report);
    expect(text).toContain("stake in stETH+rETH, rewards in USDC");
    expect(text).toMatch(/ethereum-aws-us-east-1 +aws +us-east-1 +healthy .* 0\.5000 USDC /);
    expect(text).not.toContain(A);
    expect(text).not.toContain(B);
    // An operator the devnet did not start is its address, shortened in the table.
    expect(text).toContain("0x00000000…000000cC");
    const slashes = text.split("\n").filter((line) => /^ {2}#\d/.test(line));
    expect(slashes[0]).toMatch(/^ {2}#2 +ethereum +ethereum-gcp +latency/);
    expect(slashes[1]).toMatch(/^ {2}#1 +ethereum +ethereum-aws-us-east-1 +availability/);
    expect(text).toMatch(/paid 1\.5 USDC {2}carried 0 USDC/);
    expect(text).toMatch(/ {6}ethereum-aws-us-east-1 +availability 90\.00%/);
  });

  it("prints each operator's address beside its name with --addresses", () => {
    const text = formatStatus(report, { addresses: true });
    expect(text).toMatch(new RegExp(`ethereum-aws-us-east-1 +${A} +aws`));
    expect(text).toContain(`ethereum-gcp (${B})`);
  });

  it("aligns columns to the widest cell", () => {
    expect(
      alignColumns([
        ["a", "bb", "c"],
        ["ccc", "d", "e"],
      ]),
    ).toEqual(["a    bb  c", "ccc  d   e"]);
  });
});
