// Index of the ledger actions by role, kept for existing importers: new code imports the role modules.

export { listSlashes, type SlashListing, vetoSlash } from "./guardianActions.js";
export { executeSlash } from "./keeperActions.js";
export {
  type AllocateOptions,
  type AllocationChange,
  allocate,
  deregister,
  MAX_COMMISSION_BIPS,
  MIN_MAGNITUDE,
  type RegisterOperatorOptions,
  type RotateSignerOptions,
  registerOperator,
  rotateSigner,
  setCommission,
  signDelegationApproval,
  WAD,
} from "./operatorActions.js";
export { type OperatorNetworkStatus, type OperatorStatus, operatorStatus } from "./operatorStatus.js";
export {
  type ActionOptions,
  type ActionResult,
  context,
  LedgerActionError,
  type LedgerActor,
  type LedgerCall,
  perform,
  type Step,
  step,
} from "./perform.js";
export {
  claim,
  completeWithdrawals,
  type DelegateOptions,
  type DelegationApproval,
  delegate,
  deposit,
  type QueueWithdrawalOptions,
  queueWithdrawal,
  undelegate,
} from "./stakerActions.js";
export { readStrategies, resolveStrategy, type StrategyInfo } from "./strategies.js";
