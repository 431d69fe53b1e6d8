// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IDinStateProof} from "./IDinStateProof.sol";

/// @title IDinSlasher
/// @notice Evidence and punishment of the DIN service: signed relays checked against the chain, slashes
///         queued behind a veto window, executed by anyone after it, jail and ejection of repeat offenders.
interface IDinSlasher is IDinStateProof {
    /// @notice What an operator signs (EIP-712) when asked to: the request, the response, and what the
    ///         response claims about the chain (zero block when nothing).
    struct Relay {
        uint256 chainId;
        bytes32 requestHash;
        bytes32 responseHash;
        uint256 blockNumber;
        bytes32 blockHash;
        uint256 servedAt;
    }

    /// @notice Why a slash was queued.
    enum Reason {
        WrongData,
        Unavailable,
        SlowLatency,
        Down
    }

    /// @notice Where a queued slash stands.
    enum Status {
        None,
        Queued,
        Vetoed,
        Executed
    }

    /// @notice A slash waiting for its veto window, with the parameters in force when it was queued.
    struct QueuedSlash {
        address operator;
        uint32 networkId;
        uint32 queuedAt;
        Status status;
        Reason reason;
        /// @dev the wad of a first offence (already at most MAX_OFFENCE_WAD)
        uint64 wad;
        /// @dev the wad charged if, at execution, the operator already has an executed wrong-data offence
        uint64 repeatWad;
        /// @dev the veto window in force when the slash was queued
        uint32 vetoWindow;
    }

    /// @notice What was slashed of an operator on a network, for the rolling-window ceiling.
    struct SlashRecord {
        uint64 atBlock;
        uint64 wad;
    }

    /// @notice The governed slashing parameters (blocks and WAD fractions).
    struct SlashParams {
        /// @dev blocks during which the veto committee may cancel a queued slash
        uint32 vetoWindow;
        /// @dev blocks reserved to get an execution mined after the window
        uint32 submissionMargin;
        /// @dev blocks an operator stays jailed after each slash
        uint32 jailCooldown;
        /// @dev executed slashes on a network after which the operator is ejected from it
        uint32 ejectAfter;
        /// @dev distinct watchers that must attest a canonical block hash of another chain
        uint32 attestQuorum;
        /// @dev wrong data, first offence (1% = 1e16)
        uint64 wrongDataWad;
        /// @dev wrong data, repeat offence (5% = 5e16)
        uint64 repeatWrongDataWad;
    }

    /// @notice Caller lacks the role.
    error InvalidCaller();
    /// @notice detection + veto window + margin must stay below the deallocation and withdrawal delays.
    error TimingRuleViolated(uint256 required, uint256 limit);
    /// @notice A parameter is zero or out of range.
    error InvalidParameter();
    /// @notice The relay was already used as evidence.
    error RelayAlreadyUsed();
    /// @notice The signer is not bound to an operator of the relay's network.
    error UnknownSigner();
    /// @notice The relay's signing key was not its operator's when the relay was served (raised by the registry).
    error KeyNotValidWhenServed(uint256 validFrom, uint256 retiredAt, uint256 servedAt);
    /// @notice The relay's key was retired too long ago for its relays to be evidence (raised by the registry).
    error RetiredKeyEvidenceExpired(uint256 retiredAt);
    /// @notice No network serves the relay's chain.
    error UnknownChain(uint256 chainId);
    /// @notice The relay claims no block, or its block hash is the canonical one, or its state answer is the
    ///         proven value.
    error NotFraudulent();
    /// @notice The canonical hash is not available (not this chain / older than the history contract keeps /
    ///         not attested).
    error CanonicalHashUnavailable();
    /// @notice The relay is for the ledger's own chain: prove it against blockhash() instead.
    error UseOnChainProof();
    /// @notice No such queued slash, or it is no longer queued.
    error NotQueued();
    /// @notice The veto window is over.
    error VetoWindowOver();
    /// @notice The veto window is not over yet.
    error VetoWindowOpen();
    /// @notice The watcher already attested a hash for this block.
    error AlreadyAttested();
    /// @notice The epochs contract can be wired once.
    error AlreadyWired();
    /// @notice The operator was already punished for this incident (same network and block), or for wrong
    ///         data in this epoch.
    error IncidentAlreadyPunished();
    /// @notice The operator was ejected from the network by the slasher and has not registered again.
    error OperatorWasEjected();
    /// @notice The attested canonical hash may still be replaced by a conflicting majority until `fixedAt`.
    error CanonicalHashDisputable(uint256 fixedAt);
    /// @notice The block was not final when the relay was served (timestamp + finalityDelay > servedAt): an
    ///         answer about a block that could still be reorged out is no evidence.
    error NotFinalWhenServed();

    /// @notice A slash was queued (the operator stays registered; it is jailed meanwhile).
    event SlashQueued(
        uint256 indexed slashId, address indexed operator, uint32 indexed networkId, Reason reason, uint64 wad
    );
    /// @notice The veto committee cancelled a queued slash.
    event SlashVetoed(uint256 indexed slashId, address indexed vetoer);
    /// @notice A slash went through the restaking core.
    event SlashExecuted(uint256 indexed slashId, address indexed operator, uint32 indexed networkId, uint64 wad);
    /// @notice A signed relay contradicting the chain was proven.
    event FraudProven(
        bytes32 indexed relayDigest, address indexed operator, uint32 indexed networkId, uint256 blockNumber
    );
    /// @notice A watcher attested a canonical block hash of another chain.
    event BlockHashAttested(address indexed watcher, uint256 indexed chainId, uint256 blockNumber, bytes32 blockHash);
    /// @notice A canonical block hash reached a majority of the watchers (or was set by governance); it is
    ///         fixed from `canonicalFixedAt`.
    event CanonicalHashSet(uint256 indexed chainId, uint256 blockNumber, bytes32 blockHash);
    /// @notice Parameters changed.
    event SlashParamsSet(SlashParams params);
    /// @notice Parameters that raise a slashing wad were scheduled; they apply from `activationBlock`.
    event SlashParamsScheduled(SlashParams params, uint256 activationBlock);
    /// @notice A slash was reduced by the ceilings (per offence, per rolling window, none after ejection);
    ///         `appliedWad` is what went through the core (zero: nothing was taken and no offence counted).
    event SlashCapped(uint256 indexed slashId, uint64 requestedWad, uint64 appliedWad);

    /// @notice Queues a slash and jails the operator (the epochs contract only). The wad is cut to
    ///         MAX_OFFENCE_WAD. An operator the slasher ejected (and that has not registered again) is not
    ///         queued: nothing happens and `type(uint256).max` is returned, so a finalization never reverts.
    function queueSlash(address operator, uint32 networkId, uint64 wad, Reason reason) external returns (uint256);

    /// @notice Reverts unless `detection + vetoWindow + margin` is below both core delays.
    function checkTiming(uint256 detectionBlocks, uint256 vetoWindow, uint256 margin) external view;

    /// @notice Veto window plus submission margin, in blocks.
    function vetoAndMargin() external view returns (uint256);
}
