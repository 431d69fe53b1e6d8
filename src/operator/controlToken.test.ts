import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  controlTokenMatches,
  generateControlToken,
  loadOrCreateControlToken,
  readControlToken,
  writeControlToken,
} from "./controlToken.js";

const dir = mkdtempSync(join(tmpdir(), "din-control-token-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("control token", () => {
  it("creates a token file once, with mode 0600, and reads the same token after", () => {
    const file = join(dir, "nested", "control.token");
    const token = loadOrCreateControlToken(file);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateControlToken(file)).toBe(token);
  });

  it("refuses a token file others can read, or one holding a weak token", () => {
    if (process.platform === "win32") return;
    const open = join(dir, "open.token");
    writeControlToken(open, generateControlToken());
    chmodSync(open, 0o644);
    expect(() => readControlToken(open)).toThrow(/chmod 600/);
    const weak = join(dir, "weak.token");
    writeFileSync(weak, "secret\n", { mode: 0o600 });
    expect(() => readControlToken(weak)).toThrow(/does not hold a control token/);
  });

  it("matches only the exact bearer token", () => {
    const token = generateControlToken();
    expect(controlTokenMatches(token, `Bearer ${token}`)).toBe(true);
    for (const header of [
      undefined,
      token,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Basic ${token}`,
    ]) {
      expect(controlTokenMatches(token, header)).toBe(false);
    }
  });
});
