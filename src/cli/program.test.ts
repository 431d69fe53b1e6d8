import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { program } from "./program.js";

/** Every command of the program, nested ones included, with its full name. */
function commandsOf(command: Command, prefix = "din"): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const name = `${prefix} ${sub.name()}`;
    return [{ name, command: sub }, ...commandsOf(sub, name)];
  });
}

describe("the din command", () => {
  it("documents every command in --help, without failing on any option's default", () => {
    const commands = commandsOf(program);
    expect(commands.length).toBeGreaterThan(20);
    for (const { name, command } of commands) {
      const help = command.helpInformation();
      expect(help, name).toMatch(/^Usage: /);
      expect(command.description(), `${name} has a description`).not.toBe("");
    }
  });
});
