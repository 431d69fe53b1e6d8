// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

// The part of EigenLayer's core the DIN service calls, and nothing else: each function here has the
// signature (and selector) of EigenLayer's own interface, so the service deploys unchanged on EigenLayer's
// deployed core or on ours. test/ledger/eigenlayerInterface.test.ts checks every selector declared here
// against EigenLayer's. The DIN contracts import the core only through this file.

/// @notice An AVS's operator set.
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @notice A strategy (the service only passes them around).
interface IStrategy {}

/// @notice The AllocationManager as an AVS uses it.
interface IAllocationManager {
    struct CreateSetParamsV2 {
        uint32 operatorSetId;
        IStrategy[] strategies;
        address slasher;
    }

    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        IStrategy[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;
    function setAVSRegistrar(address avs, IAVSRegistrar registrar) external;
    function createOperatorSets(address avs, CreateSetParamsV2[] calldata params) external;
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;
    function slashOperator(address avs, SlashingParams calldata params)
        external
        returns (uint256 slashId, uint256[] memory shares);
    function getAllocatedStake(OperatorSet memory operatorSet, address[] memory operators, IStrategy[] memory strategies)
        external
        view
        returns (uint256[][] memory);
    function getMembers(OperatorSet memory operatorSet) external view returns (address[] memory);
    function isMemberOfOperatorSet(address operator, OperatorSet memory operatorSet) external view returns (bool);
    function DEALLOCATION_DELAY() external view returns (uint32);
}

/// @notice The DelegationManager as the service reads it (for the timing rule).
interface IDelegationManager {
    function minWithdrawalDelayBlocks() external view returns (uint32);
}

/// @notice The RewardsCoordinator as an AVS pays through it.
interface IRewardsCoordinator {
    struct StrategyAndMultiplier {
        IStrategy strategy;
        uint96 multiplier;
    }

    struct OperatorReward {
        address operator;
        uint256 amount;
    }

    struct OperatorDirectedRewardsSubmission {
        StrategyAndMultiplier[] strategiesAndMultipliers;
        IERC20 token;
        OperatorReward[] operatorRewards;
        uint32 startTimestamp;
        uint32 duration;
        string description;
    }

    function createOperatorDirectedOperatorSetRewardsSubmission(
        OperatorSet calldata operatorSet,
        OperatorDirectedRewardsSubmission[] calldata submissions
    ) external;
    function CALCULATION_INTERVAL_SECONDS() external view returns (uint32);
    function MAX_REWARDS_DURATION() external view returns (uint32);
    function MAX_RETROACTIVE_LENGTH() external view returns (uint32);
}

/// @notice What the core calls on the AVS's registrar (the DIN registry) when operators join and leave.
interface IAVSRegistrar {
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata data)
        external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}
