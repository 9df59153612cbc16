// Supervision through the real CLI: a worker whose backend rejects it keeps crashing and is
// restarted with growing delays (shown as errored with its last error) until the backend takes
// it; a worker whose backend connection drops recovers and serves again; a silent turn is
// aborted with its reason; a revoked worker waits for a new token (no retries) and comes back
// when a reload brings one.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mutationGeneric } from "convex/server";
import * as realWorkers from "../../convex/workers.ts";
import { connectAdmin } from "../../src/backend/admin-client.ts";
import { startLocalBackend, type LocalBackend } from "../../src/local-backend/backend.ts";
import { modules, schema } from "../../src/local-backend/modules.ts";
import { startWorld, type World } from "../support/e2e.ts";
import {
  assertNoSecrets,
  cleanupProcesses,
  configPath,
  metric,
  parsePrometheus,
  sleep,
  startOrchestrate,
  writeConfig,
} from "./orchestrate-support.ts";

const REJECTION = "the backend is not accepting workers yet (test)";

let world: World;
let flakyBackend: LocalBackend;
// While true, the second backend's workers:register fails with a plain (transient) error.
let rejecting = true;

beforeAll(async () => {
  world = await startWorld();
  const register = mutationGeneric({
    handler: async (ctx, args) => {
      if (rejecting) throw new Error(REJECTION);
      return (realWorkers.register as unknown as { _handler: (c: unknown, a: unknown) => unknown })._handler(ctx, args);
    },
  });
  flakyBackend = await startLocalBackend({
    schema,
    modules: { ...modules, "convex/workers.ts": async () => ({ ...realWorkers, register }) },
    sweepIntervalMs: 0,
  });
});
afterEach(cleanupProcesses);
afterAll(async () => {
  await cleanupProcesses();
  await flakyBackend?.stop();
  await world?.stop();
});

describe("orchestrate supervision", () => {
  test("crash loop backs off and recovers; dropped connection recovers; hung turn aborted; revoked token waits for a new one", async () => {
    const flakyAdmin = connectAdmin(flakyBackend.url, flakyBackend.adminKey);
    const flaky = await flakyAdmin.addWorker("flaky-machine", "flaky");
    await flakyAdmin.approve(flaky.workerId);
    await flakyAdmin.close();
    const steady = await world.addWorker({ name: "steady", approve: true });
    const revokable = await world.addWorker({ name: "revokable", approve: true });
    // Its own worker with a tiny inactivity limit, so only the HANG prompt runs under it (a cold
    // OpenCode's first answer can be silent for longer than that on a loaded machine).
    const hanger = await world.addWorker({ name: "hanger", approve: true });
    const cfg = configPath();
    const tokenFile = join(dirname(cfg), "revokable.token");
    writeFileSync(tokenFile, revokable.token + "\n", { mode: 0o600 });
    writeConfig(cfg, {
      workers: [
        { name: "flaky", token: flaky.token, working_directory: world.project(), convex_url: flakyBackend.url },
        {
          name: "steady",
          token: steady.token,
          working_directory: world.project(),
          convex_url: world.backend.url,
          heartbeat_interval: 2,
        },
        { name: "hanger", token: hanger.token, working_directory: world.project(), convex_url: world.backend.url, turn_inactivity_timeout: 3 },
        { name: "revokable", token_file: "revokable.token", working_directory: world.project(), convex_url: world.backend.url },
      ],
    });
    const tokens = [flaky.token, steady.token, revokable.token, hanger.token];
    const orch = await startOrchestrate({ target: "binary", config: cfg, env: world.env });
    await orch.waitForStatus((s) => s.workers.find((w) => w.name === "steady")?.state === "ready", "steady ready");

    // The steady worker serves while the flaky one crash-loops beside it.
    const session = await world.admin.createSession(steady.workerId);
    const first = await world.admin.send(session.sessionId, "ECHO:before the drop");

    // ---- crash loop: delays grow (about 1 s, 2 s, 4 s) -------------------------------------
    const restartLines = () => orch.logs().filter((l) => l.worker === "flaky" && /^restarting in [\d.]+ s$/.test(l.msg));
    await orch.waitForLog(() => restartLines().length >= 3, "three restarts of flaky", 30_000);
    const delays = restartLines().map((l) => Number(/in ([\d.]+) s/.exec(l.msg)![1]));
    console.log(`[measure] crash-loop restart delays: ${delays.join(" s, ")} s`);
    expect(restartLines().slice(0, 3).map((l) => l.attempt)).toEqual([1, 2, 3]);
    // RESTART_BACKOFF: 1 s doubling, ±20 % jitter.
    expect(delays[0]!).toBeGreaterThanOrEqual(0.8);
    expect(delays[0]!).toBeLessThanOrEqual(1.2);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
    expect(delays[2]!).toBeGreaterThanOrEqual(3.2);
    expect(String(restartLines()[0]!.lastError)).toContain(REJECTION);

    const looping = (await orch.worker("flaky"))!;
    expect(looping.state).toBe("errored");
    expect(looping.errorClass).toBe("transient");
    expect(looping.lastError).toContain(REJECTION);
    expect(looping.restarts).toBeGreaterThanOrEqual(2);
    const health = await orch.get("/healthz");
    expect(health.code).toBe(503);
    expect(JSON.parse(health.body).problems.join("\n")).toContain(`flaky: errored — could not register: ${REJECTION}`);
    const m = parsePrometheus((await orch.get("/metrics")).body);
    const statusNow = (await orch.worker("flaky"))!;
    expect(metric(m, "opencode_orchestrator_worker_restarts_total", { worker: "flaky" })).toBeGreaterThanOrEqual(looping.restarts);
    expect(metric(m, "opencode_orchestrator_worker_restarts_total", { worker: "flaky" })).toBeLessThanOrEqual(statusNow.restarts);
    expect(metric(m, "opencode_orchestrator_worker_restarts_total", { worker: "steady" })).toBe(0);
    // The backend starts accepting it: the next (slower) retry succeeds on its own.
    rejecting = false;

    expect(await world.waitForMessage(first.messageId)).toMatchObject({ status: "completed", text: "before the drop" });

    // ---- backend connection drops for a few seconds ----------------------------------------
    const pidBefore = (await orch.worker("steady"))!.opencodePid;
    await world.backend.restartNetwork({ downMs: 6_000 });
    const restored = await orch.waitForLog((l) => l.worker === "steady" && l.msg === "backend connection restored", "watchdog report", 30_000);
    expect(restored.downSeconds).toBeGreaterThanOrEqual(1);
    await orch.waitForStatus((s) => s.workers.find((w) => w.name === "steady")?.backendConnected === true, "steady reconnected");
    const after = await world.admin.send(session.sessionId, "ECHO:after the drop");
    expect(await world.waitForMessage(after.messageId)).toMatchObject({ status: "completed", text: "after the drop" });
    const steadyNow = (await orch.worker("steady"))!;
    expect(steadyNow.state).toBe("ready");
    expect(steadyNow.opencodePid).toBe(pidBefore);

    // ---- a turn with no agent events is aborted, and says why ------------------------------
    const hangerSession = await world.admin.createSession(hanger.workerId);
    const hung = await world.admin.send(hangerSession.sessionId, "HANG");
    const hungEnd = await world.waitForMessage(hung.messageId);
    expect(hungEnd.status).toBe("failed");
    expect(hungEnd.reason).toContain("no agent activity for 3 s");

    // ---- revoked: needs_reauth, never retried; a new token on reload brings it back ---------
    await world.admin.revoke(revokable.workerId);
    const reauth = await orch.waitForStatus(
      (s) => s.workers.find((w) => w.name === "revokable")?.state === "needs_reauth",
      "revokable needs_reauth",
    );
    expect(reauth.workers.find((w) => w.name === "revokable")!.lastError).toContain("revoked");
    expect(orch.logs().find((l) => l.worker === "revokable" && /^state \S+ → needs_reauth$/.test(l.msg))?.reason).toContain("admin add-worker");
    await sleep(3_000); // longer than a first restart delay
    const stillWaiting = (await orch.worker("revokable"))!;
    expect([stillWaiting.state, stillWaiting.restarts, stillWaiting.nextRestartAt]).toEqual(["needs_reauth", 0, null]);
    expect(orch.logs().filter((l) => l.worker === "revokable" && /^restarting/.test(l.msg))).toEqual([]);

    const replacement = await world.addWorker({ name: "revokable-2", approve: true });
    tokens.push(replacement.token);
    writeFileSync(tokenFile, replacement.token + "\n", { mode: 0o600 });
    // The token file is not watched (only workers.json is): SIGHUP applies it.
    orch.proc.kill("SIGHUP");
    const reloaded = await orch.waitForStatus((s) => (s.lastReload?.changed ?? []).includes("revokable"), "reload with the new token");
    expect(reloaded.lastReload).toMatchObject({ ok: true, added: [], removed: [], changed: ["revokable"] });
    expect(reloaded.lastReload!.unchanged.sort()).toEqual(["flaky", "hanger", "steady"]);
    const back = await orch.waitForStatus((s) => s.workers.find((w) => w.name === "revokable")?.state === "ready", "revokable ready again");
    expect(back.workers.find((w) => w.name === "revokable")!.workerId).toBe(replacement.workerId);

    // ---- the flaky worker came back by itself, after more (slower) retries -----------------
    const recovered = await orch.waitForStatus((s) => s.workers.find((w) => w.name === "flaky")?.state === "ready", "flaky ready", 40_000);
    const flakyDoc = recovered.workers.find((w) => w.name === "flaky")!;
    expect(flakyDoc.restarts).toBeGreaterThanOrEqual(3);
    expect(flakyDoc.nextRestartAt).toBeNull();
    const health2 = await orch.get("/healthz");
    expect([health2.code, JSON.parse(health2.body)]).toEqual([200, { ok: true, problems: [] }]);
    const m2 = parsePrometheus((await orch.get("/metrics")).body);
    expect(metric(m2, "opencode_orchestrator_worker_restarts_total", { worker: "flaky" })).toBe(flakyDoc.restarts);
    expect(metric(m2, "opencode_orchestrator_turns_total", { worker: "steady", outcome: "completed" })).toBe(2);
    expect(metric(m2, "opencode_orchestrator_turns_total", { worker: "steady", outcome: "failed" })).toBe(0);
    expect(metric(m2, "opencode_orchestrator_turns_total", { worker: "hanger", outcome: "failed" })).toBe(1);
    expect(metric(m2, "opencode_orchestrator_config_reloads_total", { result: "ok" })).toBe(1);
    expect(metric(m2, "opencode_orchestrator_workers", { state: "ready" })).toBe(4);

    for (const path of ["/status", "/healthz", "/metrics"]) assertNoSecrets(path, (await orch.get(path)).body, tokens);
    orch.proc.kill("SIGTERM");
    expect((await orch.proc.exited).code).toBe(0);
    assertNoSecrets("orchestrate stderr", orch.proc.stderr, tokens);
  }, 180_000);
});
