// The ledger: the restaking core's compiled artifacts, its build, deployment, an in-process Hardhat chain
// and the off-chain rewards calculation.
export * from "./artifacts/index.js";
export {
  type BuildContractsOptions,
  type BuildContractsResult,
  buildContracts,
  ContractCompileError,
} from "./build.js";
export {
  DEVNET_RESTAKING_PARAMS,
  type DeployRestakingCoreOptions,
  type DevnetStrategy,
  deployMockToken,
  deployRestakingCore,
  deployRestakingDevnet,
  deployStrategy,
  type LedgerClients,
  MAINNET_RESTAKING_PARAMS,
  type RestakingAddresses,
  type RestakingParams,
  restakingContracts,
} from "./deploy.js";
export { createHardhatLedger, type HardhatLedger, type HardhatLedgerOptions } from "./hardhat.js";
export {
  accumulate,
  averageOperatorStake,
  buildRewardsTree,
  type Earnings,
  earnerLeafHash,
  earningsKey,
  MAX_BIPS,
  type OperatorReward,
  type OperatorStake,
  processProof,
  type RewardsClaimProof,
  type RewardsTree,
  readStakeSnapshot,
  type StakerStake,
  splitOperatorReward,
  tokenLeafHash,
} from "./rewards.js";
export {
  blockAtTimestamp,
  type CalculateEarningsOptions,
  calculateEarnings,
  type RewardsSubmission,
  readRewardsSubmissions,
} from "./rewards-calculator.js";
export {
  divWad,
  magnitudeSlashed,
  mulDivUp,
  mulWad,
  newDepositScalingFactor,
  queuedSharesSlashed,
  slashedAmount,
  WAD,
  withdrawableShares,
} from "./slashing.js";
export {
  type OperatorSetMemberStake,
  type ReadOperatorSetStakeOptions,
  readOperatorSetStake,
} from "./stake.js";
