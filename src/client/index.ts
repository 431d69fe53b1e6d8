/**
 * OpenDIN's client library: a viem transport (`dinTransport`) and its verification core, which check what
 * an OpenDIN gateway serves against operators' signed relays, the majority's block headers and state
 * proofs. The ethers provider is `opendin/client/ethers`. See docs/client.md.
 */
export type { Relay, RelayJson } from "../ledger/din/relay.js";
export {
  DinRpcError,
  DinTransportError,
  DinVerificationError,
  type StateEvidence,
  VERIFICATION_ERROR_CODE,
  type VerificationEvidence,
  type VerificationKind,
} from "./errors.js";
export { submitWrongBlockHash, submitWrongState } from "./evidence.js";
export { GatewayClient, type GatewayClientOptions } from "./gateway.js";
export type { VerifiedHeader } from "./headers.js";
export { ledgerRegistry, type SignerKeyRecord, type SignerRegistry, snapshotRegistry } from "./registry.js";
export {
  DinVerifier,
  type DinVerifierOptions,
  isVerifiable,
  type LedgerOptions,
  signedMethods,
  stateMethods,
} from "./verifier.js";
export { type DinTransport, type DinTransportOptions, dinTransport } from "./viem.js";
