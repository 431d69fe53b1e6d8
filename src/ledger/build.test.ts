import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildContracts, ContractCompileError, relaxPinnedPragma } from "./build.js";

describe("buildContracts", () => {
  const root = mkdtempSync(join(tmpdir(), "din-build-"));
  mkdirSync(join(root, "contracts", "core"), { recursive: true });
  const source = join(root, "contracts", "core", "Counter.sol");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("compiles, writes typed artifacts, and skips the work while the sources are unchanged", () => {
    writeFileSync(
      source,
      [
        "// SPDX-License-Identifier: Apache-2.0",
        "pragma solidity ^0.8.27;",
        'import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";',
        "contract Counter { uint256 public n; function inc() external { n = Math.max(n, n + 1); } }",
      ].join("\n"),
    );
    const first = buildContracts({ root, quiet: true });
    expect(first).toMatchObject({ compiled: true, contracts: ["Counter"] });
    const artifact = readFileSync(join(root, "src", "ledger", "artifacts", "Counter.ts"), "utf8");
    expect(artifact).toContain("export const counterAbi = [");
    expect(artifact).toContain("] as const;");
    expect(artifact).toMatch(/export const counterBytecode = "0x[0-9a-f]+" as const;/);
    expect(buildContracts({ root, quiet: true })).toMatchObject({ compiled: false, hash: first.hash });
  });

  it("emits contracts of any folder but interfaces/ and libraries/, and refuses two contracts with one name", () => {
    mkdirSync(join(root, "contracts", "din"), { recursive: true });
    mkdirSync(join(root, "contracts", "din", "libraries"), { recursive: true });
    const header = "// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.27;\n";
    writeFileSync(
      join(root, "contracts", "din", "Registry.sol"),
      `${header}contract Registry { uint256 public n; }`,
    );
    writeFileSync(
      join(root, "contracts", "din", "libraries", "Lib.sol"),
      `${header}library Lib { function f() internal {} }`,
    );
    expect(buildContracts({ root, quiet: true }).contracts).toEqual(["Counter", "Registry"]);
    writeFileSync(
      join(root, "contracts", "din", "Counter.sol"),
      `${header}contract Counter { uint256 public m; }`,
    );
    expect(() => buildContracts({ root, quiet: true })).toThrow(/Counter is also defined in/);
    expect(readFileSync(join(root, "src", "ledger", "artifacts", "index.ts"), "utf8")).toContain(
      "registryAbi",
    );
    rmSync(join(root, "contracts", "din"), { recursive: true });
  });

  it("reports a compile error with file, line and message", () => {
    writeFileSync(
      source,
      [
        "// SPDX-License-Identifier: Apache-2.0",
        "pragma solidity ^0.8.27;",
        "contract Counter { uint256 n = ; }",
      ].join("\n"),
    );
    let error: unknown;
    try {
      buildContracts({ root, quiet: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContractCompileError);
    expect((error as ContractCompileError).errors[0]).toMatch(
      /^contracts\/core\/Counter\.sol:3:\d+: ParserError: /,
    );
  });
});

describe("relaxPinnedPragma", () => {
  it("relaxes an exact 0.8 pin of the trie libraries' package only", () => {
    const pinned = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.15;\nerror EmptyItem();\n";
    const path = "@eth-optimism/contracts-bedrock/src/libraries/rlp/RLPErrors.sol";
    expect(relaxPinnedPragma(path, pinned)).toContain("pragma solidity ^0.8.15;");
    expect(relaxPinnedPragma("@openzeppelin/contracts/Some.sol", pinned)).toBe(pinned);
    const caret = "pragma solidity ^0.8.0;\n";
    expect(relaxPinnedPragma(path, caret)).toBe(caret);
  });
});
