// `din operator metadata`: writes an operator's metadata.json as EigenLayer reads it (the file its metadata
// URI points to), or checks one — a file or a published URL — against EigenLayer's rules.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { metadataDataUri } from "../ledger/din/deploy.js";
import {
  loadOperatorMetadata,
  OperatorMetadataError,
  type OperatorProfile,
  validateOperatorMetadata,
} from "../ledger/din/operatorMetadata.js";
import { LedgerActionError } from "../ledger/din/perform.js";
import { runLedgerCommand } from "./ledger.js";

type MetadataFlags = {
  check?: string;
  name?: string;
  website?: string;
  description?: string;
  logo?: string;
  twitter?: string;
  out: string;
  json: boolean;
};

/** Adds `din operator metadata` to the `operator` command. */
export function registerOperatorMetadataCommand(program: Command): void {
  const operator =
    program.commands.find((c) => c.name() === "operator") ??
    program.command("operator").description("run and manage an operator node");
  operator
    .command("metadata")
    .description("write your metadata.json as EigenLayer reads it, or --check one (a file or its URL)")
    .option("--check <fileOrUrl>", "validate an existing metadata.json instead of writing one")
    .option("--name <name>", "your name as stakers see it")
    .option("--website <url>", "your website")
    .option("--description <text>", "what you run, in at most 200 characters")
    .option("--logo <url>", "public https URL of your logo, a PNG")
    .option("--twitter <url>", "your profile on x.com or twitter.com")
    .option("--out <file>", "where to write it", "metadata.json")
    .option("--json", "print one JSON document", false)
    .action(async (flags: MetadataFlags) => {
      await runLedgerCommand(
        flags,
        async () => {
          try {
            if (flags.check !== undefined) {
              const metadata = await loadOperatorMetadata(flags.check);
              return { metadata, summary: `${flags.check} is valid operator metadata (${metadata.name})` };
            }
            const metadata = validateOperatorMetadata({
              name: flags.name ?? "",
              description: flags.description ?? "",
              logo: flags.logo ?? "",
              ...(flags.website !== undefined ? { website: flags.website } : {}),
              ...(flags.twitter !== undefined ? { twitter: flags.twitter } : {}),
            });
            writeFileSync(flags.out, `${JSON.stringify(metadata, null, 2)}\n`);
            return {
              metadata,
              file: flags.out,
              dataUri: metadataDataUri(metadata),
              summary: `wrote ${flags.out}; publish it at a public URL and pass that URL as --metadata-uri to din operator register (a devnet also takes the file's data: URI, --json prints it)`,
            };
          } catch (error) {
            if (error instanceof OperatorMetadataError) throw new LedgerActionError(error.message);
            throw error;
          }
        },
        (result: { summary: string; metadata: OperatorProfile }) => result.summary,
      );
    });
}
