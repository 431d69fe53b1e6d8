// The core speaks EigenLayer's interface: every function an AVS, its operators and stakers call on EigenLayer's
// core (Layr-Labs/eigenlayer-contracts, the interfaces of its slashing release) exists in our compiled ABIs
// with the same selector, so the DIN service deploys unchanged on either core. docs/eigenlayer.md lists them
// with what each means.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { type Abi, toFunctionSelector } from "viem";
import { describe, expect, it } from "vitest";
import * as artifacts from "../../src/ledger/artifacts/index.js";

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, "..", "..");

/** Per artifact: EigenLayer's selector and signature of each function. */
const EIGENLAYER_INTERFACE = {
  allocationManagerAbi: [
    ["a9821821", "updateAVSMetadataURI(address,string)"],
    ["d3d96ff4", "setAVSRegistrar(address,address)"],
    ["3dff8e7d", "createOperatorSets(address,(uint32,address[],address)[])"],
    ["50feea20", "addStrategiesToOperatorSet(address,uint32,address[])"],
    ["b66bd989", "removeStrategiesFromOperatorSet(address,uint32,address[])"],
    ["adc2e3d9", "registerForOperatorSets(address,(address,uint32[],bytes))"],
    ["6e3492b5", "deregisterFromOperatorSets((address,address,uint32[]))"],
    ["952899ee", "modifyAllocations(address,((address,uint32),address[],uint64[])[])"],
    ["56c483e6", "setAllocationDelay(address,uint32)"],
    ["4b5046ef", "clearDeallocationQueue(address,address[],uint16[])"],
    ["36352057", "slashOperator(address,(address,uint32,address[],uint256[],string))"],
    ["2bab2c4a", "getMinimumSlashableStake((address,uint32),address[],address[],uint32)"],
    ["2b453a9a", "getAllocatedStake((address,uint32),address[],address[])"],
    ["6e875dba", "getMembers((address,uint32))"],
    ["b2447af7", "getMemberCount((address,uint32))"],
    ["670d3ba2", "isMemberOfOperatorSet(address,(address,uint32))"],
    ["1352c3e6", "isOperatorSlashable(address,(address,uint32))"],
    ["10e1b9b8", "getAllocation(address,(address,uint32),address)"],
    ["547afb87", "getMaxMagnitudes(address,address[])"],
    ["4177a87c", "getStrategiesInOperatorSet((address,uint32))"],
    ["79ae50cd", "getRegisteredSets(address)"],
    ["d4a3fcce", "getSlasher((address,uint32))"],
    ["2981eb77", "DEALLOCATION_DELAY()"],
    ["7bc1ef61", "ALLOCATION_CONFIGURATION_DELAY()"],
  ],
  delegationManagerAbi: [
    ["2aa6d888", "registerAsOperator(address,uint32,string)"],
    ["78296ec5", "updateOperatorMetadataURI(address,string)"],
    ["eea9064b", "delegateTo(address,(bytes,uint256),bytes32)"],
    ["da8be864", "undelegate(address)"],
    ["0dd8dd02", "queueWithdrawals((address[],uint256[],address)[])"],
    [
      "e4cc3f90",
      "completeQueuedWithdrawal((address,address,address,uint256,uint32,address[],uint256[]),address[],bool)",
    ],
    ["90041347", "getOperatorShares(address,address[])"],
    ["65da1264", "delegatedTo(address)"],
    ["6d70f7ae", "isOperator(address)"],
    ["3e28391d", "isDelegated(address)"],
    ["c978f7ac", "getWithdrawableShares(address,address[])"],
    ["c448feb8", "minWithdrawalDelayBlocks()"],
  ],
  strategyManagerAbi: [
    ["e7a050aa", "depositIntoStrategy(address,address,uint256)"],
    ["5de08ff2", "addStrategiesToDepositWhitelist(address[])"],
    ["fe243a17", "stakerDepositShares(address,address)"],
    ["94f649dd", "getDeposits(address)"],
  ],
  rewardsCoordinatorAbi: [
    [
      "0ca29899",
      "createOperatorDirectedOperatorSetRewardsSubmission((address,uint32),((address,uint96)[],address,(address,uint256)[],uint32,uint32,string)[])",
    ],
    ["3efe1db6", "submitRoot(bytes32,uint32)"],
    [
      "3ccc861d",
      "processClaim((uint32,uint32,bytes,(address,bytes32),uint32[],bytes[],(address,uint256)[]),address)",
    ],
    ["5e9d8348", "checkClaim((uint32,uint32,bytes,(address,bytes32),uint32[],bytes[],(address,uint256)[]))"],
    ["149bc872", "calculateEarnerLeafHash((address,bytes32))"],
    ["f8cd8448", "calculateTokenLeafHash((address,uint256))"],
    ["9d45c281", "CALCULATION_INTERVAL_SECONDS()"],
    ["3a8c0786", "activationDelay()"],
    ["f96abf2e", "disableRoot(uint32)"],
    ["0e9a53cf", "getCurrentClaimableDistributionRoot()"],
    ["a0169ddd", "setClaimerFor(address)"],
    ["865c6953", "cumulativeClaimed(address,address)"],
    ["f74e8eac", "setOperatorSetSplit(address,(address,uint32),uint16)"],
    ["9de4b35f", "getOperatorSetSplit(address,(address,uint32))"],
  ],
  strategyBaseAbi: [
    ["47e7ef24", "deposit(address,uint256)"],
    ["d9caed12", "withdraw(address,address,uint256)"],
    ["ce7c2ac2", "shares(address)"],
    ["7a8b2637", "sharesToUnderlyingView(uint256)"],
    ["e3dae51c", "underlyingToSharesView(uint256)"],
    ["3a98ef39", "totalShares()"],
    ["2495a599", "underlyingToken()"],
    ["553ca5f8", "userUnderlyingView(address)"],
  ],
} as const;

describe("EigenLayer's interface", () => {
  for (const [artifact, functions] of Object.entries(EIGENLAYER_INTERFACE)) {
    it(`${artifact} has each function with EigenLayer's selector`, () => {
      const abi = (artifacts as unknown as Record<string, Abi>)[artifact];
      expect(abi, artifact).toBeDefined();
      const selectors = new Set(
        (abi ?? [])
          .filter((item) => item.type === "function")
          .map((item) => toFunctionSelector(item).slice(2)),
      );
      const missing = functions.filter(([selector, signature]) => {
        // The table itself is right: the selector is the signature's.
        expect(toFunctionSelector(signature).slice(2), signature).toBe(selector);
        return !selectors.has(selector);
      });
      expect(missing.map(([, signature]) => signature)).toEqual([]);
    });
  }
});

/**
 * Public getters of EigenLayer's RewardsCoordinator the service reads beyond the functions above (its
 * submission limits: immutables of EigenLayer's RewardsCoordinatorStorage).
 */
const EIGENLAYER_GETTERS = ["MAX_REWARDS_DURATION()", "MAX_RETROACTIVE_LENGTH()"];
/** The AVS registrar callbacks EigenLayer's AllocationManager makes (IAVSRegistrar). */
const AVS_REGISTRAR = [
  "registerOperator(address,address,uint32[],bytes)",
  "deregisterOperator(address,address,uint32[])",
  "supportsAVS(address)",
];

describe("the DIN service's view of the core", () => {
  const file = "contracts/din/interfaces/IEigenLayer.sol";

  it("imports the core only through contracts/din/interfaces/IEigenLayer.sol", () => {
    const dinFiles = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? dinFiles(join(dir, entry.name))
          : entry.name.endsWith(".sol")
            ? [join(dir, entry.name)]
            : [],
      );
    for (const path of dinFiles("contracts/din")) {
      const source = readFileSync(join(root, path), "utf8");
      for (const [, target] of source.matchAll(/^import .* from "([^"]+)";/gm)) {
        if (!target!.startsWith(".")) continue; // a package (OpenZeppelin, the Optimism trie libraries)
        // Resolved, a relative import stays inside contracts/din: never the core's own folders.
        const resolved = relative(root, resolve(root, dirname(path), target!));
        expect(resolved, path).toMatch(/^contracts\/din\//);
      }
    }
  });

  it("declares only functions EigenLayer's core has, with EigenLayer's selectors", () => {
    const solc = require("solc") as { compile(input: string, callbacks: object): string };
    const input = {
      language: "Solidity",
      sources: { [file]: { content: readFileSync(join(root, file), "utf8") } },
      settings: { outputSelection: { "*": { "*": ["abi"] } } },
    };
    const output = JSON.parse(
      solc.compile(JSON.stringify(input), {
        import: (path: string) => ({ contents: readFileSync(require.resolve(path), "utf8") }),
      }),
    ) as {
      contracts: Record<string, Record<string, { abi: Abi }>>;
      errors?: { severity: string; message: string }[];
    };
    expect((output.errors ?? []).filter((e) => e.severity === "error")).toEqual([]);
    const known = new Set<string>([
      ...Object.values(EIGENLAYER_INTERFACE).flatMap((functions) => functions.map(([selector]) => selector)),
      ...[...EIGENLAYER_GETTERS, ...AVS_REGISTRAR].map((signature) => toFunctionSelector(signature).slice(2)),
    ]);
    const declared = Object.values(output.contracts[file] ?? {}).flatMap(({ abi }) =>
      abi.filter((item) => item.type === "function"),
    );
    expect(declared.length).toBeGreaterThan(10);
    const foreign = declared
      .filter((item) => !known.has(toFunctionSelector(item).slice(2)))
      .map((item) => (item.type === "function" ? item.name : ""));
    expect(foreign).toEqual([]);
  });
});
