// `din keys …` and `din usage`: clients of a gateway's admin API. With `--data-dir` (default .din/) they
// find the running `din up` and its admin token; with `--gateway` they talk to any gateway, the token
// coming from `--admin-token-file` or DIN_ADMIN_TOKEN.
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { adminTokenFile } from "../devnet/keys.js";
import { defaultDataDir, readNetworkState } from "../devnet/state.js";
import { alignColumns } from "../devnet/statusText.js";
import type { KeyView } from "../gateway/keys/admin.js";
import type { UsageRow } from "../gateway/keys/store.js";

interface AdminFlags {
  dataDir: string;
  gateway?: string;
  adminTokenFile?: string;
  json: boolean;
}

interface AdminTarget {
  url: string;
  token: string;
}

/** Something the admin API refused, with its problems; printed without a stack trace. */
export class AdminRequestError extends Error {
  override name = "AdminRequestError";
}

function adminTarget(flags: AdminFlags): AdminTarget {
  if (flags.gateway !== undefined) {
    const token = flags.adminTokenFile
      ? readFileSync(flags.adminTokenFile, "utf8").trim()
      : process.env.DIN_ADMIN_TOKEN;
    if (!token)
      throw new AdminRequestError("give the admin token with --admin-token-file or DIN_ADMIN_TOKEN");
    return { url: flags.gateway.replace(/\/$/, ""), token };
  }
  const state = readNetworkState(flags.dataDir);
  let token: string;
  try {
    token = readFileSync(flags.adminTokenFile ?? adminTokenFile(flags.dataDir), "utf8").trim();
  } catch (error) {
    throw new AdminRequestError(
      `cannot read the admin token of ${flags.dataDir}: ${(error as Error).message}`,
    );
  }
  return { url: state.gateway, token };
}

async function callAdmin<T>(target: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new AdminRequestError(`cannot reach the gateway at ${target.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new AdminRequestError(
      `the gateway answered HTTP ${response.status} with something that is not JSON`,
    );
  }
  if (!response.ok) {
    const error = (json as { error?: { message?: string; problems?: string[] } }).error;
    const problems = error?.problems?.length ? `\n${error.problems.map((p) => `  - ${p}`).join("\n")}` : "";
    throw new AdminRequestError(`${error?.message ?? `HTTP ${response.status}`}${problems}`);
  }
  return json as T;
}

function withAdminOptions(command: Command): Command {
  return command
    .option("--data-dir <dir>", "data dir of the running `din up` whose gateway to manage", defaultDataDir)
    .option("--gateway <url>", "manage this gateway instead (e.g. http://127.0.0.1:8545)")
    .option("--admin-token-file <file>", "file holding the admin token (default: <data-dir>/admin-token)")
    .option("--json", "print one JSON document", false);
}

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError("expected an integer ≥ 0");
  return number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "unlimited" as a number: commander turns a parser's `null` into an empty string. */
const unlimited = -1;

function limitValue(value: string): number {
  if (value === "unlimited") return unlimited;
  return nonNegativeInteger(value);
}

const asLimit = (value: unknown): number | null => (value === unlimited ? null : (value as number));

function yesNo(value: string): boolean {
  if (value === "yes" || value === "true") return true;
  if (value === "no" || value === "false") return false;
  throw new InvalidArgumentError("expected yes or no");
}

function run(action: (flags: AdminFlags & Record<string, unknown>, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = command.opts() as AdminFlags & Record<string, unknown>;
    try {
      await action(flags, ...(args.slice(0, -2) as string[]));
    } catch (error) {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}

function print(flags: AdminFlags, value: unknown, human: string): void {
  process.stdout.write(`${flags.json ? JSON.stringify(value) : human}\n`);
}

/** A project's name by id, as the admin API lists projects; the id itself when it is not found. */
async function projectNameOf(target: Parameters<typeof callAdmin>[0], id: string): Promise<string> {
  const { projects } = await callAdmin<{ projects: Array<{ id: string; name: string }> }>(
    target,
    "GET",
    "/admin/projects",
  );
  return projects.find((project) => project.id === id)?.name ?? id;
}

function describeKey(key: KeyView, projectName?: string): string {
  const limits = [
    `${key.limits.creditsPerSecond ?? "∞"} credits/s`,
    `${key.limits.creditsPerDay ?? "∞"} credits/day`,
  ].join(", ");
  const lists = Object.entries(key.allowlists)
    .filter(([, entries]) => entries.length > 0)
    .map(([rule, entries]) => `    ${rule}: ${entries.join(", ")}`);
  return [
    `key        ${key.key}`,
    `project    ${projectName !== undefined && projectName !== key.project ? `${projectName} (${key.project})` : key.project}`,
    `name       ${key.name}`,
    `status     ${key.status}${key.revokedAt ? ` (${key.status === "revoked" ? "since" : "until"} ${key.revokedAt})` : ""}${key.rotatedTo ? `, rotated to ${key.rotatedTo}` : ""}`,
    `secret     ${key.hasSecret ? (key.secretRequired ? "yes, required" : "yes") : "no"}`,
    `jwt        ${key.jwtRequired ? `required (${key.jwtPublicKeys.map((k) => k.id).join(", ")})` : "no"}`,
    `limits     ${limits}`,
    `allowlists ${lists.length ? `\n${lists.join("\n")}` : "none"}`,
    `created    ${key.createdAt}`,
  ].join("\n");
}

export function registerKeysCommands(program: Command): void {
  const keys = program
    .command("keys")
    .description("API keys of a gateway: create, list, show, update, revoke, rotate")
    .addHelpText(
      "after",
      "\nA key is used as POST /v1/<network>/<key>. Examples:\n" +
        "  din keys create --project my-dapp --credits-per-second 100 --allow-origin https://app.example.com\n" +
        "  din keys list --json\n  din keys rotate <key> --grace-seconds 3600",
    );

  withAdminOptions(
    keys
      .command("create")
      .description("create a key (and its project, if new); a secret is shown once")
      .option("--project <name>", "project id or name (created when it does not exist)", "default")
      .option("--name <name>", "a label for the key", "default")
      .option("--secret", "issue a key secret (HTTP basic auth password; bypasses allowlists)", false)
      .option("--secret-required", "refuse requests that do not carry the secret", false)
      .option("--credits-per-second <n>", "credits per second (default: unlimited)", nonNegativeInteger)
      .option("--credits-per-day <n>", "credits per UTC day (default: unlimited)", nonNegativeInteger)
      .option("--allow-contract <address>", "contract allowlist entry (repeatable)", collect)
      .option(
        "--allow-origin <origin>",
        "origin allowlist entry, e.g. https://app.example.com (repeatable)",
        collect,
      )
      .option("--allow-user-agent <text>", "user-agent allowlist entry, a substring (repeatable)", collect)
      .option(
        "--allow-method <method>",
        "method allowlist entry, e.g. eth_call or eth_get* (repeatable)",
        collect,
      )
      .option(
        "--jwt-key <id=pem-file>",
        "public key (RSA or EC P-256 PEM) that signs JWTs (repeatable)",
        collect,
      )
      .option("--jwt-required", "refuse requests without a valid JWT (Authorization: Bearer)", false),
  ).action(
    run(async (flags) => {
      const target = adminTarget(flags);
      const project = String(flags.project);
      const projects = await callAdmin<{ projects: Array<{ id: string; name: string }> }>(
        target,
        "GET",
        "/admin/projects",
      );
      if (!projects.projects.some((p) => p.id === project || p.name === project)) {
        await callAdmin(target, "POST", "/admin/projects", { name: project });
      }
      const jwtPublicKeys = ((flags.jwtKey as string[] | undefined) ?? []).map((entry) => {
        const at = entry.indexOf("=");
        if (at <= 0) throw new AdminRequestError(`--jwt-key expects <id>=<pem-file>, got "${entry}"`);
        return { id: entry.slice(0, at), pem: readFileSync(entry.slice(at + 1), "utf8") };
      });
      const limits: Record<string, number> = {};
      if (flags.creditsPerSecond !== undefined) limits.creditsPerSecond = flags.creditsPerSecond as number;
      if (flags.creditsPerDay !== undefined) limits.creditsPerDay = flags.creditsPerDay as number;
      const created = await callAdmin<{ key: KeyView; secret?: string }>(target, "POST", "/admin/keys", {
        project,
        name: flags.name,
        secret: flags.secret || flags.secretRequired,
        secretRequired: flags.secretRequired,
        jwtRequired: flags.jwtRequired,
        jwtPublicKeys,
        limits,
        allowlists: {
          contracts: flags.allowContract ?? [],
          origins: flags.allowOrigin ?? [],
          userAgents: flags.allowUserAgent ?? [],
          methods: flags.allowMethod ?? [],
        },
      });
      print(
        flags,
        created,
        `${describeKey(created.key, await projectNameOf(target, created.key.project))}${created.secret ? `\nsecret     ${created.secret}   (shown once: store it now)` : ""}\n\nendpoint   ${target.url}/v1/<network>/${created.key.key}`,
      );
    }),
  );

  withAdminOptions(
    keys.command("list").description("list keys").option("--project <name>", "only this project's keys"),
  ).action(
    run(async (flags) => {
      const target = adminTarget(flags);
      const query = flags.project ? `?project=${encodeURIComponent(String(flags.project))}` : "";
      const listed = await callAdmin<{ keys: KeyView[] }>(target, "GET", `/admin/keys${query}`);
      const projects = await callAdmin<{ projects: Array<{ id: string; name: string }> }>(
        target,
        "GET",
        "/admin/projects",
      );
      const projectName = new Map(projects.projects.map((project) => [project.id, project.name]));
      // Newest first, every column as wide as its longest value, names in full.
      const newest = [...listed.keys].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const lines = alignColumns([
        ["key", "project", "name", "status", "created", "limits"],
        ...newest.map((key) => [
          key.key,
          projectName.get(key.project) ?? key.project,
          key.name,
          key.status,
          key.createdAt.slice(0, 19).replace("T", " "),
          `${key.limits.creditsPerSecond ?? "∞"}/s ${key.limits.creditsPerDay ?? "∞"}/day`,
        ]),
      ]);
      print(
        flags,
        listed,
        listed.keys.length ? lines.join("\n") : "no keys yet: din keys create --project <name>",
      );
    }),
  );

  withAdminOptions(
    keys
      .command("update")
      .description("change a key's limits, allowlists or requirements (each --allow-* replaces that list)")
      .argument("<key>", "the API key")
      .option("--name <name>", "a new label")
      .option("--credits-per-second <n>", "credits per second, or 'unlimited'", limitValue)
      .option("--credits-per-day <n>", "credits per UTC day, or 'unlimited'", limitValue)
      .option("--allow-contract <address>", "contract allowlist entry (repeatable)", collect)
      .option("--allow-origin <origin>", "origin allowlist entry (repeatable)", collect)
      .option("--allow-user-agent <text>", "user-agent allowlist entry (repeatable)", collect)
      .option("--allow-method <method>", "method allowlist entry (repeatable)", collect)
      .option("--clear-allowlists", "remove every allowlist (before any --allow-* given here)", false)
      .option("--secret-required <yes|no>", "refuse requests without the secret", yesNo)
      .option("--jwt-required <yes|no>", "refuse requests without a valid JWT", yesNo),
  ).action(
    run(async (flags, key) => {
      const target = adminTarget(flags);
      const path = `/admin/keys/${encodeURIComponent(key!)}`;
      const changes: Record<string, unknown> = {};
      if (flags.name !== undefined) changes.name = flags.name;
      if (flags.secretRequired !== undefined) changes.secretRequired = flags.secretRequired;
      if (flags.jwtRequired !== undefined) changes.jwtRequired = flags.jwtRequired;
      const limits: Record<string, number | null> = {};
      if (flags.creditsPerSecond !== undefined) limits.creditsPerSecond = asLimit(flags.creditsPerSecond);
      if (flags.creditsPerDay !== undefined) limits.creditsPerDay = asLimit(flags.creditsPerDay);
      if (Object.keys(limits).length > 0) changes.limits = limits;
      const given = {
        contracts: flags.allowContract as string[] | undefined,
        origins: flags.allowOrigin as string[] | undefined,
        userAgents: flags.allowUserAgent as string[] | undefined,
        methods: flags.allowMethod as string[] | undefined,
      };
      if (flags.clearAllowlists || Object.values(given).some((list) => list !== undefined)) {
        const current = flags.clearAllowlists
          ? { contracts: [], origins: [], userAgents: [], methods: [] }
          : (await callAdmin<{ key: KeyView }>(target, "GET", path)).key.allowlists;
        changes.allowlists = {
          contracts: given.contracts ?? current.contracts,
          origins: given.origins ?? current.origins,
          userAgents: given.userAgents ?? current.userAgents,
          methods: given.methods ?? current.methods,
        };
      }
      if (Object.keys(changes).length === 0)
        throw new AdminRequestError("nothing to change: see din keys update --help");
      const updated = await callAdmin<{ key: KeyView }>(target, "PATCH", path, changes);
      print(flags, updated, describeKey(updated.key, await projectNameOf(target, updated.key.project)));
    }),
  );

  withAdminOptions(
    keys.command("show").description("show one key's settings").argument("<key>", "the API key"),
  ).action(
    run(async (flags, key) => {
      const target = adminTarget(flags);
      const shown = await callAdmin<{ key: KeyView }>(
        target,
        "GET",
        `/admin/keys/${encodeURIComponent(key!)}`,
      );
      print(flags, shown, describeKey(shown.key, await projectNameOf(target, shown.key.project)));
    }),
  );

  withAdminOptions(
    keys
      .command("revoke")
      .description("revoke a key; every gateway refuses it within seconds")
      .argument("<key>", "the API key"),
  ).action(
    run(async (flags, key) => {
      const revoked = await callAdmin<{ key: KeyView }>(
        adminTarget(flags),
        "POST",
        `/admin/keys/${encodeURIComponent(key!)}/revoke`,
      );
      print(flags, revoked, `revoked ${revoked.key.key}`);
    }),
  );

  withAdminOptions(
    keys
      .command("rotate")
      .description("replace a key by a new one with the same settings (and a new secret, if it had one)")
      .argument("<key>", "the API key")
      .option("--grace-seconds <n>", "how long the old key keeps working", nonNegativeInteger, 0),
  ).action(
    run(async (flags, key) => {
      const target = adminTarget(flags);
      const rotated = await callAdmin<{ key: KeyView; secret?: string; previous: KeyView }>(
        target,
        "POST",
        `/admin/keys/${encodeURIComponent(key!)}/rotate`,
        { graceSeconds: flags.graceSeconds },
      );
      print(
        flags,
        rotated,
        `${describeKey(rotated.key, await projectNameOf(target, rotated.key.project))}${rotated.secret ? `\nsecret     ${rotated.secret}   (shown once: store it now)` : ""}\n\nold key ${rotated.previous.key} ${rotated.previous.status === "revoked" ? "is revoked" : `works until ${rotated.previous.revokedAt}`}`,
      );
    }),
  );

  withAdminOptions(
    program
      .command("usage")
      .description("requests, credits and errors per key, network, method and hour")
      .option("--key <key>", "only this key")
      .option("--project <name>", "only this project's keys")
      .option("--network <name>", "only this network")
      .option("--method <method>", "only this method")
      .option("--from <time>", "from this ISO time (inclusive), e.g. 2026-01-01T00:00:00Z")
      .option("--to <time>", "to this ISO time (exclusive)")
      .addOption(
        new Option(
          "--group-by <dimensions>",
          "comma-separated: key, project, network, method, hour, day",
        ).default("key,network,method,day"),
      ),
  ).action(
    run(async (flags) => {
      const query = new URLSearchParams();
      for (const name of ["key", "project", "network", "method", "from", "to", "groupBy"] as const) {
        const value = flags[name];
        if (typeof value === "string") query.set(name, value);
      }
      const usage = await callAdmin<{
        usage: UsageRow[];
        totals: { requests: number; credits: number; errors: number };
      }>(adminTarget(flags), "GET", `/admin/usage?${query}`);
      const dimensions = String(flags.groupBy).split(",").filter(Boolean) as Array<keyof UsageRow>;
      // Each column as wide as its longest value, so a long method or project name never shifts the rest.
      const width = (dimension: keyof UsageRow) =>
        Math.max(String(dimension).length, ...usage.usage.map((row) => String(row[dimension] ?? "").length));
      const lines = [
        [
          ...dimensions.map((d) => String(d).padEnd(width(d))),
          "requests".padStart(10),
          "credits".padStart(10),
          "errors".padStart(8),
        ].join(" "),
        ...usage.usage.map((row) =>
          [
            ...dimensions.map((d) => String(row[d] ?? "").padEnd(width(d))),
            String(row.requests).padStart(10),
            String(row.credits).padStart(10),
            String(row.errors).padStart(8),
          ].join(" "),
        ),
        `total: ${usage.totals.requests} requests, ${usage.totals.credits} credits, ${usage.totals.errors} errors`,
      ];
      print(flags, usage, lines.join("\n"));
    }),
  );
}
