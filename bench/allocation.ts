/**
 * Bytes the gateway allocates per request (`npm run bench:alloc [-- --top N]`), by function: the
 * garbage each request leaves drives how often V8 collects, and so the tail latency. Unlike throughput,
 * this does not move with the machine's load: it is the measure to compare two versions of the request
 * path with. The gateway runs in its own process with V8's sampling heap profiler (bench/allocationSampler.mjs)
 * while wrk sends pass-through requests for 4 s after a 2 s warm-up; the minimal Node proxy is measured
 * the same way beside it, the runtime's floor.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { sourceOf } from "./cpuProfile.js";
import { missingTools, startGatewayProcess, startMinimalProxy, startStub, stopAll } from "./processes.js";
import { runWrk, wrkScript } from "./wrk.js";

const { values: flags } = parseArgs({ options: { top: { type: "string", default: "15" } } });
const sampler = resolve(import.meta.dirname, "allocationSampler.mjs");
const body = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "eth_getBalance",
  params: ["0x00000000000000000000000000000000000000aa", "pending"],
});

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: ProfileNode[];
}

/** Bytes allocated per request, in total and by function (largest first). */
function perRequest(file: string, requests: number): { total: number; byFunction: [string, number][] } {
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode) => {
    const where = sourceOf(node.callFrame);
    const key = `${node.callFrame.functionName || "(anonymous)"}${where ? `  ${where}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children ?? []) walk(child);
  };
  walk((JSON.parse(readFileSync(file, "utf8")) as { head: ProfileNode }).head);
  return {
    total: total / requests,
    byFunction: [...byFunction]
      .map(([key, bytes]): [string, number] => [key, bytes / requests])
      .sort((a, b) => b[1] - a[1]),
  };
}

async function measure(name: string, url: string, pid: number, profile: string, dir: string) {
  const script = wrkScript(dir, name, body);
  await runWrk(url, script, { connections: 32, threads: 1, durationSeconds: 2 });
  process.kill(pid, "SIGUSR1");
  await new Promise((r) => setTimeout(r, 300));
  const result = await runWrk(url, script, { connections: 32, threads: 1, durationSeconds: 4 });
  process.kill(pid, "SIGUSR2");
  // The sampler writes the profile aside and renames it: once it exists it is whole.
  for (let waited = 0; !existsSync(profile); waited += 200) {
    if (waited > 20_000) throw new Error(`${name} wrote no allocation profile`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return perRequest(profile, result.requests);
}

async function main(): Promise<number> {
  if (missingTools().length > 0) {
    process.stderr.write("needs nginx and wrk: sudo apt-get install -y nginx wrk\n");
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "din-alloc-"));
  try {
    const stub = await startStub(dir, "stub", { workers: 1, masterProcess: false });
    // Each process writes its own profile: the sampler reads where from DIN_ALLOCATION_PROFILE.
    const gatewayProfile = join(dir, "gateway.alloc.json");
    const gateway = await startGatewayProcess(dir, "gateway", {
      upstreams: [stub.url],
      nodeFlags: ["--import", sampler],
      env: { DIN_ALLOCATION_PROFILE: gatewayProfile },
    });
    const proxyProfile = join(dir, "proxy.alloc.json");
    const proxy = await startMinimalProxy(dir, stub.url, {
      nodeFlags: ["--import", sampler],
      env: { DIN_ALLOCATION_PROFILE: proxyProfile },
    });
    const floor = await measure("proxy", proxy.url, proxy.pid, proxyProfile, dir);
    const measured = await measure("gateway", gateway.url, gateway.pid, gatewayProfile, dir);
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    process.stdout.write(
      `bytes allocated per pass-through request: gateway ${kib(measured.total)}, minimal Node proxy ${kib(floor.total)} (${(measured.total / floor.total).toFixed(2)}×)\n\n`,
    );
    process.stdout.write("gateway, by function (bytes per request):\n");
    for (const [key, bytes] of measured.byFunction.slice(0, Number(flags.top))) {
      process.stdout.write(`${Math.round(bytes).toString().padStart(7)}  ${key}\n`);
    }
    return 0;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
