import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Address, createPublicClient, createTestClient, custom } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetChain, startDevnetChain } from "../../src/devnet/chain.js";
import { delegationManagerAbi, mockERC20Abi, strategyBaseAbi } from "../../src/ledger/artifacts/index.js";
import { deployDin } from "../../src/ledger/din/deploy.js";
import { ledgerClients, readDeployment } from "../../src/ledger/din/directory.js";
import { loadSigningKey, SigningKeyError } from "../../src/ledger/din/signingKey.js";
import { devKey, din } from "../support/cli.js";

const WAD = 10n ** 18n;

describe("din operator ledger commands", () => {
  let chain: DevnetChain;
  let dir: string;
  let ledger: string[];
  let operator: Address;
  let deployerKeyFile: string;
  let signerKeyFile: string;
  const signer = privateKeyToAccount(devKey(19)).address;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "din-ledger-cli-"));
    chain = await startDevnetChain({ name: "ledger", chainId: 31337, blockTimeMs: 100 });
    // Each transaction mined at once: the deployment and the command's steps need no block wait.
    await createTestClient({ mode: "hardhat", transport: custom(chain.provider) }).setAutomine(true);
    const deployer = ledgerClients(chain.url, 31337, privateKeyToAccount(devKey(0)));
    const deploymentFile = join(dir, "deployment.json");
    const deployment = await deployDin(deployer, { keepDeployerRoles: true, out: deploymentFile });

    const operatorKey = devKey(6);
    operator = privateKeyToAccount(operatorKey).address;
    const keyFile = join(dir, "operator.key");
    writeFileSync(keyFile, `${operatorKey}\n`, { mode: 0o600 });
    signerKeyFile = join(dir, "signer.key");
    writeFileSync(signerKeyFile, `${devKey(19)}\n`, { mode: 0o600 });
    const token = await deployer.public.readContract({
      address: deployment.addresses.strategies[0] as Address,
      abi: strategyBaseAbi,
      functionName: "underlyingToken",
    });
    const hash = await deployer.wallet.writeContract({
      address: token,
      abi: mockERC20Abi,
      functionName: "mint",
      args: [operator, 10n * WAD],
    });
    await deployer.public.waitForTransactionReceipt({ hash });
    ledger = ["--rpc", chain.url, "--deployment", deploymentFile, "--key-file", keyFile];
    deployerKeyFile = join(dir, "deployer.key");
    writeFileSync(deployerKeyFile, `${devKey(0)}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await chain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers an operator, shows it in status, and refuses a second registration in one line", async () => {
    const register = [
      "operator",
      "register",
      ...ledger,
      "--network",
      "ethereum",
      "--endpoint",
      "https://eth.cli-op.example",
      "--cloud",
      "aws",
      "--region",
      "us-east-1",
      "--client",
      "geth/1.14",
      "--signer-key-file",
      signerKeyFile,
      "--deposit",
      "10",
      "--allocate",
      "0.5",
      "--metadata-uri",
      "https://cli-op.example/metadata.json",
    ];
    const first = await din([...register, "--json"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({
      dryRun: false,
      network: "ethereum",
      expectedStake: (5n * WAD).toString(),
    });
    expect(result.transactions).toHaveLength(5);

    const status = await din(["operator", "status", "--json", ...ledger.slice(0, 4), "--address", operator]);
    expect(status.code).toBe(0);
    const [ethereum] = JSON.parse(status.stdout).networks;
    expect(ethereum).toMatchObject({
      network: "ethereum",
      registered: true,
      allocatedStake: (5n * WAD).toString(),
      metadata: { endpoint: "https://eth.cli-op.example", cloud: "aws", region: "us-east-1", signer },
    });

    // As EigenLayer knows it: its metadata URI on the core, and the delays it lives with.
    const uri = await createPublicClient({ transport: custom(chain.provider) }).getContractEvents({
      address: readDeployment(ledger[3] as string).addresses.delegationManager,
      abi: delegationManagerAbi,
      eventName: "OperatorMetadataURIUpdated",
      args: { operator },
      fromBlock: 0n,
    });
    expect(uri.map((e) => e.args.metadataURI)).toEqual(["https://cli-op.example/metadata.json"]);
    const { delays } = JSON.parse(status.stdout);
    expect(delays).toMatchObject({ deallocationDelayBlocks: 300, withdrawalDelayBlocks: 300 });
    expect(delays.allocationDelay.isSet).toBe(true);
    const text = await din(["operator", "status", ...ledger.slice(0, 4), "--address", operator]);
    expect(text.stdout).toMatch(/delays: allocation .*; deallocation 300 blocks/);
    // Amounts with their tokens: stake in the strategies' tokens, rewards in the fee token.
    expect(text.stdout).toMatch(/ethereum +registered +stake 5 (stETH\+rETH|rETH\+stETH) \(min /);
    expect(text.stdout).toMatch(/rewards escrowed by the service for it and its delegators: 0 USDC /);

    const second = await din(register);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe("");
    expect(second.stderr).toBe("error: already registered on ethereum\n");
  });

  it("shows a staker's position without a key, by address, in text and JSON", async () => {
    const [rpc, deployment] = [ledger[1]!, ledger[3]!];
    const text = await din([
      "stake",
      "status",
      "--rpc",
      rpc,
      "--deployment",
      deployment,
      "--address",
      operator,
    ]);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^staker ${operator} at block \\d+: `));
    expect(text.stdout).toMatch(/strategy\s+in wallet\s+deposited \(shares\)/);
    expect(text.stdout).toContain("slashes that touched this position: none");
    expect(text.stdout).toMatch(/rewards: nothing to claim — /);

    const json = JSON.parse(
      (
        await din([
          "stake",
          "status",
          "--rpc",
          rpc,
          "--deployment",
          deployment,
          "--address",
          operator,
          "--json",
        ])
      ).stdout,
    );
    expect(json.address).toBe(operator);
    expect(json.positions.length).toBeGreaterThan(0);
    expect(json.positions[0]).toHaveProperty("symbol");
    expect(json.queuedWithdrawals).toEqual([]);

    const noKey = await din(["stake", "status", "--rpc", rpc, "--deployment", deployment]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^error: .*or name the staker with --address\n$/);
  });

  it("funds a new key from the faucet, which can then stake; refuses to overwrite a key file", async () => {
    const keyFile = join(dir, "newcomer.key");
    const payer = [...ledger.slice(0, 4), "--key-file", deployerKeyFile];
    const funded = await din(["faucet", ...payer, "--new-key", keyFile, "--stake", "7", "--json"]);
    expect(funded.stderr).toBe("");
    expect(funded.code).toBe(0);
    const result = JSON.parse(funded.stdout);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const newcomer = loadSigningKey({ keyFile }).address;
    expect(result).toMatchObject({ address: newcomer, eth: (10n * WAD).toString(), keyFile });
    expect(result.tokens.map((t: { symbol: string }) => t.symbol).sort()).toEqual(["rETH", "stETH"]);
    const deposit = await din([
      "stake",
      "deposit",
      ...ledger.slice(0, 4),
      "--key-file",
      keyFile,
      "--amount",
      "7",
      "--json",
    ]);
    expect(deposit.stderr).toBe("");
    expect(deposit.code).toBe(0);

    const again = await din(["faucet", ...payer, "--new-key", keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: ${keyFile} exists; the faucet writes only new key files\n`);
    const nothing = await din(["faucet", ...payer]);
    expect(nothing.stderr).toBe("error: name what to fund: --address <address> or --new-key <file>\n");
  });
});

describe("signing keys", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "din-keys-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const key = devKey(3);

  it("loads a key from a private file, whitespace trimmed, or from an environment variable", () => {
    const file = join(dir, "ok.key");
    writeFileSync(file, `  ${key}\n`, { mode: 0o600 });
    const address = privateKeyToAccount(key).address;
    expect(loadSigningKey({ keyFile: file }).address).toBe(address);
    expect(loadSigningKey({ env: { DIN_PRIVATE_KEY: key } }).address).toBe(address);
    expect(loadSigningKey({ keyEnv: "OP_KEY", env: { OP_KEY: key } }).address).toBe(address);
  });

  it.skipIf(process.platform === "win32")("refuses a key file others can read, telling to chmod 600", () => {
    const file = join(dir, "open.key");
    writeFileSync(file, key);
    chmodSync(file, 0o644);
    expect(() => loadSigningKey({ keyFile: file })).toThrow(
      `key file ${file} is readable by other users (mode 644); run: chmod 600 ${file}`,
    );
  });

  it("says when the file is missing, holds no key, or the variable is unset", () => {
    const missing = join(dir, "missing.key");
    expect(() => loadSigningKey({ keyFile: missing })).toThrow(`key file ${missing} does not exist`);
    const bad = join(dir, "bad.key");
    writeFileSync(bad, "not a key", { mode: 0o600 });
    expect(() => loadSigningKey({ keyFile: bad })).toThrow(
      `key file ${bad} does not hold a private key (expected 0x followed by 64 hex digits)`,
    );
    expect(() => loadSigningKey({ env: {} })).toThrow(SigningKeyError);
    expect(() => loadSigningKey({ env: {} })).toThrow(
      "no signing key: set DIN_PRIVATE_KEY or pass --key-file <path>",
    );
  });
});
