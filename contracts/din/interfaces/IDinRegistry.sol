// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IRewardsCoordinator, IStrategy} from "./IEigenLayer.sol";

/// @title IDinRegistry
/// @notice The DIN service as an AVS of the restaking core: one operator set per served network, a watcher
///         set and a gateway set, operators' metadata and signing keys, jail, ejection, and the door through
///         which the service escrows rewards in the RewardsCoordinator.
interface IDinRegistry {
    /// @notice A served network (one operator set).
    struct Network {
        string name;
        /// @dev chain id of the network's chain, as relays name it
        uint64 chainId;
        /// @dev minimum allocated stake to register, summed over the service's strategies (shares)
        uint256 minStake;
        bool exists;
    }

    /// @notice What an operator declares when it registers for a network (ABI-encoded as registration data).
    struct OperatorMetadata {
        string endpoint;
        string cloud;
        string region;
        string client;
        /// @dev the key that signs relays; bound to this operator on this network for good, valid from its
        ///      registration until the operator rotates away from it
        address signer;
    }

    /// @notice The lifetime of a signing key on a network: it signs for `operator` from `validFrom` until
    ///         `retiredAt` (unix timestamps, as a relay's servedAt; retiredAt 0 while it is current).
    struct SignerKey {
        address operator;
        uint64 validFrom;
        uint64 retiredAt;
    }

    /// @notice The signing key's proof that it consents to sign for an operator at an endpoint: its EIP-712
    ///         signature of SignerProof(operator, networkId, signer, keccak256(endpoint), deadline).
    struct SignerProof {
        uint256 deadline;
        bytes signature;
    }

    /// @notice Caller lacks the role or is not the AllocationManager.
    error InvalidCaller();
    /// @notice The registration is for another AVS.
    error InvalidAVS();
    /// @notice The network does not exist, or the id is reserved.
    error UnknownNetwork(uint32 networkId);
    /// @notice The network id or chain id is taken.
    error NetworkExists();
    /// @notice Network ids are 1 ..< WATCHER_SET.
    error InvalidNetworkId();
    /// @notice A network registration names exactly one operator set.
    error OneNetworkPerRegistration();
    /// @notice A metadata field is empty or longer than MAX_FIELD_LENGTH bytes.
    error InvalidMetadata();
    /// @notice The signing key is (or was) bound to another operator on this network.
    error SignerTaken();
    /// @notice The signing key was retired by its operator and can never sign again.
    error SignerRetired();
    /// @notice The signing key did not sign this registration (or the proof's deadline passed).
    error InvalidSignerProof();
    /// @notice No operator ever registered this signing key on the network.
    error UnknownSigner();
    /// @notice The key signed at `servedAt`, outside its lifetime [validFrom, retiredAt).
    error KeyNotValidWhenServed(uint256 validFrom, uint256 retiredAt, uint256 servedAt);
    /// @notice The key was retired more than RETIRED_KEY_EVIDENCE_WINDOW ago: its relays are no longer evidence.
    error RetiredKeyEvidenceExpired(uint256 retiredAt);
    /// @notice Allocated stake below the minimum.
    error InsufficientStake(uint256 allocated, uint256 minimum);
    /// @notice The operator is jailed on this network and cannot register until the jail ends.
    error Jailed(uint32 networkId, uint256 until);
    /// @notice Watchers and gateways must be admitted by governance first.
    error NotAdmitted();
    /// @notice The operator is not registered on the network.
    error NotRegistered();
    /// @notice The operator's allocated stake is not below the network's minimum.
    error StakeNotBelowMinimum(uint256 allocated, uint256 minimum);
    /// @notice Modules can be wired once.
    error AlreadyWired();
    /// @notice Strategies must be strictly ascending and non-empty.
    error InvalidStrategies();

    /// @notice A network (operator set) was added.
    event NetworkAdded(uint32 indexed networkId, string name, uint64 chainId, uint256 minStake);
    /// @notice A network's minimum stake changed.
    event MinStakeSet(uint32 indexed networkId, uint256 minStake);
    /// @notice Watcher and gateway minimum stakes changed.
    event RoleMinStakeSet(uint256 watcherMinStake, uint256 gatewayMinStake);
    /// @notice An operator registered on a network, or updated its metadata.
    event OperatorMetadataSet(
        address indexed operator,
        uint32 indexed networkId,
        string endpoint,
        string cloud,
        string region,
        string client,
        address signer
    );
    /// @notice An operator's signing key on a network stopped being valid at `retiredAt` (it rotated to another).
    event SignerKeyRetired(address indexed operator, uint32 indexed networkId, address signer, uint256 retiredAt);
    /// @notice An operator left (or was ejected from) a network.
    event OperatorDeregistered(address indexed operator, uint32 indexed networkId);
    /// @notice Governance admitted or removed a watcher.
    event WatcherAdmissionSet(address indexed watcher, bool admitted);
    /// @notice Governance admitted or removed a gateway.
    event GatewayAdmissionSet(address indexed gateway, bool admitted);
    /// @notice An operator is jailed (excluded from routing and rewards) on a network until `untilBlock`.
    event OperatorJailed(address indexed operator, uint32 indexed networkId, uint256 untilBlock);
    /// @notice A jail was shortened to `untilBlock` (its slash was vetoed; other offences may keep a jail).
    event OperatorUnjailed(address indexed operator, uint32 indexed networkId, uint256 untilBlock);
    /// @notice A repeat offender was removed from a network.
    event OperatorEjected(address indexed operator, uint32 indexed networkId);

    /// @notice The operator bound to `signer` on `networkId` (zero if none), whether or not the key is retired.
    function operatorOfSigner(uint32 networkId, address signer) external view returns (address);

    /// @notice The operator `signer` signed for on `networkId` at unix time `servedAt`; reverts UnknownSigner
    ///         when the key never belonged to an operator there, KeyNotValidWhenServed outside its lifetime,
    ///         RetiredKeyEvidenceExpired once a retired key's evidence window is over.
    function signerOperatorAt(uint32 networkId, address signer, uint256 servedAt) external view returns (address);

    /// @notice The lifetime of `signer` on `networkId` (zero operator if none).
    function signerKey(uint32 networkId, address signer) external view returns (SignerKey memory);

    /// @notice The EIP-712 digest `signer` signs to consent to sign relays for `operator` at `endpoint`.
    function signerProofDigest(
        address operator,
        uint32 networkId,
        address signer,
        string calldata endpoint,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The network serving `chainId` (zero if none).
    function networkOfChain(uint64 chainId) external view returns (uint32);

    /// @notice Whether `operator` is jailed on `networkId` now.
    function isJailed(address operator, uint32 networkId) external view returns (bool);

    /// @notice The block until which `operator` is jailed on `networkId`.
    function jailedUntil(address operator, uint32 networkId) external view returns (uint256);

    /// @notice The strategies every set of the service counts, ascending.
    function getStrategies() external view returns (IStrategy[] memory);

    /// @notice Whether `watcher` may post reports and attestations (admitted and registered in the watcher set).
    function isActiveWatcher(address watcher) external view returns (bool);

    /// @notice Whether `gateway` may report usage (admitted and registered in the gateway set).
    function isActiveGateway(address gateway) external view returns (bool);

    /// @notice Whether the network exists.
    function networkExists(uint32 networkId) external view returns (bool);

    /// @notice Jails an operator (the slasher only).
    function jail(address operator, uint32 networkId, uint256 untilBlock) external;

    /// @notice Shortens a jail to `untilBlock` (the slasher only; never lengthens it).
    function unjail(address operator, uint32 networkId, uint256 untilBlock) external;

    /// @notice Deregisters an operator from a network (the slasher only).
    function eject(address operator, uint32 networkId) external;

    /// @notice Escrows an operator-directed rewards submission for the network's operator set
    ///         (OperatorSet(this registry, networkId)) in the RewardsCoordinator (the epochs contract only,
    ///         which has transferred the total to this contract first).
    function submitRewards(uint32 networkId, IRewardsCoordinator.OperatorDirectedRewardsSubmission calldata submission)
        external;
}
