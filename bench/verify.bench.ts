/**
 * What checking answers costs a dApp: requests/s and p50/p99 latency of `eth_getBalance` at `latest`
 * through the verifying viem transport (`dinTransport`) at its default 1% sample and with
 * `verify: "always"`, against plain viem `http()` to the same gateway (`npm run bench:verify [-- --quick]`).
 *
 * Setup, all on this machine: `din up` as a child process (two devnet chains, the ledger, five operators
 * per network, watchers, the gateway with keys on), then a closed loop of C concurrent readers in this
 * process per mode. Modes alternate round by round (plain, 1%, always, then again) so machine noise hits
 * each alike; the median of the rounds is reported, with each mode's ratio to plain side by side.
 * "always" verifies every read: the answer signed, its block's header against a quorum of operators
 * (cached per block) and the balance against `eth_getProof` at that block (cached per block and account).
 *
 * Flags: --quick (3 s per measurement, 10 s to settle instead of 30 s), --rounds N (default 3), --duration S (default 10),
 * --connections C (default 16).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type Address, createPublicClient, getAddress, http, type Transport } from "viem";
import { dinTransport } from "../src/client/index.js";
import { readNetworkState } from "../src/devnet/state.js";
import { findNetwork, readDeployment } from "../src/ledger/din/directory.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "16" },
  },
});
const durationMs = Number(flags.duration ?? (flags.quick ? 3 : 10)) * 1000;
const rounds = Math.max(1, Number(flags.rounds ?? (flags.quick ? 1 : 3)));
const connections = Number(flags.connections);
const warmupMs = flags.quick ? 10_000 : 30_000;
const bin = join(import.meta.dirname, "../bin/din.mjs");

type Mode = "plain http()" | "dinTransport 1%" | "dinTransport always";
const modes: Mode[] = ["plain http()", "dinTransport 1%", "dinTransport always"];
interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function startNetwork(dataDir: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [bin, "up", "--json", "--port", "0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`din up exited with ${code}`)));
  });
  return async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
}

/** C readers in a closed loop for `durationMs`; latencies in ms. */
async function measure(transport: Transport, addresses: Address[], forMs = durationMs): Promise<Sample> {
  const client = createPublicClient({ transport });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + forMs;
  const reader = async (offset: number) => {
    for (let i = offset; performance.now() < end; i += connections) {
      const started = performance.now();
      try {
        await client.getBalance({ address: addresses[i % addresses.length]! });
        latencies.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, i) => reader(i)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "din-verify-bench-"));
  log("starting din up…");
  const stop = await startNetwork(dataDir);
  try {
    const state = readNetworkState(dataDir);
    const served = state.networks.find((n) => n.name === "ethereum")!;
    const deployment = readDeployment(state.ledger.deployment);
    const addresses = (state.accounts ?? []).slice(0, 8).map((a) => getAddress(a.address));
    const ledger = {
      chainId: deployment.chainId,
      slasher: deployment.addresses.slasher,
      registry: deployment.addresses.registry,
      rpcUrl: state.ledger.rpc,
      networkId: findNetwork(deployment, "ethereum").id,
    };
    const transports: Record<Mode, () => Transport> = {
      "plain http()": () => http(served.rpc, { retryCount: 0 }),
      "dinTransport 1%": () => dinTransport(served.rpc, { ledger, chainId: served.chainId, retryCount: 0 }),
      "dinTransport always": () =>
        dinTransport(served.rpc, { ledger, chainId: served.chainId, verify: "always", retryCount: 0 }),
    };
    // `din up` deploys, registers and starts its watchers right before its ready line: let it settle, and
    // warm each mode up (connections, the verifier's registry reads) before anything is measured.
    log("settling…");
    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    for (const mode of modes) await measure(transports[mode](), addresses, Math.min(durationMs, 3_000));
    const samples = new Map<Mode, Sample[]>(modes.map((m) => [m, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? modes : [...modes].reverse();
      for (const mode of order) {
        const sample = await measure(transports[mode](), addresses);
        samples.get(mode)!.push(sample);
        log(
          `round ${round + 1} ${mode}: ${Math.round(sample.rps)} req/s, p50 ${sample.p50.toFixed(2)} ms, p99 ${sample.p99.toFixed(2)} ms, ${sample.errors} errors`,
        );
      }
    }
    const plain = median(samples.get("plain http()")!.map((s) => s.rps));
    console.log(
      `\neth_getBalance at latest, ${connections} concurrent readers, ${durationMs / 1000} s × ${rounds} round(s), median:\n`,
    );
    console.log("| client | req/s | p50 ms | p99 ms | req/s vs plain | errors |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const mode of modes) {
      const list = samples.get(mode)!;
      const rps = median(list.map((s) => s.rps));
      console.log(
        `| ${mode} | ${Math.round(rps)} | ${median(list.map((s) => s.p50)).toFixed(2)} | ${median(list.map((s) => s.p99)).toFixed(2)} | ${(rps / plain).toFixed(3)}× | ${list.reduce((sum, s) => sum + s.errors, 0)} |`,
      );
    }
  } finally {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
