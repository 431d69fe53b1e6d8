// Real Chromium for the browser tests: Debian's `chromium` package, driven by playwright-core (no browser
// download). Missing on a developer's machine, the tests say so and skip; missing under CI, they fail.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const chromiumPath = process.env.DIN_CHROMIUM ?? "/usr/bin/chromium";

/** Whether the browser tests can run here; throws under CI when they cannot, so a CI run never skips them. */
export function browserAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  const message = `the browser tests need Chromium at ${chromiumPath} (apt-get install -y chromium)`;
  if (process.env.CI === "true") throw new Error(message);
  process.stderr.write(`skipping the browser tests: ${message}\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
