// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IDelegationManager} from "../interfaces/IDelegationManager.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";

/// @notice What the slasher reads from the epochs contract for the timing rule.
interface IDinEpochsTiming {
    /// @notice Blocks from an epoch's start to the end of its report window.
    function detectionBlocks() external view returns (uint256);
}

/// @title DinSlasher
/// @notice The slasher of every DIN operator set. A signed relay whose block hash contradicts the ledger's
///         own chain is slashed at once (verified against blockhash()); one about another chain is checked
///         against a hash attested by a quorum of watchers and queued. SLA slashes come queued from the
///         epochs contract. A queued slash jails the operator but never deregisters it; the veto committee
///         (the guardian) may cancel it within the window, anyone executes it after; an operator reaching
///         `ejectAfter` executed slashes on a network is ejected from it.
contract DinSlasher is IDinSlasher, AccessControl, Pausable, EIP712 {
    /// @notice Holds the parameter setters: the DAO timelock.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May cancel queued slashes: the guardian's veto committee.
    bytes32 public constant VETO_ROLE = keccak256("VETO_ROLE");
    /// @notice May pause execution and proofs: the guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice EIP-712 type of a relay.
    bytes32 public constant RELAY_TYPEHASH = keccak256(
        "Relay(uint256 chainId,bytes32 requestHash,bytes32 responseHash,uint256 blockNumber,bytes32 blockHash,uint256 servedAt)"
    );
    uint256 internal constant WAD = 1e18;

    /// @notice The service's registry (its AVS address).
    IDinRegistry public immutable registry;
    /// @notice The restaking core's AllocationManager.
    IAllocationManager public immutable allocationManager;
    /// @notice The restaking core's DelegationManager (for the withdrawal delay of the timing rule).
    IDelegationManager public immutable delegation;
    /// @notice The epochs contract: queues SLA slashes.
    address public epochs;

    SlashParams internal _params;
    QueuedSlash[] internal _queue;
    /// @notice Whether a relay (by EIP-712 digest) was used as evidence.
    mapping(bytes32 digest => bool) public relayUsed;
    /// @notice Executed (or immediate) slashes of an operator on a network.
    mapping(address operator => mapping(uint32 networkId => uint256)) public offences;
    /// @notice Wrong-data offences of an operator on a network (the second and later pay the repeat rate).
    mapping(address operator => mapping(uint32 networkId => uint256)) public wrongDataOffences;
    /// @notice Canonical block hashes of other chains, once attested by a quorum of watchers.
    mapping(uint256 chainId => mapping(uint256 blockNumber => bytes32)) public canonicalHash;
    /// @notice Queued slashes of an operator on a network not yet vetoed or executed.
    mapping(address operator => mapping(uint32 networkId => uint256)) public pendingSlashes;
    /// @notice The jail that stands whatever is vetoed: the end of the jails of executed and immediate slashes.
    mapping(address operator => mapping(uint32 networkId => uint256)) public jailFloor;
    mapping(bytes32 attestation => uint256) internal _attestations;
    mapping(bytes32 attestation => mapping(address watcher => bool)) internal _attested;

    /// @param registry_ the DinRegistry
    /// @param delegation_ the core's DelegationManager
    /// @param params initial parameters (the timing rule is checked once the epochs contract is wired)
    /// @param admin receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE
    constructor(IDinRegistry registry_, IDelegationManager delegation_, SlashParams memory params, address admin)
        EIP712("OpenDIN", "1")
    {
        registry = registry_;
        allocationManager = IAllocationManager(DinRegistryView(address(registry_)).allocationManager());
        delegation = delegation_;
        _validate(params);
        _params = params;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
        emit SlashParamsSet(params);
    }

    // ───────────────────────────── governance ─────────────────────────────

    /// @notice Wires the epochs contract (once) and checks the timing rule.
    function wire(address epochs_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (epochs != address(0)) revert AlreadyWired();
        epochs = epochs_;
        checkTiming(IDinEpochsTiming(epochs_).detectionBlocks(), _params.vetoWindow, _params.submissionMargin);
    }

    /// @notice Sets the slashing parameters; enforces the timing rule.
    function setSlashParams(SlashParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _validate(params);
        if (epochs != address(0)) {
            checkTiming(IDinEpochsTiming(epochs).detectionBlocks(), params.vetoWindow, params.submissionMargin);
        }
        _params = params;
        emit SlashParamsSet(params);
    }

    /// @notice Pauses fraud proofs, queuing and execution of slashes.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Lifts a pause.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ───────────────────────────── evidence ─────────────────────────────

    /// @notice Proves that a relay signed by an operator claims a block hash that differs from this chain's
    ///         `blockhash()` (the last 256 blocks), and slashes at once: `wrongDataWad`, or
    ///         `repeatWrongDataWad` for a repeat offence. Each relay counts once.
    function proveWrongBlockHash(Relay calldata relay, bytes calldata signature) external whenNotPaused {
        if (relay.chainId != block.chainid) revert CanonicalHashUnavailable();
        bytes32 canonical = blockhash(relay.blockNumber);
        if (canonical == bytes32(0)) revert CanonicalHashUnavailable();
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, canonical);
        uint64 wad = _wrongDataWad(operator, networkId);
        emit FraudProven(digest, operator, networkId, relay.blockNumber);
        _raiseJailFloor(operator, networkId, block.number);
        _jail(operator, networkId);
        _slash(operator, networkId, wad, type(uint256).max);
    }

    /// @notice Attests the canonical hash of a block of another chain (active watchers only).
    function attestBlockHash(uint256 chainId, uint256 blockNumber, bytes32 blockHash) external whenNotPaused {
        if (!registry.isActiveWatcher(msg.sender)) revert InvalidCaller();
        bytes32 key = keccak256(abi.encode(chainId, blockNumber, blockHash));
        if (_attested[key][msg.sender]) revert AlreadyAttested();
        _attested[key][msg.sender] = true;
        uint256 votes = ++_attestations[key];
        emit BlockHashAttested(msg.sender, chainId, blockNumber, blockHash);
        if (votes == _params.attestQuorum && canonicalHash[chainId][blockNumber] == bytes32(0)) {
            canonicalHash[chainId][blockNumber] = blockHash;
            emit CanonicalHashSet(chainId, blockNumber, blockHash);
        }
    }

    /// @notice Proves a relay about another chain wrong against its attested canonical hash; the slash is
    ///         queued behind the veto window (watchers' word, unlike blockhash(), can be wrong).
    function proveWrongBlockHashAttested(Relay calldata relay, bytes calldata signature)
        external
        whenNotPaused
        returns (uint256 slashId)
    {
        if (relay.chainId == block.chainid) revert UseOnChainProof();
        bytes32 canonical = canonicalHash[relay.chainId][relay.blockNumber];
        if (canonical == bytes32(0)) revert CanonicalHashUnavailable();
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, canonical);
        emit FraudProven(digest, operator, networkId, relay.blockNumber);
        slashId = _queueSlash(operator, networkId, _wrongDataWad(operator, networkId), Reason.WrongData);
    }

    /// @notice The EIP-712 digest an operator signs for `relay`.
    function relayDigest(Relay calldata relay) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RELAY_TYPEHASH, relay)));
    }

    // ───────────────────────────── queue ─────────────────────────────

    /// @inheritdoc IDinSlasher
    function queueSlash(address operator, uint32 networkId, uint64 wad, Reason reason)
        external
        returns (uint256)
    {
        if (msg.sender != epochs) revert InvalidCaller();
        return _queueSlash(operator, networkId, wad, reason);
    }

    /// @notice Cancels a queued slash within its veto window (the veto committee only). When no other slash of
    ///         the operator on the network is pending, its jail falls back to what executed and immediate
    ///         slashes imposed (usually: none).
    function veto(uint256 slashId) external onlyRole(VETO_ROLE) {
        QueuedSlash storage s = _queued(slashId);
        if (block.number > uint256(s.queuedAt) + _params.vetoWindow) revert VetoWindowOver();
        s.status = Status.Vetoed;
        emit SlashVetoed(slashId, msg.sender);
        if (--pendingSlashes[s.operator][s.networkId] == 0) {
            registry.unjail(s.operator, s.networkId, jailFloor[s.operator][s.networkId]);
        }
    }

    /// @notice Executes a queued slash after its veto window (anyone): slashes through the restaking core
    ///         and ejects the operator from the network when it reached `ejectAfter` offences.
    function execute(uint256 slashId) external whenNotPaused {
        QueuedSlash storage s = _queued(slashId);
        if (block.number <= uint256(s.queuedAt) + _params.vetoWindow) revert VetoWindowOpen();
        s.status = Status.Executed;
        --pendingSlashes[s.operator][s.networkId];
        _raiseJailFloor(s.operator, s.networkId, s.queuedAt);
        emit SlashExecuted(slashId, s.operator, s.networkId, s.wad);
        _slash(s.operator, s.networkId, s.wad, slashId);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IDinSlasher
    function checkTiming(uint256 detectionBlocks, uint256 vetoWindow, uint256 margin) public view {
        uint256 limit = allocationManager.DEALLOCATION_DELAY();
        uint256 withdrawal = delegation.minWithdrawalDelayBlocks();
        if (withdrawal < limit) limit = withdrawal;
        uint256 required = detectionBlocks + vetoWindow + margin;
        if (required >= limit) revert TimingRuleViolated(required, limit);
    }

    /// @inheritdoc IDinSlasher
    function vetoAndMargin() external view returns (uint256) {
        return uint256(_params.vetoWindow) + _params.submissionMargin;
    }

    /// @notice The slashing parameters.
    function getSlashParams() external view returns (SlashParams memory) {
        return _params;
    }

    /// @notice A queued (or vetoed, or executed) slash.
    function getQueuedSlash(uint256 slashId) external view returns (QueuedSlash memory) {
        return _queue[slashId];
    }

    /// @notice Number of slashes ever queued.
    function queueLength() external view returns (uint256) {
        return _queue.length;
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _checkEvidence(Relay calldata relay, bytes calldata signature, bytes32 canonical)
        internal
        returns (bytes32 digest, address operator, uint32 networkId)
    {
        if (relay.blockHash == bytes32(0) || relay.blockHash == canonical) revert NotFraudulent();
        if (relay.chainId > type(uint64).max) revert UnknownChain(relay.chainId);
        networkId = registry.networkOfChain(uint64(relay.chainId));
        if (networkId == 0) revert UnknownChain(relay.chainId);
        digest = relayDigest(relay);
        if (relayUsed[digest]) revert RelayAlreadyUsed();
        operator = registry.operatorOfSigner(networkId, ECDSA.recover(digest, signature));
        if (operator == address(0)) revert UnknownSigner();
        relayUsed[digest] = true;
    }

    function _wrongDataWad(address operator, uint32 networkId) internal returns (uint64) {
        return wrongDataOffences[operator][networkId]++ == 0 ? _params.wrongDataWad : _params.repeatWrongDataWad;
    }

    /// @dev Not pausable: a pause stops proofs and executions, never an epoch's finalization.
    function _queueSlash(address operator, uint32 networkId, uint64 wad, Reason reason)
        internal
        returns (uint256 slashId)
    {
        slashId = _queue.length;
        _queue.push(
            QueuedSlash({
                operator: operator,
                networkId: networkId,
                queuedAt: uint32(block.number),
                status: Status.Queued,
                reason: reason,
                wad: wad
            })
        );
        ++pendingSlashes[operator][networkId];
        emit SlashQueued(slashId, operator, networkId, reason, wad);
        // Jailed, not deregistered: if the slash is vetoed the operator is whole and still registered.
        _jail(operator, networkId);
    }

    /// @dev A slash that stands keeps the operator jailed until `from + jailCooldown`, whatever is vetoed.
    function _raiseJailFloor(address operator, uint32 networkId, uint256 from) internal {
        uint256 until = from + _params.jailCooldown;
        if (until > jailFloor[operator][networkId]) jailFloor[operator][networkId] = until;
    }

    function _jail(address operator, uint32 networkId) internal {
        registry.jail(operator, networkId, block.number + _params.jailCooldown);
    }

    /// @dev Effects (offence count) before the two calls into the core.
    function _slash(address operator, uint32 networkId, uint64 wad, uint256 slashId) internal {
        uint256 count = ++offences[operator][networkId];
        IStrategy[] memory strategies = registry.getStrategies();
        uint256[] memory wads = new uint256[](strategies.length);
        for (uint256 i; i < wads.length; ++i) {
            wads[i] = wad;
        }
        allocationManager.slashOperator(
            address(registry),
            IAllocationManager.SlashingParams({
                operator: operator,
                operatorSetId: networkId,
                strategies: strategies,
                wadsToSlash: wads,
                description: slashId == type(uint256).max ? "din: wrong block hash" : "din: queued slash"
            })
        );
        if (count >= _params.ejectAfter) registry.eject(operator, networkId);
    }

    function _queued(uint256 slashId) internal view returns (QueuedSlash storage s) {
        if (slashId >= _queue.length) revert NotQueued();
        s = _queue[slashId];
        if (s.status != Status.Queued) revert NotQueued();
    }

    function _validate(SlashParams memory p) internal pure {
        if (
            p.vetoWindow == 0 || p.ejectAfter == 0 || p.attestQuorum == 0 || p.wrongDataWad == 0
                || p.wrongDataWad > WAD || p.repeatWrongDataWad < p.wrongDataWad || p.repeatWrongDataWad > WAD
        ) revert InvalidParameter();
    }
}

/// @notice The registry's getter of the AllocationManager.
interface DinRegistryView {
    /// @notice The core's AllocationManager.
    function allocationManager() external view returns (address);
}
