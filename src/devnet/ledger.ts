// The ledger of a local network: the DIN service deployed on the `ethereum` devnet with the devnet preset,
// stake tokens minted, every operator registered with its endpoint, labels, signing key and allocation,
// stakers who deposit and delegate, three watchers and the gateway admitted and staked. Every role gets its
// own key (derived from the devnet mnemonic, written to <dataDir>/keys/ with mode 0600) so the CLI can act
// as any of them, as it would in production.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Address, type Hex, type LocalAccount, toHex, zeroAddress, zeroHash } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  mockERC20Abi,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../ledger/artifacts/index.js";
import type { LedgerClients } from "../ledger/deploy.js";
import { writeCoreAddresses } from "../ledger/din/coreAddresses.js";
import { DEVNET_DIN_PARAMS, type DinDeployment, type DinNetwork } from "../ledger/din/deploy.js";
import { deployCoreAlone, deployDinOnCore } from "../ledger/din/deployCore.js";
import { ledgerClients } from "../ledger/din/directory.js";
import { encodeOperatorMetadata, GATEWAY_SET, signSignerProof, WATCHER_SET } from "../ledger/din/registry.js";
import { sendAndWait } from "../ledger/send.js";
import { HARDHAT_DEFAULT_MNEMONIC } from "./chain.js";

const WAD = 10n ** 18n;

/** A role's key on the devnet ledger. */
export type DevnetKey = { name: string; account: LocalAccount; privateKey: Hex; file: string };

/** An operator to register. */
export type DevnetOperatorPlan = {
  id: string;
  network: string;
  cloud: string;
  region: string;
  ledger: DevnetKey;
  signer: DevnetKey;
  /** Own stake deposited before registering (token units). */
  selfStake: bigint;
};

/** What the bootstrap produced. */
export type DevnetLedger = {
  rpc: string;
  chainId: number;
  deployment: DinDeployment;
  deploymentFile: string;
  keys: {
    deployer: DevnetKey;
    guardian: DevnetKey;
    gateway: DevnetKey;
    watchers: DevnetKey[];
    stakers: DevnetKey[];
  };
  /** Which staker delegated how much to which operator. */
  delegations: Array<{ staker: Address; operator: Address; amount: bigint }>;
};

/** Calls a devnet-only method (hardhat_*, evm_*) on a chain's own RPC, never through the gateway. */
export async function requestDevnetUrl(rpc: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpc, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(`${method} failed on ${rpc}: ${body.error.message ?? "unknown error"}`);
  return body.result;
}

/** Key indices on the devnet mnemonic: far above the genesis accounts the traffic generator uses. */
const KEY_BASE_INDEX = 1000;

/** Derives (and writes to `<dataDir>/keys/<name>.key`) the key of a named devnet role. */
/** Where `din up` keeps the key called `name`: `<dataDir>/keys/<name>.key`. */
export function devnetKeyFile(dataDir: string, name: string): string {
  return join(dataDir, "keys", `${name}.key`);
}

export function devnetKey(dataDir: string, name: string, index: number): DevnetKey {
  return mnemonicKey(dataDir, name, KEY_BASE_INDEX + index);
}

/**
 * The key of genesis account #`addressIndex` (funded on every devnet chain), written to
 * `<dataDir>/keys/<name>.key`: the accounts `din up` leaves to people.
 */
export function genesisAccountKey(dataDir: string, name: string, addressIndex: number): DevnetKey {
  return mnemonicKey(dataDir, name, addressIndex);
}

function mnemonicKey(dataDir: string, name: string, addressIndex: number): DevnetKey {
  const hd = mnemonicToAccount(HARDHAT_DEFAULT_MNEMONIC, { addressIndex });
  const secret = hd.getHdKey().privateKey;
  if (!secret) throw new Error(`cannot derive the devnet key ${name}`);
  const privateKey = toHex(secret);
  const file = devnetKeyFile(resolve(dataDir), name);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${privateKey}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { name, account: privateKeyToAccount(privateKey), privateKey, file };
}

/** Options of {@link bootstrapLedger}. */
export type BootstrapLedgerOptions = {
  dataDir: string;
  /** HTTP RPC of the ledger chain (the `ethereum` devnet). */
  rpc: string;
  chainId: number;
  /** The served networks with their chain ids (operator set ids follow the order). */
  networks: Array<{ name: string; chainId: number }>;
  /** Operators to register, with keys from {@link devnetKey}. */
  operators: DevnetOperatorPlan[];
  keys: DevnetLedger["keys"];
  /**
   * Starts the operators' nodes once the contracts exist (a node signs relays for the deployed slasher and
   * checks callers against the registry) and returns each operator's endpoint by id.
   */
  startOperators(deployment: DinDeployment): Promise<Map<string, string>>;
};

/**
 * Deploys the DIN service on the ledger chain and registers everyone. Automine is switched on for the
 * bootstrap (a hundred transactions would otherwise wait a block each) and back off at the end, so the
 * chain returns to its block time.
 */
export async function bootstrapLedger(options: BootstrapLedgerOptions): Promise<DevnetLedger> {
  const { rpc, chainId, keys } = options;
  const everyone = [
    keys.deployer,
    keys.guardian,
    keys.gateway,
    ...keys.watchers,
    ...keys.stakers,
    ...options.operators.map((o) => o.ledger),
  ];
  for (const key of everyone) {
    await requestDevnetUrl(rpc, "hardhat_setBalance", [key.account.address, toHex(10_000n * WAD)]);
  }
  await requestDevnetUrl(rpc, "evm_setAutomine", [true]);
  try {
    const clientsOf = (key: DevnetKey) => ledgerClients(rpc, chainId, key.account);
    const deployer = clientsOf(keys.deployer);
    const networks: DinNetwork[] = options.networks.map((n, i) => ({
      id: i + 1,
      name: n.name,
      chainId: BigInt(n.chainId),
      minStake: WAD,
    }));
    const ledgerDir = join(resolve(options.dataDir), "ledger");
    mkdirSync(ledgerDir, { recursive: true });
    const deploymentFile = join(ledgerDir, "deployment.json");
    // The same path as `din deploy --core-only` then `din deploy --eigenlayer core.json`: our core alone,
    // its addresses file, then the DIN service against it as against EigenLayer's deployed core.
    const core = await deployCoreAlone(deployer, {
      params: DEVNET_DIN_PARAMS.restaking,
      devnetTokens: true,
      rootGuardian: keys.guardian.account.address,
    });
    writeCoreAddresses(join(ledgerDir, "core.json"), core);
    const deployment = await deployDinOnCore(deployer, core, {
      preset: "devnet",
      guardian: keys.guardian.account.address,
      watchers: keys.watchers.map((w) => w.account.address),
      gateways: [keys.gateway.account.address],
      networks,
      // Ejection after the third executed slash on a network, not the second: an outage that a newcomer
      // makes with `din chaos` easily spans two epochs, and should cost stake and a jail, not the seat.
      // A 60-block veto window (a minute at the default block time) leaves a person at a terminal the
      // time to list queued slashes and veto one; the jail outlasts it, so an executed slash still jails.
      params: { slash: { ...DEVNET_DIN_PARAMS.slash, ejectAfter: 3, vetoWindow: 60, jailCooldown: 90 } },
      // Token holders are the stakers (2% of the supply each, enough together to reach the quorum); the
      // rest is the DAO's treasury in the timelock, and the deployer holds no votes.
      tokenAllocations: keys.stakers.map((staker) => ({
        holder: staker.account.address,
        amount: DEVNET_DIN_PARAMS.governance.tokenSupply / 50n,
      })),
      out: deploymentFile,
    });
    const d = deployment.addresses;
    const endpoints = await options.startOperators(deployment);
    const [stETH, rETH] = await Promise.all(
      d.strategies.map((strategy) =>
        deployer.public.readContract({
          address: strategy,
          abi: strategyBaseAbi,
          functionName: "underlyingToken",
        }),
      ),
    );
    const strategy = d.strategies[0] as Address;
    const token = stETH as Address;

    const deposit = async (clients: LedgerClients, amount: bigint) => {
      const me = clients.wallet.account.address;
      await sendAndWait(
        clients,
        { address: token, abi: mockERC20Abi, functionName: "mint", args: [me, amount] },
        { pollingInterval: 20 },
      );
      await sendAndWait(
        clients,
        { address: token, abi: mockERC20Abi, functionName: "approve", args: [d.strategyManager, amount] },
        { pollingInterval: 20 },
      );
      await sendAndWait(
        clients,
        {
          address: d.strategyManager,
          abi: strategyManagerAbi,
          functionName: "depositIntoStrategy",
          args: [strategy, token, amount],
        },
        { pollingInterval: 20 },
      );
    };
    /** Restaking operator with own stake, allocating half of it to `setId` and registering there. */
    const join_ = async (clients: LedgerClients, selfStake: bigint, setId: number, data: Hex) => {
      const me = clients.wallet.account.address;
      await sendAndWait(
        clients,
        {
          address: d.delegationManager,
          abi: delegationManagerAbi,
          functionName: "registerAsOperator",
          args: [zeroAddress, 0, `devnet:${me}`],
        },
        { pollingInterval: 20 },
      );
      await deposit(clients, selfStake);
      await sendAndWait(
        clients,
        {
          address: d.allocationManager,
          abi: allocationManagerAbi,
          functionName: "modifyAllocations",
          args: [
            me,
            [
              {
                operatorSet: { avs: d.registry, id: setId },
                strategies: d.strategies,
                newMagnitudes: d.strategies.map(() => WAD / 2n),
              },
            ],
          ],
        },
        { pollingInterval: 20 },
      );
      await sendAndWait(
        clients,
        {
          address: d.allocationManager,
          abi: allocationManagerAbi,
          functionName: "registerForOperatorSets",
          args: [me, { avs: d.registry, operatorSetIds: [setId], data }],
        },
        { pollingInterval: 20 },
      );
    };

    // Independent accounts go in parallel: each waits only for its own transactions.
    await Promise.all([
      ...options.operators.map((operator) => {
        const network = networks.find((n) => n.name === operator.network);
        if (!network)
          throw new Error(`operator ${operator.id} serves an unknown network ${operator.network}`);
        const clients = clientsOf(operator.ledger);
        const metadata = {
          endpoint: endpointOf(endpoints, operator.id),
          cloud: operator.cloud,
          region: operator.region,
          client: "hardhat/2.29",
          signer: operator.signer.account.address,
        };
        // The relay signing key consents to sign for this operator (the registry requires its proof).
        return signSignerProof(operator.signer.account, {
          registry: d.registry,
          chainId: clients.wallet.chain.id,
          operator: clients.wallet.account.address,
          networkId: network.id,
          endpoint: metadata.endpoint,
          deadline: BigInt(Math.floor(Date.now() / 1000)) + 365n * 86_400n,
        }).then((proof) =>
          join_(clients, operator.selfStake, network.id, encodeOperatorMetadata(metadata, proof)),
        );
      }),
      ...keys.watchers.map((w) => join_(clientsOf(w), 2n * WAD, WATCHER_SET, "0x")),
      join_(clientsOf(keys.gateway), 2n * WAD, GATEWAY_SET, "0x"),
    ]);

    // Stakers: each deposits and delegates to one operator (the first few operators of each network).
    const delegations: DevnetLedger["delegations"] = [];
    await Promise.all(
      keys.stakers.map(async (staker, i) => {
        const operator = options.operators[(i * 3) % options.operators.length];
        if (!operator) return;
        const amount = BigInt(20 + 10 * i) * WAD;
        const clients = clientsOf(staker);
        await deposit(clients, amount);
        await sendAndWait(
          clients,
          {
            address: d.delegationManager,
            abi: delegationManagerAbi,
            functionName: "delegateTo",
            args: [operator.ledger.account.address, { signature: "0x", expiry: 0n }, zeroHash],
          },
          { pollingInterval: 20 },
        );
        delegations.push({
          staker: staker.account.address,
          operator: operator.ledger.account.address,
          amount,
        });
      }),
    );
    // The gateway pays fees in the fee token; stakers get spare stETH and rETH to try `din stake deposit`.
    const gateway = clientsOf(keys.gateway);
    await sendAndWait(
      gateway,
      {
        address: d.feeToken,
        abi: mockERC20Abi,
        functionName: "mint",
        args: [keys.gateway.account.address, 1_000_000n * WAD],
      },
      { pollingInterval: 20 },
    );
    for (const staker of keys.stakers) {
      await sendAndWait(
        clientsOf(staker),
        {
          address: token,
          abi: mockERC20Abi,
          functionName: "mint",
          args: [staker.account.address, 100n * WAD],
        },
        { pollingInterval: 20 },
      );
      await sendAndWait(
        clientsOf(staker),
        {
          address: rETH as Address,
          abi: mockERC20Abi,
          functionName: "mint",
          args: [staker.account.address, 100n * WAD],
        },
        { pollingInterval: 20 },
      );
    }
    return { rpc, chainId, deployment, deploymentFile, keys, delegations };
  } finally {
    await requestDevnetUrl(rpc, "evm_setAutomine", [false]).catch(() => undefined);
  }
}

function endpointOf(endpoints: ReadonlyMap<string, string>, id: string): string {
  const endpoint = endpoints.get(id);
  if (!endpoint) throw new Error(`operator ${id} has no endpoint`);
  return endpoint;
}
