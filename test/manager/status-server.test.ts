// The status endpoint on a real socket: port 0 reports the port it got, /healthz says why it is
// unhealthy, /status serves the document, /metrics is valid Prometheus text with the same
// numbers, nothing leaves unredacted, and a taken port is a clear error.
import { afterEach, describe, expect, test } from "bun:test";
import { startStatusServer } from "../../src/manager/status-server.ts";
import type { StatusDoc, WorkerStatusDoc } from "../../src/manager/status.ts";
import { createLogger } from "../../src/util/log.ts";
import { WORKER_STATES } from "../../src/worker/state.ts";
import { metric, parsePrometheus } from "../e2e/orchestrate-support.ts";

const log = createLogger({ sink: () => {} });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

function worker(name: string, over: Partial<WorkerStatusDoc> = {}): WorkerStatusDoc {
  return {
    name,
    machineId: "m1",
    workerId: `w-${name}`,
    state: "ready",
    since: new Date().toISOString(),
    approval: "approved",
    backendConnected: true,
    lastHeartbeatAgeSeconds: 3,
    turnsRunning: 0,
    turnsQueued: 0,
    turns: { completed: 0, failed: 0, cancelled: 0, interrupted: 0 },
    relayBatches: 0,
    heartbeatsFailed: 0,
    restarts: 0,
    nextRestartAt: null,
    lastError: null,
    errorClass: null,
    opencodePid: null,
    workingDirectory: "/srv/app",
    convexUrl: "http://127.0.0.1:3210",
    ...over,
  };
}

function doc(workers: WorkerStatusDoc[], over: Partial<StatusDoc> = {}): StatusDoc {
  return {
    version: "1.2.3",
    pid: 42,
    config: "/etc/workers.json",
    startedAt: new Date().toISOString(),
    uptimeSeconds: 61,
    shuttingDown: false,
    lastReload: null,
    reloads: { ok: 2, failed: 1 },
    workers,
    ...over,
  };
}

async function serve(d: () => StatusDoc) {
  const s = await startStatusServer({ address: "127.0.0.1:0", status: d, log });
  stops.push(() => s.stop());
  return s;
}

async function get(address: string, path: string, init?: RequestInit) {
  const res = await fetch(`http://${address}${path}`, init);
  return { code: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

describe("status server", () => {
  test("port 0 gets a free port and reports it; /healthz 200 when all is well", async () => {
    const s = await serve(() => doc([worker("a"), worker("b", { state: "awaiting_approval", approval: "pending" })]));
    const port = Number(s.address.split(":")[1]);
    expect(s.address.startsWith("127.0.0.1:")).toBe(true);
    expect(port).toBeGreaterThan(0);
    const h = await get(s.address, "/healthz");
    expect([h.code, JSON.parse(h.body)]).toEqual([200, { ok: true, problems: [] }]);
  });

  test("/healthz 503 names each errored / needs_reauth worker with its error, and shutting down", async () => {
    let shuttingDown = false;
    const s = await serve(() =>
      doc(
        [
          worker("ok"),
          worker("bad", { state: "errored", lastError: "could not register: boom", errorClass: "transient", restarts: 3 }),
          worker("old", { state: "needs_reauth", lastError: "this worker was revoked", errorClass: "auth" }),
        ],
        { shuttingDown },
      ),
    );
    const h = await get(s.address, "/healthz");
    expect(h.code).toBe(503);
    expect(JSON.parse(h.body)).toEqual({
      ok: false,
      problems: ["bad: errored — could not register: boom", "old: needs_reauth — this worker was revoked"],
    });
    shuttingDown = true;
    expect(JSON.parse((await get(s.address, "/healthz")).body).problems[0]).toBe("shutting down");
  });

  test("/status is the document; /metrics is valid Prometheus text with the same numbers", async () => {
    const d = doc([
      worker("a", { state: "busy", turnsRunning: 1, turnsQueued: 2, turns: { completed: 5, failed: 1, cancelled: 2, interrupted: 1 }, relayBatches: 17 }),
      worker("b", { state: "errored", backendConnected: false, lastHeartbeatAgeSeconds: null, restarts: 4, heartbeatsFailed: 3 }),
    ]);
    const s = await serve(() => d);
    const st = await get(s.address, "/status");
    expect(st.type).toBe("application/json");
    expect(JSON.parse(st.body)).toEqual(d);

    const res = await get(s.address, "/metrics");
    expect(res.type).toBe("text/plain; version=0.0.4");
    const m = parsePrometheus(res.body);
    const P = "opencode_orchestrator_";
    for (const state of WORKER_STATES) {
      expect(metric(m, P + "workers", { state })).toBe(state === "busy" || state === "errored" ? 1 : 0);
    }
    expect(metric(m, P + "turns_total", { worker: "a", outcome: "completed" })).toBe(5);
    expect(metric(m, P + "turns_total", { worker: "a", outcome: "interrupted" })).toBe(1);
    expect(metric(m, P + "turns_running", { worker: "a" })).toBe(1);
    expect(metric(m, P + "turns_queued", { worker: "a" })).toBe(2);
    expect(metric(m, P + "relay_batches_total", { worker: "a" })).toBe(17);
    expect(metric(m, P + "worker_restarts_total", { worker: "b" })).toBe(4);
    expect(metric(m, P + "heartbeat_failures_total", { worker: "b" })).toBe(3);
    expect(metric(m, P + "heartbeat_age_seconds", { worker: "a" })).toBe(3);
    expect(metric(m, P + "heartbeat_age_seconds", { worker: "b" })).toBeUndefined();
    expect(metric(m, P + "backend_connected", { worker: "b" })).toBe(0);
    expect(metric(m, P + "config_reloads_total", { result: "ok" })).toBe(2);
    expect(metric(m, P + "config_reloads_total", { result: "rejected" })).toBe(1);
    expect(metric(m, P + "build_info", { version: "1.2.3" })).toBe(1);
    expect(metric(m, P + "uptime_seconds")).toBe(61);
    expect(m.types.get(P + "worker_restarts_total")).toBe("counter");
    expect(m.types.get(P + "workers")).toBe("gauge");
    for (const name of m.types.keys()) expect(m.help.get(name)).toBeTruthy();
  });

  test("/metrics: two instances of one worker (old draining, new waiting after a reload) give one series each", async () => {
    const s = await serve(() =>
      doc([
        worker("x", { state: "draining", turnsRunning: 1, turns: { completed: 2, failed: 0, cancelled: 0, interrupted: 0 }, restarts: 1, lastHeartbeatAgeSeconds: 9 }),
        worker("x", { state: "stopped", backendConnected: false, lastHeartbeatAgeSeconds: null, turns: { completed: 0, failed: 1, cancelled: 0, interrupted: 0 } }),
      ]),
    );
    const m = parsePrometheus((await get(s.address, "/metrics")).body); // throws on a duplicate series
    const P = "opencode_orchestrator_";
    expect(metric(m, P + "turns_total", { worker: "x", outcome: "completed" })).toBe(2);
    expect(metric(m, P + "turns_total", { worker: "x", outcome: "failed" })).toBe(1);
    expect(metric(m, P + "turns_running", { worker: "x" })).toBe(1);
    expect(metric(m, P + "worker_restarts_total", { worker: "x" })).toBe(1);
    expect(metric(m, P + "backend_connected", { worker: "x" })).toBe(1);
    expect(metric(m, P + "heartbeat_age_seconds", { worker: "x" })).toBe(9);
    expect(metric(m, P + "workers", { state: "draining" })).toBe(1);
    expect(metric(m, P + "workers", { state: "stopped" })).toBe(1);
  });

  test("a secret that slipped into the document is masked in every response", async () => {
    const leaked = "machine_m1:worker_w1:secret_hunter2hunter2";
    const s = await serve(() => doc([worker("a", { state: "errored", lastError: `failed with ${leaked}` })]));
    for (const path of ["/status", "/healthz", "/metrics"]) {
      const body = (await get(s.address, path)).body;
      expect(body).not.toContain("hunter2");
    }
    expect((await get(s.address, "/status")).body).toContain("machine_m1:worker_w1:secret_****");
  });

  test("unknown paths are 404 with the endpoints listed; other methods 405", async () => {
    const s = await serve(() => doc([]));
    const nf = await get(s.address, "/");
    expect([nf.code, nf.body]).toEqual([404, "not found: try /healthz, /status or /metrics\n"]);
    expect((await get(s.address, "/status", { method: "POST" })).code).toBe(405);
  });

  test("an address in use is a clear error with the fix", async () => {
    const s = await serve(() => doc([]));
    const err = await startStatusServer({ address: s.address, status: () => doc([]), log }).then(
      () => null,
      (e: Error & { hint?: string }) => e,
    );
    expect(err?.message).toBe(`status address ${s.address} is already in use`);
    expect(err?.hint).toContain("--status-address");
  });
});
