// The fault an operator node is running (devnet only) and what it does to the public listener: `down`
// closes it (open keep-alive connections too), `flap` closes and reopens it on a timer, anything else
// keeps it open; a fault given `forMs` ends by itself. The listener comes back on the same port. What a
// fault does to requests is chaosMiddleware.ts's; the HTTP control that changes it is controlApi.ts.
import type { Server } from "node:http";
import type { Logger } from "pino";
import { closeServer, listen } from "../http/listen.js";
import { type ChaosState, normalizeChaosState, parseChaosState } from "./chaos.js";

export interface ChaosControlOptions {
  /** Whether faults may be injected at all (`chaos: true`). */
  enabled: boolean;
  /** The public listener, and where it listens once it is up. */
  server: Server;
  host: string;
  port: () => number;
  /** Whether the node is shutting down: no fault starts or ends then. */
  closing: () => boolean;
  log: Logger;
}

export class ChaosControl {
  private chaos: ChaosState = { mode: "ok" };
  /** Ends a fault given `forMs`. */
  private expiry: NodeJS.Timeout | undefined;
  // Bumped on every chaos change so a queued flap toggle from an older state does nothing.
  private generation = 0;
  private flapTimer: NodeJS.Timeout | undefined;
  // Listener open/close steps run one after another; a close racing a re-listen would lose the port.
  private listenerSteps: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: ChaosControlOptions) {}

  /** The fault in force now. */
  state(): ChaosState {
    return this.chaos;
  }

  /** Applies a fault (or `ok`); resolves once the listener is down or back up as the mode requires. */
  async set(input: ChaosState): Promise<void> {
    if (!this.options.enabled) throw new Error("chaos control is off: start the operator with chaos enabled");
    if (this.options.closing()) throw new Error("operator node is closed");
    const parsed = parseChaosState(input);
    if (!parsed.ok) throw new Error(parsed.message);
    const state = normalizeChaosState(parsed.state);
    this.stopTimers();
    const generation = ++this.generation;
    this.chaos = state;
    this.options.log.warn({ chaos: state }, "chaos state changed");
    if (state.forMs !== undefined) {
      // The fault ends by itself unless another state replaced it first.
      this.expiry = setTimeout(() => {
        if (generation !== this.generation || this.options.closing()) return;
        this.set({ mode: "ok" }).catch((error: unknown) =>
          this.options.log.error({ err: (error as Error).message }, "chaos did not end by itself"),
        );
      }, state.forMs);
      this.expiry.unref();
    }
    if (state.mode === "down") return this.setListening(false, generation);
    if (state.mode === "flap") {
      // Starts in the down phase so a flap is visible at once.
      let up = false;
      const step = this.setListening(false, generation);
      this.flapTimer = setInterval(() => {
        up = !up;
        // A failed step is logged by setListening; the next tick tries again.
        this.setListening(up, generation).catch(() => {});
      }, state.value);
      this.flapTimer.unref();
      return step;
    }
    return this.setListening(true, generation);
  }

  /** Ends any fault's timers, waits for the listener steps under way, then closes the listener for good. */
  async shutDown(): Promise<void> {
    this.stopTimers();
    this.generation++;
    await this.listenerSteps;
    this.closed = true;
    await closeServer(this.options.server);
  }

  private stopTimers(): void {
    if (this.flapTimer !== undefined) clearInterval(this.flapTimer);
    this.flapTimer = undefined;
    if (this.expiry !== undefined) clearTimeout(this.expiry);
    this.expiry = undefined;
  }

  private setListening(open: boolean, generation: number): Promise<void> {
    const step = this.listenerSteps.then(async () => {
      if (generation !== this.generation || this.closed) return;
      if (open) await this.openListener();
      // Open keep-alive connections are closed too: `down` means nothing answers.
      else await closeServer(this.options.server);
    });
    this.listenerSteps = step.catch((error: unknown) => {
      this.options.log.error({ err: error }, "public listener could not change state");
    });
    return step;
  }

  private async openListener(): Promise<void> {
    const { server, host, port, log } = this.options;
    if (server.listening) return;
    await listen(server, port(), host);
    log.info({ port: port() }, "public listener back up");
  }
}
