// Real Chromium for the browser tests: Debian's `chromium` package, driven by playwright-core (no browser
// download). Installed by the tests themselves when missing and we are root (test/support/systemPackages.ts);
// otherwise the tests fail saying which command installs it.
import { type Browser, chromium } from "playwright-core";
import { chromiumPath, ensureSystemPackages } from "./systemPackages.js";

/** Chromium, installed first when missing and we may (else this throws how to install it). */
export function launchChromium(): Promise<Browser> {
  ensureSystemPackages(["chromium"]);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
