// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAVSRegistrar} from "./IAVSRegistrar.sol";
import {IStrategy} from "./IStrategy.sol";

/// @notice An operator set: identified by the AVS that created it and an id.
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @title IAllocationManager
/// @notice Operator sets, allocations of magnitude to them, registration and slashing.
/// @dev Shaped like EigenLayer's slashing-era IAllocationManager. Magnitudes are WAD fixed point: an
///      operator starts with max magnitude 1e18 per strategy, allocates parts of it to operator sets, and a
///      slash lowers both the allocation and the max magnitude. Max magnitude never increases.
interface IAllocationManager {
    /// @notice One allocation of an operator to an operator set in one strategy.
    struct Allocation {
        uint64 currentMagnitude;
        /// @dev positive: pending increase; negative: pending deallocation
        int128 pendingDiff;
        uint32 effectBlock;
    }

    /// @notice An operator's allocation delay, possibly with a pending change.
    struct AllocationDelayInfo {
        uint32 delay;
        bool isSet;
        uint32 pendingDelay;
        uint32 effectBlock;
    }

    /// @notice Whether an operator is registered for a set, and until when it stays slashable after leaving.
    struct RegistrationStatus {
        bool registered;
        uint32 slashableUntil;
    }

    /// @notice Parameters to create an operator set (EigenLayer's V2 shape).
    struct CreateSetParamsV2 {
        uint32 operatorSetId;
        IStrategy[] strategies;
        /// @dev the only address allowed to slash this set
        address slasher;
    }

    /// @notice New magnitudes for one operator set.
    struct AllocateParams {
        OperatorSet operatorSet;
        IStrategy[] strategies;
        uint64[] newMagnitudes;
    }

    /// @notice Registration of an operator for sets of one AVS.
    struct RegisterParams {
        address avs;
        uint32[] operatorSetIds;
        bytes data;
    }

    /// @notice Deregistration of an operator from sets of one AVS.
    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    /// @notice A slash of one operator in one set.
    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        /// @dev strictly ascending
        IStrategy[] strategies;
        /// @dev fractions in (0, 1e18]
        uint256[] wadsToSlash;
        string description;
    }

    /// @notice Caller is not allowed.
    error InvalidCaller();
    /// @notice Caller is not the DelegationManager.
    error OnlyDelegationManager();
    /// @notice The operator set does not exist.
    error InvalidOperatorSet();
    /// @notice The operator set already exists.
    error OperatorSetAlreadyExists();
    /// @notice An operator set needs a slasher.
    error InvalidSlasher();
    /// @notice Not a registered operator.
    error InvalidOperator();
    /// @notice The operator is already registered for the set.
    error AlreadyMemberOfSet();
    /// @notice The operator is not registered for the set.
    error NotMemberOfSet();
    /// @notice The operator's allocation delay is not set or not yet in effect.
    error UninitializedAllocationDelay();
    /// @notice A change to this allocation is already pending.
    error ModificationAlreadyPending();
    /// @notice The new magnitude equals the current one.
    error SameMagnitude();
    /// @notice Not enough free magnitude for this allocation.
    error InsufficientMagnitude();
    /// @notice A non-zero magnitude below 1e9 loses too much precision.
    error MagnitudeTooSmall();
    /// @notice The strategy is not part of the operator set.
    error InvalidStrategy();
    /// @notice The strategy is already part of the operator set.
    error StrategyAlreadyInOperatorSet();
    /// @notice A strategy appears twice in one allocation.
    error DuplicateStrategy();
    /// @notice Strategies passed to a slash must be strictly ascending.
    error StrategiesMustBeInAscendingOrder();
    /// @notice A wad to slash must be in (0, 1e18].
    error InvalidWadToSlash();
    /// @notice The operator is neither registered for the set nor inside its slashable window.
    error OperatorNotSlashable();
    /// @notice Array lengths differ.
    error InputArrayLengthMismatch();
    /// @notice The registrar does not serve this AVS.
    error InvalidAVSRegistrar();
    /// @notice The AVS must publish its metadata URI before it creates operator sets.
    error NonexistentAVSMetadata();
    /// @notice A redistribution recipient may be neither zero nor the burn address.
    error InvalidRedistributionRecipient();

    /// @notice An AVS set its registrar.
    event AVSRegistrarSet(address indexed avs, IAVSRegistrar registrar);
    /// @notice An AVS published its metadata URI.
    event AVSMetadataURIUpdated(address indexed avs, string metadataURI);
    /// @notice An operator set was created.
    event OperatorSetCreated(OperatorSet operatorSet);
    /// @notice An operator set was created whose slashed funds go to `redistributionRecipient`.
    event RedistributionOperatorSetCreated(OperatorSet operatorSet, address redistributionRecipient);
    /// @notice The set's slasher is `slasher` from `effectBlock`.
    event SlasherUpdated(OperatorSet operatorSet, address slasher, uint32 effectBlock);
    /// @notice A strategy was added to an operator set.
    event StrategyAddedToOperatorSet(OperatorSet operatorSet, IStrategy strategy);
    /// @notice A strategy was removed from an operator set.
    event StrategyRemovedFromOperatorSet(OperatorSet operatorSet, IStrategy strategy);
    /// @notice An operator's allocation delay will be `delay` from `effectBlock`.
    event AllocationDelaySet(address indexed operator, uint32 delay, uint32 effectBlock);
    /// @notice An allocation changed: `magnitude` takes effect at `effectBlock`.
    event AllocationUpdated(
        address indexed operator, OperatorSet operatorSet, IStrategy strategy, uint64 magnitude, uint32 effectBlock
    );
    /// @notice An operator's encumbered magnitude changed.
    event EncumberedMagnitudeUpdated(address indexed operator, IStrategy strategy, uint64 encumberedMagnitude);
    /// @notice An operator's max magnitude fell (by a slash).
    event MaxMagnitudeUpdated(address indexed operator, IStrategy strategy, uint64 maxMagnitude);
    /// @notice An operator was slashed.
    event OperatorSlashed(
        address indexed operator,
        OperatorSet operatorSet,
        uint256 slashId,
        IStrategy[] strategies,
        uint256[] wadSlashed,
        string description
    );
    /// @notice An operator joined an operator set.
    event OperatorAddedToOperatorSet(address indexed operator, OperatorSet operatorSet);
    /// @notice An operator left (or was ejected from) an operator set.
    event OperatorRemovedFromOperatorSet(address indexed operator, OperatorSet operatorSet);
    /// @notice The AVS registrar reverted on deregistration; the operator was deregistered anyway.
    event RegistrarDeregistrationFailed(address indexed operator, address indexed avs);

    /// @notice Sets the registrar the AVS (the caller) uses to accept operators.
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external;

    /// @notice Publishes an AVS's metadata URI (the AVS only).
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;

    /// @notice Creates operator sets of `avs` whose slashed funds are burned (the AVS only, once it published
    ///         its metadata URI).
    function createOperatorSets(address avs, CreateSetParamsV2[] calldata params) external;

    /// @notice Creates operator sets of `avs` whose slashed funds go to a recipient each (the AVS only, once it
    ///         published its metadata URI).
    function createRedistributingOperatorSets(
        address avs,
        CreateSetParamsV2[] calldata params,
        address[] calldata redistributionRecipients
    ) external;

    /// @notice Adds strategies to an operator set (the AVS only).
    function addStrategiesToOperatorSet(address avs, uint32 operatorSetId, IStrategy[] calldata strategies) external;

    /// @notice Removes strategies from an operator set (the AVS only).
    function removeStrategiesFromOperatorSet(address avs, uint32 operatorSetId, IStrategy[] calldata strategies)
        external;

    /// @notice Sets an operator's allocation delay: immediately when called at operator registration
    ///         (DelegationManager), otherwise after ALLOCATION_CONFIGURATION_DELAY (the operator).
    function setAllocationDelay(address operator, uint32 delay) external;

    /// @notice Changes an operator's allocations (the operator only).
    /// @dev Increase: encumbered at once, slashable from `now + allocationDelay`. Decrease while slashable:
    ///      queued until `now + DEALLOCATION_DELAY + 1`. Decrease while not slashable: immediate.
    function modifyAllocations(address operator, AllocateParams[] calldata params) external;

    /// @notice Permissionless: frees magnitude of deallocations that took effect, oldest first.
    function clearDeallocationQueue(address operator, IStrategy[] calldata strategies, uint16[] calldata numToClear)
        external;

    /// @notice Registers the caller for operator sets; the AVS registrar may refuse by reverting.
    function registerForOperatorSets(address operator, RegisterParams calldata params) external;

    /// @notice Deregisters an operator from sets, by the operator or by the AVS (ejection).
    /// @dev Does not deallocate; the operator stays slashable for DEALLOCATION_DELAY blocks.
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;

    /// @notice Slashes `operator` in a set of `avs` (the set's slasher only). O(1) in the number of stakers.
    /// @return slashId sequence number of this slash in the set
    /// @return shares total shares set aside (burnable or redistributable) per strategy
    function slashOperator(address avs, SlashingParams calldata params)
        external
        returns (uint256 slashId, uint256[] memory shares);

    /// @notice Blocks between a slashable deallocation and its effect (minus one).
    function DEALLOCATION_DELAY() external view returns (uint32);

    /// @notice Blocks before a changed allocation delay takes effect.
    function ALLOCATION_CONFIGURATION_DELAY() external view returns (uint32);

    /// @notice An operator's allocation (pending changes that took effect are applied in the view).
    function getAllocation(address operator, OperatorSet calldata operatorSet, IStrategy strategy)
        external
        view
        returns (Allocation memory);

    /// @notice An operator's encumbered magnitude: allocated plus pending increases plus deallocations not yet
    ///         in effect (deallocations in effect count as freed here, even before a call clears them).
    function getEncumberedMagnitude(address operator, IStrategy strategy) external view returns (uint64);

    /// @notice Max magnitude minus encumbered magnitude.
    function getAllocatableMagnitude(address operator, IStrategy strategy) external view returns (uint64);

    /// @notice Current max magnitudes.
    function getMaxMagnitudes(address operator, IStrategy[] calldata strategies)
        external
        view
        returns (uint64[] memory);

    /// @notice Max magnitudes as they were at `blockNumber`.
    function getMaxMagnitudesAtBlock(address operator, IStrategy[] calldata strategies, uint32 blockNumber)
        external
        view
        returns (uint64[] memory);

    /// @notice An operator's allocation delay and whether it is set and in effect.
    function getAllocationDelay(address operator) external view returns (bool isSet, uint32 delay);

    /// @notice Tokens-in-shares allocated: `operatorShares × currentMagnitude / maxMagnitude` (rounded down).
    function getAllocatedStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        IStrategy[] calldata strategies
    ) external view returns (uint256[][] memory);

    /// @notice Stake certainly slashable up to `futureBlock`: pending deallocations effective by then are
    ///         subtracted, pending increases are not counted; zero if the operator is not slashable.
    function getMinimumSlashableStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        IStrategy[] calldata strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory);

    /// @notice Whether the set can slash the operator now (registered, or deregistered within the window).
    function isOperatorSlashable(address operator, OperatorSet calldata operatorSet) external view returns (bool);

    /// @notice Whether the operator is registered for the set.
    function isMemberOfOperatorSet(address operator, OperatorSet calldata operatorSet) external view returns (bool);

    /// @notice The operator's registration status for a set.
    function getRegistrationStatus(address operator, OperatorSet calldata operatorSet)
        external
        view
        returns (RegistrationStatus memory);

    /// @notice Operators registered for a set.
    function getMembers(OperatorSet calldata operatorSet) external view returns (address[] memory);

    /// @notice How many operators are registered for a set.
    function getMemberCount(OperatorSet calldata operatorSet) external view returns (uint256);

    /// @notice Sets an operator is registered for.
    function getRegisteredSets(address operator) external view returns (OperatorSet[] memory);

    /// @notice Strategies of a set.
    function getStrategiesInOperatorSet(OperatorSet calldata operatorSet) external view returns (IStrategy[] memory);

    /// @notice Whether the set exists.
    function isOperatorSet(OperatorSet calldata operatorSet) external view returns (bool);

    /// @notice The set's slasher.
    function getSlasher(OperatorSet calldata operatorSet) external view returns (address);

    /// @notice Where the set's slashed funds go (the burn address unless redistributing).
    function getRedistributionRecipient(OperatorSet calldata operatorSet) external view returns (address);

    /// @notice The registrar an AVS uses (the AVS itself unless set).
    function getAVSRegistrar(address avs) external view returns (IAVSRegistrar);

    /// @notice Number of pending deallocations in the operator's queue for a strategy.
    function getDeallocationQueueLength(address operator, IStrategy strategy) external view returns (uint256);
}
