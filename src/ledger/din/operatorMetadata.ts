// An operator's public profile as EigenLayer reads it: the metadata.json its metadata URI points to (name,
// website, description, logo, twitter), shown by EigenLayer's apps and ours. EigenLayer's rules: a name and a
// description (at most 200 characters) are required, the logo is a public https URL of a PNG image (no SVG:
// it can carry scripts), website and twitter are optional public URLs (twitter on twitter.com or x.com),
// and no URL may point at a local server.
import { readFileSync } from "node:fs";
import { z } from "zod";

const MAX_URL = 1024;

/** The URL, or undefined when it does not parse (each check below reports only its own rule). */
function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function publicUrl(what: string) {
  return z
    .string()
    .max(MAX_URL, `${what} is longer than ${MAX_URL} characters`)
    .refine((value) => {
      const url = parseUrl(value);
      return url !== undefined && (url.protocol === "https:" || url.protocol === "http:");
    }, `${what} must be an http(s) URL`)
    .refine((value) => {
      const host = parseUrl(value)?.hostname ?? "";
      return !(host === "localhost" || host.startsWith("127.") || host === "[::1]" || host === "0.0.0.0");
    }, `${what} must be public, not a local server`);
}

const text = (what: string, max: number) =>
  z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(max, `${what} must be at most ${max} characters`)
    .refine((value) => !/[<>]/.test(value), `${what} must be plain text (no < or >)`);

export const operatorMetadataSchema = z
  .object({
    name: text("name", 200),
    website: publicUrl("website").optional().or(z.literal("")),
    description: text("description", 200),
    logo: publicUrl("logo").refine(
      (value) => parseUrl(value)?.pathname.toLowerCase().endsWith(".png") === true,
      "logo must be a PNG image (a URL ending in .png)",
    ),
    twitter: publicUrl("twitter")
      .refine((value) => {
        const url = parseUrl(value);
        return (
          url !== undefined &&
          /^(www\.)?(twitter|x)\.com$/.test(url.hostname) &&
          /^\/\w+\/?$/.test(url.pathname)
        );
      }, "twitter must be a profile URL on twitter.com or x.com")
      .optional()
      .or(z.literal("")),
  })
  .strict();
export type OperatorProfile = z.infer<typeof operatorMetadataSchema>;

/** A metadata.json that breaks EigenLayer's rules; the message says which field and why. */
export class OperatorMetadataError extends Error {
  override name = "OperatorMetadataError";
}

/** Validates a profile; returns it normalized (trimmed, optional fields dropped when empty). */
export function validateOperatorMetadata(raw: unknown): OperatorProfile {
  const parsed = operatorMetadataSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new OperatorMetadataError(`invalid operator metadata: ${problems.join("; ")}`);
  }
  const { website, twitter, ...rest } = parsed.data;
  return { ...rest, ...(website ? { website } : {}), ...(twitter ? { twitter } : {}) };
}

/** Reads and validates a metadata.json from a file or an http(s) URL (what a metadata URI points to). */
export async function loadOperatorMetadata(source: string): Promise<OperatorProfile> {
  let body: string;
  if (/^https?:\/\//.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      throw new OperatorMetadataError(`cannot fetch ${source}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new OperatorMetadataError(`${source} answered HTTP ${response.status}`);
    body = await response.text();
  } else {
    try {
      body = readFileSync(source, "utf8");
    } catch (error) {
      throw new OperatorMetadataError(`cannot read ${source}: ${(error as Error).message}`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new OperatorMetadataError(`${source} is not JSON`);
  }
  return validateOperatorMetadata(raw);
}
