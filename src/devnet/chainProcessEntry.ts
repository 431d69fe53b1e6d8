// Stand-alone entry of a chain process, for tests and for running a chain without the CLI:
// node --import tsx src/devnet/chainProcessEntry.ts --name ethereum --chain-id 1337 [--traffic]
import { runChainProcess } from "./chainProcess.js";

await runChainProcess(process.argv.slice(2));
