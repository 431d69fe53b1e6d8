// The module boundaries of src/, checked from the import statements themselves (parsed with TypeScript, so
// comments and strings never count). The rules (DEVELOPERS.md, "Module boundaries"):
//   - the gateway, the operator node and the watcher do not import each other;
//   - src/rpc and src/risk hold pure code: no I/O modules (node:fs, node:net, node:http, …, undici, pg,
//     ioredis, ws, hardhat);
//   - only src/cli and src/devnet import src/devnet (the local network is a tool, not a library);
//   - no import cycle in src/.
// Only the product's modules are checked: tests (*.test.ts) and test fixtures may import anything.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import ts from "typescript";

export interface ImportRef {
  /** The file that imports, relative to the repository root with `/` separators. */
  from: string;
  specifier: string;
  /** The imported file (relative to the root) for a relative specifier, else undefined (a package). */
  target: string | undefined;
  /**
   * Erased when compiled: `import type` / `export type`, and `import("…")` in a type position. An
   * `import { type A }` is not: with verbatimModuleSyntax it still loads the module.
   */
  typeOnly: boolean;
  line: number;
}

export interface Violation {
  rule: string;
  from: string;
  specifier: string;
  line: number;
}

/**
 * Imports that break a rule today and are accepted until the code moves. Each one names the rule, the
 * importing file and the specifier; an entry that no longer matches an import fails the check, so a fixed
 * violation cannot leave a stale exception behind.
 */
export const boundaryExceptions: readonly { rule: string; from: string; specifier: string; why: string }[] = [
  {
    rule: "devnet",
    from: "src/dashboard/source.ts",
    specifier: "../devnet/status.js",
    why: "the dashboard reads the network through devnet/status.ts (ledgerStatus, gatewayOnlyStatus, StatusReport); that reader belongs outside src/devnet",
  },
  ...["epochs", "governance", "networkMap", "operatorPage", "risk"].map((name) => ({
    rule: "devnet",
    from: `src/dashboard/${name}.ts`,
    specifier: "../devnet/status.js",
    why: "StatusReport, the type of what the dashboard shows, is declared in devnet/status.ts (a type-only import)",
  })),
  {
    rule: "devnet",
    from: "src/dashboard/risk.ts",
    specifier: "../devnet/drillReport.js",
    why: "DrillReport, shown on the risk page, is declared in devnet/drillReport.ts (a type-only import)",
  },
  {
    rule: "devnet",
    from: "src/dashboard/source.ts",
    specifier: "../devnet/state.js",
    why: "NetworkStateOperator, the operators of a `din up` state file, is declared in devnet/state.ts (a type-only import)",
  },
  {
    rule: "devnet",
    from: "src/ledger/din/simulate.ts",
    specifier: "../../devnet/chain.js",
    why: "the outage simulation forks the ledger with devnet/chain.ts's forkChain, which belongs with the in-process Hardhat code of src/ledger",
  },
];

/** Value imports that close a cycle today and are accepted until the code moves (none now). */
export const cycleExceptions: readonly { from: string; to: string }[] = [];

const layers = ["src/gateway/", "src/operator/", "src/watcher/"];

/** Packages and node modules that do I/O; src/rpc and src/risk must not import them (nor their subpaths). */
export const ioModules = [
  "node:fs",
  "node:fs/promises",
  "node:net",
  "node:http",
  "node:https",
  "node:http2",
  "node:dgram",
  "node:dns",
  "node:tls",
  "node:child_process",
  "node:cluster",
  "node:worker_threads",
  "undici",
  "pg",
  "ioredis",
  "ws",
  "hardhat",
  "@electric-sql/pglite",
];

function isTestCode(file: string): boolean {
  return /\.test\.ts$|\.fixture\.ts$|\/fixtures\//.test(file);
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

export function sourceFiles(root: string, dir = "src"): string[] {
  const walk = (rel: string): string[] =>
    readdirSync(join(root, rel)).flatMap((name) => {
      const path = posix.join(rel, name);
      if (statSync(join(root, path)).isDirectory()) return walk(path);
      return /\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
    });
  return walk(dir).sort();
}

const scanned = new Map<string, ImportRef[]>();

/** Every import, re-export and dynamic import of one file (scanned once per run). */
export function scanImports(root: string, file: string): ImportRef[] {
  const key = join(root, file);
  const refs = scanned.get(key) ?? scanFile(root, file);
  scanned.set(key, refs);
  return refs;
}

function scanFile(root: string, file: string): ImportRef[] {
  const text = readFileSync(join(root, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const refs: ImportRef[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const spec = specifier.text;
    const target = spec.startsWith(".")
      ? toPosix(relative(root, join(root, dirname(file), spec))).replace(/\.js$/, ".ts")
      : undefined;
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    refs.push({ from: file, specifier: spec, target, typeOnly, line });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node, node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node, node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node, node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node, node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

function layerOf(file: string): string | undefined {
  return layers.find((layer) => file.startsWith(layer));
}

/** The rule an import breaks, if any (exceptions not applied). */
function brokenRule(ref: ImportRef): string | undefined {
  const { from, target, specifier, typeOnly } = ref;
  const fromLayer = layerOf(from);
  if (fromLayer && target) {
    const toLayer = layerOf(target);
    if (toLayer && toLayer !== fromLayer) return "layers";
  }
  if ((from.startsWith("src/rpc/") || from.startsWith("src/risk/")) && !typeOnly && !target) {
    // `fs` is `node:fs`; a subpath (`node:fs/promises`, `hardhat/config`) is its package's.
    const name = ioModules.includes(`node:${specifier}`) ? `node:${specifier}` : specifier;
    if (ioModules.some((io) => name === io || name.startsWith(`${io}/`))) return "pure";
  }
  if (target?.startsWith("src/devnet/") && !from.startsWith("src/devnet/") && !from.startsWith("src/cli/"))
    return "devnet";
  return undefined;
}

/** Rule violations in src/ of the tree at `root`, minus `exceptions`; stale exceptions are violations too. */
export function checkBoundaries(root: string, exceptions = boundaryExceptions): Violation[] {
  const violations: Violation[] = [];
  const used = new Set<number>();
  for (const file of sourceFiles(root)) {
    if (isTestCode(file)) continue;
    for (const ref of scanImports(root, file)) {
      const rule = brokenRule(ref);
      if (!rule) continue;
      const excepted = exceptions.findIndex(
        (e) => e.rule === rule && e.from === ref.from && e.specifier === ref.specifier,
      );
      if (excepted >= 0) used.add(excepted);
      else violations.push({ rule, from: ref.from, specifier: ref.specifier, line: ref.line });
    }
  }
  exceptions.forEach((e, i) => {
    if (!used.has(i))
      violations.push({ rule: `stale exception (${e.rule})`, from: e.from, specifier: e.specifier, line: 0 });
  });
  return violations;
}

/**
 * Import cycles among src/'s modules (tests excluded), through value imports only: a type-only import is
 * erased when compiled, so it cannot make a module run before what it imports has initialised, which is
 * the harm a cycle does. Each cycle is listed as its files, in import order from the first (sorted) file.
 * `exceptions` are edges left out of the graph.
 */
export function findCycles(root: string, exceptions = cycleExceptions): string[][] {
  const files = sourceFiles(root).filter((file) => !isTestCode(file));
  const known = new Set(files);
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const targets = scanImports(root, file)
      .filter((ref) => !ref.typeOnly && ref.target && known.has(ref.target))
      .map((ref) => ref.target!)
      .filter((target) => !exceptions.some((e) => e.from === file && e.to === target));
    edges.set(file, [...new Set(targets)].sort());
  }
  // Tarjan's strongly connected components; each one of more than one file (or a file importing itself)
  // holds a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const connect = (file: string) => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const target of edges.get(file) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || edges.get(file)?.includes(file)) cycles.push(cyclePath(component, edges));
  };
  for (const file of files) if (!index.has(file)) connect(file);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One cycle through the component, as files in import order starting from its first file by name. */
function cyclePath(component: string[], edges: Map<string, string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  // Breadth-first search for the shortest way from start back to start inside the component.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const target of edges.get(file) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return path;
      }
      if (!previous.has(target)) {
        previous.set(target, file);
        queue.push(target);
      }
    }
  }
  return [start];
}
