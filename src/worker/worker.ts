// One worker: one token, one folder, one backend. An object the manager starts and stops;
// it never exits the process. Lifecycle: starting → registering → (awaiting_approval) →
// ready ⇄ busy (⇄ paused) → draining → stopping → stopped, or errored / needs_reauth on the way.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PendingMessage, PendingWork, SelfView } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import { connectWorkerBackend, type WorkerBackend } from "../backend/worker-client.ts";
import type { WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack } from "../util/resources.ts";
import { createAgentHost, type AgentHost } from "./agent-host.ts";
import type { StartAgent } from "./agent-types.ts";
import { approveHint, failureText, REAUTH_HINT, toFailure as toFailureOf, WorkerFailure } from "./failure.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { createScheduler } from "./scheduler.ts";
import { createStateMachine, type ErrorClass, type StateChange, type WorkerState } from "./state.ts";
import { runTurn, type StopReason } from "./turn.ts";
import { createWatchdog } from "./watchdog.ts";

export type WorkerEnd = { state: "stopped"; after: WorkerState; errorClass?: ErrorClass; error?: string };

export type WorkerStats = {
  turns: Record<"completed" | "failed" | "cancelled" | "interrupted", number>;
  relayBatches: number;
  heartbeatsFailed: number;
};

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
  const stats: WorkerStats = { turns: { completed: 0, failed: 0, cancelled: 0, interrupted: 0 }, relayBatches: 0, heartbeatsFailed: 0 };
  const fsm = createStateMachine(log, (c) => opts.onChange?.(c));
  const scheduler = createScheduler(config.maxConcurrentSessions);
  const running = new Map<string, { msg: PendingMessage; controller: AbortController; done: Promise<void> }>();
  const sessions = new Map<string, string>();
  let backend: WorkerBackend | null = null;
  let agents: AgentHost | null = null;
  let lastError: string | null = null;
  let errorClass: ErrorClass | null = null;
  let lastHeartbeatAt: number | null = null;
  let approval: string | null = null;
  let draining = false;
  // Paused by a person (admin pause): running answers finish, queued ones wait for resume.
  let paused = false;
  let stopping: Promise<WorkerEnd> | null = null;
  let resolveDone!: (e: WorkerEnd) => void;
  const done = new Promise<WorkerEnd>((r) => (resolveDone = r));
  const watchdog = createWatchdog({ log, inactivityMs: config.turnInactivityTimeoutMs });

  // ---- failure handling ---------------------------------------------------------------
  function fail(e: unknown): void {
    if (stopping || fsm.state === "errored" || fsm.state === "needs_reauth") return;
    const failure = e instanceof WorkerFailure ? e : new WorkerFailure(errorMessage(e), "transient");
    lastError = failure.message;
    if (failure.errorClass === "reauth") {
      errorClass = "auth";
      fsm.go("needs_reauth", `${failure.message} — ${REAUTH_HINT}`);
    } else {
      errorClass = failure.errorClass;
      fsm.go("errored", failure.message);
    }
    void shutdown({ cancel: true, reason: `worker failed: ${failure.message}` });
  }

  const errorMessage = failureText;
  const toFailure = (e: unknown, what: string) =>
    toFailureOf(e, what, { everConnected: backend?.connection().everConnected ?? false, convexUrl: config.convexUrl });

  // ---- work ---------------------------------------------------------------------------
  function setBusyState(): void {
    if (fsm.state === "ready" && running.size > 0) fsm.go("busy");
    else if (fsm.state === "busy" && running.size === 0) fsm.go("ready");
  }

  function pump(): void {
    if (draining || paused || stopping || (fsm.state !== "ready" && fsm.state !== "busy")) return;
    for (let msg = scheduler.next(); msg; msg = scheduler.next()) void take(msg);
  }

  async function take(msg: PendingMessage): Promise<void> {
    const b = backend!;
    // The session stays taken in the scheduler from here until this message is over: freeing it
    // any earlier lets the session's next message start beside this one.
    try {
      const claim = await b.claim(instanceId, msg.messageId);
      if (!claim.claimed) {
        log.debug("claim lost", { messageId: msg.messageId, reason: claim.reason });
        scheduler.done(msg);
        return;
      }
    } catch (e) {
      log.warn("claim failed", { messageId: msg.messageId, error: backendErrorMessage(e) });
      scheduler.done(msg);
      return;
    }
    if (stopping || draining) {
      // Claimed just as we began to stop: hand it back as interrupted rather than leave it running.
      scheduler.done(msg);
      await b.finish(instanceId, msg.messageId, "interrupted", "the worker was shutting down").catch(() => undefined);
      return;
    }
    const controller = new AbortController();
    const entry = { msg, controller, done: Promise.resolve() };
    running.set(msg.messageId, entry);
    setBusyState();
    watchdog.turnStarted(msg.messageId);
    entry.done = runTurn(
      {
        backend: b,
        instanceId,
        agents: agents!,
        sessions,
        inactivityTimeoutMs: config.turnInactivityTimeoutMs,
        relayWindowMs: opts.relayWindowMs ?? 100,
        log,
        onActivity: () => watchdog.activity(msg.messageId),
      },
      msg,
      controller.signal,
    ).then(
      (r) => {
        stats.turns[r.outcome]++;
        stats.relayBatches += r.batches;
      },
      (e) => log.error("turn crashed", { messageId: msg.messageId, error: errorMessage(e) }),
    ).finally(() => {
      watchdog.turnEnded(msg.messageId);
      running.delete(msg.messageId);
      scheduler.done(msg);
      setBusyState();
      pump();
      if (draining && running.size === 0) void shutdown({});
    });
  }

  function onPendingWork(work: PendingWork): void {
    scheduler.update(work.queued);
    for (const id of work.cancelRequested) {
      const r = running.get(id);
      if (r && !r.controller.signal.aborted) {
        log.info("cancel requested", { messageId: id });
        r.controller.abort({ kind: "cancel" } satisfies StopReason);
      }
    }
    pump();
  }

  // ---- lifecycle ----------------------------------------------------------------------
  async function register(b: WorkerBackend): Promise<void> {
    if (stopping) return;
    fsm.go("registering");
    let res;
    try {
      res = await b.register(instanceId, {
        hostname: hostname(),
        version: opts.version,
        directory: config.workingDirectory,
        pid: process.pid,
      });
    } catch (e) {
      throw toFailure(e, "could not register");
    }
    if (stopping) return;
    approval = res.approval;
    if (res.recovered.requeued + res.recovered.interrupted > 0) {
      log.info("recovered messages of an earlier run", res.recovered);
    }
    if (res.approval === "pending") {
      fsm.go("awaiting_approval", "waiting for approval");
      log.warn(`worker "${config.name}" is waiting for approval — ${approveHint(config.token.workerId)}`);
      return;
    }
    goReady(b);
  }

  function goReady(b: WorkerBackend): void {
    if (stopping) return;
    fsm.go("ready");
    log.info("online", { machineId: config.token.machineId, workerId: config.token.workerId });
    if (paused) fsm.go("paused", "paused by a person");
    beginHeartbeat(b);
    resources.add("pending-work subscription", b.watchPendingWork(onPendingWork, (e) => fail(toFailure(e, "pending work"))));
  }

  function onSelf(b: WorkerBackend, view: SelfView): void {
    approval = view.approval;
    if (view.approval === "revoked") return fail(new WorkerFailure("this worker was revoked", "reauth"));
    if (view.approval === "approved" && fsm.state === "awaiting_approval") {
      log.info("approved");
      fsm.go("registering", "approved");
      // Register again so the backend marks this instance online.
      b.register(instanceId, { hostname: hostname(), version: opts.version, directory: config.workingDirectory, pid: process.pid }).then(
        () => {
          if (fsm.state === "registering") goReady(b);
        },
        (e) => fail(toFailure(e, "could not go online")),
      );
    }
    if (view.drainRequested !== paused) setPaused(view.drainRequested);
  }

  function setPaused(on: boolean): void {
    paused = on;
    if (on && (fsm.state === "ready" || fsm.state === "busy")) {
      fsm.go("paused", running.size > 0 ? `paused by a person; finishing ${running.size} turn(s)` : "paused by a person");
      void backend?.heartbeat(instanceId, true, [...running.keys()]).catch(() => undefined);
    } else if (!on && fsm.state === "paused") {
      log.info("resumed: taking prompts again");
      fsm.go(running.size > 0 ? "busy" : "ready", "resumed");
      void backend?.heartbeat(instanceId, draining, [...running.keys()]).catch(() => undefined);
      pump();
    }
  }

  function beginHeartbeat(b: WorkerBackend): void {
    const release = startHeartbeat({
      backend: b,
      instanceId,
      intervalMs: config.heartbeatIntervalMs,
      log,
      draining: () => draining || paused,
      runningMessageIds: () => [...running.keys()],
      onBeat: (r) => {
        lastHeartbeatAt = r.at;
        approval = r.approval;
      },
      onFailedBeat: () => void stats.heartbeatsFailed++,
      onFatal: (e) => fail(toFailure(e, "heartbeat")),
    });
    resources.add("heartbeat", release);
  }

  async function boot(): Promise<void> {
    const b = connectWorkerBackend(config.convexUrl, config.token, { log });
    backend = b;
    resources.add("backend connection", () => b.close());
    // Calls wait for the connection up to their timeout; say early why nothing happens.
    const unreachable = setTimeout(() => {
      if (!b.connection().everConnected) {
        log.warn(`cannot reach the backend at ${config.convexUrl} yet; still trying — check the URL and that the backend is running`);
      }
    }, UNREACHABLE_WARN_MS);
    unreachable.unref?.();
    resources.add("reachability check", () => clearTimeout(unreachable));
    agents = createAgentHost({
      start: opts.startAgent,
      directory: config.workingDirectory,
      opencodePath: config.opencodePath,
      idleTimeoutMs: config.agentIdleTimeoutMs,
      log,
    });
    const host = agents;
    host.onStarted((server) => {
      server
        .listModels()
        .then((models) => b.publishModels(models))
        .then(() => log.debug("models published"))
        .catch((e) => log.warn("could not publish models", { error: errorMessage(e) }));
    });
    resources.add("OpenCode", () => host.stop());
    resources.add("watchdog", watchdog.start({
      connection: () => b.connection(),
      onHungTurn: (messageId) => {
        const r = running.get(messageId);
        r?.controller.abort({ kind: "interrupt", reason: "the turn hung with no agent activity" } satisfies StopReason);
      },
    }));
    await register(b);
    resources.add("self subscription", b.watchSelf((v) => onSelf(b, v), (e) => fail(toFailure(e, "watching own record"))));
  }

  // ---- stop ---------------------------------------------------------------------------
  function drain(): void {
    if (draining || stopping) return;
    draining = true;
    if (fsm.state === "ready" || fsm.state === "busy" || fsm.state === "paused") {
      fsm.go("draining", running.size > 0 ? `waiting for ${running.size} turn(s)` : undefined);
      void backend?.heartbeat(instanceId, true, [...running.keys()]).catch(() => undefined);
      if (running.size === 0) void shutdown({});
    } else {
      void shutdown({});
    }
  }

  function shutdown(o: { cancel?: boolean; reason?: string }): Promise<WorkerEnd> {
    if (o.cancel) {
      for (const r of running.values()) {
        if (!r.controller.signal.aborted) {
          r.controller.abort({ kind: "interrupt", reason: o.reason ?? "the worker was stopped before the answer finished" } satisfies StopReason);
        }
      }
    }
    if (stopping) return stopping;
    draining = true;
    const after = fsm.state;
    stopping = (async () => {
      // Let running turns end (they finish their messages) before going offline.
      await Promise.all([...running.values()].map((r) => r.done));
      if (fsm.state !== "stopping") fsm.go("stopping");
      if (backend && (after === "ready" || after === "busy" || after === "paused" || after === "draining")) {
        await backend.goOffline(instanceId).catch((e) => log.warn("could not go offline", { error: backendErrorMessage(e) }));
      }
      await resources.releaseAll().catch((e) => log.warn("releasing resources failed", { error: errorMessage(e) }));
      fsm.go("stopped");
      const end: WorkerEnd = { state: "stopped", after, ...(errorClass ? { errorClass } : {}), ...(lastError ? { error: lastError } : {}) };
      resolveDone(end);
      return end;
    })();
    return stopping;
  }

  // Deferred so the caller holds the handle before the first state change is reported.
  void Promise.resolve()
    .then(boot)
    .catch((e) => fail(e instanceof WorkerFailure ? e : toFailure(e, "start failed")));

  return {
    name: config.name,
    done,
    drain,
    stop: (o = {}) => {
      if (!stopping && fsm.state !== "stopped" && fsm.state !== "errored" && fsm.state !== "needs_reauth") {
        if (fsm.can("draining") && !o.cancel) {
          drain();
          return done;
        }
      }
      return shutdown({ cancel: o.cancel ?? false, reason: o.reason });
    },
    snapshot: () => ({
      name: config.name,
      state: fsm.state,
      since: fsm.since,
      backendConnected: backend?.connection().connected ?? false,
      lastHeartbeatAt,
      turnsRunning: running.size,
      turnsQueued: scheduler.waiting,
      lastError,
      errorClass,
      opencodePid: agents?.pid ?? null,
      approval,
      stats,
    }),
  };
}
