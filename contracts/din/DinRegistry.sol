// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAVSRegistrar, IAllocationManager, IRewardsCoordinator, IStrategy, OperatorSet} from "./interfaces/IEigenLayer.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IDinRegistry} from "./interfaces/IDinRegistry.sol";
import {GuardianPause} from "./GuardianPause.sol";

/// @title DinRegistry
/// @notice The DIN service's identity in the restaking core (its AVS address) and its registrar: networks
///         are operator sets, operators register per network with metadata and a signing key, watchers and
///         gateways have their own staked sets. A signing key proves it consents to sign for its operator
///         when it is registered, and signs only during its lifetime (from its registration to its rotation).
///         Governance (the timelock, GOVERNANCE_ROLE) adds networks, sets minimum stakes and admits watchers
///         and gateways; the slasher jails and ejects.
contract DinRegistry is IDinRegistry, IAVSRegistrar, AccessControl, GuardianPause, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice Holds every parameter setter: the DAO timelock.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    /// @notice May pause registration: the guardian.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Operator set of the watchers.
    uint32 public constant WATCHER_SET = 1_000_000;
    /// @notice Operator set of the gateways.
    uint32 public constant GATEWAY_SET = 1_000_001;
    /// @notice Longest accepted metadata field, in bytes.
    uint256 public constant MAX_FIELD_LENGTH = 256;
    /// @notice Seconds after its retirement during which a retired key's relays are still evidence: a relay's
    ///         servedAt is what its signer says, so a key that leaked after its rotation could otherwise
    ///         backdate lies into its lifetime for ever.
    uint256 public constant RETIRED_KEY_EVIDENCE_WINDOW = 1 days;
    /// @notice EIP-712 type of a signing key's consent to sign for an operator at an endpoint.
    bytes32 public constant SIGNER_PROOF_TYPEHASH = keccak256(
        "SignerProof(address operator,uint32 networkId,address signer,bytes32 endpointHash,uint256 deadline)"
    );

    /// @notice The restaking core's AllocationManager.
    IAllocationManager public immutable allocationManager;
    /// @notice The restaking core's RewardsCoordinator.
    IRewardsCoordinator public immutable rewardsCoordinator;

    /// @notice Slashes, jails and ejects; the slasher of every set.
    address public slasher;
    /// @notice Runs the epochs and escrows their rewards.
    address public epochs;

    /// @notice Minimum allocated stake of a watcher and of a gateway.
    uint256 public watcherMinStake;
    /// @notice ditto, gateways.
    uint256 public gatewayMinStake;

    IStrategy[] internal _strategies;
    uint32[] internal _networkIds;
    mapping(uint32 networkId => Network) internal _networks;
    mapping(uint64 chainId => uint32 networkId) public networkOfChain;
    mapping(uint32 networkId => mapping(address operator => OperatorMetadata)) internal _metadata;
    mapping(uint32 networkId => mapping(address signer => SignerKey)) internal _signerKeys;
    mapping(uint32 networkId => mapping(address operator => address signer)) public currentSigner;
    mapping(address operator => mapping(uint32 networkId => uint256 untilBlock)) public jailedUntil;
    mapping(address watcher => bool) public watcherAdmitted;
    mapping(address gateway => bool) public gatewayAdmitted;

    /// @param allocationManager_ the core's AllocationManager
    /// @param rewardsCoordinator_ the core's RewardsCoordinator
    /// @param strategies strategies counted by every set, strictly ascending
    /// @param admin receives DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE (the deployer, until it hands them over)
    constructor(
        IAllocationManager allocationManager_,
        IRewardsCoordinator rewardsCoordinator_,
        IStrategy[] memory strategies,
        address admin
    ) EIP712("DinRegistry", "1") {
        if (strategies.length == 0) revert InvalidStrategies();
        for (uint256 i = 1; i < strategies.length; ++i) {
            if (address(strategies[i]) <= address(strategies[i - 1])) revert InvalidStrategies();
        }
        allocationManager = allocationManager_;
        rewardsCoordinator = rewardsCoordinator_;
        _strategies = strategies;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    modifier onlyAllocationManager() {
        if (msg.sender != address(allocationManager)) revert InvalidCaller();
        _;
    }

    modifier onlySlasher() {
        if (msg.sender != slasher) revert InvalidCaller();
        _;
    }

    // ───────────────────────────── governance ─────────────────────────────

    /// @notice Publishes the service's AVS metadata URI on the core (required before its first operator set).
    function updateAVSMetadataURI(string calldata metadataURI) external onlyRole(GOVERNANCE_ROLE) {
        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
    }

    /// @notice Wires the slasher and the epochs contract, names this contract the AVS's registrar and creates
    ///         the watcher and gateway sets (once, after the metadata URI is published).
    function wire(address slasher_, address epochs_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (slasher != address(0)) revert AlreadyWired();
        slasher = slasher_;
        epochs = epochs_;
        allocationManager.setAVSRegistrar(address(this), this);
        IAllocationManager.CreateSetParamsV2[] memory sets = new IAllocationManager.CreateSetParamsV2[](2);
        sets[0] = IAllocationManager.CreateSetParamsV2(WATCHER_SET, _strategies, slasher_);
        sets[1] = IAllocationManager.CreateSetParamsV2(GATEWAY_SET, _strategies, slasher_);
        allocationManager.createOperatorSets(address(this), sets);
    }

    /// @notice Adds a served network as a new operator set.
    function addNetwork(uint32 networkId, string calldata name, uint64 chainId, uint256 minStake)
        external
        onlyRole(GOVERNANCE_ROLE)
    {
        if (networkId == 0 || networkId >= WATCHER_SET) revert InvalidNetworkId();
        if (_networks[networkId].exists || networkOfChain[chainId] != 0) revert NetworkExists();
        if (slasher == address(0)) revert InvalidCaller();
        _networks[networkId] = Network({name: name, chainId: chainId, minStake: minStake, exists: true});
        networkOfChain[chainId] = networkId;
        _networkIds.push(networkId);
        IAllocationManager.CreateSetParamsV2[] memory sets = new IAllocationManager.CreateSetParamsV2[](1);
        sets[0] = IAllocationManager.CreateSetParamsV2(networkId, _strategies, slasher);
        allocationManager.createOperatorSets(address(this), sets);
        emit NetworkAdded(networkId, name, chainId, minStake);
    }

    /// @notice Sets a network's minimum allocated stake (applies to new registrations).
    function setMinStake(uint32 networkId, uint256 minStake) external onlyRole(GOVERNANCE_ROLE) {
        if (!_networks[networkId].exists) revert UnknownNetwork(networkId);
        _networks[networkId].minStake = minStake;
        emit MinStakeSet(networkId, minStake);
    }

    /// @notice Sets the minimum allocated stakes of watchers and gateways.
    function setRoleMinStakes(uint256 watcherMinStake_, uint256 gatewayMinStake_) external onlyRole(GOVERNANCE_ROLE) {
        watcherMinStake = watcherMinStake_;
        gatewayMinStake = gatewayMinStake_;
        emit RoleMinStakeSet(watcherMinStake_, gatewayMinStake_);
    }

    /// @notice Admits or removes a watcher (the watcher set is governed).
    function setWatcher(address watcher, bool admitted) external onlyRole(GOVERNANCE_ROLE) {
        watcherAdmitted[watcher] = admitted;
        emit WatcherAdmissionSet(watcher, admitted);
    }

    /// @notice Admits or removes a gateway.
    function setGateway(address gateway, bool admitted) external onlyRole(GOVERNANCE_ROLE) {
        gatewayAdmitted[gateway] = admitted;
        emit GatewayAdmissionSet(gateway, admitted);
    }

    /// @notice Pauses registrations and metadata updates (see GuardianPause: it expires, and cools down).
    function pause() external onlyRole(PAUSER_ROLE) {
        _pauseBounded();
    }

    /// @notice Lifts a pause before it expires.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpauseBounded();
    }

    // ───────────────────────────── registrar ─────────────────────────────

    /// @inheritdoc IAVSRegistrar
    /// @dev Membership is already recorded when this runs, so allocated stake is read for the set itself.
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external
        onlyAllocationManager
        whenNotPaused
    {
        if (avs != address(this)) revert InvalidAVS();
        for (uint256 i; i < operatorSetIds.length; ++i) {
            uint32 id = operatorSetIds[i];
            if (id == WATCHER_SET) {
                if (!watcherAdmitted[operator]) revert NotAdmitted();
                _requireStake(operator, id, watcherMinStake);
            } else if (id == GATEWAY_SET) {
                if (!gatewayAdmitted[operator]) revert NotAdmitted();
                _requireStake(operator, id, gatewayMinStake);
            } else {
                if (operatorSetIds.length != 1) revert OneNetworkPerRegistration();
                Network storage network = _networks[id];
                if (!network.exists) revert UnknownNetwork(id);
                uint256 until = jailedUntil[operator][id];
                if (block.number < until) revert Jailed(id, until);
                _requireStake(operator, id, network.minStake);
                (OperatorMetadata memory m, SignerProof memory proof) =
                    abi.decode(data, (OperatorMetadata, SignerProof));
                _setMetadata(operator, id, m, proof);
            }
        }
    }

    /// @inheritdoc IAVSRegistrar
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds)
        external
        onlyAllocationManager
    {
        if (avs != address(this)) revert InvalidAVS();
        for (uint256 i; i < operatorSetIds.length; ++i) {
            uint32 id = operatorSetIds[i];
            if (id == WATCHER_SET || id == GATEWAY_SET) continue;
            // The signing key stays bound (and current) so relays it signed remain evidence.
            delete _metadata[id][operator];
            emit OperatorDeregistered(operator, id);
        }
    }

    /// @inheritdoc IAVSRegistrar
    function supportsAVS(address avs) external view returns (bool) {
        return avs == address(this);
    }

    /// @notice Updates the caller's metadata on a network it is registered on. A new signer rotates the key:
    ///         the current one is retired now and never signs for anyone again.
    /// @param proof the (new or current) signer's consent to sign for the caller at the metadata's endpoint
    function updateMetadata(uint32 networkId, OperatorMetadata calldata metadata, SignerProof calldata proof)
        external
        whenNotPaused
    {
        if (!allocationManager.isMemberOfOperatorSet(msg.sender, OperatorSet(address(this), networkId))) {
            revert NotRegistered();
        }
        _setMetadata(msg.sender, networkId, metadata, proof);
    }

    // ───────────────────────────── slasher and epochs ─────────────────────────────

    /// @inheritdoc IDinRegistry
    function jail(address operator, uint32 networkId, uint256 untilBlock) external onlySlasher {
        if (untilBlock > jailedUntil[operator][networkId]) jailedUntil[operator][networkId] = untilBlock;
        emit OperatorJailed(operator, networkId, jailedUntil[operator][networkId]);
    }

    /// @inheritdoc IDinRegistry
    function unjail(address operator, uint32 networkId, uint256 untilBlock) external onlySlasher {
        if (untilBlock < jailedUntil[operator][networkId]) jailedUntil[operator][networkId] = untilBlock;
        emit OperatorUnjailed(operator, networkId, jailedUntil[operator][networkId]);
    }

    /// @inheritdoc IDinRegistry
    function eject(address operator, uint32 networkId) external onlySlasher {
        _eject(operator, networkId);
    }

    /// @notice Ejects (anyone) an operator whose allocated stake fell below the network's minimum after it
    ///         registered (by deallocating or being slashed).
    function ejectUnderstaked(address operator, uint32 networkId) external {
        Network storage network = _networks[networkId];
        if (!network.exists) revert UnknownNetwork(networkId);
        if (!allocationManager.isMemberOfOperatorSet(operator, OperatorSet(address(this), networkId))) {
            revert NotRegistered();
        }
        uint256 allocated = allocatedStake(operator, networkId);
        if (allocated >= network.minStake) revert StakeNotBelowMinimum(allocated, network.minStake);
        _eject(operator, networkId);
    }

    function _eject(address operator, uint32 networkId) internal {
        OperatorSet memory set = OperatorSet(address(this), networkId);
        if (!allocationManager.isMemberOfOperatorSet(operator, set)) return;
        uint32[] memory ids = new uint32[](1);
        ids[0] = networkId;
        emit OperatorEjected(operator, networkId);
        allocationManager.deregisterFromOperatorSets(
            IAllocationManager.DeregisterParams({operator: operator, avs: address(this), operatorSetIds: ids})
        );
    }

    /// @inheritdoc IDinRegistry
    function submitRewards(uint32 networkId, IRewardsCoordinator.OperatorDirectedRewardsSubmission calldata submission)
        external
    {
        if (msg.sender != epochs) revert InvalidCaller();
        uint256 total;
        for (uint256 i; i < submission.operatorRewards.length; ++i) {
            total += submission.operatorRewards[i].amount;
        }
        IERC20(address(submission.token)).forceApprove(address(rewardsCoordinator), total);
        IRewardsCoordinator.OperatorDirectedRewardsSubmission[] memory list =
            new IRewardsCoordinator.OperatorDirectedRewardsSubmission[](1);
        list[0] = submission;
        rewardsCoordinator.createOperatorDirectedOperatorSetRewardsSubmission(OperatorSet(address(this), networkId), list);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IDinRegistry
    function isJailed(address operator, uint32 networkId) external view returns (bool) {
        return block.number < jailedUntil[operator][networkId];
    }

    /// @inheritdoc IDinRegistry
    function getStrategies() external view returns (IStrategy[] memory) {
        return _strategies;
    }

    /// @inheritdoc IDinRegistry
    function isActiveWatcher(address watcher) external view returns (bool) {
        return watcherAdmitted[watcher]
            && allocationManager.isMemberOfOperatorSet(watcher, OperatorSet(address(this), WATCHER_SET));
    }

    /// @inheritdoc IDinRegistry
    function isActiveGateway(address gateway) external view returns (bool) {
        return gatewayAdmitted[gateway]
            && allocationManager.isMemberOfOperatorSet(gateway, OperatorSet(address(this), GATEWAY_SET));
    }

    /// @inheritdoc IDinRegistry
    function networkExists(uint32 networkId) external view returns (bool) {
        return _networks[networkId].exists;
    }

    /// @inheritdoc IDinRegistry
    function operatorOfSigner(uint32 networkId, address signer) external view returns (address) {
        return _signerKeys[networkId][signer].operator;
    }

    /// @inheritdoc IDinRegistry
    function signerOperatorAt(uint32 networkId, address signer, uint256 servedAt) external view returns (address) {
        SignerKey memory key = _signerKeys[networkId][signer];
        if (key.operator == address(0)) revert UnknownSigner();
        if (servedAt < key.validFrom || (key.retiredAt != 0 && servedAt >= key.retiredAt)) {
            revert KeyNotValidWhenServed(key.validFrom, key.retiredAt, servedAt);
        }
        if (key.retiredAt != 0 && block.timestamp >= key.retiredAt + RETIRED_KEY_EVIDENCE_WINDOW) {
            revert RetiredKeyEvidenceExpired(key.retiredAt);
        }
        return key.operator;
    }

    /// @inheritdoc IDinRegistry
    function signerKey(uint32 networkId, address signer) external view returns (SignerKey memory) {
        return _signerKeys[networkId][signer];
    }

    /// @inheritdoc IDinRegistry
    function signerProofDigest(
        address operator,
        uint32 networkId,
        address signer,
        string memory endpoint,
        uint256 deadline
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    SIGNER_PROOF_TYPEHASH, operator, networkId, signer, keccak256(bytes(endpoint)), deadline
                )
            )
        );
    }

    /// @notice A network by id.
    function getNetwork(uint32 networkId) external view returns (Network memory) {
        return _networks[networkId];
    }

    /// @notice Ids of every network, in the order they were added.
    function getNetworkIds() external view returns (uint32[] memory) {
        return _networkIds;
    }

    /// @notice An operator's metadata on a network (empty when not registered).
    function getMetadata(address operator, uint32 networkId) external view returns (OperatorMetadata memory) {
        return _metadata[networkId][operator];
    }

    /// @notice Allocated stake of `operator` in set `operatorSetId`, summed over the service's strategies.
    function allocatedStake(address operator, uint32 operatorSetId) public view returns (uint256 total) {
        address[] memory ops = new address[](1);
        ops[0] = operator;
        uint256[][] memory stake =
            allocationManager.getAllocatedStake(OperatorSet(address(this), operatorSetId), ops, _strategies);
        for (uint256 i; i < stake[0].length; ++i) {
            total += stake[0][i];
        }
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _requireStake(address operator, uint32 setId, uint256 minimum) internal view {
        uint256 allocated = allocatedStake(operator, setId);
        if (allocated < minimum) revert InsufficientStake(allocated, minimum);
    }

    /// @dev Endpoints are not unique: a node is known by its signer, which only its operator holds, so
    ///      naming another operator's URL gains nothing and locks no one out.
    function _setMetadata(address operator, uint32 networkId, OperatorMetadata memory m, SignerProof memory proof)
        internal
    {
        if (
            !_validField(m.endpoint) || !_validField(m.cloud) || !_validField(m.region) || !_validField(m.client)
                || m.signer == address(0)
        ) revert InvalidMetadata();
        if (block.timestamp > proof.deadline) revert InvalidSignerProof();
        (address recovered, ECDSA.RecoverError failure,) = ECDSA.tryRecover(
            signerProofDigest(operator, networkId, m.signer, m.endpoint, proof.deadline), proof.signature
        );
        if (failure != ECDSA.RecoverError.NoError || recovered != m.signer) revert InvalidSignerProof();
        SignerKey storage key = _signerKeys[networkId][m.signer];
        if (key.operator != address(0) && key.operator != operator) revert SignerTaken();
        if (key.retiredAt != 0) revert SignerRetired();
        address current = currentSigner[networkId][operator];
        if (current != m.signer) {
            if (current != address(0)) {
                _signerKeys[networkId][current].retiredAt = uint64(block.timestamp);
                emit SignerKeyRetired(operator, networkId, current, block.timestamp);
            }
            key.operator = operator;
            key.validFrom = uint64(block.timestamp);
            currentSigner[networkId][operator] = m.signer;
        }
        _metadata[networkId][operator] = m;
        emit OperatorMetadataSet(operator, networkId, m.endpoint, m.cloud, m.region, m.client, m.signer);
    }

    function _validField(string memory field) internal pure returns (bool) {
        uint256 length = bytes(field).length;
        return length > 0 && length <= MAX_FIELD_LENGTH;
    }
}
