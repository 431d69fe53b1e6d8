// The RewardsCoordinator exposes EigenLayer's IRewardsCoordinator functions with the exact selectors, so
// a service written against this core (DinRegistry, DinEpochs) deploys unchanged on EigenLayer's.
import { type AbiFunction, toFunctionSelector } from "viem";
import { describe, expect, it } from "vitest";
import { rewardsCoordinatorAbi } from "../../src/ledger/artifacts/index.js";

const CLAIM = "(uint32,uint32,bytes,(address,bytes32),uint32[],bytes[],(address,uint256)[])";
const EIGENLAYER: Record<string, string> = {
  [`createOperatorDirectedOperatorSetRewardsSubmission((address,uint32),((address,uint96)[],address,(address,uint256)[],uint32,uint32,string)[])`]:
    "0x0ca29899",
  "submitRoot(bytes32,uint32)": "0x3efe1db6",
  [`processClaim(${CLAIM},address)`]: "0x3ccc861d",
  [`checkClaim(${CLAIM})`]: "0x5e9d8348",
  "calculateEarnerLeafHash((address,bytes32))": "0x149bc872",
  "calculateTokenLeafHash((address,uint256))": "0xf8cd8448",
  "CALCULATION_INTERVAL_SECONDS()": "0x9d45c281",
  "activationDelay()": "0x3a8c0786",
  "disableRoot(uint32)": "0xf96abf2e",
  "getCurrentClaimableDistributionRoot()": "0x0e9a53cf",
  "setClaimerFor(address)": "0xa0169ddd",
  "cumulativeClaimed(address,address)": "0x865c6953",
  "setOperatorSetSplit(address,(address,uint32),uint16)": "0xf74e8eac",
  "getOperatorSetSplit(address,(address,uint32))": "0x9de4b35f",
};

describe("RewardsCoordinator selectors", () => {
  it("has every EigenLayer signature with its selector, computed from the compiled ABI", () => {
    const functions = (rewardsCoordinatorAbi as readonly { type: string }[]).filter(
      (x) => x.type === "function",
    ) as AbiFunction[];
    const selectors = new Set(functions.map((fn) => toFunctionSelector(fn)));
    for (const [signature, selector] of Object.entries(EIGENLAYER)) {
      expect(toFunctionSelector(`function ${signature}`), signature).toBe(selector);
      expect(selectors.has(selector as `0x${string}`), signature).toBe(true);
    }
  });

  it("no longer has the single-level API", () => {
    const names = rewardsCoordinatorAbi.map((x) => ("name" in x ? x.name : ""));
    for (const old of ["createOperatorDirectedRewardsSubmission", "calculateLeaf", "setOperatorAVSSplit"]) {
      expect(names).not.toContain(old);
    }
  });
});
