// npm run build:contracts [-- --force]: compile contracts/ into src/ledger/artifacts/ when they changed.
import { buildContracts, ContractCompileError } from "../src/ledger/build.js";

try {
  const result = buildContracts({ force: process.argv.includes("--force") });
  if (!result.compiled) console.error(`contracts up to date (${result.contracts.length} artifacts)`);
} catch (error) {
  if (error instanceof ContractCompileError) {
    console.error(error.format());
    process.exit(1);
  }
  throw error;
}
