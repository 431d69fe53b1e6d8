// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {DoubleEndedQueue} from "@openzeppelin/contracts/utils/structs/DoubleEndedQueue.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IAllocationManager, OperatorSet} from "../interfaces/IAllocationManager.sol";
import {IAVSRegistrar} from "../interfaces/IAVSRegistrar.sol";
import {IDelegationManager} from "../interfaces/IDelegationManager.sol";
import {IStrategy} from "../interfaces/IStrategy.sol";
import {OperatorSetLib} from "../libraries/OperatorSetLib.sol";
import {WAD} from "../libraries/SlashingLib.sol";

/// @title AllocationManager
/// @notice Operator sets, magnitude allocations with delays, registration through the AVS registrar, and
///         slashing. A slash is O(1) in the number of stakers: it lowers the operator's max magnitude, and
///         every staker's withdrawable shares (`s · k · m`) fall with it without touching their storage.
contract AllocationManager is IAllocationManager, ReentrancyGuardTransient {
    using OperatorSetLib for OperatorSet;
    using OperatorSetLib for bytes32;
    using Checkpoints for Checkpoints.Trace224;
    using DoubleEndedQueue for DoubleEndedQueue.Bytes32Deque;
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /// @notice Allocations below this (other than 0) lose too much precision when slashed.
    uint64 public constant MIN_MAGNITUDE = 1e9;

    /// @notice The DelegationManager.
    IDelegationManager public immutable delegation;
    /// @inheritdoc IAllocationManager
    uint32 public immutable DEALLOCATION_DELAY;
    /// @inheritdoc IAllocationManager
    uint32 public immutable ALLOCATION_CONFIGURATION_DELAY;
    /// @notice Where burned slashes go (the StrategyManager's burn address).
    address public immutable burnAddress;

    struct OperatorSetInfo {
        bool exists;
        address slasher;
        address redistributionRecipient;
        uint256 slashCount;
    }

    mapping(address avs => IAVSRegistrar) internal _avsRegistrar;
    /// @dev whether the AVS published a metadata URI (required before its first operator set)
    mapping(address avs => bool) internal _avsRegisteredMetadata;
    mapping(bytes32 setKey => OperatorSetInfo) internal _operatorSets;
    mapping(bytes32 setKey => EnumerableSet.AddressSet) internal _setStrategies;
    mapping(bytes32 setKey => EnumerableSet.AddressSet) internal _setMembers;
    mapping(address operator => EnumerableSet.Bytes32Set) internal _registeredSets;
    mapping(address operator => mapping(bytes32 setKey => RegistrationStatus)) internal _registrationStatus;
    mapping(address operator => AllocationDelayInfo) internal _allocationDelayInfo;
    mapping(address operator => mapping(bytes32 setKey => mapping(IStrategy strategy => Allocation))) internal
        _allocations;
    mapping(address operator => mapping(IStrategy strategy => uint64)) internal _encumberedMagnitude;
    /// @dev history of `WAD − maxMagnitude` by block, so an empty history reads as max magnitude = WAD
    mapping(address operator => mapping(IStrategy strategy => Checkpoints.Trace224)) internal _slashedMagnitude;
    /// @dev FIFO of set keys with a pending deallocation; effect blocks are non-decreasing along it
    mapping(address operator => mapping(IStrategy strategy => DoubleEndedQueue.Bytes32Deque)) internal
        _deallocationQueue;

    /// @param delegation_ the DelegationManager
    /// @param deallocationDelay DEALLOCATION_DELAY in blocks
    /// @param allocationConfigurationDelay ALLOCATION_CONFIGURATION_DELAY in blocks
    /// @param burnAddress_ where burned slashes go
    constructor(
        IDelegationManager delegation_,
        uint32 deallocationDelay,
        uint32 allocationConfigurationDelay,
        address burnAddress_
    ) {
        delegation = delegation_;
        DEALLOCATION_DELAY = deallocationDelay;
        ALLOCATION_CONFIGURATION_DELAY = allocationConfigurationDelay;
        burnAddress = burnAddress_;
    }

    modifier onlyAVS(address avs) {
        if (msg.sender != avs) revert InvalidCaller();
        _;
    }

    // ───────────────────────────── AVS: sets ─────────────────────────────

    /// @inheritdoc IAllocationManager
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external onlyAVS(avs) {
        if (!registrar.supportsAVS(avs)) revert InvalidAVSRegistrar();
        _avsRegistrar[avs] = registrar;
        emit AVSRegistrarSet(avs, registrar);
    }

    /// @inheritdoc IAllocationManager
    function updateAVSMetadataURI(address avs, string calldata metadataURI) external onlyAVS(avs) {
        _avsRegisteredMetadata[avs] = true;
        emit AVSMetadataURIUpdated(avs, metadataURI);
    }

    /// @inheritdoc IAllocationManager
    function createOperatorSets(address avs, CreateSetParamsV2[] calldata params) external onlyAVS(avs) {
        if (!_avsRegisteredMetadata[avs]) revert NonexistentAVSMetadata();
        for (uint256 i; i < params.length; ++i) {
            _createOperatorSet(avs, params[i], burnAddress);
        }
    }

    /// @inheritdoc IAllocationManager
    function createRedistributingOperatorSets(
        address avs,
        CreateSetParamsV2[] calldata params,
        address[] calldata redistributionRecipients
    ) external onlyAVS(avs) {
        if (params.length != redistributionRecipients.length) revert InputArrayLengthMismatch();
        if (!_avsRegisteredMetadata[avs]) revert NonexistentAVSMetadata();
        for (uint256 i; i < params.length; ++i) {
            address recipient = redistributionRecipients[i];
            if (recipient == address(0) || recipient == burnAddress) revert InvalidRedistributionRecipient();
            OperatorSet memory operatorSet = _createOperatorSet(avs, params[i], recipient);
            emit RedistributionOperatorSetCreated(operatorSet, recipient);
        }
    }

    function _createOperatorSet(address avs, CreateSetParamsV2 calldata params, address recipient)
        internal
        returns (OperatorSet memory operatorSet)
    {
        operatorSet = OperatorSet(avs, params.operatorSetId);
        bytes32 k = operatorSet.key();
        if (_operatorSets[k].exists) revert OperatorSetAlreadyExists();
        if (params.slasher == address(0)) revert InvalidSlasher();
        _operatorSets[k] =
            OperatorSetInfo({exists: true, slasher: params.slasher, redistributionRecipient: recipient, slashCount: 0});
        emit OperatorSetCreated(operatorSet);
        emit SlasherUpdated(operatorSet, params.slasher, uint32(block.number));
        _addStrategies(operatorSet, k, params.strategies);
    }

    /// @inheritdoc IAllocationManager
    function addStrategiesToOperatorSet(address avs, uint32 operatorSetId, IStrategy[] calldata strategies)
        external
        onlyAVS(avs)
    {
        OperatorSet memory operatorSet = OperatorSet(avs, operatorSetId);
        bytes32 k = _existingSetKey(operatorSet);
        _addStrategies(operatorSet, k, strategies);
    }

    /// @inheritdoc IAllocationManager
    function removeStrategiesFromOperatorSet(address avs, uint32 operatorSetId, IStrategy[] calldata strategies)
        external
        onlyAVS(avs)
    {
        OperatorSet memory operatorSet = OperatorSet(avs, operatorSetId);
        bytes32 k = _existingSetKey(operatorSet);
        for (uint256 i; i < strategies.length; ++i) {
            if (!_setStrategies[k].remove(address(strategies[i]))) revert InvalidStrategy();
            emit StrategyRemovedFromOperatorSet(operatorSet, strategies[i]);
        }
    }

    // ───────────────────────────── operators: delay and allocations ─────────────────────────────

    /// @inheritdoc IAllocationManager
    function setAllocationDelay(address operator, uint32 delay) external {
        AllocationDelayInfo memory info = _currentDelayInfo(operator);
        uint32 effectBlock;
        if (msg.sender == address(delegation)) {
            // At operator registration the delay applies at once: nothing is allocated yet.
            effectBlock = uint32(block.number);
        } else {
            if (msg.sender != operator || !delegation.isOperator(operator)) revert InvalidCaller();
            effectBlock = uint32(block.number) + ALLOCATION_CONFIGURATION_DELAY + 1;
        }
        info.pendingDelay = delay;
        info.effectBlock = effectBlock;
        if (effectBlock == block.number) {
            info.delay = delay;
            info.isSet = true;
        }
        _allocationDelayInfo[operator] = info;
        emit AllocationDelaySet(operator, delay, effectBlock);
    }

    /// @inheritdoc IAllocationManager
    function modifyAllocations(address operator, AllocateParams[] calldata params) external nonReentrant {
        if (msg.sender != operator) revert InvalidCaller();
        (bool isSet, uint32 delay) = getAllocationDelay(operator);
        if (!isSet) revert UninitializedAllocationDelay();

        for (uint256 i; i < params.length; ++i) {
            AllocateParams calldata p = params[i];
            if (p.strategies.length != p.newMagnitudes.length) revert InputArrayLengthMismatch();
            bytes32 k = _existingSetKey(p.operatorSet);
            for (uint256 j; j < p.strategies.length; ++j) {
                for (uint256 d; d < j; ++d) {
                    if (address(p.strategies[d]) == address(p.strategies[j])) revert DuplicateStrategy();
                }
                _modifyAllocation(operator, k, p.strategies[j], p.newMagnitudes[j], delay);
            }
        }
    }

    /// @inheritdoc IAllocationManager
    function clearDeallocationQueue(address operator, IStrategy[] calldata strategies, uint16[] calldata numToClear)
        external
        nonReentrant
    {
        if (strategies.length != numToClear.length) revert InputArrayLengthMismatch();
        for (uint256 i; i < strategies.length; ++i) {
            _clearDeallocationQueue(operator, strategies[i], numToClear[i]);
        }
    }

    // ───────────────────────────── registration ─────────────────────────────

    /// @inheritdoc IAllocationManager
    function registerForOperatorSets(address operator, RegisterParams calldata params) external nonReentrant {
        if (msg.sender != operator) revert InvalidCaller();
        if (!delegation.isOperator(operator)) revert InvalidOperator();
        for (uint256 i; i < params.operatorSetIds.length; ++i) {
            OperatorSet memory operatorSet = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 k = _existingSetKey(operatorSet);
            // Not again while still slashable from leaving it: a slash of the earlier membership must not
            // land on a fresh one (the deallocation delay has to pass first).
            if (block.number <= _registrationStatus[operator][k].slashableUntil) revert AlreadyMemberOfSet();
            if (!_registeredSets[operator].add(k)) revert AlreadyMemberOfSet();
            _setMembers[k].add(operator);
            _registrationStatus[operator][k] = RegistrationStatus({registered: true, slashableUntil: 0});
            emit OperatorAddedToOperatorSet(operator, operatorSet);
        }
        // The AVS checks minimum stake and metadata here; a revert undoes the registration.
        getAVSRegistrar(params.avs).registerOperator(operator, params.avs, params.operatorSetIds, params.data);
    }

    /// @inheritdoc IAllocationManager
    function deregisterFromOperatorSets(DeregisterParams calldata params) external nonReentrant {
        if (msg.sender != params.operator && msg.sender != params.avs) revert InvalidCaller();
        for (uint256 i; i < params.operatorSetIds.length; ++i) {
            OperatorSet memory operatorSet = OperatorSet(params.avs, params.operatorSetIds[i]);
            bytes32 k = _existingSetKey(operatorSet);
            if (!_registeredSets[params.operator].remove(k)) revert NotMemberOfSet();
            _setMembers[k].remove(params.operator);
            // Deregistering does not deallocate; the set can still slash for DEALLOCATION_DELAY blocks.
            _registrationStatus[params.operator][k] =
                RegistrationStatus({registered: false, slashableUntil: uint32(block.number) + DEALLOCATION_DELAY});
            emit OperatorRemovedFromOperatorSet(params.operator, operatorSet);
        }
        // An AVS must never be able to trap an operator: a failing registrar is reported, not obeyed.
        try getAVSRegistrar(params.avs).deregisterOperator(params.operator, params.avs, params.operatorSetIds) {}
        catch {
            emit RegistrarDeregistrationFailed(params.operator, params.avs);
        }
    }

    // ───────────────────────────── slashing ─────────────────────────────

    /// @inheritdoc IAllocationManager
    function slashOperator(address avs, SlashingParams calldata params)
        external
        nonReentrant
        returns (uint256 slashId, uint256[] memory shares)
    {
        OperatorSet memory operatorSet = OperatorSet(avs, params.operatorSetId);
        bytes32 k = _existingSetKey(operatorSet);
        OperatorSetInfo storage info = _operatorSets[k];
        if (msg.sender != info.slasher) revert InvalidCaller();
        if (params.strategies.length != params.wadsToSlash.length) revert InputArrayLengthMismatch();
        if (!_isOperatorSlashable(params.operator, k)) revert OperatorNotSlashable();

        slashId = ++info.slashCount;
        address recipient = info.redistributionRecipient;
        shares = new uint256[](params.strategies.length);
        uint256[] memory wadSlashed = new uint256[](params.strategies.length);
        for (uint256 i; i < params.strategies.length; ++i) {
            IStrategy strategy = params.strategies[i];
            if (i > 0 && uint160(address(strategy)) <= uint160(address(params.strategies[i - 1]))) {
                revert StrategiesMustBeInAscendingOrder();
            }
            uint256 wad = params.wadsToSlash[i];
            if (wad == 0 || wad > WAD) revert InvalidWadToSlash();
            if (!_setStrategies[k].contains(address(strategy))) revert InvalidStrategy();
            (uint64 slashed, uint64 prevMax, uint64 newMax) = _slashMagnitude(params.operator, k, strategy, wad);
            if (slashed == 0) continue; // nothing allocated: skip, don't revert
            wadSlashed[i] = uint256(slashed) * WAD / prevMax;
            shares[i] = delegation.slashOperatorShares(params.operator, strategy, prevMax, newMax, recipient);
        }
        emit OperatorSlashed(params.operator, operatorSet, slashId, params.strategies, wadSlashed, params.description);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IAllocationManager
    function getAllocation(address operator, OperatorSet calldata operatorSet, IStrategy strategy)
        external
        view
        returns (Allocation memory)
    {
        return _viewAllocation(_allocations[operator][operatorSet.key()][strategy]);
    }

    /// @inheritdoc IAllocationManager
    function getEncumberedMagnitude(address operator, IStrategy strategy) public view returns (uint64) {
        return _encumberedMagnitude[operator][strategy] - _maturedDeallocations(operator, strategy);
    }

    /// @inheritdoc IAllocationManager
    function getAllocatableMagnitude(address operator, IStrategy strategy) external view returns (uint64) {
        return _maxMagnitude(operator, strategy) - getEncumberedMagnitude(operator, strategy);
    }

    /// @inheritdoc IAllocationManager
    function getMaxMagnitudes(address operator, IStrategy[] calldata strategies)
        external
        view
        returns (uint64[] memory m)
    {
        m = new uint64[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            m[i] = _maxMagnitude(operator, strategies[i]);
        }
    }

    /// @inheritdoc IAllocationManager
    function getMaxMagnitudesAtBlock(address operator, IStrategy[] calldata strategies, uint32 blockNumber)
        external
        view
        returns (uint64[] memory m)
    {
        m = new uint64[](strategies.length);
        for (uint256 i; i < strategies.length; ++i) {
            m[i] = WAD - uint64(_slashedMagnitude[operator][strategies[i]].upperLookupRecent(blockNumber));
        }
    }

    /// @inheritdoc IAllocationManager
    function getAllocationDelay(address operator) public view returns (bool isSet, uint32 delay) {
        AllocationDelayInfo memory info = _currentDelayInfo(operator);
        return (info.isSet, info.delay);
    }

    /// @inheritdoc IAllocationManager
    function getAllocatedStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        IStrategy[] calldata strategies
    ) external view returns (uint256[][] memory stake) {
        bytes32 k = operatorSet.key();
        stake = new uint256[][](operators.length);
        for (uint256 i; i < operators.length; ++i) {
            stake[i] = new uint256[](strategies.length);
            for (uint256 j; j < strategies.length; ++j) {
                Allocation memory a = _viewAllocation(_allocations[operators[i]][k][strategies[j]]);
                stake[i][j] = _stakeOf(operators[i], strategies[j], a.currentMagnitude);
            }
        }
    }

    /// @inheritdoc IAllocationManager
    function getMinimumSlashableStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        IStrategy[] calldata strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory stake) {
        bytes32 k = operatorSet.key();
        stake = new uint256[][](operators.length);
        for (uint256 i; i < operators.length; ++i) {
            stake[i] = new uint256[](strategies.length);
            if (!_isOperatorSlashable(operators[i], k)) continue;
            for (uint256 j; j < strategies.length; ++j) {
                if (!_setStrategies[k].contains(address(strategies[j]))) continue;
                Allocation memory a = _viewAllocation(_allocations[operators[i]][k][strategies[j]]);
                uint64 magnitude = a.currentMagnitude;
                if (a.pendingDiff < 0 && a.effectBlock <= futureBlock) {
                    magnitude -= uint64(uint128(-a.pendingDiff));
                }
                stake[i][j] = _stakeOf(operators[i], strategies[j], magnitude);
            }
        }
    }

    /// @inheritdoc IAllocationManager
    function isOperatorSlashable(address operator, OperatorSet calldata operatorSet) external view returns (bool) {
        return _isOperatorSlashable(operator, operatorSet.key());
    }

    /// @inheritdoc IAllocationManager
    function isMemberOfOperatorSet(address operator, OperatorSet calldata operatorSet) external view returns (bool) {
        return _registeredSets[operator].contains(operatorSet.key());
    }

    /// @inheritdoc IAllocationManager
    function getRegistrationStatus(address operator, OperatorSet calldata operatorSet)
        external
        view
        returns (RegistrationStatus memory)
    {
        return _registrationStatus[operator][operatorSet.key()];
    }

    /// @inheritdoc IAllocationManager
    function getMembers(OperatorSet calldata operatorSet) external view returns (address[] memory) {
        return _setMembers[operatorSet.key()].values();
    }

    /// @inheritdoc IAllocationManager
    function getRegisteredSets(address operator) external view returns (OperatorSet[] memory sets) {
        bytes32[] memory keys = _registeredSets[operator].values();
        sets = new OperatorSet[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            sets[i] = keys[i].decode();
        }
    }

    /// @inheritdoc IAllocationManager
    function getStrategiesInOperatorSet(OperatorSet calldata operatorSet)
        external
        view
        returns (IStrategy[] memory strategies)
    {
        address[] memory values = _setStrategies[operatorSet.key()].values();
        strategies = new IStrategy[](values.length);
        for (uint256 i; i < values.length; ++i) {
            strategies[i] = IStrategy(values[i]);
        }
    }

    /// @inheritdoc IAllocationManager
    function getMemberCount(OperatorSet calldata operatorSet) external view returns (uint256) {
        return _setMembers[operatorSet.key()].length();
    }

    /// @inheritdoc IAllocationManager
    function isOperatorSet(OperatorSet calldata operatorSet) external view returns (bool) {
        return _operatorSets[operatorSet.key()].exists;
    }

    /// @inheritdoc IAllocationManager
    function getSlasher(OperatorSet calldata operatorSet) external view returns (address) {
        return _operatorSets[operatorSet.key()].slasher;
    }

    /// @inheritdoc IAllocationManager
    function getRedistributionRecipient(OperatorSet calldata operatorSet) external view returns (address) {
        return _operatorSets[operatorSet.key()].redistributionRecipient;
    }

    /// @inheritdoc IAllocationManager
    function getAVSRegistrar(address avs) public view returns (IAVSRegistrar) {
        IAVSRegistrar registrar = _avsRegistrar[avs];
        return address(registrar) == address(0) ? IAVSRegistrar(avs) : registrar;
    }

    /// @inheritdoc IAllocationManager
    function getDeallocationQueueLength(address operator, IStrategy strategy) external view returns (uint256) {
        return _deallocationQueue[operator][strategy].length();
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _existingSetKey(OperatorSet memory operatorSet) internal view returns (bytes32 k) {
        k = operatorSet.key();
        if (!_operatorSets[k].exists) revert InvalidOperatorSet();
    }

    function _addStrategies(OperatorSet memory operatorSet, bytes32 k, IStrategy[] calldata strategies) internal {
        for (uint256 i; i < strategies.length; ++i) {
            if (!_setStrategies[k].add(address(strategies[i]))) revert StrategyAlreadyInOperatorSet();
            emit StrategyAddedToOperatorSet(operatorSet, strategies[i]);
        }
    }

    function _currentDelayInfo(address operator) internal view returns (AllocationDelayInfo memory info) {
        info = _allocationDelayInfo[operator];
        if (info.effectBlock != 0 && info.effectBlock <= block.number) {
            info.delay = info.pendingDelay;
            info.isSet = true;
        }
    }

    function _maxMagnitude(address operator, IStrategy strategy) internal view returns (uint64) {
        return WAD - uint64(_slashedMagnitude[operator][strategy].latest());
    }

    function _isOperatorSlashable(address operator, bytes32 k) internal view returns (bool) {
        RegistrationStatus memory status = _registrationStatus[operator][k];
        return status.registered || block.number <= status.slashableUntil;
    }

    function _isAllocationSlashable(bytes32 k, IStrategy strategy, Allocation memory a, RegistrationStatus memory status)
        internal
        view
        returns (bool)
    {
        if (a.currentMagnitude == 0) return false;
        if (!_setStrategies[k].contains(address(strategy))) return false;
        return status.registered || block.number <= status.slashableUntil;
    }

    /// @dev The allocation as of now: a pending change whose effect block has passed is applied.
    function _viewAllocation(Allocation memory a) internal view returns (Allocation memory) {
        if (a.pendingDiff != 0 && a.effectBlock <= block.number) {
            a.currentMagnitude = uint64(uint128(int128(uint128(a.currentMagnitude)) + a.pendingDiff));
            a.pendingDiff = 0;
        }
        return a;
    }

    /// @dev Loads an allocation for writing, applying a matured change. A matured deallocation frees its
    ///      encumbered magnitude here; its queue entry is then popped as a no-op.
    function _loadAllocation(address operator, bytes32 k, IStrategy strategy) internal returns (Allocation memory a) {
        a = _allocations[operator][k][strategy];
        if (a.pendingDiff < 0 && a.effectBlock <= block.number) {
            _encumberedMagnitude[operator][strategy] -= uint64(uint128(-a.pendingDiff));
        }
        a = _viewAllocation(a);
    }

    function _modifyAllocation(address operator, bytes32 k, IStrategy strategy, uint64 newMagnitude, uint32 delay)
        internal
    {
        if (newMagnitude != 0 && newMagnitude < MIN_MAGNITUDE) revert MagnitudeTooSmall();
        // Free what has matured first, so the checks below see fresh encumbered magnitude.
        _clearDeallocationQueue(operator, strategy, type(uint16).max);
        Allocation memory a = _loadAllocation(operator, k, strategy);
        if (a.pendingDiff != 0) revert ModificationAlreadyPending();
        if (newMagnitude == a.currentMagnitude) revert SameMagnitude();

        uint64 encumbered = _encumberedMagnitude[operator][strategy];
        if (newMagnitude > a.currentMagnitude) {
            // Magnitude on a strategy the set does not use could never be slashed: refuse the mistake.
            // (Decreases stay allowed, so a strategy removed from a set can always be deallocated.)
            if (!_setStrategies[k].contains(address(strategy))) revert InvalidStrategy();
            uint64 increase = newMagnitude - a.currentMagnitude;
            if (uint256(encumbered) + increase > _maxMagnitude(operator, strategy)) revert InsufficientMagnitude();
            encumbered += increase;
            if (delay == 0) {
                a.currentMagnitude = newMagnitude;
                a.effectBlock = uint32(block.number);
            } else {
                a.pendingDiff = int128(uint128(increase));
                a.effectBlock = uint32(block.number) + delay;
            }
        } else if (_isAllocationSlashable(k, strategy, a, _registrationStatus[operator][k])) {
            // Still slashable: the magnitude stays encumbered and slashable until the effect block.
            a.pendingDiff = -int128(uint128(a.currentMagnitude - newMagnitude));
            a.effectBlock = uint32(block.number) + DEALLOCATION_DELAY + 1;
            _deallocationQueue[operator][strategy].pushBack(k);
        } else {
            encumbered -= a.currentMagnitude - newMagnitude;
            a.currentMagnitude = newMagnitude;
            a.effectBlock = uint32(block.number);
        }
        _allocations[operator][k][strategy] = a;
        _encumberedMagnitude[operator][strategy] = encumbered;
        emit AllocationUpdated(operator, k.decode(), strategy, newMagnitude, a.effectBlock);
        emit EncumberedMagnitudeUpdated(operator, strategy, encumbered);
    }

    /// @dev Magnitude of deallocations that took effect but are not cleared yet (what clearing would free).
    function _maturedDeallocations(address operator, IStrategy strategy) internal view returns (uint64 freed) {
        DoubleEndedQueue.Bytes32Deque storage queue = _deallocationQueue[operator][strategy];
        uint256 n = queue.length();
        bytes32[] memory seen = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 k = queue.pos(i);
            Allocation memory a = _allocations[operator][k][strategy];
            if (a.pendingDiff >= 0) continue; // already applied
            if (a.effectBlock > block.number) break;
            // A set can be queued twice (an entry left behind by a slash that cancelled its deallocation,
            // then a new one); its pending deallocation counts once.
            bool counted;
            for (uint256 j; j < i && !counted; ++j) {
                counted = seen[j] == k;
            }
            seen[i] = k;
            if (!counted) freed += uint64(uint128(-a.pendingDiff));
        }
    }

    function _clearDeallocationQueue(address operator, IStrategy strategy, uint16 numToClear) internal {
        DoubleEndedQueue.Bytes32Deque storage queue = _deallocationQueue[operator][strategy];
        uint256 cleared;
        while (cleared < numToClear && !queue.empty()) {
            bytes32 k = queue.front();
            Allocation memory a = _allocations[operator][k][strategy];
            if (a.pendingDiff < 0) {
                if (a.effectBlock > block.number) break;
                a = _loadAllocation(operator, k, strategy);
                _allocations[operator][k][strategy] = a;
                emit EncumberedMagnitudeUpdated(operator, strategy, _encumberedMagnitude[operator][strategy]);
            }
            queue.popFront();
            ++cleared;
        }
    }

    /// @dev Steps 1–2 of the reference slash: lower the allocation, the max magnitude and encumbered
    ///      magnitude by `ceil(c · wad)`, and shrink a pending deallocation by `ceil(|p| · wad)`.
    function _slashMagnitude(address operator, bytes32 k, IStrategy strategy, uint256 wad)
        internal
        returns (uint64 slashed, uint64 prevMax, uint64 newMax)
    {
        _clearDeallocationQueue(operator, strategy, type(uint16).max);
        Allocation memory a = _loadAllocation(operator, k, strategy);
        prevMax = _maxMagnitude(operator, strategy);
        if (a.currentMagnitude == 0) return (0, prevMax, prevMax);

        // Rounded up: the slash takes at least the fraction asked for.
        slashed = uint64(Math.mulDiv(a.currentMagnitude, wad, WAD, Math.Rounding.Ceil));
        a.currentMagnitude -= slashed;
        if (a.pendingDiff < 0) {
            uint256 pending = uint128(-a.pendingDiff);
            pending -= Math.mulDiv(pending, wad, WAD, Math.Rounding.Ceil);
            a.pendingDiff = -int128(uint128(pending));
        }
        _allocations[operator][k][strategy] = a;
        newMax = prevMax - slashed;
        _slashedMagnitude[operator][strategy].push(uint32(block.number), WAD - newMax);
        uint64 encumbered = _encumberedMagnitude[operator][strategy] - slashed;
        _encumberedMagnitude[operator][strategy] = encumbered;
        emit AllocationUpdated(operator, k.decode(), strategy, a.currentMagnitude, uint32(block.number));
        emit MaxMagnitudeUpdated(operator, strategy, newMax);
        emit EncumberedMagnitudeUpdated(operator, strategy, encumbered);
    }

    /// @dev `operatorShares × magnitude / maxMagnitude`, rounded down (what is at stake, never overstated).
    function _stakeOf(address operator, IStrategy strategy, uint64 magnitude) internal view returns (uint256) {
        uint64 maxMagnitude = _maxMagnitude(operator, strategy);
        if (maxMagnitude == 0 || magnitude == 0) return 0;
        return Math.mulDiv(delegation.operatorShares(operator, strategy), magnitude, maxMagnitude);
    }
}
