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
import {IDinStateVerifier} from "./interfaces/IDinStateProof.sol";
import {DinStateVerifier} from "./DinStateVerifier.sol";

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
///         against a hash attested by a quorum of watchers and queued. A signed state answer (balance, nonce,
///         code, storage slot) is proven wrong the same two ways, from `eth_getProof` proofs checked by the
///         state verifier this contract creates (see DinStateVerifier). SLA slashes come queued from the
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
    /// @notice Checks state proofs (created with this contract; stateless).
    IDinStateVerifier public immutable stateVerifier;
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
        stateVerifier = new DinStateVerifier();
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
        bytes32 canonical = _ledgerCanonical(relay.chainId, relay.blockNumber);
        _requireWrongHash(relay, canonical);
        (uint256 number, uint256 timestamp) = BlockHeader.numberAndTimestamp(header);
        if (number != relay.blockNumber) revert BlockHeader.InvalidHeader();
        _requireFinalHeader(header, canonical, timestamp, relay.servedAt);
        _punishNow(relay, signature, relay.blockNumber);
    }

    /// @notice Proves that a relay signed by an operator answers a state request about this chain (balance,
    ///         nonce, code or storage slot of an account at a numbered block) with a value other than the one
    ///         `evidence`'s `eth_getProof` proofs show at the block's state root, and slashes at once, by the
    ///         rules of proveWrongBlockHash (the request's block is the incident's). The header must be the
    ///         canonical one of the request's block, which must have been final when the answer was served.
    ///         A correct answer is refused (NotFraudulent), as is an absent account or slot (no proof).
    function proveWrongState(Relay calldata relay, bytes calldata signature, StateEvidence calldata evidence)
        external
        whenNotPaused
    {
        _punishNow(relay, signature, _wrongState(relay, evidence, true));
    }

    /// @notice proveWrongState for another chain: the header is checked against the block's attested
    ///         canonical hash once fixed, and the slash is queued behind the veto window.
    function proveWrongStateAttested(Relay calldata relay, bytes calldata signature, StateEvidence calldata evidence)
        external
        whenNotPaused
        returns (uint256 slashId)
    {
        return _punishQueued(relay, signature, _wrongState(relay, evidence, false));
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
        _requireWrongHash(relay, _attestedCanonical(relay.chainId, relay.blockNumber));
        return _punishQueued(relay, signature, relay.blockNumber);
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

    /// @dev The canonical hash of block `blockNumber` of this chain (the relay's chain must be this one).
    function _ledgerCanonical(uint256 chainId, uint256 blockNumber) internal view returns (bytes32 hash) {
        if (chainId != block.chainid) revert CanonicalHashUnavailable();
        hash = canonicalHashOf(blockNumber);
        if (hash == bytes32(0)) revert CanonicalHashUnavailable();
    }

    /// @dev The attested canonical hash of block `blockNumber` of another chain, once fixed.
    function _attestedCanonical(uint256 chainId, uint256 blockNumber) internal view returns (bytes32 hash) {
        if (chainId == block.chainid) revert UseOnChainProof();
        hash = canonicalHash[chainId][blockNumber];
        if (hash == bytes32(0)) revert CanonicalHashUnavailable();
        uint256 fixedAt = canonicalFixedAt[chainId][blockNumber];
        if (block.number < fixedAt) revert CanonicalHashDisputable(fixedAt);
    }

    /// @dev Reverts unless the relay claims a block hash and it is not the canonical one.
    function _requireWrongHash(Relay calldata relay, bytes32 canonical) internal pure {
        if (relay.blockHash == bytes32(0) || relay.blockHash == canonical) revert NotFraudulent();
    }

    /// @dev Reverts unless `header` is the canonical block's and the block (of `timestamp`) was final when
    ///      the relay was served: an honest answer about a head later reorged out never slashes.
    function _requireFinalHeader(bytes calldata header, bytes32 canonical, uint256 timestamp, uint256 servedAt)
        internal
        view
    {
        if (keccak256(header) != canonical) revert BlockHeader.InvalidHeader();
        if (timestamp + finalityDelay > servedAt) revert NotFinalWhenServed();
    }

    /// @dev Checks a state proof (on this chain or against an attested hash) and returns the block the
    ///      request names; reverts NotFraudulent when the answer is the proven value.
    function _wrongState(Relay calldata relay, StateEvidence calldata evidence, bool onChain)
        internal
        view
        returns (uint256 blockNumber)
    {
        if (keccak256(evidence.request) != relay.requestHash) revert RequestHashMismatch();
        if (keccak256(evidence.response) != relay.responseHash) revert ResponseHashMismatch();
        uint256 timestamp;
        bool wrong;
        (blockNumber, timestamp, wrong) = stateVerifier.check(evidence);
        bytes32 canonical = onChain
            ? _ledgerCanonical(relay.chainId, blockNumber)
            : _attestedCanonical(relay.chainId, blockNumber);
        _requireFinalHeader(evidence.header, canonical, timestamp, relay.servedAt);
        if (!wrong) revert NotFraudulent();
    }

    /// @dev Wrong data proven against this chain: slashed at once (`wrongDataWad`, or `repeatWrongDataWad`
    ///      for a repeat offence) and jailed.
    function _punishNow(Relay calldata relay, bytes calldata signature, uint256 blockNumber) internal {
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, blockNumber);
        SlashParams memory p = _current();
        uint64 wad = wrongDataOffences[operator][networkId] == 0 ? p.wrongDataWad : p.repeatWrongDataWad;
        emit FraudProven(digest, operator, networkId, blockNumber);
        _raiseJailFloor(operator, networkId, block.number, p.jailCooldown);
        _jail(operator, networkId, p.jailCooldown);
        _slash(operator, networkId, wad, type(uint256).max, Reason.WrongData);
    }

    /// @dev Wrong data proven against an attested hash: the slash is queued behind the veto window.
    function _punishQueued(Relay calldata relay, bytes calldata signature, uint256 blockNumber)
        internal
        returns (uint256 slashId)
    {
        (bytes32 digest, address operator, uint32 networkId) = _checkEvidence(relay, signature, blockNumber);
        emit FraudProven(digest, operator, networkId, blockNumber);
        SlashParams memory p = _current();
        slashId = _queueSlash(operator, networkId, p.wrongDataWad, p.repeatWrongDataWad, Reason.WrongData, p);
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

    /// @dev The rules every proof of wrong data follows, whatever it proves: the relay counts once, its key
    ///      was the operator's when it was served, the operator was not ejected, and one incident (operator,
    ///      network, `blockNumber`) is punished once, wrong data at most once per epoch.
    function _checkEvidence(Relay calldata relay, bytes calldata signature, uint256 blockNumber)
        internal
        returns (bytes32 digest, address operator, uint32 networkId)
    {
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
        bytes32 incident = keccak256(abi.encode(operator, networkId, blockNumber));
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
                description: slashId == type(uint256).max ? "din: wrong data" : "din: queued slash"
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
