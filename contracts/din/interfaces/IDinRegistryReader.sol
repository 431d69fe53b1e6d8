// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.27;

import {IAllocationManager, IRewardsCoordinator} from "./IEigenLayer.sol";

/// @title IDinRegistryReader
/// @notice Read-only views of the DinRegistry that the epochs contract uses beyond IDinRegistry: the
///         restaking core's AllocationManager (to count the admitted watcher set and to see ejections), its
///         RewardsCoordinator (whose interval grid rewards periods align to) and an operator's allocated stake (to weigh correlated failures).
interface IDinRegistryReader {
    /// @notice The restaking core's AllocationManager.
    function allocationManager() external view returns (IAllocationManager);

    /// @notice The restaking core's RewardsCoordinator.
    function rewardsCoordinator() external view returns (IRewardsCoordinator);

    /// @notice Stake `operator` allocated to the operator set `operatorSetId` (summed over strategies).
    function allocatedStake(address operator, uint32 operatorSetId) external view returns (uint256);

    /// @notice The operator set of the watchers.
    function WATCHER_SET() external view returns (uint32);
}
