// Keeper duties anyone may do (finalizing an epoch, executing a slash, proving an offence) are spread across
// the active watchers, so that they do not all send the same transaction in the same block, where all but
// the first would revert. The others step in only when the designated one did not act.
import type { Address } from "viem";

/**
 * Whether `self` is the watcher designated for duty `n` (an epoch, a slash id, an operator's address) among
 * `watchers`, the active watchers sorted by address. With no active watcher every one is designated.
 */
export function designated(watchers: readonly Address[], self: Address, n: bigint): boolean {
  if (watchers.length === 0) return true;
  return watchers[Number(n % BigInt(watchers.length))] === self;
}
