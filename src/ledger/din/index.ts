// The DIN service on the ledger: deployment and presets, relay evidence, SLA epochs.
export {
  DEFAULT_ADMIN_ROLE,
  DEFAULT_SLA_TABLE,
  DEVNET_DIN_PARAMS,
  type DeployDinOptions,
  DIN_PRESETS,
  type DinAddresses,
  type DinDeployment,
  type DinNetwork,
  type DinParams,
  deployDin,
  dinContracts,
  type EpochParams,
  GOVERNANCE_ROLE,
  type GovernanceParams,
  PAUSER_ROLE,
  PRODUCTION_DIN_PARAMS,
  role,
  type SlashParams,
  type SlaTable,
  toJson,
  VETO_ROLE,
} from "./deploy.js";
export {
  finalizationThresholds,
  finalizeEpoch,
  medianFor,
  type OperatorMetrics,
  type OperatorUsage,
  readEpochReports,
  readEpochUsage,
  sortMetrics,
  sortUsage,
} from "./epochs.js";
export {
  encodeOperatorMetadata,
  GATEWAY_SET,
  type OperatorMetadata,
  type SignerProof,
  signSignerProof,
  WATCHER_SET,
} from "./registry.js";
export {
  canonicalJson,
  hashRequest,
  hashResponse,
  type Relay,
  relayDigest,
  relayDomain,
  relayTypes,
  signRelay,
} from "./relay.js";
export { type Assessment, assess, type Judgment, judgeReports } from "./sla.js";
