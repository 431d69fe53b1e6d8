// The ledger transactions of a staker: deposit into a strategy, delegate to an operator (with its
// approver's signature when it has one), undelegate, queue and complete withdrawals; and of every earner
// (staker or operator): claim the fee-token rewards of a published rewards file. Each checks what it
// cheaply can first (with a clear sentence), then sends its calls in order or, in a dry run, simulates them
// and returns them.
import { type Address, getAddress, type Hex, isAddress, isAddressEqual, zeroAddress, zeroHash } from "viem";
import {
  delegationManagerAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../artifacts/index.js";
import { buildRewardsTree } from "../rewards.js";
import {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  perform,
  type Step,
  step,
} from "./perform.js";
import { formatAmount } from "./revert.js";
import { earningsOf, readRewardsFile } from "./rewardsPublisher.js";
import { queuedWithdrawalsOf } from "./stakerStatus.js";
import { readStrategies, resolveStrategy, type StrategyInfo } from "./strategies.js";

/** Approval (when short) and deposit of `amount` tokens into `strategy`, after checking the balance. */
export async function depositSteps(
  actor: LedgerActor,
  info: StrategyInfo,
  amount: bigint,
): Promise<{ steps: Step[]; shares: bigint }> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  if (amount <= 0n) throw new LedgerActionError("amount must be greater than zero");
  const [balance, allowance, shares] = await Promise.all([
    client.readContract({ address: info.token, abi: mockERC20Abi, functionName: "balanceOf", args: [me] }),
    client.readContract({
      address: info.token,
      abi: mockERC20Abi,
      functionName: "allowance",
      args: [me, d.strategyManager],
    }),
    client.readContract({
      address: info.strategy,
      abi: strategyBaseAbi,
      functionName: "underlyingToSharesView",
      args: [amount],
    }),
  ]);
  if (balance < amount) {
    throw new LedgerActionError(
      `insufficient balance: have ${formatAmount(balance)} ${info.symbol}, need ${formatAmount(amount)}`,
    );
  }
  const steps: Step[] = [];
  if (allowance < amount) {
    steps.push(step(info.token, mockERC20Abi, "approve", [d.strategyManager, amount]));
  }
  steps.push(
    step(d.strategyManager, strategyManagerAbi, "depositIntoStrategy", [info.strategy, info.token, amount]),
  );
  return { steps, shares };
}

/** Deposits `amount` tokens into a strategy (approving the StrategyManager first when needed). */
export async function deposit(
  actor: LedgerActor,
  options: ActionOptions & { amount: bigint; strategy?: string },
): Promise<ActionResult<{ strategy: Address; shares: bigint }>> {
  const info = await resolveStrategy(actor.clients.public, actor.deployment, options.strategy);
  const plan = await depositSteps(actor, info, options.amount);
  const done = await perform(actor, plan.steps, options, context(actor.deployment));
  return {
    ...done,
    strategy: info.strategy,
    shares: plan.shares,
    summary: `${done.dryRun ? "would deposit" : "deposited"} ${formatAmount(options.amount)} ${info.symbol} into strategy ${info.strategy}`,
  };
}

/** An operator's delegation approver's consent to one delegation (see {@link signDelegationApproval}). */
export type DelegationApproval = {
  /** The approver's signature (65-byte ECDSA, or whatever its EIP-1271 contract accepts). */
  signature: Hex;
  /** Unix time (seconds) the signature is valid through. */
  expiry: bigint;
  /** A 32-byte salt the approver has not used before. */
  salt: Hex;
};

/** Options of {@link delegate}. */
export type DelegateOptions = ActionOptions & {
  operator: Address;
  /** Required when the operator has a delegation approver (and the staker is not that approver). */
  approval?: DelegationApproval;
};

/** Delegates all of the staker's shares to an operator (with its approver's signature if it has one). */
export async function delegate(
  actor: LedgerActor,
  options: DelegateOptions,
): Promise<ActionResult<{ operator: Address }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  if (!isAddress(options.operator)) throw new LedgerActionError(`"${options.operator}" is not an address`);
  const operator = getAddress(options.operator);
  const [isOperator, current, approver] = await Promise.all([
    client.readContract({ ...dm, functionName: "isOperator", args: [operator] }),
    client.readContract({ ...dm, functionName: "delegatedTo", args: [me] }),
    client.readContract({ ...dm, functionName: "delegationApprover", args: [operator] }),
  ]);
  if (!isOperator) throw new LedgerActionError(`${operator} is not a registered restaking operator`);
  if (current !== zeroAddress) {
    throw new LedgerActionError(
      isAddressEqual(current, operator)
        ? `already delegated to ${operator}`
        : `already delegated to ${current}; undelegate first ("din stake undelegate")`,
    );
  }
  const approval = options.approval ?? { signature: "0x" as Hex, expiry: 0n, salt: zeroHash };
  if (approver !== zeroAddress && !isAddressEqual(approver, me)) {
    if (options.approval === undefined) {
      throw new LedgerActionError(
        `${operator} accepts delegations approved by ${approver} only: ask it for a signature and pass --approver-signature, --approver-expiry and --approver-salt`,
      );
    }
    const [spent, latest] = await Promise.all([
      client.readContract({
        ...dm,
        functionName: "delegationApproverSaltIsSpent",
        args: [approver, approval.salt],
      }),
      client.getBlock({ blockTag: "latest" }),
    ]);
    if (spent) throw new LedgerActionError(`salt ${approval.salt} was already used by ${approver}`);
    if (approval.expiry < latest.timestamp) {
      throw new LedgerActionError(
        `the approver's signature expired at ${approval.expiry} (chain time ${latest.timestamp})`,
      );
    }
  }
  const done = await perform(
    actor,
    [
      step(dm.address, delegationManagerAbi, "delegateTo", [
        operator,
        { signature: approval.signature, expiry: approval.expiry },
        approval.salt,
      ]),
    ],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    operator,
    summary: `${done.dryRun ? "would delegate" : "delegated"} ${me} to ${operator}`,
  };
}

/** Undelegates: every share is queued for withdrawal (complete it after the delay with completeWithdrawals). */
export async function undelegate(actor: LedgerActor, options: ActionOptions = {}): Promise<ActionResult> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const [isOperator, current] = await Promise.all([
    client.readContract({ ...dm, functionName: "isOperator", args: [me] }),
    client.readContract({ ...dm, functionName: "delegatedTo", args: [me] }),
  ]);
  if (isOperator) throw new LedgerActionError("operators cannot undelegate from themselves");
  if (current === zeroAddress) throw new LedgerActionError("not delegated to any operator");
  const done = await perform(
    actor,
    [step(dm.address, delegationManagerAbi, "undelegate", [me])],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    summary: `${done.dryRun ? "would undelegate" : "undelegated"} ${me} from ${current}; its shares are queued for withdrawal ("din stake withdraw --complete" after the delay)`,
  };
}

/** Options of {@link queueWithdrawal}. */
export type QueueWithdrawalOptions = ActionOptions & {
  /** Deposit shares to withdraw from `strategy`. @default every share of every strategy */
  shares?: bigint;
  /** Strategy by token symbol or address (with `shares`). @default the first strategy */
  strategy?: string;
};

/** Queues a withdrawal: the shares leave the operator at once and stay slashable until completion. */
export async function queueWithdrawal(
  actor: LedgerActor,
  options: QueueWithdrawalOptions = {},
): Promise<ActionResult<{ strategies: Address[]; shares: bigint[] }>> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const d = actor.deployment.addresses;
  const [deposited, depositShares] = await client.readContract({
    address: d.strategyManager,
    abi: strategyManagerAbi,
    functionName: "getDeposits",
    args: [me],
  });
  let strategies = deposited.map((s) => getAddress(s));
  let shares = [...depositShares];
  if (options.shares !== undefined) {
    const info = await resolveStrategy(client, actor.deployment, options.strategy);
    const i = strategies.indexOf(info.strategy);
    const have = i < 0 ? 0n : (shares[i] ?? 0n);
    if (options.shares <= 0n) throw new LedgerActionError("shares must be greater than zero");
    if (options.shares > have) {
      throw new LedgerActionError(
        `insufficient shares: ${formatAmount(have)} deposited in ${info.symbol}, ${formatAmount(options.shares)} asked`,
      );
    }
    strategies = [info.strategy];
    shares = [options.shares];
  }
  if (strategies.length === 0) throw new LedgerActionError(`${me} has no deposited shares to withdraw`);
  const done = await perform(
    actor,
    [
      step(d.delegationManager, delegationManagerAbi, "queueWithdrawals", [
        [{ strategies, depositShares: shares, __deprecated_withdrawer: me }],
      ]),
    ],
    options,
    context(actor.deployment),
  );
  const delay = await client.readContract({
    address: d.delegationManager,
    abi: delegationManagerAbi,
    functionName: "minWithdrawalDelayBlocks",
  });
  return {
    ...done,
    strategies,
    shares,
    summary: `${done.dryRun ? "would queue" : "queued"} a withdrawal of ${shares.map(formatAmount).join(" + ")} shares; complete it after ${delay} blocks with "din stake withdraw --complete"`,
  };
}

/** Completes every queued withdrawal whose delay has passed, receiving the tokens. */
export async function completeWithdrawals(
  actor: LedgerActor,
  options: ActionOptions = {},
): Promise<
  ActionResult<{
    completed: number;
    pending: number;
    nextBlock?: bigint;
    /** Per token: what the withdrawals were worth when queued, what they paid, what slashes took. */
    paid?: Array<{ token: Address; symbol: string; queued: bigint; paid: bigint; slashed: bigint }>;
  }>
> {
  const client = actor.clients.public;
  const me = actor.clients.wallet.account.address;
  const dm = { address: actor.deployment.addresses.delegationManager, abi: delegationManagerAbi } as const;
  const [roots, delay, block] = await Promise.all([
    client.readContract({ ...dm, functionName: "getQueuedWithdrawalRoots", args: [me] }),
    client.readContract({ ...dm, functionName: "minWithdrawalDelayBlocks" }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  const withdrawals = await Promise.all(
    roots.map(
      async (root) =>
        (await client.readContract({ ...dm, functionName: "getQueuedWithdrawal", args: [root] }))[0],
    ),
  );
  // Completion is mined in the next block, which must be past startBlock + delay.
  const ready = withdrawals.filter((w) => block + 1n > BigInt(w.startBlock) + BigInt(delay));
  const waiting = withdrawals.filter((w) => !ready.includes(w));
  const nextBlock = waiting.length
    ? waiting.reduce((min, w) => {
        const at = BigInt(w.startBlock) + BigInt(delay) + 1n;
        return at < min ? at : min;
      }, BigInt(Number.MAX_SAFE_INTEGER))
    : undefined;
  if (ready.length === 0) {
    return {
      dryRun: options.dryRun ?? false,
      calls: [],
      transactions: [],
      completed: 0,
      pending: waiting.length,
      ...(nextBlock !== undefined ? { nextBlock } : {}),
      summary:
        withdrawals.length === 0
          ? "no queued withdrawals"
          : `no withdrawal is ready yet; the next completes at block ${nextBlock} (now ${block})`,
    };
  }
  const tokens = await Promise.all(
    ready.map((w) =>
      Promise.all(
        w.strategies.map((strategy) =>
          client.readContract({ address: strategy, abi: strategyBaseAbi, functionName: "underlyingToken" }),
        ),
      ),
    ),
  );
  // What the withdrawals asked for and what they pay: the difference is what slashes took meanwhile.
  const [queued, known] = await Promise.all([
    queuedWithdrawalsOf(client, actor.deployment, me),
    readStrategies(client, actor.deployment),
  ]);
  const readyRoots = new Set(queued.filter((q) => q.ready && roots.includes(q.root)).map((q) => q.root));
  const byToken = new Map<Address, { symbol: string; queued: bigint; expected: bigint; slashed: bigint }>();
  for (const q of queued.filter((q) => readyRoots.has(q.root))) {
    for (const part of q.strategies) {
      const position = known.find((p) => p.strategy === part.strategy);
      if (!position) continue;
      const entry = byToken.get(position.token) ?? {
        symbol: part.symbol,
        queued: 0n,
        expected: 0n,
        slashed: 0n,
      };
      const queuedTokens = await client.readContract({
        address: part.strategy,
        abi: strategyBaseAbi,
        functionName: "sharesToUnderlyingView",
        args: [part.queuedShares],
      });
      entry.queued += queuedTokens;
      entry.expected += part.tokensNow;
      entry.slashed += queuedTokens > part.tokensNow ? queuedTokens - part.tokensNow : 0n;
      byToken.set(position.token, entry);
    }
  }
  const balanceOf = (token: Address) =>
    client.readContract({ address: token, abi: mockERC20Abi, functionName: "balanceOf", args: [me] });
  // The wallet's balances before completing: what it receives is the difference after.
  const walletBefore = new Map(
    await Promise.all([...byToken.keys()].map(async (token) => [token, await balanceOf(token)] as const)),
  );
  const done = await perform(
    actor,
    [
      step(dm.address, delegationManagerAbi, "completeQueuedWithdrawals", [
        ready,
        tokens,
        ready.map(() => true),
      ]),
    ],
    options,
    context(actor.deployment),
  );
  // Paid: what the wallet received (read back), or in a dry run what the withdrawals are worth now.
  const paid = await Promise.all(
    [...byToken].map(async ([token, entry]) => {
      const balance = done.dryRun ? undefined : await balanceOf(token);
      const received = balance === undefined ? entry.expected : balance - (walletBefore.get(token) ?? 0n);
      return { token, symbol: entry.symbol, queued: entry.queued, paid: received, slashed: entry.slashed };
    }),
  );
  const amounts = paid.map((p) => `${formatAmount(p.paid)} ${p.symbol}`).join(" and ");
  const took = paid.filter((p) => p.slashed > 0n);
  return {
    ...done,
    completed: ready.length,
    pending: waiting.length,
    paid,
    ...(nextBlock !== undefined ? { nextBlock } : {}),
    summary: `${done.dryRun ? "would complete" : "completed"} ${ready.length} withdrawal(s), ${done.dryRun ? "paying" : "paid"} ${amounts || "nothing"}; ${
      took.length
        ? `slashes while they waited took ${took.map((p) => `${formatAmount(p.slashed)} ${p.symbol} of ${formatAmount(p.queued)} ${p.symbol}`).join(" and ")}`
        : "no slash touched them while they waited"
    }${waiting.length ? `; ${waiting.length} still waiting (next at block ${nextBlock})` : ""}`,
  };
}

/** Claims the account's fee-token earnings from a published rewards file. */
export async function claim(
  actor: LedgerActor,
  options: ActionOptions & { rewardsFile: string },
): Promise<ActionResult<{ amount: bigint; token: Address }>> {
  const client = actor.clients.public;
  const me = getAddress(actor.clients.wallet.account.address);
  const d = actor.deployment.addresses;
  const token = getAddress(d.feeToken);
  let published: ReturnType<typeof readRewardsFile>;
  try {
    published = readRewardsFile(options.rewardsFile);
  } catch (error) {
    throw new LedgerActionError((error as Error).message);
  }
  if (!published) {
    throw new LedgerActionError(`no rewards published yet (no file at ${options.rewardsFile})`);
  }
  const tree = buildRewardsTree(earningsOf(published));
  const rc = { address: d.rewardsCoordinator, abi: rewardsCoordinatorAbi } as const;
  const length = await client.readContract({ ...rc, functionName: "getDistributionRootsLength" });
  const stale = () =>
    new LedgerActionError(`rewards file is stale or not from this ledger (${options.rewardsFile})`);
  if (BigInt(published.rootIndex) >= length || tree.root !== published.root) throw stale();
  const onChain = await client.readContract({
    ...rc,
    functionName: "getDistributionRootAtIndex",
    args: [BigInt(published.rootIndex)],
  });
  if (onChain.root !== tree.root) throw stale();
  if (onChain.disabled) throw new LedgerActionError(`rewards root ${published.rootIndex} was disabled`);
  const earned = tree.earned(me, token);
  const claimed = await client.readContract({ ...rc, functionName: "cumulativeClaimed", args: [me, token] });
  const amount = earned - claimed;
  if (amount <= 0n) {
    const why =
      earned === 0n
        ? `${me} earned nothing in rewards root ${published.rootIndex} (neither as an operator paid by the service nor as a staker delegated to one)`
        : `all ${formatAmount(earned)} ${me} earned up to rewards root ${published.rootIndex} is already claimed`;
    return {
      dryRun: options.dryRun ?? false,
      calls: [],
      transactions: [],
      amount: 0n,
      token,
      summary: `nothing to claim: ${why}`,
    };
  }
  const claimer = await client.readContract({ ...rc, functionName: "claimerFor", args: [me] });
  if (!isAddressEqual(claimer, zeroAddress) && !isAddressEqual(claimer, me)) {
    throw new LedgerActionError(
      `${me} named ${getAddress(claimer)} as its claimer: only that account can claim its rewards`,
    );
  }
  const now = (await client.getBlock({ blockTag: "latest" })).timestamp;
  if (BigInt(onChain.activatedAt) > now + 1n) {
    throw new LedgerActionError(
      `rewards root ${published.rootIndex} activates at ${new Date(onChain.activatedAt * 1000).toISOString()}; claim after that`,
    );
  }
  const proof = tree.claim(me, [token]);
  if (!proof) throw stale();
  const done = await perform(
    actor,
    [
      step(rc.address, rewardsCoordinatorAbi, "processClaim", [
        { rootIndex: published.rootIndex, ...proof },
        me,
      ]),
    ],
    options,
    context(actor.deployment),
  );
  return {
    ...done,
    amount,
    token,
    summary: `${done.dryRun ? "would claim" : "claimed"} ${formatAmount(amount)} of fee token ${token} for ${me}`,
  };
}
