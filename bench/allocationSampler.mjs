// Loaded with `node --import` into the process under test by bench/allocation.ts: V8's sampling heap
// profiler, counting objects already collected too (what a request allocates, not what it keeps).
// SIGUSR1 starts sampling; SIGUSR2 stops it and writes the profile to $DIN_ALLOCATION_PROFILE.
import { renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const out = process.env.DIN_ALLOCATION_PROFILE;
const session = new Session();
session.connect();
session.post("HeapProfiler.enable");
process.on("SIGUSR1", () => {
  session.post("HeapProfiler.startSampling", {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});
process.on("SIGUSR2", () => {
  session.post("HeapProfiler.stopSampling", (error, result) => {
    if (!out) return;
    // Written aside and renamed: a reader never sees half of it.
    const text = error ? JSON.stringify({ error: String(error) }) : JSON.stringify(result.profile);
    writeFileSync(`${out}.part`, text);
    renameSync(`${out}.part`, out);
  });
});
