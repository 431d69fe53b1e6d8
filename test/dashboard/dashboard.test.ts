// The dashboard in real Chromium against `din up`, as a user meets it: the page loads without a console
// error and lists every operator of both networks; its JSON API says what `din status --json` says; a cloud
// taken down with `din chaos` shows as down within 10 s without a reload; the next epoch's slash shows on
// the operator's page with its evidence and transaction; no view overflows at 1280 px or 390 px. Each view
// is screenshotted into the test's data dir; DIN_UPDATE_SCREENSHOT=1 also writes the README's network map.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NetworkMap, OperatorPage } from "../../src/dashboard/types.js";
import type { StatusReport } from "../../src/devnet/status.js";
import { launchChromium } from "../support/browser.js";
import { ensureSystemPackages } from "../support/systemPackages.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../bin/din.mjs");
const readmeScreenshot = join(import.meta.dirname, "../../docs/dashboard-network-map.png");

type Ready = {
  gateway: string;
  dashboard: string;
  networks: Array<{ name: string; rpc: string }>;
  operators: Array<{ id: string; network: string; cloud: string; address: string }>;
};

const VIEWS = [
  ["network", "Network map"],
  ["operator/ethereum-aws-us-east-1", "ethereum-aws-us-east-1"],
  ["epochs", "Epochs"],
  ["risk", "Stake & risk"],
  ["governance", "Governance"],
] as const;

describe("the dashboard in a browser", () => {
  let child: ChildProcess;
  let browser: Browser;
  let page: Page;
  let ready: Ready;
  const problems: string[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "din-dashboard-"));
  const screenshots = join(dataDir, "screenshots");
  let traffic: NodeJS.Timeout | undefined;
  /** The ledger epoch when aws went down, and the aws operator whose page shows its slash. */
  let chaosEpoch = 0n;
  let slashed = "";

  const din = async (...args: string[]) =>
    (await run(process.execPath, [bin, ...args, "--data-dir", dataDir], { timeout: 60_000 })).stdout;
  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${ready.gateway}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  /** Opens a view the way a user does: by following a link inside the page (a hash change, no reload). */
  const showView = async (view: string, heading: string) => {
    await page.evaluate((hash) => {
      location.hash = hash;
    }, `#/${view}`);
    await page.getByRole("heading", { level: 1, name: heading }).waitFor();
    await page.waitForFunction(() => document.querySelector("[aria-busy=true]") === null, undefined, {
      timeout: 30_000,
    });
  };

  beforeAll(async () => {
    ensureSystemPackages(["chromium"]); // before starting a network it could not show
    mkdirSync(screenshots, { recursive: true });
    child = spawn(
      process.execPath,
      [bin, "up", "--json", "--port", "0", "--data-dir", dataDir, "--block-time", "500"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    ready = await new Promise<Ready>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line) as Ready));
      child.once("exit", (code) => reject(new Error(`din up exited (${code}): ${stderr}`)));
    });
    // A little traffic through the gateway, so the map has shares of it to show.
    traffic = setInterval(() => {
      for (const network of ready.networks) {
        fetch(network.rpc, {
          method: "POST",
          headers: { "content-type": "application/json" },
          // A balance of a fresh address at the head: not in the cache, so an operator answers it.
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "eth_getBalance",
            params: [`0x${randomBytes(20).toString("hex")}`, "latest"],
          }),
        }).catch(() => undefined);
      }
    }, 200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  }, 180_000);

  afterAll(async () => {
    clearInterval(traffic);
    await browser?.close();
    if (child && child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          resolve(undefined);
        }, 20_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  }, 60_000);

  it("is in din up's ready line, loads with no console error and lists every operator of both networks", async () => {
    expect(ready.dashboard).toBe(`${ready.gateway}/dashboard`);
    const started = Date.now();
    await page.goto(ready.dashboard);
    await page
      .locator("[data-operator]")
      .nth(ready.operators.length - 1)
      .waitFor();
    const listed = await page
      .locator("[data-operator]")
      .evaluateAll((cards) =>
        cards.map((c) => `${c.getAttribute("data-network")}/${c.getAttribute("data-operator")}`),
      );
    expect(listed.sort()).toEqual(ready.operators.map((o) => `${o.network}/${o.id}`).sort());
    expect(new Set(ready.operators.map((o) => o.network))).toEqual(new Set(["ethereum", "polygon"]));
    process.stderr.write(
      `dashboard: every operator listed ${Date.now() - started} ms after the page was asked for\n`,
    );
    expect(problems).toEqual([]);
  });

  it("answers through its JSON API the same numbers as din status --json", async () => {
    const pick = (report: StatusReport) =>
      report.networks.flatMap((n) =>
        n.operators.map((o) => ({
          network: n.name,
          id: o.id,
          address: o.address,
          cloud: o.cloud,
          region: o.region,
          stake: o.stake,
          allocated: o.allocated,
          jailed: o.jailed,
          rewards: o.rewards,
          slashes: o.slashes,
          lastEpoch: o.lastEpoch,
        })),
      );
    // Both read the ledger; an epoch finalized between the two reads (during the next epoch, so the
    // current epoch need not change) changes lastEpoch, so read again then.
    let attempts = 0;
    for (;;) {
      attempts++;
      const cli = JSON.parse(await din("status", "--json")) as StatusReport;
      const { status, body } = await api<StatusReport>("/dashboard/api/status");
      expect(status).toBe(200);
      const same =
        cli.ledger?.epoch === body.ledger?.epoch && JSON.stringify(pick(body)) === JSON.stringify(pick(cli));
      if (same || attempts === 3) {
        expect(pick(body)).toEqual(pick(cli));
        expect(body.slashes).toEqual(cli.slashes);
        break;
      }
    }
    // The map and the operator page carry the same figures.
    const map = (await api<NetworkMap>("/dashboard/api/network")).body;
    const status = (await api<StatusReport>("/dashboard/api/status")).body;
    for (const network of status.networks) {
      for (const o of network.operators) {
        const shown = map.networks
          .find((n) => n.name === network.name)!
          .clouds.flatMap((c) => c.regions.flatMap((r) => r.operators))
          .find((x) => x.id === o.id)!;
        expect({ stake: shown.stake, allocated: shown.allocated, jailed: shown.jailed }).toEqual({
          stake: o.stake,
          allocated: o.allocated,
          jailed: o.jailed,
        });
      }
    }
    const aws = ready.operators.find((o) => o.id === "ethereum-aws-us-east-1")!;
    const byAddress = await api<OperatorPage>(`/dashboard/api/operators/${aws.address.toLowerCase()}`);
    expect(byAddress.status).toBe(200);
    expect(byAddress.body.id).toBe(aws.id);
    expect(byAddress.body.networks[0]!.operator.allocated).toBe(
      status.networks[0]!.operators.find((o) => o.id === aws.id)!.allocated,
    );

    // Bad input gets a JSON error saying what is wrong; the gateway goes on serving.
    for (const [path, code] of [
      ["/dashboard/api/operators/nobody", 404],
      ["/dashboard/api/epochs?limit=0", 400],
      ["/dashboard/api/epochs?network=solana", 400],
      ["/dashboard/api/risk?x=%00", 400],
      ["/dashboard/api/transactions/0xzz", 400],
    ] as const) {
      const response = await fetch(`${ready.gateway}${path}`);
      const text = await response.text();
      expect(response.status, path).toBe(code);
      expect((JSON.parse(text) as { error: string }).error, path).toBeTruthy();
      expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
    }
    expect((await fetch(`${ready.gateway}/healthz`)).status).toBe(200);
  });

  it("din dashboard serves the same network from its deployment file and the ledger's RPC", async () => {
    const state = JSON.parse(await din("status", "--json")) as StatusReport;
    const dashboard = spawn(
      process.execPath,
      [
        bin,
        "dashboard",
        "--deployment",
        join(dataDir, "ledger", "deployment.json"),
        "--rpc",
        state.ledger!.rpc,
        "--gateway",
        ready.gateway,
        "--port",
        "0",
        "--json",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: dashboard.stdout! }).once("line", (line) =>
          resolve((JSON.parse(line) as { dashboard: string }).dashboard),
        );
        dashboard.once("exit", (code) => reject(new Error(`din dashboard exited (${code})`)));
      });
      const map = (await (await fetch(`${url}/api/network`)).json()) as NetworkMap;
      const operators = map.networks.flatMap((n) =>
        n.clouds.flatMap((c) => c.regions.flatMap((r) => r.operators)),
      );
      // Not din up's ids (it does not run this network): the ledger's addresses.
      expect(operators.map((o) => o.address).sort()).toEqual(ready.operators.map((o) => o.address).sort());
      expect(operators.every((o) => o.health !== "unobserved")).toBe(true);
      expect((await fetch(url)).headers.get("content-type")).toContain("text/html");
    } finally {
      dashboard.kill("SIGINT");
    }
  });

  it("shows aws's operators down within 10 s of din chaos, without a reload", async () => {
    await showView("network", "Network map");
    // A reload would lose this mark.
    await page.evaluate(() => {
      (window as unknown as { unreloaded: boolean }).unreloaded = true;
    });
    // An operator the ledger jailed before (a slow first epoch on a loaded machine) gets no traffic and is
    // shown jailed; every other aws operator must turn down.
    const before = (await api<NetworkMap>("/dashboard/api/network")).body;
    const operators = before.networks.flatMap((n) =>
      n.clouds.flatMap((c) => c.regions.flatMap((r) => r.operators)),
    );
    const aws = operators.filter((o) => o.cloud === "aws");
    expect(aws).toHaveLength(4);
    const routed = aws.filter((o) => !o.jailed);
    expect(routed.length).toBeGreaterThan(0);
    chaosEpoch = BigInt(before.ledger!.epoch);
    slashed = routed.find((o) => o.network === "ethereum")?.id ?? routed[0]!.id;
    await din("chaos", "--cloud", "aws", "--mode", "down");
    const started = Date.now();
    await page.waitForFunction(
      (ids) =>
        ids.every((id) => {
          const card = document.querySelector(`[data-operator="${id}"]`);
          const badge = card?.querySelector("[data-health]");
          // Down in words, not only in colour.
          return badge?.getAttribute("data-health") === "unhealthy" && /down/.test(badge.textContent ?? "");
        }),
      routed.map((o) => o.id),
      { timeout: 10_000, polling: 100 },
    );
    const elapsed = Date.now() - started;
    process.stderr.write(`dashboard: aws operators shown down ${elapsed} ms after din chaos returned\n`);
    expect(elapsed).toBeLessThan(10_000);
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
    const others = await page
      .locator("[data-cloud]:not([data-cloud=aws]) [data-health]")
      .evaluateAll((badges) => badges.map((b) => b.getAttribute("data-health")));
    expect(others.length).toBe(6);
    expect(others.every((h) => h !== "unhealthy")).toBe(true);
    expect(problems).toEqual([]);
  }, 30_000);

  it("shows the slash the next epoch queues on the operator's page, with its evidence and transaction", async () => {
    const id = slashed;
    await showView(`operator/${id}`, id);
    const started = Date.now();
    // A slash for an epoch the outage covered, not one from before it.
    const found = await page.waitForFunction(
      (from) =>
        [...document.querySelectorAll("[data-slash]")]
          .find((s) => BigInt(s.getAttribute("data-epoch") || "-1") >= BigInt(from))
          ?.getAttribute("data-slash"),
      chaosEpoch.toString(),
      { timeout: 120_000, polling: 250 },
    );
    const slash = page.locator(`[data-slash="${await found.jsonValue()}"]`);
    process.stderr.write(
      `dashboard: slash shown ${Date.now() - started} ms after the operator page opened\n`,
    );
    const text = (await slash.textContent()) ?? "";
    expect(text).toMatch(/Slash #\d+/);
    expect(text).toMatch(/Evidence: epoch \d+ median/);
    expect(await slash.locator("a", { hasText: "queued" }).getAttribute("href")).toMatch(
      /^\/dashboard\/api\/transactions\/0x[0-9a-f]{64}$/,
    );
    // The page says what the API says, and the link leads to the ledger's record of the transaction.
    const { body } = await api<OperatorPage>(`/dashboard/api/operators/${id}`);
    const shown = body.slashes.find((s) => text.includes(`Slash #${s.id}`))!;
    expect(["queued", "executed"]).toContain(shown.status);
    expect(shown.evidence.epoch).not.toBeNull();
    expect(shown.evidence.watchers.length).toBeGreaterThan(0);
    const transaction = await api<{ hash: string; status: string }>(
      `/dashboard/api/transactions/${shown.transactions.queued}`,
    );
    expect(transaction.body).toMatchObject({ hash: shown.transactions.queued, status: "success" });
    expect(problems).toEqual([]);
  }, 150_000);

  it("draws the last din drill report's windows on the stake and risk view", async () => {
    await showView("risk", "Stake & risk");
    expect(await page.getByRole("heading", { name: "Last drill" }).isVisible()).toBe(true);
    expect(await page.getByText(/no drill has been run on this network yet/).isVisible()).toBe(true);
    // The restaking panel: what corrupting each network costs, as din risk says it.
    expect(await page.getByText(/^corrupting ethereum takes 1\/3 of its stake/).isVisible()).toBe(true);
    await din(
      "drill",
      "--cloud",
      "gcp",
      "--duration",
      "6s",
      "--rate",
      "20/s",
      "--verdict-wait",
      "1s",
      "--json",
    );
    // The view refreshes on the next ledger block; the report's charts and table appear without a reload.
    await page.getByRole("img", { name: /Availability per window/ }).waitFor({ timeout: 15_000 });
    await page.getByRole("img", { name: /p99 latency per window/ }).waitFor();
    const windows = await page.getByRole("region", { name: "Drill windows" }).locator("tbody tr").count();
    expect(windows).toBeGreaterThan(0);
    expect(await page.getByText(/cloud gcp down, 20 requests\/s for 6 s/).isVisible()).toBe(true);
    expect(problems).toEqual([]);
  }, 90_000);

  it("is usable by keyboard, and no view overflows at 1280 px or 390 px (screenshots in the data dir)", async () => {
    // From the skip link at the top, Tab reaches the views' links in order; Enter follows one.
    await showView("network", "Network map");
    await page.getByRole("button", { name: "Skip to content" }).focus();
    let focused = "";
    for (let i = 0; i < 10 && focused !== "Governance"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    }
    expect(focused).toBe("Governance");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Governance" }).waitFor();

    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      for (const [view, heading] of VIEWS) {
        await showView(view, heading);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${view} at ${width} px`).toBeLessThanOrEqual(0);
        await page.screenshot({
          path: join(screenshots, `${width}-${view.replace("/", "-")}.png`),
          fullPage: true,
        });
      }
    }
    if (process.env.DIN_UPDATE_SCREENSHOT === "1") {
      await page.setViewportSize({ width: 1280, height: 800 });
      await showView("network", "Network map");
      const file = join(screenshots, "readme-network-map.png");
      await page.screenshot({ path: file });
      copyFileSync(file, readmeScreenshot);
    }
    process.stderr.write(`dashboard: screenshots in ${screenshots}\n`);
    expect(problems).toEqual([]);
  }, 120_000);
});
