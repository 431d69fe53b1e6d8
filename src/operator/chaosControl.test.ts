// The fault in force and the public listener it switches, on a real listener with fake timers: down closes
// it and ok reopens it on the same port, flap toggles it on its interval, a fault given forMs ends by
// itself unless replaced, a reopen on a taken port fails loudly, and a shut-down control stops toggling.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { closeServer, listen } from "../http/listen.js";
import { ChaosControl } from "./chaosControl.js";

let server: Server;
let port: number;
let closing: boolean;
const others: Server[] = [];

function control(enabled = true): ChaosControl {
  return new ChaosControl({
    enabled,
    server,
    host: "127.0.0.1",
    port: () => port,
    closing: () => closing,
    log: pino({ level: "silent" }),
  });
}

/** Waits for a listener to open or close: real I/O, so it yields to the event loop until it has. */
async function until(predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("the listener did not change state");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeEach(async () => {
  closing = false;
  server = createServer((_req, res) => res.end("ok"));
  await listen(server, 0, "127.0.0.1");
  port = (server.address() as AddressInfo).port;
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
});

afterEach(async () => {
  vi.useRealTimers();
  await closeServer(server);
  await Promise.all(others.splice(0).map((other) => closeServer(other)));
});

describe("ChaosControl", () => {
  it("closes the listener on down and reopens it on the same port with ok", async () => {
    const chaos = control();
    expect(chaos.state()).toEqual({ mode: "ok" });
    await chaos.set({ mode: "down" });
    expect(server.listening).toBe(false);
    expect(chaos.state()).toEqual({ mode: "down" });
    await chaos.set({ mode: "ok" });
    expect(server.listening).toBe(true);
    expect((server.address() as AddressInfo).port).toBe(port);
    // A fault that does not touch the listener keeps it open.
    await chaos.set({ mode: "lag", value: 5 });
    expect(server.listening).toBe(true);
    expect(chaos.state()).toEqual({ mode: "lag", value: 5 });
  });

  it("flaps: down at once, then up and down again on each interval", async () => {
    const chaos = control();
    await chaos.set({ mode: "flap", value: 150 });
    expect(server.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(149);
    expect(server.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => server.listening);
    await vi.advanceTimersByTimeAsync(150);
    await until(() => !server.listening);
    await vi.advanceTimersByTimeAsync(150);
    await until(() => server.listening);
    // ok ends the flap: the listener stays up however long after.
    await chaos.set({ mode: "ok" });
    await vi.advanceTimersByTimeAsync(1_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.listening).toBe(true);
    expect((server.address() as AddressInfo).port).toBe(port);
  });

  it("ends a fault given forMs by itself, unless another state replaced it first", async () => {
    const chaos = control();
    await chaos.set({ mode: "down", forMs: 300 });
    await vi.advanceTimersByTimeAsync(299);
    expect(chaos.state()).toMatchObject({ mode: "down" });
    expect(server.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(chaos.state()).toEqual({ mode: "ok" });
    await until(() => server.listening);

    await chaos.set({ mode: "down", forMs: 200 });
    await chaos.set({ mode: "lag", value: 5 });
    await vi.advanceTimersByTimeAsync(400);
    expect(chaos.state()).toEqual({ mode: "lag", value: 5 });
  });

  it("rejects a reopen on a port taken while down, and reopens once it is free", async () => {
    const chaos = control();
    await chaos.set({ mode: "down" });
    const squatter = createServer();
    others.push(squatter);
    await listen(squatter, port, "127.0.0.1");
    await expect(chaos.set({ mode: "ok" })).rejects.toThrow(/EADDRINUSE/);
    expect(server.listening).toBe(false);
    await closeServer(squatter);
    await chaos.set({ mode: "ok" });
    expect(server.listening).toBe(true);
  });

  it("refuses changes when chaos is off, when the node is closing, and for a bad state", async () => {
    await expect(control(false).set({ mode: "down" })).rejects.toThrow(/chaos control is off/);
    expect(server.listening).toBe(true);
    const chaos = control();
    await expect(chaos.set({ mode: "explode" } as never)).rejects.toThrow(/mode/);
    closing = true;
    await expect(chaos.set({ mode: "down" })).rejects.toThrow(/operator node is closed/);
    expect(server.listening).toBe(true);
    expect(chaos.state()).toEqual({ mode: "ok" });
  });

  it("shuts the listener down for good: a flap under way toggles nothing after", async () => {
    const chaos = control();
    await chaos.set({ mode: "flap", value: 50 });
    await vi.advanceTimersByTimeAsync(50);
    await until(() => server.listening);
    await chaos.shutDown();
    expect(server.listening).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.listening).toBe(false);
  });
});
