// node bin/run-ts.mjs scripts/deploy-din.ts --rpc <url> [--preset devnet|production] [--out din.json]
//   [--guardian 0x…] [--strategies 0x…,0x…] [--fee-token 0x…] [--watchers 0x…,…] [--gateways 0x…,…]
// Deploys the restaking core, the DIN service and its governance to any RPC URL with the deployer key in
// DIN_DEPLOYER_KEY, and writes the addresses to a JSON file. Production needs strategies and a fee token.
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { buildContracts } from "../src/ledger/build.js";
import { DIN_PRESETS, deployDin } from "../src/ledger/din/deploy.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const addresses = (value: string | undefined): Address[] | undefined =>
  value ? value.split(",").map((a) => getAddress(a.trim())) : undefined;

const rpc = option("rpc");
const key = process.env.DIN_DEPLOYER_KEY as Hex | undefined;
const preset = (option("preset") ?? "devnet") as keyof typeof DIN_PRESETS;
if (!rpc || !key || !(preset in DIN_PRESETS)) {
  console.error(
    "usage: DIN_DEPLOYER_KEY=0x… node bin/run-ts.mjs scripts/deploy-din.ts --rpc <url> [--preset devnet|production] [--out din.json] [--guardian 0x…] [--strategies 0x…,…] [--fee-token 0x…] [--watchers 0x…,…] [--gateways 0x…,…]",
  );
  process.exit(2);
}

buildContracts({ quiet: true });
const probe = createPublicClient({ transport: http(rpc) });
const chain = defineChain({
  id: await probe.getChainId(),
  name: "ledger",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [rpc] } },
});
const account = privateKeyToAccount(key);
const clients = {
  wallet: createWalletClient({ account, chain, transport: http(rpc) }),
  public: createPublicClient({ chain, transport: http(rpc) }),
};
const out = option("out") ?? "din-deployment.json";
const feeToken = option("fee-token");
const deployment = await deployDin(clients, {
  preset,
  out,
  guardian: addresses(option("guardian"))?.[0],
  strategies: addresses(option("strategies")),
  feeToken: feeToken ? getAddress(feeToken) : undefined,
  watchers: addresses(option("watchers")),
  gateways: addresses(option("gateways")),
});
console.error(`deployed the DIN service (${preset}) on chain ${deployment.chainId}; addresses in ${out}`);
console.log(JSON.stringify(deployment.addresses));
