// Restarts, reconnects, stop and the maintenance timer, with the real clients.
import { afterEach, describe, expect, test } from "bun:test";
import { ConvexError } from "convex/values";
import { AddressInUseError } from "../../src/local-backend/network.ts";
import { startLocalBackend } from "../../src/local-backend/backend.ts";
import { modulesWithoutSweep, schema } from "./fixtures/modules.ts";
import { api, cleanup, eventually, fixtureBackend, httpClient, watch, wsClient } from "./helpers.ts";

afterEach(cleanup);

describe("restarts", () => {
  test("after the network restarts on the same port, the client reconnects, resubscribes and keeps the data", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    const w = watch<number>(c, api.messages.count);
    await c.mutation(api.messages.send, { body: "before", author: "a" });
    await eventually(() => w.state.value === 1, "count 1");
    await b.stopNetwork();
    await eventually(() => !c.connectionState().isWebSocketConnected, "the client to notice");
    // Issued while the backend is away: sent once it is back.
    const during = c.mutation(api.messages.send, { body: "during", author: "a" });
    await b.startNetwork();
    await during;
    await httpClient(b.url).mutation(api.messages.send, { body: "after", author: "h" });
    await eventually(() => w.state.value === 3, "the subscription to see all three writes");
    expect(c.connectionState().isWebSocketConnected).toBe(true);
  });

  test("a new backend on the same port (fresh data) is picked up by a connected client", async () => {
    const first = await fixtureBackend();
    const c = wsClient(first.url);
    const w = watch<number>(c, api.messages.count);
    await c.mutation(api.messages.send, { body: "lost", author: "a" });
    await eventually(() => w.state.value === 1, "count 1");
    await first.stop();
    const second = await fixtureBackend({ port: first.port });
    expect(second.url).toBe(first.url);
    await eventually(() => w.state.value === 0, "the fresh backend's empty table");
    await httpClient(second.url).mutation(api.messages.send, { body: "new", author: "h" });
    await eventually(() => w.state.value === 1, "the new write");
  });

  test("a backend can take over an earlier one's engine and its data", async () => {
    const first = await fixtureBackend();
    await httpClient(first.url).mutation(api.messages.send, { body: "kept", author: "h" });
    await first.stop();
    const second = await fixtureBackend({ engine: first.engine });
    expect(await httpClient(second.url).query(api.messages.count, {})).toBe(1);
  });

  test("restartNetwork with downtime: subscribers see writes made while the clients were away", async () => {
    const b = await fixtureBackend();
    const c = wsClient(b.url);
    const w = watch<number>(c, api.messages.count);
    await eventually(() => w.state.value === 0, "count 0");
    const restarting = b.restartNetwork({ downMs: 200 });
    await b.run("messages:send", { body: "in-process", author: "p" });
    await restarting;
    await eventually(() => w.state.value === 1, "the write made during the restart");
  });
});

describe("stop", () => {
  test("stop is idempotent, drops clients and frees the port", async () => {
    const b = await startLocalBackend({ schema, modules: modulesWithoutSweep });
    const c = wsClient(b.url);
    await c.mutation(api.messages.send, { body: "x", author: "a" });
    await Promise.all([b.stop(), b.stop()]);
    await b.stop();
    await eventually(() => !c.connectionState().isWebSocketConnected, "the client to be disconnected");
    const again = await fixtureBackend({ port: b.port });
    expect(again.port).toBe(b.port);
  });

  test("a port in use is a clear error naming it", async () => {
    const b = await fixtureBackend();
    let err: unknown;
    try {
      await fixtureBackend({ port: b.port });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AddressInUseError);
    expect((err as AddressInUseError).port).toBe(b.port);
    expect((err as Error).message).toContain(String(b.port));
  });
});

describe("maintenance timer", () => {
  test("admin:sweep runs every interval and subscribers see its writes", async () => {
    const b = await fixtureBackend({ sweepIntervalMs: 30 });
    const w = watch<number>(wsClient(b.url), api.admin.sweepCount);
    await eventually(() => (w.state.value ?? 0) >= 3, "three sweeps");
  });

  test("with the timer off, sweep() runs one tick on demand", async () => {
    const b = await fixtureBackend({ sweepIntervalMs: 0 });
    const http = httpClient(b.url);
    expect(await http.query(api.admin.sweepCount, {})).toBe(0);
    await b.sweep();
    expect(await http.query(api.admin.sweepCount, {})).toBe(1);
  });

  test("functions without admin:sweep are fine", async () => {
    const b = await fixtureBackend({ modules: modulesWithoutSweep, sweepIntervalMs: 20 });
    await b.sweep();
    expect(await httpClient(b.url).query(api.messages.count, {})).toBe(0);
  });
});

describe("in-process calls", () => {
  test("run() calls internal functions as admin and throws ConvexError with data", async () => {
    const b = await fixtureBackend();
    expect(await b.run("admin:secret")).toBe("the secret");
    let err: unknown;
    try {
      await b.run("messages:failWithData", { code: "IN" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConvexError);
    expect((err as ConvexError<{ code: string }>).data.code).toBe("IN");
  });
});
