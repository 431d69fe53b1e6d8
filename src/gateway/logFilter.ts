/**
 * Matching logs against an `eth_subscribe("logs", filter)` filter, locally: the gateway fetches a block's
 * logs once and hands each subscription what matches (addresses ORed; topics by position, null = any,
 * an array = any of). Pure.
 */
import { InvalidParamsError } from "../rpc/errors.js";

export interface LogFilter {
  /** Lowercased addresses; empty = any. */
  addresses: string[];
  /** Per position: undefined/null = any, else the accepted lowercased topics. */
  topics: Array<string[] | null>;
}

export interface Log {
  address: string;
  topics: string[];
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  removed?: boolean;
  [field: string]: unknown;
}

const addressPattern = /^0x[0-9a-fA-F]{40}$/;
const topicPattern = /^0x[0-9a-fA-F]{64}$/;

/** Validates and normalizes the filter of a logs subscription. */
export function parseLogFilter(value: unknown): LogFilter {
  if (value === undefined || value === null) return { addresses: [], topics: [] };
  if (typeof value !== "object" || Array.isArray(value))
    throw new InvalidParamsError("logs filter must be an object");
  const filter = value as Record<string, unknown>;
  const address = filter.address;
  let addresses: string[] = [];
  if (address !== undefined && address !== null) {
    const list = Array.isArray(address) ? address : [address];
    if (!list.every((entry) => typeof entry === "string" && addressPattern.test(entry))) {
      throw new InvalidParamsError('"address" must be an address or an array of addresses');
    }
    addresses = (list as string[]).map((entry) => entry.toLowerCase());
  }
  const topics: Array<string[] | null> = [];
  if (filter.topics !== undefined && filter.topics !== null) {
    if (!Array.isArray(filter.topics) || filter.topics.length > 4) {
      throw new InvalidParamsError('"topics" must be an array of at most 4 entries');
    }
    for (const topic of filter.topics) {
      if (topic === null) topics.push(null);
      else if (typeof topic === "string" && topicPattern.test(topic)) topics.push([topic.toLowerCase()]);
      else if (Array.isArray(topic) && topic.every((t) => typeof t === "string" && topicPattern.test(t))) {
        topics.push(topic.length === 0 ? null : (topic as string[]).map((t) => t.toLowerCase()));
      } else {
        throw new InvalidParamsError('"topics" entries must be null, a 32-byte hash or an array of them');
      }
    }
  }
  return { addresses, topics };
}

export function matchesLogFilter(log: Log, filter: LogFilter): boolean {
  if (filter.addresses.length > 0 && !filter.addresses.includes(log.address.toLowerCase())) return false;
  for (let position = 0; position < filter.topics.length; position++) {
    const accepted = filter.topics[position];
    if (!accepted) continue;
    const topic = log.topics[position]?.toLowerCase();
    if (topic === undefined || !accepted.includes(topic)) return false;
  }
  return true;
}
