// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAllocationManager, IDelegationManager, IStrategy, OperatorSet} from "./interfaces/IEigenLayer.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {IDinSlasher} from "./interfaces/IDinSlasher.sol";
import {GuardianPause} from "./GuardianPause.sol";
import {BlockHeader} from "./libraries/BlockHeader.sol";

/// @notice What the slasher reads from the epochs contract for the timing rule.
interface IDinEpochsTiming {
    /// @notice Blocks from an epoch's start to the end of its report window.
    function detectionBlocks() external view returns (uint256);
    /// @notice The epoch the current block belongs to.
    function currentEpoch() external view returns (uint256);
}

/// @title DinSlasher
/// @notice The slasher of every DIN operator set. A signed relay whose block hash contradicts the ledger's
///         own chain is slashed at once (verified against blockhash()); one about another chain is checked
///         against a hash attested by a quorum of watchers and queued. SLA slashes come queued from the
///         epochs contract. A queued slash jails the operator but never deregisters it; the veto committee
///         (the guardian) may cancel it within the window, anyone executes it after; an operator reaching
///         `ejectAfter` executed slashes on a network is ejected from it.
contract DinSlasher is IDinSlasher, AccessControl, GuardianPause, EIP712 {
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
    /// @notice The most one slash may take of an operator's allocation to a network (5%), whatever
    ///         governance sets and whatever the epochs contract queues.
    uint64 public constant MAX_OFFENCE_WAD = 5e16;
    /// @notice The most all slashes executed within SLASH_WINDOW blocks may take of an operator on a network
    ///         (10%, the sum of the wads, an upper bound of the compounded loss).
    uint64 public constant MAX_WINDOW_WAD = 1e17;
    /// @notice The rolling window of MAX_WINDOW_WAD, in blocks (one week of 12 s blocks).
    uint256 public constant SLASH_WINDOW = 50_400;
    /// @notice The most slashes that take stake from an operator on a network within SLASH_WINDOW (bounds the
    ///         ceiling's loop); later ones in the window take nothing.
    uint256 public constant MAX_SLASHES_PER_WINDOW = 32;
    /// @notice The longest veto window governance may set (30 days of 12 s blocks).
    uint32 public constant MAX_VETO_WINDOW = 216_000;
    /// @notice The longest jail governance may set per slash (30 days of 12 s blocks).
    uint32 public constant MAX_JAIL_COOLDOWN = 216_000;
    /// @notice The EIP-2935 history contract: hashes of the last HISTORY_WINDOW blocks (Prague and later).
    address public constant HISTORY_CONTRACT = 0x0000F90827F1C53a10cb7A02335B175320002935;
    /// @notice Blocks the history contract keeps.
    uint256 public constant HISTORY_WINDOW = 8191;

    /// @notice The service's registry (its AVS address).
    IDinRegistry public immutable registry;
    /// @notice The restaking core's AllocationManager.
    IAllocationManager public immutable allocationManager;
    /// @notice The restaking core's DelegationManager (for the withdrawal delay of the timing rule).
    IDelegationManager public immutable delegation;
    /// @notice Seconds after a block's timestamp from which an answer about it counts as evidence: an answer
    ///         served earlier was about a block that could still be reorged out, and never slashes.
    uint256 public immutable finalityDelay;
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
    mapping(bytes32 blockKey => mapping(address watcher => bool)) internal _attested;
    /// @notice The block from which an attested canonical hash is fixed (until then a conflicting hash
    ///         attested by a majority of the watchers, or governance, replaces it).
    mapping(uint256 chainId => mapping(uint256 blockNumber => uint256)) public canonicalFixedAt;
    /// @notice Whether an operator was already punished for wrong data about a block of a network's chain.
    mapping(bytes32 incident => bool) public incidentPunished;
    /// @notice The epoch (plus one; zero: never) of an operator's last wrong-data penalty on a network.
    mapping(address operator => mapping(uint32 networkId => uint256)) public wrongDataEpoch;
    /// @notice Whether the slasher ejected the operator from the network (cleared in effect once it is a
    ///         member again).
    mapping(address operator => mapping(uint32 networkId => bool)) public ejectedBySlasher;
    mapping(address operator => mapping(uint32 networkId => SlashRecord[])) internal _slashLog;
    /// @notice Parameters that raise a wad, waiting for `pendingActivation` (zero: none).
    SlashParams internal _pendingParams;
    /// @notice The block from which `_pendingParams` apply (zero: none pending).
    uint256 public pendingActivation;

    /// @param registry_ the DinRegistry
    /// @param delegation_ the core's DelegationManager
    /// @param params initial parameters (the timing rule is checked once the epochs contract is wired)
    /// @param finalityDelay_ seconds after which a block of the ledger's chain is final (see finalityDelay)
    /// @param admin receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE
    constructor(
        IDinRegistry registry_,
        IDelegationManager delegation_,
        SlashParams memory params,
        uint256 finalityDelay_,
        address admin
    ) EIP712("OpenDIN", "1") {
        registry = registry_;
        finalityDelay = finalityDelay_;
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
        SlashParams memory p = _current();
        checkTiming(IDinEpochsTiming(epochs_).detectionBlocks(), p.vetoWindow, p.submissionMargin);
    }

    /// @notice Sets the slashing parameters; enforces the timing rule and the immutable maxima. Parameters
    ///         that raise a wad apply only once stakers could have withdrawn: from now + the core's
    ///         withdrawal delay (a pending change is replaced by the next one); the others apply at once.
    ///         Slashes already queued keep the parameters they were queued with.
    function setSlashParams(SlashParams calldata params) external onlyRole(GOVERNANCE_ROLE) {
        _validate(params);
        if (epochs != address(0)) {
            checkTiming(IDinEpochsTiming(epochs).detectionBlocks(), params.vetoWindow, params.submissionMargin);
        }
        SlashParams memory current = _current();
        if (params.wrongDataWad > current.wrongDataWad || params.repeatWrongDataWad > current.repeatWrongDataWad) {
            uint256 activation = block.number + delegation.minWithdrawalDelayBlocks();
            _params = current;
            _pendingParams = params;
            pendingActivation = activation;
            emit SlashParamsScheduled(params, activation);
        } else {
            _params = params;
            delete _pendingParams;
            pendingActivation = 0;
            emit SlashParamsSet(params);
        }
    }

    /// @notice Pauses fraud proofs and executions of slashes (see GuardianPause: it expires, and cools down).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pauseBounded();
    }

    /// @notice Lifts a pause before it expires.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpauseBounded();
    }

    // ───────────────────────────── evidence ─────────────────────────────

    /// @notice Proves that a relay signed by an operator claims a block hash that differs from this chain's
    ///         canonical one (`blockhash()` for the last 256 blocks, the EIP-2935 history contract up to
    ///         8191), and slashes at once: `wrongDataWad`, or `repeatWrongDataWad` for a repeat offence.
    ///         `header` is the canonical block's RLP header: only an answer served once that block was final
    ///         (its timestamp + finalityDelay <= servedAt) is evidence, so an honest answer about a head later
    ///         reorged out never slashes. One incident, one penalty: each relay counts once, an operator is
    ///         punished once per block of a network and at most once per epoch for wrong data, within the
    ///         ceilings (MAX_OFFENCE_WAD, MAX_WINDOW_WAD per SLASH_WINDOW), and never after the slasher
    ///         ejected it.
    function proveWrongBlockHash(Relay calldata relay, bytes calldata signature, bytes calldata header)
        external
        whenNotPaused
    {
        bytes32 canonical = _finalCanonicalHash(relay, header);
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, canonical);
        SlashParams memory p = _current();
        uint64 wad = wrongDataOffences[operator][networkId] == 0 ? p.wrongDataWad : p.repeatWrongDataWad;
        emit FraudProven(digest, operator, networkId, relay.blockNumber);
        _raiseJailFloor(operator, networkId, block.number, p.jailCooldown);
        _jail(operator, networkId, p.jailCooldown);
        _slash(operator, networkId, wad, type(uint256).max, Reason.WrongData);
    }

    /// @notice Attests the canonical hash of a block of another chain (active watchers only, once per block).
    ///         A hash attested by a majority of the active watchers (and at least `attestQuorum`) becomes the
    ///         canonical hash, fixed after a dispute period of one veto window; until then a conflicting hash
    ///         reaching the same majority replaces it (and the period starts again).
    function attestBlockHash(uint256 chainId, uint256 blockNumber, bytes32 blockHash) external whenNotPaused {
        if (!registry.isActiveWatcher(msg.sender)) revert InvalidCaller();
        if (blockHash == bytes32(0)) revert InvalidParameter();
        bytes32 blockKey = keccak256(abi.encode(chainId, blockNumber));
        if (_attested[blockKey][msg.sender]) revert AlreadyAttested();
        _attested[blockKey][msg.sender] = true;
        uint256 votes = ++_attestations[keccak256(abi.encode(chainId, blockNumber, blockHash))];
        emit BlockHashAttested(msg.sender, chainId, blockNumber, blockHash);
        bytes32 current = canonicalHash[chainId][blockNumber];
        if (votes < attestThreshold() || current == blockHash) return;
        if (current != bytes32(0) && block.number >= canonicalFixedAt[chainId][blockNumber]) return;
        _setCanonical(chainId, blockNumber, blockHash, block.number + _current().vetoWindow);
    }

    /// @notice Sets (or replaces) the canonical hash of a block of another chain, fixed at once (governance).
    function setCanonicalHash(uint256 chainId, uint256 blockNumber, bytes32 blockHash)
        external
        onlyRole(GOVERNANCE_ROLE)
    {
        if (blockHash == bytes32(0)) revert InvalidParameter();
        _setCanonical(chainId, blockNumber, blockHash, block.number);
    }

    /// @notice Attestations a hash needs: a majority of the active watchers, and at least `attestQuorum`.
    function attestThreshold() public view returns (uint256 threshold) {
        address[] memory members =
            allocationManager.getMembers(OperatorSet(address(registry), DinRegistryView(address(registry)).WATCHER_SET()));
        uint256 active;
        for (uint256 i; i < members.length; ++i) {
            if (registry.isActiveWatcher(members[i])) ++active;
        }
        threshold = active / 2 + 1;
        uint256 quorum = _current().attestQuorum;
        if (threshold < quorum) threshold = quorum;
    }

    function _setCanonical(uint256 chainId, uint256 blockNumber, bytes32 blockHash, uint256 fixedAt) internal {
        canonicalHash[chainId][blockNumber] = blockHash;
        canonicalFixedAt[chainId][blockNumber] = fixedAt;
        emit CanonicalHashSet(chainId, blockNumber, blockHash);
    }

    /// @notice Proves a relay about another chain wrong against its attested canonical hash, once that hash is
    ///         fixed (after its dispute period); the slash is queued behind the veto window (watchers' word,
    ///         unlike blockhash(), can be wrong).
    function proveWrongBlockHashAttested(Relay calldata relay, bytes calldata signature)
        external
        whenNotPaused
        returns (uint256 slashId)
    {
        if (relay.chainId == block.chainid) revert UseOnChainProof();
        bytes32 canonical = canonicalHash[relay.chainId][relay.blockNumber];
        if (canonical == bytes32(0)) revert CanonicalHashUnavailable();
        uint256 fixedAt = canonicalFixedAt[relay.chainId][relay.blockNumber];
        if (block.number < fixedAt) revert CanonicalHashDisputable(fixedAt);
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, canonical);
        emit FraudProven(digest, operator, networkId, relay.blockNumber);
        SlashParams memory p = _current();
        slashId = _queueSlash(operator, networkId, p.wrongDataWad, p.repeatWrongDataWad, Reason.WrongData, p);
    }

    /// @notice The canonical hash of block `blockNumber` of this chain: blockhash() for the last 256 blocks,
    ///         the EIP-2935 history contract for the last HISTORY_WINDOW (zero when unavailable, or where
    ///         the chain has no history contract).
    function canonicalHashOf(uint256 blockNumber) public view returns (bytes32) {
        if (blockNumber >= block.number) return bytes32(0);
        bytes32 hash = blockhash(blockNumber);
        if (hash != bytes32(0) || block.number - blockNumber > HISTORY_WINDOW) return hash;
        (bool ok, bytes memory data) = HISTORY_CONTRACT.staticcall(abi.encode(blockNumber));
        if (!ok || data.length != 32) return bytes32(0);
        return abi.decode(data, (bytes32));
    }

    /// @dev The canonical hash of the relay's block, once `header` is shown to be that block's and the block
    ///      was final when the relay was served.
    function _finalCanonicalHash(Relay calldata relay, bytes calldata header) internal view returns (bytes32 hash) {
        if (relay.chainId != block.chainid) revert CanonicalHashUnavailable();
        hash = canonicalHashOf(relay.blockNumber);
        if (hash == bytes32(0)) revert CanonicalHashUnavailable();
        if (relay.blockHash == hash) revert NotFraudulent();
        if (keccak256(header) != hash) revert BlockHeader.InvalidHeader();
        (uint256 number, uint256 timestamp) = BlockHeader.numberAndTimestamp(header);
        if (number != relay.blockNumber) revert BlockHeader.InvalidHeader();
        if (timestamp + finalityDelay > relay.servedAt) revert NotFinalWhenServed();
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
        if (_isEjected(operator, networkId)) return type(uint256).max;
        if (wad > MAX_OFFENCE_WAD) wad = MAX_OFFENCE_WAD;
        return _queueSlash(operator, networkId, wad, wad, reason, _current());
    }

    /// @notice Cancels a queued slash within the veto window it was queued with (the veto committee only).
    ///         A vetoed slash leaves no trace: no offence is counted (counters move only on execution) and,
    ///         when no other slash of the operator on the network is pending, its jail falls back at once to
    ///         what executed and immediate slashes imposed (usually: none).
    function veto(uint256 slashId) external onlyRole(VETO_ROLE) {
        QueuedSlash storage s = _queued(slashId);
        if (block.number > uint256(s.queuedAt) + s.vetoWindow) revert VetoWindowOver();
        s.status = Status.Vetoed;
        emit SlashVetoed(slashId, msg.sender);
        if (--pendingSlashes[s.operator][s.networkId] == 0) {
            registry.unjail(s.operator, s.networkId, jailFloor[s.operator][s.networkId]);
        }
    }

    /// @notice Executes a queued slash after the veto window it was queued with (anyone): slashes through
    ///         the restaking core (the repeat wad when the operator already has an executed wrong-data
    ///         offence, within the ceilings) and ejects the operator from the network when it reached
    ///         `ejectAfter` offences.
    function execute(uint256 slashId) external whenNotPaused {
        QueuedSlash storage s = _queued(slashId);
        if (block.number <= uint256(s.queuedAt) + s.vetoWindow) revert VetoWindowOpen();
        (address operator, uint32 networkId, Reason reason) = (s.operator, s.networkId, s.reason);
        uint64 wad = reason == Reason.WrongData && wrongDataOffences[operator][networkId] > 0 ? s.repeatWad : s.wad;
        s.status = Status.Executed;
        --pendingSlashes[operator][networkId];
        _raiseJailFloor(operator, networkId, s.queuedAt, _current().jailCooldown);
        emit SlashExecuted(slashId, operator, networkId, wad);
        _slash(operator, networkId, wad, slashId, reason);
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
        SlashParams memory p = _current();
        return uint256(p.vetoWindow) + p.submissionMargin;
    }

    /// @notice The slashing parameters in force now.
    function getSlashParams() external view returns (SlashParams memory) {
        return _current();
    }

    /// @notice Parameters scheduled to apply from `activationBlock` (zero: none pending).
    function getPendingSlashParams() external view returns (SlashParams memory params, uint256 activationBlock) {
        return (_pendingParams, pendingActivation);
    }

    /// @notice The sum of the wads executed against `operator` on `networkId` in the last SLASH_WINDOW
    ///         blocks, and how many slashes took stake in it (at most MAX_SLASHES_PER_WINDOW are counted).
    function slashedInWindow(address operator, uint32 networkId) public view returns (uint256 total, uint256 count) {
        SlashRecord[] storage log = _slashLog[operator][networkId];
        for (uint256 i = log.length; i > 0 && count < MAX_SLASHES_PER_WINDOW; --i) {
            SlashRecord storage r = log[i - 1];
            if (uint256(r.atBlock) + SLASH_WINDOW <= block.number) break;
            total += r.wad;
            ++count;
        }
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
        // Reverts unless the key belonged to an operator when the relay was served.
        operator = registry.signerOperatorAt(networkId, ECDSA.recover(digest, signature), relay.servedAt);
        if (_isEjected(operator, networkId)) revert OperatorWasEjected();
        // One incident, one penalty: a block of a network is held against an operator once, and wrong data
        // at most once per epoch (however many relays the operator was made to sign about it).
        bytes32 incident = keccak256(abi.encode(operator, networkId, relay.blockNumber));
        uint256 epochMark = IDinEpochsTiming(epochs).currentEpoch() + 1;
        if (incidentPunished[incident] || wrongDataEpoch[operator][networkId] == epochMark) {
            revert IncidentAlreadyPunished();
        }
        relayUsed[digest] = true;
        incidentPunished[incident] = true;
        wrongDataEpoch[operator][networkId] = epochMark;
    }

    /// @dev Whether the slasher ejected the operator and it has not registered on the network again.
    function _isEjected(address operator, uint32 networkId) internal view returns (bool) {
        return ejectedBySlasher[operator][networkId]
            && !allocationManager.isMemberOfOperatorSet(operator, OperatorSet(address(registry), networkId));
    }

    /// @dev The parameters in force: the pending ones once their activation block is reached.
    function _current() internal view returns (SlashParams memory) {
        uint256 activation = pendingActivation;
        if (activation != 0 && block.number >= activation) return _pendingParams;
        return _params;
    }

    /// @dev Not pausable: a pause stops proofs and executions, never an epoch's finalization.
    function _queueSlash(
        address operator,
        uint32 networkId,
        uint64 wad,
        uint64 repeatWad,
        Reason reason,
        SlashParams memory p
    ) internal returns (uint256 slashId) {
        slashId = _queue.length;
        _queue.push(
            QueuedSlash({
                operator: operator,
                networkId: networkId,
                queuedAt: uint32(block.number),
                status: Status.Queued,
                reason: reason,
                wad: wad,
                repeatWad: repeatWad,
                vetoWindow: p.vetoWindow
            })
        );
        ++pendingSlashes[operator][networkId];
        emit SlashQueued(slashId, operator, networkId, reason, wad);
        // Jailed, not deregistered: if the slash is vetoed the operator is whole and still registered.
        _jail(operator, networkId, p.jailCooldown);
    }

    /// @dev A slash that stands keeps the operator jailed until `from + jailCooldown`, whatever is vetoed.
    function _raiseJailFloor(address operator, uint32 networkId, uint256 from, uint32 jailCooldown) internal {
        uint256 until = from + jailCooldown;
        if (until > jailFloor[operator][networkId]) jailFloor[operator][networkId] = until;
    }

    function _jail(address operator, uint32 networkId, uint32 jailCooldown) internal {
        registry.jail(operator, networkId, block.number + jailCooldown);
    }

    /// @dev Applies the ceilings, then records the offence (effects) before the calls into the core. A slash
    ///      the ceilings reduce to nothing takes nothing and counts as no offence.
    function _slash(address operator, uint32 networkId, uint64 wad, uint256 slashId, Reason reason) internal {
        uint64 applied = _capped(operator, networkId, wad);
        if (applied != wad) emit SlashCapped(slashId, wad, applied);
        if (applied == 0) return;
        _slashLog[operator][networkId].push(SlashRecord({atBlock: uint64(block.number), wad: applied}));
        if (reason == Reason.WrongData) ++wrongDataOffences[operator][networkId];
        bool eject = ++offences[operator][networkId] >= _current().ejectAfter;
        if (eject) ejectedBySlasher[operator][networkId] = true;
        _slashThroughCore(operator, networkId, applied, slashId);
        if (eject) registry.eject(operator, networkId);
    }

    /// @dev `wad` cut to MAX_OFFENCE_WAD and to what is left of MAX_WINDOW_WAD in the rolling window; zero
    ///      after ejection or once MAX_SLASHES_PER_WINDOW slashes took stake in the window.
    function _capped(address operator, uint32 networkId, uint64 wad) internal view returns (uint64) {
        if (_isEjected(operator, networkId)) return 0;
        (uint256 taken, uint256 count) = slashedInWindow(operator, networkId);
        if (count >= MAX_SLASHES_PER_WINDOW || taken >= MAX_WINDOW_WAD) return 0;
        if (wad > MAX_OFFENCE_WAD) wad = MAX_OFFENCE_WAD;
        if (taken + wad > MAX_WINDOW_WAD) wad = uint64(MAX_WINDOW_WAD - taken);
        return wad;
    }

    function _slashThroughCore(address operator, uint32 networkId, uint64 wad, uint256 slashId) internal {
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
    }

    function _queued(uint256 slashId) internal view returns (QueuedSlash storage s) {
        if (slashId >= _queue.length) revert NotQueued();
        s = _queue[slashId];
        if (s.status != Status.Queued) revert NotQueued();
    }

    function _validate(SlashParams memory p) internal pure {
        if (
            p.vetoWindow == 0 || p.vetoWindow > MAX_VETO_WINDOW || p.jailCooldown > MAX_JAIL_COOLDOWN
                || p.ejectAfter == 0 || p.attestQuorum == 0 || p.wrongDataWad == 0 || p.wrongDataWad > MAX_OFFENCE_WAD
                || p.repeatWrongDataWad < p.wrongDataWad || p.repeatWrongDataWad > MAX_OFFENCE_WAD
        ) revert InvalidParameter();
    }
}

/// @notice The registry's getter of the AllocationManager.
interface DinRegistryView {
    /// @notice The core's AllocationManager.
    function allocationManager() external view returns (address);
    /// @notice Operator set of the watchers.
    function WATCHER_SET() external view returns (uint32);
}
