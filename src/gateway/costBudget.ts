/**
 * How much operator time one client may spend on expensive requests (calls, log ranges, traces). A
 * node runs such requests one after another or on few threads, so a client sending gas-burning calls
 * back to back would hold every operator's execution client and starve everyone else, however cheap its
 * API key's credits make them. Each client (API key, or address where keys are off) runs a few expensive
 * requests at a time — the others wait their turn in a bounded queue, so a dApp's batch of calls is
 * served, only serially — and has a leaky bucket of operator milliseconds: the time each expensive
 * request took is added when it ends and drains at `msPerSecond`; over `burstMs`, its expensive requests
 * are refused (-32005, with when to retry) until the bucket has drained. Cheap reads are never counted.
 */
import { LRUCache } from "lru-cache";
import { LimitExceededError } from "../rpc/errors.js";

export interface CostBudgetOptions {
  /** Operator milliseconds per second a client's expensive requests may use, on average. */
  msPerSecond: number;
  /** Operator milliseconds a client may use in a burst before it is held to the average. */
  burstMs: number;
  /** Expensive requests one client may have running; more wait in its queue. */
  maxInFlight: number;
  /** Expensive requests one client may have waiting; more are refused. @default 64 */
  maxQueued?: number;
  /** Clients remembered (least recently active first out). @default 100000 */
  maxClients?: number;
}

interface ClientBudget {
  debtMs: number;
  at: number;
  inFlight: number;
  /** Requests waiting for a place, oldest first. */
  queue: Array<() => void>;
}

export class CostBudget {
  private readonly clients: LRUCache<string, ClientBudget>;

  constructor(private readonly options: CostBudgetOptions) {
    this.clients = new LRUCache({ max: options.maxClients ?? 100_000 });
  }

  /**
   * Starts an expensive request for `client`, waiting for its turn until `deadline` (ms since epoch);
   * rejects with LimitExceededError when the client is over its share. The returned function ends the
   * request, charging the time it ran.
   */
  async begin(client: string, deadline: number): Promise<() => void> {
    const now = performance.now();
    let budget = this.clients.get(client);
    if (!budget) {
      budget = { debtMs: 0, at: now, inFlight: 0, queue: [] };
      this.clients.set(client, budget);
    }
    this.drain(budget, now);
    if (budget.debtMs > this.options.burstMs) {
      const retryMs = Math.ceil(((budget.debtMs - this.options.burstMs) / this.options.msPerSecond) * 1000);
      throw new LimitExceededError(
        `expensive requests (eth_call, eth_estimateGas, eth_getLogs, traces) of this client used more than ${this.options.burstMs} ms of operator time; retry in ${retryMs} ms`,
      );
    }
    if (budget.inFlight >= this.options.maxInFlight) await this.waitTurn(budget, deadline);
    else budget.inFlight++;
    const entry = budget;
    const started = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const endedAt = performance.now();
      this.drain(entry, endedAt);
      entry.debtMs += endedAt - started;
      const next = entry.queue.shift();
      if (next)
        next(); // the place passes to the next waiter
      else entry.inFlight--;
    };
  }

  private waitTurn(budget: ClientBudget, deadline: number): Promise<void> {
    const maxQueued = this.options.maxQueued ?? 64;
    if (budget.queue.length >= maxQueued) {
      return Promise.reject(
        new LimitExceededError(
          `more than ${maxQueued} expensive requests (eth_call, eth_estimateGas, eth_getLogs, traces) waiting for this client`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          const index = budget.queue.indexOf(turn);
          if (index !== -1) budget.queue.splice(index, 1);
          reject(
            new LimitExceededError(
              "this client's earlier expensive requests took the whole request time; send fewer at once",
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      budget.queue.push(turn);
    });
  }

  /** Milliseconds of debt `client` carries now (0 for a client never seen). */
  debtOf(client: string, now = performance.now()): number {
    const budget = this.clients.peek(client);
    if (!budget) return 0;
    this.drain(budget, now);
    return budget.debtMs;
  }

  get size(): number {
    return this.clients.size;
  }

  private drain(budget: ClientBudget, now: number): void {
    const elapsed = Math.max(0, now - budget.at);
    budget.debtMs = Math.max(0, budget.debtMs - (elapsed / 1000) * this.options.msPerSecond);
    budget.at = now;
  }
}
