// The README's walkthrough as a test runs it: the ```sh block after the `<!-- walkthrough … -->` marker,
// one command per line, comments dropped, `npx din` and the `.din/` data dir replaced by the caller's.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface WalkthroughCommand {
  /** The line as README.md writes it (without its comment). */
  line: string;
  /** The `din` arguments, `.din/` replaced by `dataDir` (and `--data-dir dataDir` appended). */
  args: string[];
  /** What the README says the command shows (its comment, continued on the lines below it). */
  promise: string;
}

export function readWalkthrough(dataDir: string): WalkthroughCommand[] {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const marker = readme.indexOf("<!-- walkthrough");
  if (marker === -1) throw new Error("README.md has no <!-- walkthrough --> marker");
  const open = readme.indexOf("```sh\n", marker);
  const close = readme.indexOf("\n```", open + 6);
  const commands: WalkthroughCommand[] = [];
  for (const raw of readme.slice(open + 6, close).split("\n")) {
    const hash = raw.indexOf("#");
    const code = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    const comment = hash === -1 ? "" : raw.slice(hash + 1).trim();
    if (code === "") {
      const last = commands.at(-1);
      if (last && comment) last.promise += ` ${comment}`;
      continue;
    }
    const words = code.split(/\s+/);
    if (words[0] !== "npx" || words[1] !== "din") throw new Error(`not a din command: ${code}`);
    const args = words.slice(2).map((word) => word.replace(/^\.din\//, `${dataDir}/`));
    commands.push({ line: code, args: [...args, "--data-dir", dataDir], promise: comment });
  }
  return commands;
}
