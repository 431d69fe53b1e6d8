/**
 * Closed-loop load with wrk (C, microsecond latency histogram): a fixed number of keep-alive connections,
 * each sending the next request as soon as the previous answer arrives.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface WrkOptions {
  connections: number;
  threads: number;
  durationSeconds: number;
}

export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers plus socket errors (connect, read, write, timeout). */
  errors: number;
}

/** Writes a wrk script that POSTs one JSON body; returns its path. */
export function wrkScript(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.lua`);
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[${body}]]\n`,
  );
  return file;
}

export function runWrk(url: string, script: string, options: WrkOptions): Promise<WrkResult> {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    "--latency",
    "-s",
    script,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`wrk exited with ${code}:\n${out}`));
      else {
        try {
          resolve(parseWrkOutput(out));
        } catch (error) {
          reject(error);
        }
      }
    });
  });
}

/** Reads wrk's `--latency` report. */
export function parseWrkOutput(out: string): WrkResult {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(out);
    if (!match) throw new Error(`unexpected wrk output (no ${pattern}):\n${out}`);
    return Number(match[1]);
  };
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!match) throw new Error(`unexpected wrk output (no ${p}%):\n${out}`);
    const scale = match[2] === "us" ? 0.001 : match[2] === "ms" ? 1 : 1000;
    return Number(match[1]) * scale;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: number(/(\d+) requests in/),
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
}
