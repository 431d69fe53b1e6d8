// The DIN service's gas (run by `npm run bench:gas` after the restaking core's table): epoch reports and
// finalization as a function of the number of operators, usage reports, fraud proofs, the slash queue, and
// a delegator's claim of epoch fees with 1 vs N delegators behind the operator.
import { type Address, getAddress, type Hex, keccak256, numberToHex, toHex } from "viem";
import { DIN_PRESETS } from "../src/ledger/din/deploy.js";
import { blockHeader } from "../src/ledger/din/header.js";
import { hashRequest, hashResponse, signRelay } from "../src/ledger/din/relay.js";
import { gatherStateEvidence, stateProofArgs } from "../src/ledger/din/stateProof.js";
import { signServedRelay } from "../src/operator/relaySigner.js";
import { deployDinFixture, ETHEREUM, healthy, POLYGON, WAD } from "../test/din/fixture.js";
import { writePerformanceSection } from "./docs.js";

/** Options of {@link runDinGasBench}. */
export type DinGasBenchOptions = {
  /** Delegators behind the large operator in the claim comparison. @default 500 */
  delegators?: number;
  /** Operator counts for the report and finalization rows. @default [5, 50, 200] */
  operatorCounts?: number[];
  /** Rewrite the "Gas (DIN service)" section of docs/performance.md. @default false */
  updateDocs?: boolean;
};

const MAX_RATIO = 1.05;

/** Runs the DIN gas bench, prints its table and the claim ratio line; returns false when the bound fails. */
export async function runDinGasBench(options: DinGasBenchOptions = {}): Promise<boolean> {
  const delegators = options.delegators ?? 500;
  const counts = options.operatorCounts ?? [5, 50, 200];
  const PAGE = 64;
  const pagesNote = (n: number) => (n > PAGE ? `${Math.ceil(n / PAGE)} pages` : "");
  const rows: { operation: string; gas: bigint; note: string }[] = [];
  const record = (operation: string, gas: bigint, note = "") => rows.push({ operation, gas, note });
  // Report windows long enough for every page of the largest epoch (one block each on the automining ledger).
  const f = await deployDinFixture({
    params: { epochs: { ...DIN_PRESETS.devnet.epochs, epochLength: 100, reportWindow: 100 } },
  });
  await f.registerWatchersAndGateway();
  const [w0, w1, w2] = f.watchers as [Address, Address, Address];

  // Registration through the DIN registrar.
  const [op, op2, op3] = f.operators;
  await f.stake(op, 10n * WAD, ETHEREUM);
  const register = await f.registerForSet(op, ETHEREUM, f.encodeMetadata(f.metadata(op)));
  record("registerForOperatorSets (DIN network: metadata, stake, endpoint checks)", register.gasUsed);

  // Epochs with N operators: usage, three reports, finalization (all healthy; fees split across all N).
  for (const n of counts) {
    const operators = Array.from({ length: n }, (_, i) =>
      getAddress(numberToHex(0xee_0000_0000n + BigInt(n * 1000 + i), { size: 20 })),
    );
    const epoch = await f.currentEpoch();
    await f.payFees(ETHEREUM, 1000n * WAD);
    // Reports go in pages of at most MAX_PAGE_LENGTH (64) operators; the rows sum a report's pages.
    const gas = (receipts: { gasUsed: bigint }[]) => receipts.reduce((sum, r) => sum + r.gasUsed, 0n);
    const usage = await f.reportUsagePages(
      ETHEREUM,
      epoch,
      operators.map((o, i) => [o, BigInt(100 + i)]),
      PAGE,
    );
    await f.endEpoch(epoch);
    const metrics = operators.map(healthy);
    const first = await f.submitReportPages(w0, ETHEREUM, epoch, metrics, PAGE);
    await f.submitReportPages(w1, ETHEREUM, epoch, metrics, PAGE);
    await f.submitReportPages(w2, ETHEREUM, epoch, metrics, PAGE);
    const finalize = await f.finalize(ETHEREUM, epoch);
    const accrued = await f.ledger.public.readContract({
      ...f.epochs,
      functionName: "accruedTotal",
      args: [ETHEREUM],
    });
    const flush = accrued > 0n ? await f.flushRewards(ETHEREUM) : undefined;
    record(`reportUsage (gateway, ${n} operators)`, gas(usage), pagesNote(n));
    record(`submitReport (watcher, ${n} operators)`, gas(first), pagesNote(n));
    record(
      `finalize (3 reports, ${n} operators, fees accrued)`,
      finalize.gasUsed,
      "medians, SLA, split; all steps",
    );
    if (flush) {
      record(
        `flushRewards (${n} operators)`,
        flush.gasUsed,
        "one operator-set submission to the RewardsCoordinator",
      );
    }
  }

  // Fraud proofs and the slash queue.
  const chainId = f.ledger.chain.id;
  await recordStateProofs(f, op, record);
  const head = await f.ledger.blockNumber();
  const relay = {
    chainId: BigInt(chainId),
    requestHash: hashRequest("eth_getBlockByNumber", [toHex(head - 1n), false]),
    responseHash: hashResponse({ result: { hash: keccak256("0xbad") } }),
    blockNumber: head - 1n,
    blockHash: keccak256("0xbad"),
    // Served once the block was final.
    servedAt: (await f.ledger.public.getBlock()).timestamp + 3600n,
  };
  const signer = f.signers.get(op);
  if (!signer) throw new Error("no signer");
  const proof = await f.ledger.write(f.outsider, {
    ...f.slasher,
    functionName: "proveWrongBlockHash",
    args: [
      relay,
      await signRelay(signer, relay, chainId, f.addresses.slasher),
      await blockHeader(f.ledger.public, relay.blockNumber),
    ],
  });
  record("proveWrongBlockHash (blockhash() and header check, immediate 1% slash, jail)", proof.gasUsed);
  await f.registerOperator(op2, POLYGON);
  const attested = keccak256("0xcafe");
  const attest = await f.ledger.write(w0, {
    ...f.slasher,
    functionName: "attestBlockHash",
    args: [137n, 1000n, attested],
  });
  record("attestBlockHash (watcher, other chain)", attest.gasUsed);
  await f.ledger.write(w1, { ...f.slasher, functionName: "attestBlockHash", args: [137n, 1000n, attested] });
  // The attested hash is fixed only after its dispute period (one veto window).
  await f.ledger.mine(f.deployment.params.slash.vetoWindow);
  const other = { ...relay, chainId: 137n, blockNumber: 1000n };
  const signer2 = f.signers.get(op2);
  if (!signer2) throw new Error("no signer");
  const queued = await f.ledger.write(f.outsider, {
    ...f.slasher,
    functionName: "proveWrongBlockHashAttested",
    args: [other, await signRelay(signer2, other, chainId, f.addresses.slasher)],
  });
  record("proveWrongBlockHashAttested (queued slash, jail)", queued.gasUsed);
  const slashId = (await f.queueLength()) - 1n;
  await f.registerOperator(op3);
  const epoch = await f.currentEpoch();
  await f.endEpoch(epoch);
  await f.submitReport(w0, ETHEREUM, epoch, [{ ...healthy(op3), availabilityBps: 9950 }]);
  await f.submitReport(w1, ETHEREUM, epoch, [{ ...healthy(op3), availabilityBps: 9950 }]);
  await f.submitReport(w2, ETHEREUM, epoch, [{ ...healthy(op3), availabilityBps: 9950 }]);
  await f.finalize(ETHEREUM, epoch);
  const vetoId = (await f.queueLength()) - 1n;
  const veto = await f.ledger.write(f.guardian, { ...f.slasher, functionName: "veto", args: [vetoId] });
  record("veto (guardian)", veto.gasUsed);
  await f.ledger.mine(f.deployment.params.slash.vetoWindow + 1);
  const execute = await f.ledger.write(f.outsider, {
    ...f.slasher,
    functionName: "execute",
    args: [slashId],
  });
  record("execute (queued slash through slashOperator)", execute.gasUsed);

  // A delegator's claim: operator A with 1 delegator, operator B with N, both paid in the same epoch.
  const [a, b] = [f.carol, f.bob];
  const delegatorOf = (i: number) => getAddress(numberToHex(0xd7_0000_0000n + BigInt(i), { size: 20 }));
  const fromBlock = await f.ledger.blockNumber();
  const t0 = performance.now();
  for (const [operator, count, offset] of [
    [a, 1, 0],
    [b, delegators, 1],
  ] as const) {
    await f.registerOperator(operator);
    for (let i = 0; i < count; i++) {
      const d = delegatorOf(offset + i);
      await f.ledger.fund(d);
      await f.deposit(d, 10n * WAD);
      await f.delegate(d, operator);
    }
  }
  const setupSeconds = (performance.now() - t0) / 1000;
  const claimEpoch = await f.currentEpoch();
  await f.payFees(ETHEREUM, 1000n * WAD);
  await f.reportUsage(ETHEREUM, claimEpoch, [
    [a, 100n],
    [b, 100n],
  ]);
  await f.endEpoch(claimEpoch);
  await f.submitReport(w0, ETHEREUM, claimEpoch, [healthy(a), healthy(b)]);
  await f.submitReport(w1, ETHEREUM, claimEpoch, [healthy(a), healthy(b)]);
  await f.submitReport(w2, ETHEREUM, claimEpoch, [healthy(a), healthy(b)]);
  await f.finalize(ETHEREUM, claimEpoch);
  const { tree, rootIndex } = await f.publishRewards(fromBlock);
  const claimSmall = await f.claim(delegatorOf(0), tree, rootIndex);
  const claimLarge = await f.claim(delegatorOf(delegators), tree, rootIndex);
  const ratio = Number(claimLarge.gasUsed) / Number(claimSmall.gasUsed);
  record("delegator claim of DIN epoch fees, 1 delegator", claimSmall.gasUsed, "processClaim");
  record(
    `delegator claim of DIN epoch fees, ${delegators} delegators`,
    claimLarge.gasUsed,
    `ratio ${ratio.toFixed(4)}`,
  );

  const table = [
    "| operation | gas | note |",
    "|---|---:|---|",
    ...rows.map((r) => `| ${r.operation} | ${r.gas.toLocaleString("en-US")} | ${r.note} |`),
  ].join("\n");
  const verdict = ratio <= MAX_RATIO ? "PASS" : "FAIL";
  const claimLine = `DIN delegator claim gas with 1 delegator = ${claimSmall.gasUsed}, with ${delegators} delegators = ${claimLarge.gasUsed}: ratio ${ratio.toFixed(4)} (bound ${MAX_RATIO}: ${verdict})`;
  console.log();
  console.log("DIN service");
  console.log(table);
  console.log();
  console.log(claimLine);
  console.error(`(${delegators} DIN delegators set up in ${setupSeconds.toFixed(1)} s)`);
  if (options.updateDocs) updateDocs(table, claimLine);
  return verdict === "PASS";
}

type Fixture = Awaited<ReturnType<typeof deployDinFixture>>;

/**
 * Gas of proveWrongState per kind of answer, each from the same state (one wrong-data penalty per operator
 * and epoch): the account proof (and storage proof) verified against the header's state root, the answer
 * compared, the immediate 1% slash and jail.
 */
async function recordStateProofs(
  f: Fixture,
  operator: Address,
  record: (operation: string, gas: bigint, note?: string) => void,
): Promise<void> {
  const signer = f.signers.get(operator);
  if (!signer) throw new Error("no signer");
  const chainId = f.ledger.chain.id;
  const blockNumber = (await f.ledger.blockNumber()) - 1n;
  const at = toHex(blockNumber);
  const code = (await f.ledger.public.getCode({ address: f.addresses.registry, blockNumber })) ?? "0x";
  // The slasher's first non-zero slot (absent slots have no proof).
  let slot: Hex | undefined;
  for (let i = 0n; i < 64n && slot === undefined; i++) {
    const value = await f.ledger.public.getStorageAt({
      address: f.addresses.slasher,
      slot: toHex(i),
      blockNumber,
    });
    if (value && BigInt(value) !== 0n) slot = toHex(i, { size: 32 });
  }
  if (slot === undefined) throw new Error("the slasher has no non-zero slot");
  const cases: [label: string, method: string, params: unknown[], result: string][] = [
    ["eth_getBalance", "eth_getBalance", [f.outsider, at], "0x1"],
    ["eth_getTransactionCount", "eth_getTransactionCount", [f.outsider, at], "0x7"],
    ["eth_getStorageAt", "eth_getStorageAt", [f.addresses.slasher, slot, at], toHex(1n, { size: 32 })],
    ["eth_getCode, answer empty", "eth_getCode", [f.addresses.registry, at], "0x"],
    [
      `eth_getCode, answer of ${Math.round((code.length - 2) / 2 / 1024)} KB`,
      "eth_getCode",
      [f.addresses.registry, at],
      `${code.slice(0, -2)}${code.endsWith("00") ? "01" : "00"}`,
    ],
  ];
  let before = await f.ledger.snapshot();
  for (const [label, method, params, result] of cases) {
    const { relay, headers } = await signServedRelay(
      { account: signer, chainId, ledgerChainId: chainId, slasher: f.addresses.slasher },
      { method, params },
      { result },
      (await f.ledger.public.getBlock()).timestamp + 3600n,
    );
    const evidence = await gatherStateEvidence(f.ledger.public, {
      relay,
      signature: headers["din-signature"],
      method,
      params,
      response: { result },
    });
    const receipt = await f.ledger.write(f.outsider, {
      ...f.slasher,
      functionName: "proveWrongState",
      args: stateProofArgs(evidence),
    });
    const nodes = evidence.accountProof.length + evidence.storageProof.length;
    record(`proveWrongState (${label}, immediate 1% slash, jail)`, receipt.gasUsed, `${nodes} trie nodes`);
    await f.ledger.revert(before);
    before = await f.ledger.snapshot();
  }
}

function updateDocs(table: string, claimLine: string) {
  const heading = "## Gas (DIN service)";
  const section = [
    heading,
    "",
    "Measured by `npm run bench:gas` after the restaking core's table (same chain and compiler settings);",
    "`npm run bench:gas -- --update-docs` rewrites this section. Epoch rows: every operator healthy in three",
    "watchers' reports and paid from the epoch's fee pool, so finalization includes the medians, the SLA check",
    "and accruing each operator's share; flushRewards escrows what accrued as one operator-set submission.",
    "",
    table,
    "",
    `**${claimLine}.**`,
    "",
    "Epoch fees reach delegators through the restaking core's RewardsCoordinator: finalization accrues one",
    "amount per operator, flushRewards escrows what accrued as one operator-set submission per whole rewards",
    "interval, the rewards updater splits it (commission, then stake pro rata) into a cumulative two-level",
    "Merkle root, and a claim verifies an earner proof of about log2(earners) hashes and a token proof. Nothing",
    "loops over delegators on chain, so the claim costs the same behind 1 or 500 delegators.",
    "",
  ].join("\n");
  writePerformanceSection(heading, section);
  console.error("updated docs/performance.md (DIN service)");
}
