// vitest globalSetup: builds the dashboard page from its current sources, so the browser tests never test a
// stale build.
import { fileURLToPath } from "node:url";
import { build } from "vite";

export async function setup(): Promise<void> {
  await build({
    configFile: fileURLToPath(new URL("../../web/dashboard/vite.config.ts", import.meta.url)),
    logLevel: "error",
  });
}
