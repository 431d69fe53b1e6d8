// A round of work repeated on a timer until stopped: the devnet's generated transactions and its demo
// traffic through the gateway both run this way.

export interface Rounds {
  /** Stops the rounds and waits for the one in flight. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `round` `intervalMs` after the previous one ended (never two at once), until stopped. A round that
 * fails goes to `onError` and the next one runs as usual. The timer alone never keeps a process alive.
 */
export function repeatRounds(
  round: () => Promise<void>,
  intervalMs: number,
  onError: (error: unknown) => void,
): Rounds {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = round().catch(onError).finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= (async () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        await inFlight;
      })();
      return stopping;
    },
  };
}
