// One worker: one token, one folder, one backend. An object the manager starts and stops; it
// never exits the process. This file is its lifecycle; the states are documented in state.ts,
// work intake in intake.ts, people's decisions (approval, pause, drain) in control.ts and the
// running turns in turns.ts.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PendingMessage } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import { connectWorkerBackend, type WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack } from "../util/resources.ts";
import { createAgentHost, type AgentHost } from "./agent-host.ts";
import type { StartAgent } from "./agent-types.ts";
import { reportConnectionChanges } from "./connection.ts";
import { createControl } from "./control.ts";
import { approveHint, failureText, REAUTH_HINT, toFailure as toFailureOf, WorkerFailure } from "./failure.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { createIntake } from "./intake.ts";
import { createScheduler } from "./scheduler.ts";
import { createStateMachine, ENDING, ONLINE, type ErrorClass, type StateChange, type WorkerState } from "./state.ts";
import { createTurns, emptyStats, type WorkerStats } from "./turns.ts";
import { createWatchdog } from "./watchdog.ts";

export type { WorkerStats } from "./turns.ts";

export type WorkerEnd = { state: "stopped"; after: WorkerState; errorClass?: ErrorClass; error?: string };

export type WorkerSnapshot = {
  name: string;
  state: WorkerState;
  since: number;
  backendConnected: boolean;
  lastHeartbeatAt: number | null;
  turnsRunning: number;
  turnsQueued: number;
  lastError: string | null;
  errorClass: ErrorClass | null;
  opencodePid: number | null;
  approval: string | null;
  stats: WorkerStats;
};

export type WorkerOptions = {
  config: WorkerConfig;
  log: Logger;
  version: string;
  startAgent: StartAgent;
  onChange?: (c: StateChange) => void;
  /** Output batching window; small values only in tests. */
  relayWindowMs?: number;
  /** How long one backend call may take; small values only in tests. */
  callTimeoutMs?: number;
};

export type Worker = {
  readonly name: string;
  snapshot(): WorkerSnapshot;
  /** Stop taking new prompts; running turns finish. */
  drain(): void;
  /** Stop: with `cancel`, running turns end `interrupted` with `reason`. Idempotent. */
  stop(opts?: { cancel?: boolean; reason?: string }): Promise<WorkerEnd>;
  /** Resolves once the worker reached `stopped` (by stop() or by failing). */
  readonly done: Promise<WorkerEnd>;
};

/** How long a worker waits for its first backend connection before saying it cannot reach it. */
const UNREACHABLE_WARN_MS = 5_000;

export function startWorker(opts: WorkerOptions): Worker {
  const { config, log } = opts;
  const instanceId = randomBytes(9).toString("base64url");
  const resources = resourceStack(log);
  const stats = emptyStats();
  const fsm = createStateMachine(log, (c) => opts.onChange?.(c));
  const scheduler = createScheduler(config.maxConcurrentSessions);
  const watchdog = createWatchdog({ log, inactivityMs: config.turnInactivityTimeoutMs });
  const turns = createTurns({
    instanceId,
    log,
    stats,
    watchdog,
    inactivityTimeoutMs: config.turnInactivityTimeoutMs,
    relayWindowMs: opts.relayWindowMs ?? 100,
  });
  let backend: WorkerBackend | null = null;
  let agents: AgentHost | null = null;
  let lastError: string | null = null;
  let errorClass: ErrorClass | null = null;
  let lastHeartbeatAt: number | null = null;
  let stopHeartbeat: () => Promise<void> = async () => {};
  let ended: Promise<WorkerEnd> | null = null;
  let resolveDone!: (e: WorkerEnd) => void;
  const done = new Promise<WorkerEnd>((r) => (resolveDone = r));

  const toFailure = (e: unknown, what: string) =>
    toFailureOf(e, what, { everConnected: backend?.connection().everConnected ?? false, convexUrl: config.convexUrl });
  const beatNow = () => void backend?.heartbeat(instanceId, heartbeatDraining(), turns.ids()).catch(() => undefined);
  const heartbeatDraining = () => fsm.in(["paused", "draining", "stopping"]);

  const intake = createIntake({ fsm, log, instanceId, scheduler, turns, backend: () => backend!, run: runClaimed });
  const control = createControl({
    fsm,
    log,
    turns,
    goOnline: () => void registerAgain(backend!),
    beatNow,
    pump: intake.pump,
    fail,
    shutdown: () => void shutdown({}),
  });

  function runClaimed(msg: PendingMessage): void {
    turns.start(msg, {
      backend: backend!,
      agents: agents!,
      onEnded: () => {
        scheduler.done(msg);
        control.turnEnded();
      },
    });
    control.turnStarted();
  }

  // ---- failure --------------------------------------------------------------------------
  // A failed worker gives up on its backend at once: no more heartbeats, running turns are
  // interrupted without waiting for writes that cannot land, and it stops so its supervisor
  // can start a fresh one.
  function fail(e: unknown): void {
    if (fsm.in(ENDING)) return;
    const failure = e instanceof WorkerFailure ? e : new WorkerFailure(failureText(e), "transient");
    lastError = failure.message;
    errorClass = failure.errorClass === "reauth" ? "auth" : failure.errorClass;
    void stopHeartbeat();
    if (failure.errorClass === "reauth") fsm.go("needs_reauth", `${failure.message} — ${REAUTH_HINT}`);
    else fsm.go("errored", failure.message);
    turns.abandonBackend();
    void shutdown({ cancel: true, reason: `worker failed: ${failure.message}` });
  }

  // ---- going online -----------------------------------------------------------------------
  const workerInfo = () => ({ hostname: hostname(), version: opts.version, directory: config.workingDirectory, pid: process.pid });

  async function register(b: WorkerBackend): Promise<void> {
    if (fsm.in(ENDING)) return;
    fsm.go("registering");
    let res;
    try {
      res = await b.register(instanceId, workerInfo());
    } catch (e) {
      throw toFailure(e, "could not register");
    }
    if (fsm.in(ENDING)) return;
    control.setApproval(res.approval);
    if (res.recovered.requeued + res.recovered.interrupted > 0) log.info("recovered messages of an earlier run", res.recovered);
    if (res.approval === "pending") {
      fsm.go("awaiting_approval", "waiting for approval");
      log.warn(`worker "${config.name}" is waiting for approval — ${approveHint(config.token.workerId)}`);
      return;
    }
    goReady(b);
  }

  async function registerAgain(b: WorkerBackend): Promise<void> {
    try {
      await b.register(instanceId, workerInfo());
    } catch (e) {
      return fail(toFailure(e, "could not go online"));
    }
    if (fsm.state === "registering") goReady(b);
  }

  function goReady(b: WorkerBackend): void {
    if (fsm.in(ENDING)) return;
    fsm.go("ready");
    log.info("online", { machineId: config.token.machineId, workerId: config.token.workerId });
    control.settleOnline();
    stopHeartbeat = resources.add(
      "heartbeat",
      startHeartbeat({
        backend: b,
        instanceId,
        intervalMs: config.heartbeatIntervalMs,
        log,
        draining: heartbeatDraining,
        runningMessageIds: turns.ids,
        onBeat: (r) => {
          lastHeartbeatAt = r.at;
          control.setApproval(r.approval);
        },
        onFailedBeat: () => void stats.heartbeatsFailed++,
        onFatal: (e) => fail(toFailure(e, "heartbeat")),
      }),
    );
    resources.add("pending-work subscription", b.watchPendingWork(intake.onPendingWork, (e) => fail(toFailure(e, "pending work"))));
  }

  async function boot(): Promise<void> {
    const b = connectWorkerBackend(config.convexUrl, config.token, { log, ...(opts.callTimeoutMs ? { callTimeoutMs: opts.callTimeoutMs } : {}) });
    backend = b;
    resources.add("backend connection", () => b.close());
    resources.add("connection reports", reportConnectionChanges(b, log, config.convexUrl));
    // Calls wait for the connection up to their timeout; say early why nothing happens.
    const unreachable = setTimeout(() => {
      if (!b.connection().everConnected) {
        log.warn(`cannot reach the backend at ${config.convexUrl} yet; still trying — check the URL and that the backend is running`);
      }
    }, UNREACHABLE_WARN_MS);
    unreachable.unref?.();
    resources.add("reachability check", () => clearTimeout(unreachable));
    const host = createAgentHost({
      start: opts.startAgent,
      directory: config.workingDirectory,
      opencodePath: config.opencodePath,
      idleTimeoutMs: config.agentIdleTimeoutMs,
      log,
    });
    agents = host;
    host.onStarted((server) => {
      server
        .listModels()
        .then((models) => b.publishModels(models))
        .then(() => log.debug("models published"))
        .catch((e) => log.warn("could not publish models", { error: failureText(e) }));
    });
    resources.add("OpenCode", () => host.stop());
    resources.add("watchdog", watchdog.start({ onHungTurn: (id) => turns.interrupt(id, "the turn hung with no agent activity") }));
    await register(b);
    resources.add("self subscription", b.watchSelf(control.onSelf, (e) => fail(toFailure(e, "watching own record"))));
  }

  // ---- stopping -------------------------------------------------------------------------
  function shutdown(o: { cancel?: boolean; reason?: string }): Promise<WorkerEnd> {
    if (o.cancel) turns.interruptAll(o.reason ?? "the worker was stopped before the answer finished");
    if (ended) return ended;
    const after = fsm.state;
    // A failed worker shows why until its turns are over; any other goes `stopping` now.
    if (!fsm.in(["errored", "needs_reauth"])) fsm.go("stopping");
    ended = (async () => {
      // Let running turns end (they finish their messages) before going offline.
      await turns.settled();
      fsm.go("stopping");
      if (backend && ONLINE.includes(after)) {
        await backend.goOffline(instanceId).catch((e) => log.warn("could not go offline", { error: backendErrorMessage(e) }));
      }
      await resources.releaseAll().catch((e) => log.warn("releasing resources failed", { error: failureText(e) }));
      fsm.go("stopped");
      const end: WorkerEnd = { state: "stopped", after, ...(errorClass ? { errorClass } : {}), ...(lastError ? { error: lastError } : {}) };
      resolveDone(end);
      return end;
    })();
    return ended;
  }

  function stop(o: { cancel?: boolean; reason?: string } = {}): Promise<WorkerEnd> {
    if (!o.cancel && fsm.state === "draining") return done;
    if (!o.cancel && fsm.can("draining")) {
      control.drain();
      return done;
    }
    return shutdown({ cancel: o.cancel ?? false, reason: o.reason });
  }

  // Deferred so the caller holds the handle before the first state change is reported.
  void Promise.resolve()
    .then(boot)
    .catch((e) => fail(e instanceof WorkerFailure ? e : toFailure(e, "start failed")));

  return {
    name: config.name,
    done,
    drain: () => control.drain(),
    stop,
    snapshot: () => ({
      name: config.name,
      state: fsm.state,
      since: fsm.since,
      backendConnected: backend?.connection().connected ?? false,
      lastHeartbeatAt,
      turnsRunning: turns.size,
      turnsQueued: scheduler.waiting,
      lastError,
      errorClass,
      opencodePid: agents?.pid ?? null,
      approval: control.approval,
      stats,
    }),
  };
}
