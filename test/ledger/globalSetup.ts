// vitest globalSetup: rebuilds the contract artifacts before any test runs, when contracts/ changed.
import { buildContracts } from "../../src/ledger/build.js";

export function setup(): void {
  buildContracts({ quiet: true });
}
