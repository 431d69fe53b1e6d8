// npm run bench:gas [-- --stakers 500] [-- --update-docs]
// Gas of the restaking core's main operations, and slash/claim gas with 1 staker vs N stakers delegated to
// the operator: slashing is O(1) in the number of stakers, so the ratio must stay within 1.05.
import { readFileSync, writeFileSync } from "node:fs";
import { type Address, getAddress, numberToHex } from "viem";
import { mockERC20Abi } from "../src/ledger/artifacts/index.js";
import {
  accumulate,
  buildRewardsTree,
  readStakeSnapshot,
  splitOperatorReward,
} from "../src/ledger/rewards.js";
import { deployFixture, e18, type Fixture, SET_A, SET_B } from "../test/ledger/fixture.js";
import { runDinGasBench } from "./din-gas.js";

const argv = process.argv.slice(2);
const STAKERS = Number(argv[argv.indexOf("--stakers") + 1] ?? 500) || 500;
const UPDATE_DOCS = argv.includes("--update-docs");
const MAX_RATIO = 1.05;

const rows: { operation: string; gas: bigint; note: string }[] = [];
const record = (operation: string, gas: bigint, note = "") => rows.push({ operation, gas, note });

async function operatorWithStakers(f: Fixture, operator: Address, count: number, firstIndex: number) {
  await f.registerOperator(operator);
  await f.registerForSets(operator, [SET_A, SET_B]);
  for (let i = 0; i < count; i++) {
    const staker = getAddress(numberToHex(0xd1_0000_0000n + BigInt(firstIndex + i), { size: 20 }));
    await f.ledger.fund(staker);
    await f.deposit(staker, e18(10));
    await f.delegate(staker, operator);
  }
  await f.allocate(operator, SET_A, [f.strategy], [e18("0.5")]);
  await f.allocate(operator, SET_B, [f.strategy], [e18("0.3")]);
}

async function main() {
  const started = performance.now();
  const f = await deployFixture();

  // Single operations, each measured on a warm, realistic state.
  await f.registerOperator(f.operator);
  const depositNew = await f.deposit(f.alice, e18(100));
  record("deposit (new staker, not delegated)", depositNew.gasUsed);
  const delegate = await f.delegate(f.alice, f.operator);
  record("delegateTo (1 strategy)", delegate.gasUsed);
  const depositDelegated = await f.deposit(f.alice, e18(50));
  record("deposit (delegated staker)", depositDelegated.gasUsed);
  const allocate = await f.allocate(f.operator, SET_A, [f.strategy], [e18("0.5")]);
  record("modifyAllocations (1 set, 1 strategy)", allocate.gasUsed);
  const register = await f.registerForSets(f.operator, [SET_A]);
  record("registerForOperatorSets (1 set, registrar callback)", register.gasUsed);
  const { receipt: queue, withdrawal } = await f.queue(f.alice, f.strategy, e18(20));
  record("queueWithdrawals (1 strategy)", queue.gasUsed, "first withdrawal of the staker");
  const { receipt: queueAgain } = await f.queue(f.alice, f.strategy, e18(10));
  record("queueWithdrawals (1 strategy)", queueAgain.gasUsed, "a later withdrawal");
  await f.ledger.mine(f.params.minWithdrawalDelayBlocks);
  const complete = await f.complete(f.alice, withdrawal.withdrawal, true);
  record("completeQueuedWithdrawal (as tokens)", complete.gasUsed);
  const slashSingle = await f.slash(f.operator, SET_A, [f.strategy], [e18("0.1")]);
  record("slashOperator (1 strategy)", slashSingle.gasUsed);
  const burn = await f.ledger.write(f.bob, {
    ...f.smc,
    functionName: "burnOrRedistributeShares",
    args: [await f.sm.read.DEFAULT_BURN_ADDRESS(), f.strategy],
  });
  record("burnOrRedistributeShares", burn.gasUsed);

  // Slash and claim: the same operation on an operator with 1 staker and one with N stakers.
  const small = f.operator2;
  const large = f.dave;
  await operatorWithStakers(f, small, 1, 0);
  const t0 = performance.now();
  await operatorWithStakers(f, large, STAKERS, 1);
  const setupSeconds = (performance.now() - t0) / 1000;
  // Measure both slashes from the same state, so that neither pays for the other's first storage writes.
  const beforeSlashes = await f.ledger.snapshot();
  const slashSmall = await f.slash(small, SET_A, [f.strategy], [e18("0.2")]);
  await f.ledger.revert(beforeSlashes);
  const slashLarge = await f.slash(large, SET_A, [f.strategy], [e18("0.2")]);
  await f.slash(small, SET_A, [f.strategy], [e18("0.2")]);
  const slashRatio = Number(slashLarge.gasUsed) / Number(slashSmall.gasUsed);
  record("slashOperator, 1 staker", slashSmall.gasUsed);
  record(`slashOperator, ${STAKERS} stakers`, slashLarge.gasUsed, `ratio ${slashRatio.toFixed(4)}`);

  // Rewards for both operators in one root; each staker claims with a proof of O(log n) hashes.
  const usdc = f.token2;
  const now = (await f.ledger.public.getBlock()).timestamp;
  // Periods align to the coordinator's calculation interval and end before this block.
  const interval = BigInt(await f.rc.read.CALCULATION_INTERVAL_SECONDS());
  const end = ((now - 1n) / interval) * interval;
  const rewards = [small, large].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await f.ledger.write(f.avs, {
    address: usdc,
    abi: mockERC20Abi,
    functionName: "mint",
    args: [f.avs, e18(2000)],
  });
  await f.ledger.write(f.avs, {
    address: usdc,
    abi: mockERC20Abi,
    functionName: "approve",
    args: [f.addresses.rewardsCoordinator, e18(2000)],
  });
  const sm = [{ strategy: f.strategy, multiplier: e18(1) }];
  await f.ledger.write(f.avs, {
    ...f.rcc,
    functionName: "createOperatorDirectedOperatorSetRewardsSubmission",
    args: [
      { avs: f.avs, id: SET_A },
      [
        {
          strategiesAndMultipliers: sm,
          token: usdc,
          operatorRewards: rewards.map((operator) => ({ operator, amount: e18(1000) })),
          startTimestamp: Number(end - 3600n),
          duration: 3600,
          description: "bench",
        },
      ],
    ],
  });
  const block = await f.ledger.blockNumber();
  const earnings = new Map<string, bigint>();
  for (const operator of rewards) {
    const stake = await readStakeSnapshot(
      f.ledger.public,
      f.addresses.delegationManager,
      operator,
      [f.strategy],
      block,
    );
    accumulate(
      earnings,
      splitOperatorReward({ operator, token: usdc, amount: e18(1000), strategiesAndMultipliers: sm }, stake),
    );
  }
  const tree = buildRewardsTree(earnings);
  await f.ledger.test.increaseTime({ seconds: 10 });
  await f.ledger.mine(1);
  const calculatedTo = (await f.ledger.public.getBlock()).timestamp - 1n;
  await f.ledger.write(f.deployer, {
    ...f.rcc,
    functionName: "submitRoot",
    args: [tree.root, Number(calculatedTo)],
  });
  const claimFor = async (earner: Address) => {
    const c = tree.claim(earner, [usdc]);
    if (!c) throw new Error("no earnings");
    await f.ledger.fund(earner);
    return f.ledger.write(earner, {
      ...f.rcc,
      functionName: "processClaim",
      args: [{ rootIndex: 0, ...c }, earner],
    });
  };
  const smallStaker = getAddress(numberToHex(0xd1_0000_0000n, { size: 20 }));
  const largeStaker = getAddress(numberToHex(0xd1_0000_0000n + BigInt(STAKERS), { size: 20 }));
  const claimSmall = await claimFor(smallStaker);
  const claimLarge = await claimFor(largeStaker);
  const claimRatio = Number(claimLarge.gasUsed) / Number(claimSmall.gasUsed);
  record(
    `processClaim (root of ${earnings.size} earners)`,
    claimSmall.gasUsed,
    "staker of the 1-staker operator",
  );
  record(
    `processClaim (root of ${earnings.size} earners)`,
    claimLarge.gasUsed,
    `staker of the ${STAKERS}-staker operator; ratio ${claimRatio.toFixed(4)}`,
  );

  const table = [
    "| operation | gas | note |",
    "|---|---:|---|",
    ...rows.map((r) => `| ${r.operation} | ${r.gas.toLocaleString("en-US")} | ${r.note} |`),
  ].join("\n");
  const verdict = slashRatio <= MAX_RATIO ? "PASS" : "FAIL";
  const slashLine = `slashOperator gas with 1 staker = ${slashSmall.gasUsed}, with ${STAKERS} stakers = ${slashLarge.gasUsed}: ratio ${slashRatio.toFixed(4)} (bound ${MAX_RATIO}: ${verdict})`;
  console.log(table);
  console.log();
  console.log(slashLine);
  console.log(
    `processClaim gas ratio (${STAKERS}-staker operator vs 1-staker operator, same root) = ${claimRatio.toFixed(4)}`,
  );
  console.error(
    `(${STAKERS} stakers set up in ${setupSeconds.toFixed(1)} s; whole bench ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );

  if (UPDATE_DOCS) updateDocs(table, slashLine, claimRatio);
  if (verdict === "FAIL") process.exitCode = 1;
}

function updateDocs(table: string, slashLine: string, claimRatio: number) {
  const path = "docs/performance.md";
  let doc = "";
  try {
    doc = readFileSync(path, "utf8");
  } catch {
    doc = "# Performance\n";
  }
  const section = [
    "## Gas (restaking core)",
    "",
    "Measured by `npm run bench:gas` (Hardhat in-process, cancun, solc optimizer 200 runs); regenerate this",
    "section with `npm run bench:gas -- --update-docs`.",
    "",
    table,
    "",
    `**${slashLine}.**`,
    "",
    "A slash lowers the operator's max magnitude and its delegated shares; stakers' balances follow through their",
    "scaling factors without any per-staker storage write, so its cost does not depend on how many stakers",
    "delegate to the operator.",
    "",
    `A rewards claim verifies an earner proof of about log2(earners) hashes and one token proof (EigenLayer's`,
    `two-level tree), with no loop over stakers or operators (ratio ${claimRatio.toFixed(4)} between the two claims`,
    `above; both proofs have the depth of the padded tree, the difference is calldata).`,
    "",
  ].join("\n");
  const start = doc.indexOf("## Gas (restaking core)");
  if (start === -1) {
    doc = `${doc.trimEnd()}\n\n${section}`;
  } else {
    const next = doc.indexOf("\n## ", start + 1);
    doc = doc.slice(0, start) + section + (next === -1 ? "" : `\n${doc.slice(next + 1)}`);
  }
  writeFileSync(path, doc.endsWith("\n") ? doc : `${doc}\n`);
  console.error(`updated ${path}`);
}

await main();
// The DIN service's section (bench/din-gas.ts): reports, finalization, fraud proofs, delegator claims.
if (!(await runDinGasBench({ delegators: STAKERS, updateDocs: UPDATE_DOCS }))) process.exitCode = 1;
