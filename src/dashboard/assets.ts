// The page's files, built by Vite into dist/dashboard (npm install runs the build; so does npm run build):
// served from that folder only, by exact file name, never from a path a request makes up.
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const defaultAssetsDir = fileURLToPath(new URL("../../dist/dashboard/", import.meta.url));

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * Everything the page loads comes from the gateway itself: no CDN, and nothing a third party could change.
 * uPlot and Preact set inline styles, hence style-src's 'unsafe-inline'; scripts are the bundle's only.
 */
const pageHeaders: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** A file name the build writes: letters, digits, dots, dashes and underscores, not starting with a dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}$/;

/** Serves `name` (the index when undefined) from `dir`; answers 404 or 503 itself. */
export async function serveAsset(
  response: ServerResponse,
  dir: string,
  name: string | undefined,
): Promise<void> {
  const file = name === undefined ? "index.html" : name;
  if (!ASSET_NAME.test(file)) {
    response
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ error: "no such file" }));
    return;
  }
  const path = name === undefined ? join(dir, file) : join(dir, "assets", file);
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    if (name === undefined) {
      response
        .writeHead(503, { "content-type": "text/plain; charset=utf-8" })
        .end("The dashboard is not built: run `npm run build` (npm install does it) and reload.\n");
    } else {
      response
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "no such file" }));
    }
    return;
  }
  response
    .writeHead(200, {
      ...pageHeaders,
      "content-type": contentTypes[extname(file)] ?? "application/octet-stream",
      // Built files carry a content hash in their name; the page itself is always asked for afresh.
      "cache-control": name === undefined ? "no-cache" : "public, max-age=31536000, immutable",
    })
    .end(body);
}
