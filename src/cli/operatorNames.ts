// How reading commands name operators: by name (the id a running `din up` gave it), with the ledger address
// only when asked (`--addresses`; `--json` always has it). An operator without a name is its address.
import type { Command } from "commander";
import { getAddress } from "viem";
import { readNetworkState } from "../devnet/state.js";

/** Operator names by checksummed address when the data dir is a running `din up` (and no --rpc names another ledger). */
export function operatorNames(flags: { rpc?: string; dataDir: string }): Record<string, string> {
  if (flags.rpc !== undefined) return {};
  try {
    const names: Record<string, string> = {};
    for (const o of readNetworkState(flags.dataDir).operators ?? [])
      if (o.address) names[getAddress(o.address)] = o.id;
    return names;
  } catch {
    return {};
  }
}

/** An operator as text: its name, `name (address)` with `addresses`, its address when it has no name. */
export function nameOperator(names: Record<string, string>, address: string, addresses = false): string {
  const name = names[getAddress(address)];
  if (name === undefined) return address;
  return addresses ? `${name} (${address})` : name;
}

/** Adds `--addresses` to a reading command. */
export function withAddressesOption(command: Command): Command {
  return command.option("--addresses", "print each operator's ledger address beside its name", false);
}
