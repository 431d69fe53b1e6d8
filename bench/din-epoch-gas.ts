// npm run bench:epoch-gas [-- --update-docs]
// What one DIN epoch costs on the ledger, transaction by transaction, for one network with 10 registered
// operators, 3 watchers and 1 gateway (devnet preset): a healthy epoch, then the same epoch with 2 operators
// under the SLA (two slashes queued), one of them vetoed by the guardian and the other executed.
import { type Address, getAddress, numberToHex } from "viem";
import { deployDinFixture, ETHEREUM, healthy, WAD } from "../test/din/fixture.js";
import { writePerformanceSection } from "./docs.js";

const OPERATORS = 10;
const UPDATE_DOCS = process.argv.slice(2).includes("--update-docs");

/** One transaction of an epoch: who sends it and its gas in each scenario. */
type Row = { transaction: string; sender: string; healthy?: bigint; slashed?: bigint };

async function main() {
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
    record(scenario, "finalize", "anyone", (await f.finalize(ETHEREUM, e)).gasUsed);
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
  if (UPDATE_DOCS) updateDocs(table);
}

function updateDocs(table: string) {
  const heading = "## Gas (one DIN epoch)";
  const section = [
    heading,
    "",
    "Measured by `npm run bench:epoch-gas` (`-- --update-docs` rewrites this section) on the in-process",
    `Hardhat ledger with the devnet preset: one network with ${OPERATORS} registered operators, 3 watchers and 1`,
    "gateway. A healthy epoch is every transaction the network needs per epoch: the gateway's fees, its",
    "usage report, three watchers' SLA reports (all operators healthy) and the finalization that takes the",
    "medians, checks the SLA and escrows the fee split. In the second epoch every watcher reports 2 operators at",
    "99.5% availability, so finalization queues two 0.1% slashes (and jails both); the",
    "guardian vetoes one and, after the veto window, anyone executes the other. The fee token's `approve` is",
    "left out (a payer approves once); a warm-up epoch runs first, so the rows are a steady-state epoch's.",
    "",
    table,
    "",
  ].join("\n");
  writePerformanceSection(heading, section);
  console.error("updated docs/performance.md (one DIN epoch)");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
