// The module boundaries of src/ (test/support/boundaries.ts, DEVELOPERS.md "Module boundaries"): checked
// on the real tree, and on a throwaway tree that breaks each rule on purpose, to show the check sees it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkBoundaries, findCycles, scanImports, sourceFiles } from "./support/boundaries.js";

const repo = join(import.meta.dirname, "..");

describe("the module boundaries of src/", () => {
  it("hold: no layer imports another, rpc and risk do no I/O, only cli and devnet import devnet", () => {
    expect(checkBoundaries(repo)).toEqual([]);
  });

  it("leave no import cycle (type-only imports aside)", () => {
    expect(findCycles(repo)).toEqual([]);
  });

  it("keep every file at most 600 lines, the contracts' generated artifacts aside", () => {
    const long = sourceFiles(repo)
      .filter((file) => !file.startsWith("src/ledger/artifacts/"))
      .map((file) => ({ file, lines: readFileSync(join(repo, file), "utf8").split("\n").length - 1 }))
      .filter(({ lines }) => lines > 600);
    expect(long).toEqual([]);
  });
});

describe("the boundary check on a tree that breaks the rules", () => {
  const root = mkdtempSync(join(tmpdir(), "din-boundaries-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };
  write("src/operator/proxy.ts", "export const proxy = 1;\n");
  write("src/watcher/probe.ts", "export type Probe = { ok: boolean };\n");
  write("src/devnet/up.ts", "export const up = 1;\n");
  write(
    "src/gateway/server.ts",
    [
      'import { proxy } from "../operator/proxy.js";',
      'import type { Probe } from "../watcher/probe.js";',
      '// import { up } from "../devnet/up.js"; (a comment: not an import)',
      "const text = \"import { up } from '../devnet/up.js'\";",
      'export const later = () => import("../devnet/up.js");',
      "export { proxy, text };",
      "export type { Probe };",
    ].join("\n"),
  );
  write(
    "src/rpc/parse.ts",
    [
      'import { readFileSync } from "node:fs";',
      'import type { Pool } from "pg";',
      'import { createHash } from "node:crypto";',
      "export { readFileSync, createHash, type Pool };",
    ].join("\n"),
  );
  write(
    "src/risk/report.ts",
    'import { request } from "undici";\nimport "hardhat/config";\nexport { request };\n',
  );
  write("src/risk/report.test.ts", 'import { readFileSync } from "node:fs";\nexport { readFileSync };\n');
  write("src/cli/up.ts", 'import { up } from "../devnet/up.js";\nexport { up };\n');
  // A cycle through value imports, and one closed only by a type-only import.
  write("src/gateway/a.ts", 'import { b } from "./b.js";\nexport const a = () => b;\n');
  write("src/gateway/b.ts", 'import { c } from "./c.js";\nexport const b = () => c;\n');
  write("src/gateway/c.ts", 'import { a } from "./a.js";\nexport const c = () => a;\n');
  write("src/ledger/x.ts", 'import type { Y } from "./y.js";\nexport type X = { y?: Y };\n');
  write("src/ledger/y.ts", 'import { type X } from "./x.js";\nexport type Y = { x?: X };\n');

  it("reports each import that breaks a rule, with its line, and nothing else", () => {
    expect(checkBoundaries(root, [])).toEqual([
      { rule: "layers", from: "src/gateway/server.ts", specifier: "../operator/proxy.js", line: 1 },
      { rule: "layers", from: "src/gateway/server.ts", specifier: "../watcher/probe.js", line: 2 },
      { rule: "devnet", from: "src/gateway/server.ts", specifier: "../devnet/up.js", line: 5 },
      { rule: "pure", from: "src/risk/report.ts", specifier: "undici", line: 1 },
      { rule: "pure", from: "src/risk/report.ts", specifier: "hardhat/config", line: 2 },
      { rule: "pure", from: "src/rpc/parse.ts", specifier: "node:fs", line: 1 },
    ]);
  });

  it("accepts a listed exception, and reports one that no longer matches an import", () => {
    const exceptions = [
      { rule: "layers", from: "src/gateway/server.ts", specifier: "../operator/proxy.js", why: "test" },
      { rule: "pure", from: "src/rpc/parse.ts", specifier: "node:net", why: "test" },
    ];
    const violations = checkBoundaries(root, exceptions);
    expect(violations).not.toContainEqual(expect.objectContaining({ specifier: "../operator/proxy.js" }));
    expect(violations).toContainEqual({
      rule: "stale exception (pure)",
      from: "src/rpc/parse.ts",
      specifier: "node:net",
      line: 0,
    });
  });

  it("finds a cycle of value imports, but not one closed by a type-only import", () => {
    expect(findCycles(root, [])).toEqual([["src/gateway/a.ts", "src/gateway/b.ts", "src/gateway/c.ts"]]);
    expect(findCycles(root, [{ from: "src/gateway/c.ts", to: "src/gateway/a.ts" }])).toEqual([]);
  });

  it("tells an erased import from one that still loads its module", () => {
    const refs = scanImports(root, "src/ledger/y.ts");
    // `import { type X }` keeps `import {} from "./x.js"` under verbatimModuleSyntax: the module loads.
    expect(refs).toEqual([
      { from: "src/ledger/y.ts", specifier: "./x.js", target: "src/ledger/x.ts", typeOnly: false, line: 1 },
    ]);
  });
});
