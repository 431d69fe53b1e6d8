// The devnet faucet: gas and stake tokens for a key that is not one of `din up`'s, so a newcomer can join
// the local network as an operator or a staker of their own. Only on a devnet ledger: the stake tokens
// there are test tokens anyone may mint, and the deployer's ETH pays the gas.
import { type Address, formatEther, getAddress, type Hash } from "viem";
import { mockERC20Abi } from "../ledger/artifacts/index.js";
import { LedgerActionError, type LedgerActor } from "../ledger/din/perform.js";
import { readStrategies } from "../ledger/din/strategies.js";

/** What {@link fund} sends. */
export type FaucetAmounts = {
  /** ETH for gas, in wei. */
  eth: bigint;
  /** Of each strategy's token, in its smallest unit (18 decimals). */
  stake: bigint;
};

/** What {@link fund} did. */
export type FaucetResult = {
  address: Address;
  eth: bigint;
  tokens: { symbol: string; token: Address; amount: bigint }[];
  transactions: Hash[];
  summary: string;
};

/** Sends `amounts.eth` from the actor's key to `to` and mints `amounts.stake` of every strategy's token to it. */
export async function fund(actor: LedgerActor, to: Address, amounts: FaucetAmounts): Promise<FaucetResult> {
  if (actor.deployment.preset !== "devnet") {
    throw new LedgerActionError(
      `the faucet only serves a devnet ledger; this deployment's preset is ${actor.deployment.preset}`,
    );
  }
  const address = getAddress(to);
  const { public: client, wallet } = actor.clients;
  const strategies = await readStrategies(client, actor.deployment);
  const transactions: Hash[] = [];
  if (amounts.eth > 0n) {
    transactions.push(
      await wallet.sendTransaction({
        to: address,
        value: amounts.eth,
        account: wallet.account,
        chain: wallet.chain,
      }),
    );
  }
  if (amounts.stake > 0n) {
    for (const { token } of strategies) {
      transactions.push(
        await wallet.writeContract({
          address: token,
          abi: mockERC20Abi,
          functionName: "mint",
          args: [address, amounts.stake],
          account: wallet.account,
          chain: wallet.chain,
        }),
      );
    }
  }
  for (const hash of transactions) {
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== "success") throw new LedgerActionError(`faucet transaction ${hash} reverted`);
  }
  const tokens = amounts.stake > 0n ? strategies.map((s) => ({ ...s, amount: amounts.stake })) : [];
  const parts = [
    ...(amounts.eth > 0n ? [`${formatEther(amounts.eth)} ETH`] : []),
    ...tokens.map((t) => `${formatEther(t.amount)} ${t.symbol}`),
  ];
  return {
    address,
    eth: amounts.eth,
    tokens: tokens.map(({ symbol, token, amount }) => ({ symbol, token, amount })),
    transactions,
    summary: parts.length === 0 ? `nothing sent to ${address}` : `sent ${parts.join(", ")} to ${address}`,
  };
}
