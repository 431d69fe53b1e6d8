// npm run bench:epoch-gas [-- --update-docs] [-- --large-only]
// What one DIN epoch costs on the ledger, transaction by transaction, for one network with 10 registered
// operators, 3 watchers and 1 gateway (devnet preset): a healthy epoch, then the same epoch with 2 operators
// under the SLA (two slashes queued), one of them vetoed by the guardian and the other executed. Then a
// network of 1,000 operators and 9 watchers, healthy and all down: every transaction of the epoch (usage
// pages, report pages, finalization steps) must stay under 30,000,000 gas and 131,072 bytes of calldata.
// LARGE_OPERATORS=250 sizes the large network down for a quick run.
import { type Address, getAddress, numberToHex } from "viem";
import { DEVNET_DIN_PARAMS } from "../src/ledger/din/deploy.js";
import { deployDinFixture, ETHEREUM, healthy, WAD, WATCHER_SET } from "../test/din/fixture.js";
import { writePerformanceSection } from "./docs.js";

const OPERATORS = 10;
const UPDATE_DOCS = process.argv.slice(2).includes("--update-docs");
const LARGE_ONLY = process.argv.slice(2).includes("--large-only");
const LARGE_OPERATORS = Number(process.env.LARGE_OPERATORS ?? 1000);
const LARGE_WATCHERS = 9;
const GAS_LIMIT = 30_000_000n;
const CALLDATA_LIMIT = 131_072;

/** One transaction of an epoch: who sends it and its gas in each scenario. */
type Row = { transaction: string; sender: string; healthy?: bigint; slashed?: bigint };

async function main() {
  const large = await largeNetwork();
  if (LARGE_ONLY) return;
  const f = await deployDinFixture({ preset: "devnet" });
  await f.registerWatchersAndGateway();
  const [w0, w1, w2] = f.watchers as [Address, Address, Address];
  const operators = Array.from({ length: OPERATORS }, (_, i) =>
    getAddress(numberToHex(0xe9_0000_0000n + BigInt(i), { size: 20 })),
  );
  for (const operator of operators) {
    await f.ledger.fund(operator);
    await f.registerOperator(operator, ETHEREUM);
  }

  const rows = new Map<string, Row>();
  const record = (scenario: "healthy" | "slashed", transaction: string, sender: string, gas: bigint) => {
    const row = rows.get(transaction) ?? { transaction, sender };
    row[scenario] = gas;
    rows.set(transaction, row);
  };

  /** One epoch: fees, usage, three reports (`under` operators at 99.5% availability), finalization. */
  async function epoch(scenario: "healthy" | "slashed", under: readonly Address[]) {
    const e = await f.currentEpoch();
    record(scenario, "payFees", "gateway", (await f.payFees(ETHEREUM, 1000n * WAD)).gasUsed);
    const usage = operators.map((o, i): [Address, bigint] => [o, BigInt(1000 + i)]);
    record(scenario, "reportUsage", "gateway", (await f.reportUsage(ETHEREUM, e, usage)).gasUsed);
    await f.endEpoch(e);
    const metrics = operators.map((o) =>
      under.includes(o) ? { ...healthy(o), availabilityBps: 9950 } : healthy(o),
    );
    for (const [i, watcher] of [w0, w1, w2].entries()) {
      const receipt = await f.submitReport(watcher, ETHEREUM, e, metrics);
      record(scenario, `submitReport #${i + 1}`, `watcher ${i + 1}`, receipt.gasUsed);
    }
    const queuedBefore = await f.queueLength();
    const finalized = await f.finalize(ETHEREUM, e);
    record(scenario, "finalize: judge, settle, pay (one step each)", "anyone", finalized.gasUsed);
    return { queued: Number((await f.queueLength()) - queuedBefore), firstSlash: queuedBefore };
  }

  // A first epoch warms the network's storage (its first fees, first usage): the table shows steady state.
  await epoch("healthy", []);
  rows.clear();
  await epoch("healthy", []);
  const slashed = operators.slice(0, 2);
  const { queued, firstSlash } = await epoch("slashed", slashed);
  if (queued !== 2) throw new Error(`expected 2 queued slashes, finalization queued ${queued}`);
  const veto = await f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [firstSlash] });
  record("slashed", "veto (one queued slash)", "guardian", veto.gasUsed);
  await f.ledger.mine(f.deployment.params.slash.vetoWindow + 1);
  const execute = await f.ledger.write(f.outsider, {
    ...f.slasher,
    functionName: "execute",
    args: [firstSlash + 1n],
  });
  record("slashed", "execute (the other, after the veto window)", "anyone", execute.gasUsed);

  const all = [...rows.values()];
  const total = (scenario: "healthy" | "slashed") =>
    all.reduce((sum, row) => sum + (row[scenario] ?? 0n), 0n);
  const cell = (gas: bigint | undefined) => (gas === undefined ? "—" : gas.toLocaleString("en-US"));
  const [healthyTotal, slashedTotal] = [total("healthy"), total("slashed")];
  const table = [
    "| transaction | sender | healthy epoch | epoch with 2 operators under the SLA |",
    "|---|---|---:|---:|",
    ...all.map((r) => `| ${r.transaction} | ${r.sender} | ${cell(r.healthy)} | ${cell(r.slashed)} |`),
    `| **total per epoch** | | **${cell(healthyTotal)}** | **${cell(slashedTotal)}** |`,
    `| per operator | | ${cell(healthyTotal / BigInt(OPERATORS))} | ${cell(slashedTotal / BigInt(OPERATORS))} |`,
  ].join("\n");
  console.log(`One DIN epoch, ${OPERATORS} operators, 3 watchers, 1 gateway (devnet preset)`);
  console.log(table);
  if (UPDATE_DOCS) updateDocs(table, large);
}

type LargeScenario = {
  transactions: number;
  totalGas: bigint;
  maxGas: bigint;
  maxCalldata: number;
  judging: bigint;
};

/** One epoch of LARGE_OPERATORS operators and LARGE_WATCHERS watchers, healthy and all down. */
async function largeNetwork(): Promise<string> {
  const started = Date.now();
  const f = await deployDinFixture({
    preset: "devnet",
    ledgerGas: GAS_LIMIT,
    // Long enough epochs and report windows for every page of nine reports (one block each on the
    // automining ledger), within the timing rule.
    params: {
      restaking: { ...DEVNET_DIN_PARAMS.restaking, minWithdrawalDelayBlocks: 5000, deallocationDelay: 5000 },
      epochs: { epochLength: 600, reportWindow: 600, reportQuorum: 2 },
    },
  });
  await f.registerWatchersAndGateway();
  const watchers = [...f.watchers];
  for (let i = watchers.length; i < LARGE_WATCHERS; i++) {
    const w = getAddress(numberToHex(0xa7_0000_0000n + BigInt(i), { size: 20 }));
    await f.ledger.fund(w);
    await f.ledger.write(f.deployer, { ...f.registry, functionName: "setWatcher", args: [w, true] });
    await f.stake(w, 2n * WAD, WATCHER_SET);
    await f.registerForSet(w, WATCHER_SET);
    watchers.push(w);
  }
  const operators = Array.from({ length: LARGE_OPERATORS }, (_, i) =>
    getAddress(numberToHex(0xe8_0000_0000n + BigInt(i) * 0x1_0001n, { size: 20 })),
  );
  for (const operator of operators) {
    await f.ledger.fund(operator);
    await f.registerOperator(operator, ETHEREUM);
  }
  console.error(
    `registered ${LARGE_OPERATORS} operators and ${LARGE_WATCHERS} watchers in ${Math.round((Date.now() - started) / 1000)} s`,
  );

  const calldataOf = async (hash: `0x${string}`) => {
    const tx = await f.ledger.public.getTransaction({ hash });
    return (tx.input.length - 2) / 2;
  };
  async function epoch(down: boolean): Promise<LargeScenario> {
    await f.endEpoch(await f.currentEpoch());
    await f.ledger.mine(1);
    const e = await f.currentEpoch();
    const receipts = [await f.payFees(ETHEREUM, 1000n * WAD)];
    const usage = operators.map((o, i): [Address, bigint] => [o, BigInt(1000 + i)]);
    receipts.push(...(await f.reportUsagePages(ETHEREUM, e, usage, 64)));
    await f.endEpoch(e);
    const metrics = operators.map((o) => (down ? { ...healthy(o), availabilityBps: 0 } : healthy(o)));
    for (const watcher of watchers)
      receipts.push(...(await f.submitReportPages(watcher, ETHEREUM, e, metrics, 64)));
    const finalized = await f.finalize(ETHEREUM, e);
    let maxGas = 0n;
    let maxCalldata = 0;
    let totalGas = 0n;
    for (const r of receipts) {
      totalGas += r.gasUsed;
      if (r.gasUsed > maxGas) maxGas = r.gasUsed;
      const size = await calldataOf(r.transactionHash);
      if (size > maxCalldata) maxCalldata = size;
    }
    let judging = 0n;
    for (const step of finalized.steps) {
      totalGas += step.receipt.gasUsed;
      if (step.receipt.gasUsed > maxGas) maxGas = step.receipt.gasUsed;
      if (step.calldata > maxCalldata) maxCalldata = step.calldata;
      if (step.step === "finalizePage") judging += step.receipt.gasUsed;
    }
    return {
      transactions: receipts.length + finalized.steps.length,
      totalGas,
      maxGas,
      maxCalldata,
      judging,
    };
  }
  const healthyEpoch = await epoch(false);
  const downEpoch = await epoch(true);
  const fmt = (n: bigint | number) => n.toLocaleString("en-US");
  let maxGas = healthyEpoch.maxGas;
  if (downEpoch.maxGas > maxGas) maxGas = downEpoch.maxGas;
  const maxCalldata = Math.max(healthyEpoch.maxCalldata, downEpoch.maxCalldata);
  const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const lines = [
    `finalize ${LARGE_OPERATORS} operators ${LARGE_WATCHERS} watchers: max gas per tx ${fmt(maxGas)} (limit ${fmt(GAS_LIMIT)}: ${pass(maxGas <= GAS_LIMIT)}), max calldata ${fmt(maxCalldata)} bytes (limit ${fmt(CALLDATA_LIMIT)}: ${pass(maxCalldata <= CALLDATA_LIMIT)})`,
  ];
  for (const [name, s] of [
    ["healthy", healthyEpoch],
    ["all down", downEpoch],
  ] as const) {
    const n = BigInt(LARGE_OPERATORS);
    lines.push(
      `  ${name}: ${s.transactions} transactions, max gas per tx ${fmt(s.maxGas)}, max calldata ${fmt(s.maxCalldata)} bytes, total gas ${fmt(s.totalGas)}, gas per operator ${fmt(s.totalGas / n)} (judging ${fmt(s.judging / n)})`,
    );
  }
  console.log(lines.join("\n"));
  if (maxGas > GAS_LIMIT || maxCalldata > CALLDATA_LIMIT) process.exitCode = 1;
  return lines.join("\n");
}

function updateDocs(table: string, large: string) {
  const heading = "## Gas (one DIN epoch)";
  const section = [
    heading,
    "",
    "Measured by `npm run bench:epoch-gas` (`-- --update-docs` rewrites this section) on the in-process",
    `Hardhat ledger with the devnet preset: one network with ${OPERATORS} registered operators, 3 watchers and 1`,
    "gateway. A healthy epoch is every transaction the network needs per epoch: the gateway's fees, its",
    "usage report, three watchers' SLA reports (all operators healthy) and the finalization that takes the",
    "medians, checks the SLA and escrows the fee split (its three steps summed: with 10 operators each is one",
    "page). In the second epoch every watcher reports 2 operators at",
    "99.5% availability, so finalization queues two 0.1% slashes (and jails both); the",
    "guardian vetoes one and, after the veto window, anyone executes the other. The fee token's `approve` is",
    "left out (a payer approves once); a warm-up epoch runs first, so the rows are a steady-state epoch's.",
    "",
    table,
    "",
    `Then ${LARGE_OPERATORS.toLocaleString("en-US")} operators and ${LARGE_WATCHERS} watchers (1 gateway), reports and usage in pages of`,
    "64 operators, finalized in steps (one judging and one paying step per page, settling 100 slashes a step):",
    "a healthy epoch, and one where every watcher reports every operator down (a correlated failure: every",
    "slash held for governance). Every transaction counts, usage and report pages included; the limits are a",
    "block's 30,000,000 gas and 128 KiB of calldata (the largest transaction a default Geth node relays). Gas",
    "per operator is the whole epoch's; judging is the judging steps' share.",
    "",
    "```",
    large,
    "```",
    "",
  ].join("\n");
  writePerformanceSection(heading, section);
  console.error("updated docs/performance.md (one DIN epoch)");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
