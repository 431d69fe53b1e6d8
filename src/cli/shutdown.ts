// How a long-running `din` process stops (`din up`, `din gateway`, `din operator serve`, a devnet chain):
// every component's close is raced against one deadline, then the rest is forced. A close that hangs (a
// peer that never closes its socket, a transaction waiting for a chain that is gone) is named in the log
// and cut short instead of keeping the process — and its ports — alive; a second SIGINT/SIGTERM forces the
// stop at once.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";

/** How long the graceful phase of a stop may take, unless DIN_SHUTDOWN_TIMEOUT_MS says otherwise. */
export const defaultShutdownTimeoutMs = 10_000;
/** Environment variable overriding the graceful phase, in milliseconds (tests make it short). */
export const shutdownTimeoutVariable = "DIN_SHUTDOWN_TIMEOUT_MS";
/** Exit code of a stop that had to be forced (deadline passed, second signal, or the stop itself failed). */
export const forcedExitCode = 1;
/** How long a serving component's own close may keep its server's sockets open during a stop. */
export const defaultSocketGraceMs = 2_000;

/** How a command's --help tells when it stops. */
export const stopHelp =
  `Stops on SIGINT/SIGTERM within ${defaultShutdownTimeoutMs / 1000} s (${shutdownTimeoutVariable}, in ms) with exit 0;\n` +
  "past that, or on a second signal, the stop is forced (exit 1).";

/** The graceful phase's length: DIN_SHUTDOWN_TIMEOUT_MS when set, else {@link defaultShutdownTimeoutMs}. */
export function shutdownTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[shutdownTimeoutVariable];
  if (raw === undefined || raw.trim() === "") return defaultShutdownTimeoutMs;
  const value = Number(raw);
  // Read when the process starts, so a bad value is a startup error, not a stop that never forces.
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(
      `${shutdownTimeoutVariable} must be a positive integer (milliseconds), got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** One component's close. A thrown error or rejection is logged; it does not stop the other steps. */
export interface CloseStep {
  /** Names the component in the log, e.g. "gateway" or "operator ethereum-aws-us-east-1". */
  name: string;
  close: () => unknown;
}

export interface CloseReport {
  /** Steps that failed (threw or rejected); each was logged. */
  failed: string[];
  /** Steps still running when the deadline passed. */
  hung: string[];
  /** Steps never started: an earlier stage was still running when the deadline passed. */
  skipped: string[];
}

export interface RunCloseStepsOptions {
  /** When to give up waiting (ms since the epoch, as Date.now()). */
  deadline: number;
  logger: Logger;
  /** Names of the steps running right now; a caller forcing the stop logs them as what hung. */
  pending?: Set<string>;
}

/**
 * Runs close steps: stage after stage, the steps of one stage concurrently (a component closes before
 * what it depends on: callers before operators, operators before their chain). Never rejects and never
 * waits past the deadline: a step still running then is reported as hung and left behind.
 */
export async function runCloseSteps(
  stages: ReadonlyArray<ReadonlyArray<CloseStep>>,
  options: RunCloseStepsOptions,
): Promise<CloseReport> {
  const { logger } = options;
  const pending = options.pending ?? new Set<string>();
  const report: CloseReport = { failed: [], hung: [], skipped: [] };
  for (const [index, stage] of stages.entries()) {
    const running = new Set<string>();
    const settled = stage.map((step) => {
      running.add(step.name);
      pending.add(step.name);
      return Promise.resolve()
        .then(step.close)
        .catch((error: unknown) => {
          report.failed.push(step.name);
          logger.error({ err: error, step: step.name }, `closing ${step.name} failed`);
        })
        .finally(() => {
          running.delete(step.name);
          pending.delete(step.name);
        });
    });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), Math.max(0, options.deadline - Date.now()));
    });
    const outcome = await Promise.race([Promise.all(settled), expired]);
    clearTimeout(timer);
    if (outcome === "expired") {
      report.hung.push(...running);
      report.skipped.push(...stages.slice(index + 1).flatMap((later) => later.map((step) => step.name)));
      break;
    }
  }
  return report;
}

export interface ShutdownOptions {
  logger: Logger;
  /** The graceful phase, in stages (see runCloseSteps). Called when the stop begins, so it sees what runs then. */
  steps: () => ReadonlyArray<ReadonlyArray<CloseStep>>;
  /**
   * The forced phase: synchronous, e.g. SIGKILL to child processes. The process exits right after, which
   * closes every listener and socket it still holds.
   */
  force?: () => void;
  /** @default shutdownTimeoutMs() (DIN_SHUTDOWN_TIMEOUT_MS, else 10 000) */
  timeoutMs?: number;
  /** Signals that begin the stop; the second one forces it. @default ["SIGINT", "SIGTERM"] */
  signals?: readonly NodeJS.Signals[];
  /** @default process.exit */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /**
   * Begins the stop (what the first signal does). Exits with `exitCode` when every step closed in time,
   * with at least 1 when a step failed, and with {@link forcedExitCode} when the stop had to be forced. A
   * stop already under way is not started again. Resolves once the exit was called.
   */
  stop(reason: string, exitCode?: number): Promise<void>;
  readonly stopping: boolean;
  /** Removes the signal handlers (the exit does it too). */
  dispose(): void;
}

/**
 * Stops the process on SIGINT/SIGTERM within a bounded time. The handlers stay installed for the whole
 * stop: the second signal received forces it instead of being ignored (or, with a one-shot handler,
 * killing the process without stopping its child processes).
 */
export function installShutdown(options: ShutdownOptions): Shutdown {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? shutdownTimeoutMs();
  const signals = options.signals ?? (["SIGINT", "SIGTERM"] as const);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const pending = new Set<string>();
  let stopping: Promise<void> | undefined;
  let exited = false;
  let forceTimer: NodeJS.Timeout | undefined;

  const finish = (code: number): void => {
    if (exited) return;
    exited = true;
    clearTimeout(forceTimer);
    dispose();
    exit(code);
  };
  const forceNow = (why: string): void => {
    if (exited) return;
    logger.error({ why, hung: [...pending] }, `forcing the stop: ${why}`);
    try {
      options.force?.();
    } catch (error) {
      logger.error({ err: error }, "forcing the stop failed");
    }
    finish(forcedExitCode);
  };
  const stop = (reason: string, exitCode = 0): Promise<void> => {
    if (stopping) return stopping;
    logger.info({ reason, timeoutMs }, "stopping");
    const deadline = Date.now() + timeoutMs;
    // Not unref'd: it is what ends a stop whose hung close left nothing else alive.
    forceTimer = setTimeout(() => forceNow(`still closing after ${timeoutMs} ms`), timeoutMs);
    stopping = (async () => {
      let report: CloseReport;
      try {
        report = await runCloseSteps(options.steps(), { deadline, logger, pending });
      } catch (error) {
        logger.error({ err: error }, "the stop failed");
        forceNow("the stop failed");
        return;
      }
      if (report.hung.length > 0 || report.skipped.length > 0) {
        forceNow(`still closing after ${timeoutMs} ms`);
        return;
      }
      logger.info({ reason, failed: report.failed }, "stopped");
      finish(report.failed.length > 0 && exitCode === 0 ? 1 : exitCode);
    })();
    return stopping;
  };
  // Signals are counted, not compared with `stopping`: a stop begun otherwise (a cluster primary's request,
  // a chain that died) may race the terminal's Ctrl-C that reaches every process of the group, and that
  // Ctrl-C is someone's first request to stop, not their second.
  let signalsReceived = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalsReceived++;
    if (signalsReceived > 1) forceNow(`second ${signal} while stopping`);
    else void stop(signal);
  };
  function dispose(): void {
    for (const signal of signals) process.off(signal, onSignal);
  }
  for (const signal of signals) process.on(signal, onSignal);
  return {
    stop,
    get stopping() {
      return stopping !== undefined;
    },
    dispose,
  };
}

/**
 * The open sockets of a server, kept current, so a stop can reach the ones the server no longer tracks.
 * Each also gets an error listener: the HTTP server drops its own at an upgrade, and a peer resetting a
 * refused upgrade's socket would otherwise be an uncaught exception that takes the whole process down.
 */
export function trackSockets(server: Server): ReadonlySet<Socket> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.once("close", () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Stops a server now: no more listening, and every connection destroyed — the HTTP ones (closeAllConnections)
 * and the tracked ones it no longer counts as HTTP (upgraded: WebSockets, and refused upgrades that were
 * ended but wait for a peer that never closes its side).
 */
export function closeServer(server: Server, sockets: Iterable<Socket> = []): void {
  if (server.listening) server.close();
  server.closeAllConnections();
  for (const socket of sockets) socket.destroy();
}

export interface CloseServingOptions {
  /** How long `close` may keep the server listening or its sockets open. @default defaultSocketGraceMs */
  graceMs?: number;
  /** How often the server is checked. @default 50 */
  pollMs?: number;
}

/**
 * Runs a serving component's own close (which closes `server` along the way) without letting it hang on
 * sockets: once that close has stopped the server listening, after `graceMs`, or when it fails — whichever
 * comes first — the server stops listening and every socket it still holds is destroyed.
 *
 * Why: `server.close()` waits for every socket, and `closeAllConnections()` only reaches sockets still
 * parsed as HTTP. An upgrade refused with `socket.end()` stays half-open for as long as the peer keeps its
 * side open, and a WebSocket client that never answers the close frame keeps its socket for the ws close
 * timeout (30 s): either would hold the close, and everything stopped after it, far past the deadline.
 */
export async function closeServing(
  close: () => Promise<void>,
  server: Server,
  sockets: ReadonlySet<Socket>,
  options: CloseServingOptions = {},
): Promise<void> {
  const graceMs = options.graceMs ?? defaultSocketGraceMs;
  const started = Date.now();
  const watch = setInterval(() => {
    if (!server.listening || Date.now() - started >= graceMs) closeServer(server, sockets);
  }, options.pollMs ?? 50);
  try {
    await close();
  } finally {
    clearInterval(watch);
    closeServer(server, sockets);
  }
}
