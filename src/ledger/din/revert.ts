// One short sentence for anything a DIN or restaking-core transaction can fail with: custom errors of every
// contract decoded by name and put into words ("insufficient stake: 0.5 allocated, 1 required on
// ethereum"), and the node's own refusals (no gas money, nonce clashes, an unreachable ledger).
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  formatUnits,
  type Hex,
  HttpRequestError,
  InsufficientFundsError,
  NonceTooHighError,
  NonceTooLowError,
  TimeoutError,
} from "viem";
import {
  allocationManagerAbi,
  delegationManagerAbi,
  dinEpochsAbi,
  dinGovernorAbi,
  dinRegistryAbi,
  dinSlasherAbi,
  dinTimelockAbi,
  dinTokenAbi,
  mockERC20Abi,
  rewardsCoordinatorAbi,
  strategyBaseAbi,
  strategyManagerAbi,
} from "../artifacts/index.js";
import type { DinNetwork } from "./deploy.js";

/** Every custom error of the DIN service, its governance and the restaking core. */
export const LEDGER_ERRORS_ABI: Abi = [
  ...dinRegistryAbi,
  ...dinSlasherAbi,
  ...dinEpochsAbi,
  ...dinGovernorAbi,
  ...dinTimelockAbi,
  ...dinTokenAbi,
  ...allocationManagerAbi,
  ...delegationManagerAbi,
  ...strategyManagerAbi,
  ...strategyBaseAbi,
  ...rewardsCoordinatorAbi,
  ...mockERC20Abi,
].filter((item) => item.type === "error") as Abi;

/** What a message may name: the network acted on, and the deployment's networks to name ids. */
export type RevertContext = {
  /** Name of the network the call was about. */
  network?: string;
  networks?: readonly DinNetwork[];
};

/** A custom error decoded from revert data. */
export type DecodedRevert = { errorName: string; args: readonly unknown[] };

/** Token amounts in 18-decimal units, trimmed ("0.5", "1"). */
export const formatAmount = (value: bigint): string => formatUnits(value, 18);

const big = (value: unknown): bigint => (typeof value === "bigint" ? value : BigInt(String(value)));

function networkName(id: unknown, context: RevertContext): string {
  const n = context.networks?.find((x) => x.id === Number(id));
  return n ? n.name : `network ${String(id)}`;
}

const on = (context: RevertContext) => (context.network ? ` on ${context.network}` : "");

type Phrase = (args: readonly unknown[], context: RevertContext) => string;

const PHRASES: Record<string, Phrase> = {
  InsufficientStake: ([allocated, minimum], c) =>
    `insufficient stake: ${formatAmount(big(allocated))} allocated, ${formatAmount(big(minimum))} required${on(c)}`,
  StakeNotBelowMinimum: ([allocated, minimum]) =>
    `the operator's allocated stake (${formatAmount(big(allocated))}) is not below the minimum (${formatAmount(big(minimum))})`,
  AlreadyMemberOfSet: (_, c) => `already registered${on(c)}`,
  AlreadyOperator: () => "already registered as a restaking operator",
  NotRegistered: (_, c) => `not registered${on(c)}`,
  NotMemberOfSet: (_, c) => `not registered${on(c)}`,
  SignerTaken: (_, c) => `signer taken: this signing key is bound to another operator${on(c)}`,
  SignerRetired: (_, c) =>
    `signer retired: this signing key was rotated away from${on(c)} and can never sign again; use a new key`,
  InvalidSignerProof: () =>
    "invalid signer proof: the signing key must sign its consent to sign for this operator, network and endpoint (before the deadline)",
  RetiredKeyEvidenceExpired: ([retiredAt]) =>
    `the relay's signing key was retired at ${String(retiredAt)}, more than a day ago: its relays are no longer evidence`,
  KeyNotValidWhenServed: ([validFrom, retiredAt, servedAt]) =>
    `the signing key was not valid when the relay was served (at ${String(servedAt)}; valid from ${String(validFrom)}${big(retiredAt) === 0n ? "" : ` until ${String(retiredAt)}`})`,
  InvalidMetadata: () =>
    "invalid metadata: endpoint, cloud, region and client must be non-empty and short, and the signer non-zero",
  Jailed: ([id, until], c) => `jailed on ${networkName(id, c)} until block ${String(until)}`,
  UnknownNetwork: ([id], c) =>
    `unknown network id ${String(id)}${c.networks?.length ? `; this deployment serves: ${c.networks.map((n) => n.name).join(", ")}` : ""}`,
  NotAdmitted: () =>
    "not admitted: watchers and gateways must be admitted by governance before they register",
  OneNetworkPerRegistration: () => "register for one network at a time",
  VetoWindowOver: () => "the veto window of this slash is over: it can no longer be vetoed",
  VetoWindowOpen: () => "the veto window of this slash is still open: it can be executed only after it",
  NotQueued: () => "this slash is not queued (unknown, vetoed or already executed)",
  InsufficientMagnitude: () => "not enough allocatable magnitude: the stake is already allocated elsewhere",
  MagnitudeTooSmall: () => "allocation too small: at least 0.000000001 (1e9 wad) or 0",
  ModificationAlreadyPending: () =>
    "an allocation change is already pending for this network; wait until it takes effect",
  SameMagnitude: () => "the allocation already has this size",
  UninitializedAllocationDelay: () => "the operator's allocation delay has not taken effect yet",
  InvalidOperatorSet: (_, c) => `no such operator set${on(c)}`,
  InvalidOperator: () => "not a restaking operator: register as an operator first",
  OperatorNotSlashable: () => "the operator is no longer slashable on this network",
  AlreadyDelegated: () => "already delegated: undelegate first",
  NotDelegated: () => "not delegated to any operator",
  NotOperator: () => "not a registered restaking operator",
  OperatorsCannotUndelegate: () => "operators cannot undelegate from themselves",
  CallerCannotUndelegate: () =>
    "only the staker, its operator or the operator's delegation approver can undelegate it",
  SaltSpent: () => "the delegation approver already used this salt: ask it for a new approval",
  SignatureExpired: () => "the delegation approver's signature has expired: ask it for a new approval",
  InvalidSignature: () =>
    "invalid approver signature: it must be the operator's delegation approver's, for this staker, operator, salt and expiry",
  WithdrawalDelayNotElapsed: () => "the withdrawal delay has not passed yet",
  WithdrawalExceedsMax: () => "withdrawal exceeds the deposited shares",
  WithdrawalNotQueued: () => "no such queued withdrawal",
  WithdrawerNotCaller: () => "only the withdrawer can complete this withdrawal",
  InsufficientShares: () => "insufficient shares",
  FullySlashed: () => "the operator is fully slashed",
  InputZero: () => "amount must be greater than zero",
  StrategyNotWhitelisted: () => "this strategy does not accept deposits",
  OnlyUnderlyingToken: () => "this token is not the strategy's underlying token",
  NewSharesZero: () => "deposit too small: it would mint zero shares",
  ERC20InsufficientBalance: ([, balance, needed]) =>
    `insufficient balance: have ${formatAmount(big(balance))}, need ${formatAmount(big(needed))}`,
  ERC20InsufficientAllowance: ([, allowance, needed]) =>
    `insufficient allowance: ${formatAmount(big(allowance))} approved, ${formatAmount(big(needed))} needed`,
  EarningsNotGreaterThanClaimed: () => "nothing to claim: everything earned is already claimed",
  InvalidClaimProof: () => "the rewards proof does not match the on-chain root",
  InvalidRootIndex: () => "no rewards root at this index",
  RootNotActivated: () => "the rewards root is not active yet",
  RootDisabled: () => "the rewards root was disabled",
  NewRootMustBeForNewCalculatedPeriod: () => "the rewards calculation end must be after the last root's",
  RewardsEndTimestampNotElapsed: () => "the rewards calculation end must be in the past",
  PreviousSplitPending: () =>
    "the last commission change has not taken effect yet: change it again after it does",
  NothingToFlush: () => "no accrued rewards, or no whole rewards interval elapsed since the last flush",
  UnauthorizedCaller: () =>
    "not allowed: roots are published by the rewards updater (and disabled by it, the owner or the root guardian), rewards claimed by the earner or its named claimer, a commission set by its operator",
  RootAlreadyActivated: () => "the rewards root is already active: only a pending root can be disabled",
  SplitExceedsMax: () => "commission must be at most 10000 bips (100%)",
  EnforcedPause: () => "the contract is paused by the guardian",
  AccessControlUnauthorizedAccount: ([account]) => `${String(account)} lacks the role this call needs`,
  OwnableUnauthorizedAccount: ([account]) => `${String(account)} is not the owner`,
  InvalidCaller: () => "this account may not make this call",
};

/** Decodes a custom error of any DIN or core contract from revert data, or undefined. */
export function decodeRevertData(data: Hex | undefined): DecodedRevert | undefined {
  if (!data || data === "0x") return undefined;
  try {
    const decoded = decodeErrorResult({ abi: LEDGER_ERRORS_ABI, data });
    return { errorName: decoded.errorName, args: decoded.args ?? [] };
  } catch {
    return undefined;
  }
}

/** The custom error a viem error reverted with, if any. */
export function revertOf(error: unknown): DecodedRevert | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) {
    // Raw revert data somewhere in the chain (a node's JSON-RPC error with `data`).
    const withData = error.walk((e) => typeof (e as { data?: unknown }).data === "string") as
      | { data?: Hex }
      | undefined;
    return decodeRevertData(withData?.data);
  }
  if (
    reverted.data?.errorName &&
    reverted.data.errorName !== "Error" &&
    reverted.data.errorName !== "Panic"
  ) {
    return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  }
  const decoded = decodeRevertData(reverted.raw);
  if (decoded) return decoded;
  if (reverted.reason) return { errorName: "Error", args: [reverted.reason] };
  return undefined;
}

/** Words for a decoded custom error. */
export function describeRevert(revert: DecodedRevert, context: RevertContext = {}): string {
  const phrase = PHRASES[revert.errorName];
  if (phrase) return phrase(revert.args, context);
  if (revert.errorName === "Error") return `reverted: ${String(revert.args[0])}`;
  const args = revert.args.map((a) => String(a)).join(", ");
  return `reverted with ${revert.errorName}(${args})`;
}

/** One short line for any error of a ledger call: never a stack trace. */
export function explainLedgerError(error: unknown, context: RevertContext = {}): string {
  if (!(error instanceof BaseError)) return error instanceof Error ? error.message : String(error);
  const revert = revertOf(error);
  if (revert) return describeRevert(revert, context);
  if (error.walk((e) => e instanceof InsufficientFundsError) instanceof InsufficientFundsError) {
    return "insufficient funds for gas: the account needs ETH on the ledger to pay for transactions";
  }
  if (
    error.walk((e) => e instanceof NonceTooLowError || e instanceof NonceTooHighError) instanceof BaseError
  ) {
    return "nonce clash: another transaction from this key was sent meanwhile; retry";
  }
  const http = error.walk((e) => e instanceof HttpRequestError);
  if (http instanceof HttpRequestError) return `cannot reach the ledger at ${http.url}: ${http.shortMessage}`;
  if (error.walk((e) => e instanceof TimeoutError) instanceof TimeoutError) {
    return "the ledger did not answer in time";
  }
  const text = `${error.shortMessage} ${error.details ?? ""}`;
  if (/insufficient funds/i.test(text)) {
    return "insufficient funds for gas: the account needs ETH on the ledger to pay for transactions";
  }
  if (/nonce/i.test(text)) return "nonce clash: another transaction from this key was sent meanwhile; retry";
  return error.shortMessage;
}
