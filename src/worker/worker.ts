// One worker: one token, one folder, one backend. An object the manager starts and stops; it
// never exits the process. This file is its lifecycle; the states are documented in state.ts,
// work intake in intake.ts, people's decisions (approval, pause, drain) in control.ts and the
// running turns in turns.ts.
import { randomBytes } from "node:crypto";
import type { PendingMessage, SelfView } from "../backend/api.ts";
import { backendErrorMessage } from "../backend/errors.ts";
import type { WorkerBackend } from "../backend/worker-client.ts";
import { DEFAULTS, type WorkerConfig } from "../config/types.ts";
import type { Logger } from "../util/log.ts";
import { resourceStack } from "../util/resources.ts";
import type { AgentHost } from "./agent-host.ts";
import type { ListModels, StartAgent } from "./agent-types.ts";
import { openAgentHost, openBackend } from "./connect.ts";
import { createControl } from "./control.ts";
import { failureText, REAUTH_HINT, toFailure as toFailureOf, WorkerFailure } from "./failure.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { createIntake } from "./intake.ts";
import { createRegistration } from "./registration.ts";
import { createRequestDesk } from "./requests.ts";
import { createScheduler } from "./scheduler.ts";
import { takeoverCheck } from "./takeover.ts";
import { createStateMachine, ENDING, HOLDS_NEW_WORK, ONLINE, type ErrorClass, type StateChange, type WorkerState } from "./state.ts";
import { createTurns, emptyStats, type WorkerStats } from "./turns.ts";
import { createWatchdog } from "./watchdog.ts";

export { emptyStats, type WorkerStats } from "./turns.ts";

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
  /** Today's (UTC day) spend of this worker's earlier runs in this process, for max_daily_cost. */
  spentTodayBefore?: () => number;
  /** Lists the worker's models at start, before any OpenCode runs (absent: only when OpenCode starts). */
  listModels?: ListModels;
  onChange?: (c: StateChange) => void;
  /** Output batching window; small values only in tests. */
  relayWindowMs?: number;
  /** How long one backend call may take; small values only in tests. */
  callTimeoutMs?: number;
};

export type Worker = {
  readonly name: string;
  snapshot(): WorkerSnapshot;
  /** State and error class alone: cheap enough to ask of every worker on every change. */
  status(): { state: WorkerState; errorClass: ErrorClass | null };
  /** Stop taking new prompts; running turns finish. */
  drain(): void;
  /** Stop: with `cancel`, running turns end `interrupted` with `reason`. Idempotent. */
  stop(opts?: { cancel?: boolean; reason?: string }): Promise<WorkerEnd>;
  /** Resolves once the worker reached `stopped` (by stop() or by failing). */
  readonly done: Promise<WorkerEnd>;
};

export function startWorker(opts: WorkerOptions): Worker {
  const { config, log } = opts;
  const instanceId = randomBytes(9).toString("base64url");
  const resources = resourceStack(log);
  const stats = emptyStats();
  const fsm = createStateMachine(log, (c) => opts.onChange?.(c));
  const scheduler = createScheduler(config.maxConcurrentSessions);
  const watchdog = createWatchdog({ log, inactivityMs: config.turnInactivityTimeoutMs });
  const relayWindowMs = opts.relayWindowMs ?? 100;
  let backend: WorkerBackend | null = null;
  const requests = createRequestDesk({
    backend: () => backend,
    instanceId,
    timeoutMs: config.permissionTimeoutMs ?? DEFAULTS.permissionTimeoutMs,
    watchdog,
    running: (id) => turns.has(id),
    log,
  });
  const spend = {
    limits: { maxTurnCostUsd: config.maxTurnCostUsd ?? null, maxDailyCostUsd: config.maxDailyCostUsd ?? null },
    askPerson: requests.askPerson,
    spentBefore: opts.spentTodayBefore ?? (() => 0),
  };
  const turns = createTurns({ instanceId, log, stats, spend, watchdog, inactivityTimeoutMs: config.turnInactivityTimeoutMs, relayWindowMs, requests });
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
  const heartbeatDraining = () => fsm.in(HOLDS_NEW_WORK);

  const onConflict = (e: unknown) => fail(toFailure(e, "claim"));
  const intake = createIntake({ fsm, log, instanceId, scheduler, turns, backend: () => backend!, run: runClaimed, onConflict });
  const goOnline = () => void registration.registerAgain(backend!);
  const control = createControl({ fsm, log, turns, goOnline, beatNow, pump: intake.pump, fail, shutdown: () => void shutdown({}) });

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
    errorClass = failure.errorClass;
    void stopHeartbeat();
    if (failure.errorClass === "auth") fsm.go("needs_reauth", `${failure.message} — ${REAUTH_HINT}`);
    else fsm.go("errored", failure.message);
    turns.abandonBackend();
    void shutdown({ cancel: true, reason: `worker failed: ${failure.message}` });
  }

  // ---- going online -----------------------------------------------------------------------
  const registration = createRegistration({ fsm, log, config, version: opts.version, instanceId, control, toFailure, fail, goReady });

  function goReady(b: WorkerBackend): void {
    if (fsm.in(ENDING)) return;
    fsm.go("ready");
    log.info("online", { machineId: config.token.machineId, workerId: config.token.workerId });
    control.settleOnline();
    lastHeartbeatAt = Date.now(); // the register that led here recorded the worker's liveness
    const heartbeat = startHeartbeat({
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
    });
    stopHeartbeat = resources.add("heartbeat", heartbeat);
    resources.add("pending-work subscription", b.watchPendingWork(intake.onPendingWork, (e) => fail(toFailure(e, "pending work"))));
    resources.add("answered-requests subscription", b.watchAnsweredRequests(requests.onAnswered, (e) => fail(toFailure(e, "answered requests"))));
  }

  async function boot(): Promise<void> {
    const b = openBackend({ config, log, resources, callTimeoutMs: opts.callTimeoutMs });
    backend = b;
    agents = openAgentHost({ config, log, resources, startAgent: opts.startAgent, listModels: opts.listModels, backend: b });
    resources.add("watchdog", watchdog.start({ onHungTurn: (id) => turns.interrupt(id, "the turn hung with no agent activity") }));
    await registration.register(b);
    const takeover = takeoverCheck(instanceId);
    const onSelf = (view: SelfView) => {
      const lost = takeover(view);
      return lost ? fail(lost) : control.onSelf(view);
    };
    resources.add("self subscription", b.watchSelf(onSelf, (e) => fail(toFailure(e, "watching own record"))));
  }

  // ---- stopping -------------------------------------------------------------------------
  function shutdown(o: { cancel?: boolean; reason?: string }): Promise<WorkerEnd> {
    // A turn waiting for a person would hold the stop up to the permission timeout.
    void requests.rejectAll(o.reason ?? "the worker is stopping");
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

  /** Drain: no new prompts; running turns finish, and those waiting for a person get a rejection. */
  function drain(): void {
    control.drain();
    if (fsm.in(ENDING) || fsm.state === "draining") void requests.rejectAll("the worker is stopping");
  }

  function stop(o: { cancel?: boolean; reason?: string } = {}): Promise<WorkerEnd> {
    if (!o.cancel && fsm.state === "draining") return done;
    if (!o.cancel && fsm.can("draining")) {
      drain();
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
    drain,
    stop,
    status: () => ({ state: fsm.state, errorClass }),
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
