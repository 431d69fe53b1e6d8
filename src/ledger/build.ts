// Compiles contracts/ with solc-js (standard JSON) into typed artifacts under src/ledger/artifacts/.
// Skips the work when the sources, compiler and settings hash to the same value as the last build, so
// `npm test` and `npm start` can call it unconditionally.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { DinError, RpcErrorCode } from "../rpc/errors.js";

const require = createRequire(import.meta.url);

/** Options of {@link buildContracts}. */
export type BuildContractsOptions = {
  /** Print nothing unless compilation fails. @default false */
  quiet?: boolean;
  /** Compile even when the source hash matches the last build. @default false */
  force?: boolean;
  /** Repository root. @default two levels above this file */
  root?: string;
};

/** What {@link buildContracts} did. */
export type BuildContractsResult = {
  /** false when the cached artifacts were up to date. */
  compiled: boolean;
  /** Names of the contracts with artifacts. */
  contracts: string[];
  /** Hash of the inputs the artifacts were built from. */
  hash: string;
};

/** A compilation failure; `errors` lists every error as `file:line:column: type: message`. */
export class ContractCompileError extends DinError {
  override name = "ContractCompileError";
  constructor(
    /** Each error as `file:line:column: type: message`. */
    readonly errors: string[],
  ) {
    super(RpcErrorCode.InternalError, "Solidity compilation failed", { details: errors.join("\n") });
  }

  /** The errors, one per line, under a heading: what a terminal should show. */
  format(): string {
    return `${this.shortMessage}:\n${this.errors.join("\n")}`;
  }
}

/**
 * Folders (at any depth under contracts/) whose contracts get no artifacts: interfaces and libraries are
 * not deployed. Every other folder (core/, test/, and those other parts of the protocol add) does.
 */
const NON_DEPLOYABLE_DIRS = ["interfaces", "libraries"];

/**
 * Packages some of whose files pin an exact older 0.8 compiler (`pragma solidity 0.8.15;`) although they
 * compile unchanged with ours: the Optimism trie and RLP libraries the state proofs use. Only their pins
 * are relaxed to `^` that version; every other import keeps its pragma as written.
 */
const RELAXED_PRAGMA_PACKAGES = ["@eth-optimism/contracts-bedrock/"];

/** `source` with an exact `pragma solidity 0.8.x;` read as `^0.8.x` when `path` is in RELAXED_PRAGMA_PACKAGES. */
export function relaxPinnedPragma(path: string, source: string): string {
  if (!RELAXED_PRAGMA_PACKAGES.some((prefix) => path.startsWith(prefix))) return source;
  return source.replace(/^pragma solidity (0\.8\.\d+);/m, "pragma solidity ^$1;");
}

/** Bumped when the artifact format below changes, so old caches are rebuilt. */
const ARTIFACT_FORMAT = 1;

const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
} as const;

type SolcOutput = {
  errors?: {
    severity: "error" | "warning" | "info";
    formattedMessage?: string;
    message: string;
    type: string;
    sourceLocation?: { file: string; start: number; end: number };
  }[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
};

type Solc = {
  version(): string;
  compile(input: string, callbacks: { import(path: string): unknown }): string;
};

function defaultRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

function listSolidity(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSolidity(full));
    else if (entry.name.endsWith(".sol")) out.push(full);
  }
  return out.sort();
}

function lineAndColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, offset));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * Compiles the Solidity sources when they changed since the last build and writes
 * `src/ledger/artifacts/<Contract>.ts` (ABI `as const` + bytecode) and an index.
 * Throws {@link ContractCompileError} with `file:line:column: message` lines on a compile error.
 */
export function buildContracts(options: BuildContractsOptions = {}): BuildContractsResult {
  const root = options.root ?? defaultRoot();
  const contractsDir = join(root, "contracts");
  const outDir = join(root, "src", "ledger", "artifacts");
  const hashFile = join(outDir, "sources.hash");
  const log = options.quiet ? () => {} : (msg: string) => console.error(msg);

  const files = listSolidity(contractsDir);
  const sources: Record<string, { content: string }> = {};
  for (const file of files) {
    sources[relative(root, file).split(sep).join("/")] = { content: readFileSync(file, "utf8") };
  }
  const solcVersion = (require("solc/package.json") as { version: string }).version;
  const ozVersion = (require("@openzeppelin/contracts/package.json") as { version: string }).version;
  const bedrockVersion = (require("@eth-optimism/contracts-bedrock/package.json") as { version: string })
    .version;
  const hasher = createHash("sha256");
  hasher.update(
    JSON.stringify({
      ARTIFACT_FORMAT,
      solcVersion,
      ozVersion,
      bedrockVersion,
      SETTINGS,
      NON_DEPLOYABLE_DIRS,
    }),
  );
  for (const [path, { content }] of Object.entries(sources)) hasher.update(`${path}\0${content}\0`);
  const hash = hasher.digest("hex");

  if (!options.force && existsSync(hashFile) && readFileSync(hashFile, "utf8").trim() === hash) {
    const index = readFileSync(join(outDir, "index.ts"), "utf8");
    const contracts = [...index.matchAll(/from "\.\/(\w+)\.js"/g)].map((m) => m[1] ?? "");
    return { compiled: false, contracts, hash };
  }

  log(`compiling ${files.length} Solidity files with solc ${solcVersion}…`);
  const solc = require("solc") as Solc;
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const findImports = (path: string): { contents: string } | { error: string } => {
    try {
      if (!path.startsWith("@")) return { contents: readFileSync(join(root, path), "utf8") };
      return { contents: relaxPinnedPragma(path, readFileSync(require.resolve(path), "utf8")) };
    } catch {
      return { error: `file not found: ${path}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as SolcOutput;

  const errors: string[] = [];
  for (const e of output.errors ?? []) {
    const loc = e.sourceLocation;
    let where = "";
    if (loc) {
      const content = sources[loc.file]?.content ?? findImportsContent(loc.file, findImports);
      const { line, column } = lineAndColumn(content, loc.start);
      where = `${loc.file}:${line}:${column}: `;
    }
    const text = `${where}${e.type}: ${e.message}`;
    if (e.severity === "error") errors.push(text);
    // Only our own warnings: OpenZeppelin's are not ours to fix, and the transient-storage notice is about
    // ReentrancyGuardTransient, which clears its slot at the end of every call.
    else if (loc?.file.startsWith("contracts/") && !e.message.includes("Transient storage"))
      log(`warning: ${text}`);
  }
  if (errors.length > 0) {
    throw new ContractCompileError(errors);
  }

  // Collect first, so a clash leaves the previous artifacts in place.
  const artifacts = new Map<string, { path: string; abi: unknown[]; bytecode: string }>();
  for (const [path, contracts] of Object.entries(output.contracts ?? {})) {
    const folders = path.split("/").slice(1, -1);
    if (!path.startsWith("contracts/") || folders.some((f) => NON_DEPLOYABLE_DIRS.includes(f))) continue;
    for (const [name, artifact] of Object.entries(contracts)) {
      if (artifact.evm.bytecode.object.length === 0) continue; // abstract contract or interface
      const other = artifacts.get(name);
      if (other) {
        throw new ContractCompileError([
          `${path}: contract ${name} is also defined in ${other.path}; artifact names must be unique`,
        ]);
      }
      artifacts.set(name, { path, abi: artifact.abi, bytecode: artifact.evm.bytecode.object });
    }
  }

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const names = [...artifacts.keys()];
  for (const [name, artifact] of artifacts) {
    const id = lowerFirst(name);
    writeFileSync(
      join(outDir, `${name}.ts`),
      `// Generated by src/ledger/build.ts from ${artifact.path}. Do not edit.\n` +
        `export const ${id}Abi = ${JSON.stringify(artifact.abi, null, 2)} as const;\n\n` +
        `export const ${id}Bytecode = "0x${artifact.bytecode}" as const;\n`,
    );
  }
  names.sort();
  writeFileSync(
    join(outDir, "index.ts"),
    "// Generated by src/ledger/build.ts. Do not edit.\n" +
      names
        .map((n) => `export { ${lowerFirst(n)}Abi, ${lowerFirst(n)}Bytecode } from "./${n}.js";\n`)
        .join(""),
  );
  writeFileSync(hashFile, `${hash}\n`);
  log(`wrote ${names.length} contract artifacts to ${relative(root, outDir)}`);
  return { compiled: true, contracts: names, hash };
}

function findImportsContent(
  file: string,
  findImports: (path: string) => { contents: string } | { error: string },
): string {
  const found = findImports(file);
  return "contents" in found ? found.contents : "";
}
