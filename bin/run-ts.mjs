#!/usr/bin/env node
// Runs a TypeScript file of the project (benchmarks, scripts): node bin/run-ts.mjs file.ts [args...]
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

register();
const file = process.argv[2];
if (!file) {
  console.error("usage: node bin/run-ts.mjs <file.ts> [args...]");
  process.exit(2);
}
process.argv.splice(1, 1);
await import(pathToFileURL(resolve(file)).href);
