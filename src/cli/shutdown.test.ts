import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { waitFor } from "../../test/support/dataPlane.js";
import {
  closeServing,
  forcedExitCode,
  installShutdown,
  runCloseSteps,
  type Shutdown,
  shutdownTimeoutMs,
  trackSockets,
} from "./shutdown.js";

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const never = () => new Promise<void>(() => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The clock shutdown runs on: its timeouts and deadlines. Sockets, and the test's own waits, stay real. */
const fakeClock = () => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });

afterEach(() => {
  vi.useRealTimers();
});

describe("runCloseSteps", () => {
  it("closes stage after stage, the steps of one stage together", async () => {
    fakeClock();
    const events: string[] = [];
    const step = (name: string, ms: number) => ({
      name,
      close: async () => {
        events.push(`${name} start`);
        await sleep(ms);
        events.push(`${name} end`);
      },
    });
    const { logger } = recordingLogger();
    const closing = runCloseSteps([[step("a", 30), step("b", 10)], [step("c", 0)]], {
      deadline: Date.now() + 5_000,
      logger,
    });
    await vi.runAllTimersAsync();
    const report = await closing;
    expect(report).toEqual({ failed: [], hung: [], skipped: [] });
    expect(events).toEqual(["a start", "b start", "b end", "a end", "c start", "c end"]);
  });

  it("logs a close that throws or rejects and still closes everything else", async () => {
    const closed: string[] = [];
    const { logger, lines } = recordingLogger();
    const report = await runCloseSteps(
      [
        [
          {
            name: "ledger link",
            close: () => {
              throw new Error("boom");
            },
          },
          { name: "server", close: async () => void closed.push("server") },
        ],
        [
          { name: "watcher", close: () => Promise.reject(new Error("chain gone")) },
          { name: "chain", close: () => void closed.push("chain") },
        ],
      ],
      { deadline: Date.now() + 5_000, logger },
    );
    expect(closed).toEqual(["server", "chain"]);
    expect(report.failed.sort()).toEqual(["ledger link", "watcher"]);
    expect(lines.filter((line) => line.level === 50).map((line) => line.step)).toEqual([
      "ledger link",
      "watcher",
    ]);
  });

  it("gives up on a close that never finishes at the deadline and names it", async () => {
    fakeClock();
    const { logger } = recordingLogger();
    const pending = new Set<string>();
    let report: Awaited<ReturnType<typeof runCloseSteps>> | undefined;
    void runCloseSteps(
      [
        [
          { name: "gateway", close: never },
          { name: "quick", close: () => undefined },
        ],
        [{ name: "chain", close: () => undefined }],
      ],
      { deadline: Date.now() + 150, logger, pending },
    ).then((done) => {
      report = done;
    });
    await vi.advanceTimersByTimeAsync(149);
    expect(report).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(report).toEqual({ failed: [], hung: ["gateway"], skipped: ["chain"] });
    expect([...pending]).toEqual(["gateway"]);
  });
});

describe("installShutdown", () => {
  let shutdown: Shutdown | undefined;
  afterEach(() => shutdown?.dispose());

  // A signal this test process does not otherwise use, emitted in-process: the handler logic without a real kill.
  const signal = "SIGUSR2" as const;

  function install(steps: Parameters<typeof installShutdown>[0]["steps"], timeoutMs = 200) {
    const { logger, lines } = recordingLogger();
    const exits: number[] = [];
    let forced = 0;
    const exited = new Promise<number>((resolve) => {
      shutdown = installShutdown({
        logger,
        steps,
        timeoutMs,
        signals: [signal],
        force: () => {
          forced++;
        },
        exit: (code) => {
          exits.push(code);
          resolve(code);
        },
      });
    });
    return { lines, exits, exited, forced: () => forced };
  }

  it("exits 0 once every step closed after the first signal", async () => {
    const closed: string[] = [];
    const run = install(() => [[{ name: "server", close: async () => void closed.push("server") }]]);
    process.emit(signal, signal);
    expect(await run.exited).toBe(0);
    expect(closed).toEqual(["server"]);
    expect(run.forced()).toBe(0);
    expect(process.listenerCount(signal)).toBe(0);
  });

  it("forces the stop at the deadline when a close never finishes, naming it", async () => {
    fakeClock();
    const run = install(() => [
      [{ name: "watcher 1", close: never }],
      [{ name: "chain", close: () => undefined }],
    ]);
    process.emit(signal, signal);
    await vi.advanceTimersByTimeAsync(199);
    expect(run.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await run.exited).toBe(forcedExitCode);
    expect(run.forced()).toBe(1);
    const forcing = run.lines.find((line) => String(line.msg).startsWith("forcing the stop"));
    expect(forcing?.hung).toEqual(["watcher 1"]);
    expect(run.exits).toEqual([forcedExitCode]);
  });

  it("forces the stop at once on a second signal", async () => {
    fakeClock();
    const run = install(() => [[{ name: "gateway", close: never }]], 60_000);
    process.emit(signal, signal);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(run.exits).toEqual([]);
    process.emit(signal, signal);
    // At once: no time passes between the second signal and the exit.
    expect(run.exits).toEqual([forcedExitCode]);
    expect(await run.exited).toBe(forcedExitCode);
    expect(run.forced()).toBe(1);
  });

  it("takes the first signal during a stop begun otherwise as a request to stop, and forces on the next", async () => {
    fakeClock();
    const run = install(() => [[{ name: "gateway", close: never }]], 60_000);
    void shutdown!.stop("asked by the primary");
    process.emit(signal, signal);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(run.exits).toEqual([]);
    process.emit(signal, signal);
    expect(await run.exited).toBe(forcedExitCode);
  });

  it("exits non-zero when a close failed, after closing the rest", async () => {
    const closed: string[] = [];
    const run = install(() => [
      [{ name: "ledger link", close: () => Promise.reject(new Error("unreachable")) }],
      [{ name: "server", close: () => void closed.push("server") }],
    ]);
    void shutdown!.stop("test");
    expect(await run.exited).toBe(1);
    expect(closed).toEqual(["server"]);
    expect(run.forced()).toBe(0);
  });

  it("keeps the exit code a stop was asked with and starts one stop only", async () => {
    const closes: string[] = [];
    const run = install(() => [[{ name: "server", close: () => void closes.push("server") }]]);
    const first = shutdown!.stop("a chain exited", 3);
    const second = shutdown!.stop("launcher gone", 0);
    expect(second).toBe(first);
    expect(await run.exited).toBe(3);
    expect(closes).toEqual(["server"]);
  });
});

describe("shutdownTimeoutMs", () => {
  it("reads DIN_SHUTDOWN_TIMEOUT_MS, defaults to 10 s, and refuses nonsense", () => {
    expect(shutdownTimeoutMs({})).toBe(10_000);
    expect(shutdownTimeoutMs({ DIN_SHUTDOWN_TIMEOUT_MS: "1500" })).toBe(1_500);
    expect(() => shutdownTimeoutMs({ DIN_SHUTDOWN_TIMEOUT_MS: "soon" })).toThrow(/DIN_SHUTDOWN_TIMEOUT_MS/);
    expect(() => shutdownTimeoutMs({ DIN_SHUTDOWN_TIMEOUT_MS: "0" })).toThrow(/positive integer/);
  });
});

describe("closeServing", () => {
  let server: Server;
  const clients: Socket[] = [];
  afterEach(() => {
    for (const client of clients) client.destroy();
    server?.closeAllConnections();
  });

  /** A server that refuses every upgrade as the gateway does (a response, then end()), and a peer that never closes. */
  async function serverWithHalfOpenSocket() {
    server = createServer((_req, res) => res.end("ok"));
    let refused = false;
    server.on("upgrade", (_req, socket) => {
      refused = true;
      socket.on("error", () => undefined);
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    });
    const sockets = trackSockets(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = connect(port, "127.0.0.1", () =>
      client.write(
        "GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n" +
          "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
      ),
    );
    // A hostile peer: it reads nothing (so never sees the end) and never closes its side.
    client.pause();
    client.on("error", () => undefined);
    clients.push(client);
    await waitFor(() => refused && sockets.size === 1, 10_000, "the upgrade to be refused");
    return sockets;
  }

  const ownClose = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  it("a server's own close waits forever for a refused upgrade whose peer stays open", async () => {
    await serverWithHalfOpenSocket();
    const outcome = await Promise.race([ownClose().then(() => "closed"), sleep(500).then(() => "waiting")]);
    expect(outcome).toBe("waiting");
  });

  it("destroys such sockets once the component stopped listening, so its close finishes", async () => {
    const sockets = await serverWithHalfOpenSocket();
    expect(sockets.size).toBe(1);
    const started = Date.now();
    await closeServing(ownClose, server, sockets, { graceMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.listening).toBe(false);
    await waitFor(() => sockets.size === 0, 10_000, "the refused upgrade's socket to close");
  });

  it("stops listening after the grace even when the component's close is stuck before closing the server", async () => {
    const sockets = await serverWithHalfOpenSocket();
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The grace is watched on an interval against Date: those are fake, the sockets and waitFor real.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const closing = closeServing(() => stuck, server, sockets, { graceMs: 100 });
    await vi.advanceTimersByTimeAsync(99);
    expect(server.listening).toBe(true);
    expect(sockets.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.listening).toBe(false);
    await waitFor(() => sockets.size === 0, 10_000, "the sockets to be destroyed");
    release();
    await closing;
  });

  it("stops listening when the component's close rejects", async () => {
    const sockets = await serverWithHalfOpenSocket();
    await expect(
      closeServing(() => Promise.reject(new Error("ledger unreachable")), server, sockets, {
        graceMs: 60_000,
      }),
    ).rejects.toThrow(/ledger unreachable/);
    expect(server.listening).toBe(false);
  });
});
