// A slot is one configured worker over time: it outlives restarts of its Worker object and
// owns the restart policy (capped exponential backoff with jitter, reset after a healthy spell).
import type { WorkerConfig } from "../config/types.ts";
import { backoffDelay, RESTART_BACKOFF, type BackoffPolicy } from "../util/backoff.ts";
import type { Logger } from "../util/log.ts";
import type { StartAgent } from "../worker/agent-types.ts";
import type { ErrorClass, WorkerState } from "../worker/state.ts";
import { addStats, emptyStats } from "./worker-stats.ts";
import { startWorker, type Worker, type WorkerEnd, type WorkerSnapshot, type WorkerStats } from "../worker/worker.ts";

/** A worker that stayed ready this long has its failure count reset. */
export const HEALTHY_RESET_MS = 60_000;

export type SlotSnapshot = WorkerSnapshot & {
  key: string;
  restarts: number;
  nextRestartAt: number | null;
  workingDirectory: string;
  convexUrl: string;
  machineId: string;
  workerId: string;
};

export type SlotDeps = {
  log: Logger;
  version: string;
  startAgent: StartAgent;
  backoff?: BackoffPolicy;
  relayWindowMs?: number;
  /** Called when the slot's state may have changed (for summaries and exit decisions). */
  onChange: () => void;
};

export function workerKey(c: WorkerConfig): string {
  return `${c.token.machineId}:${c.token.workerId}`;
}

export type Slot = ReturnType<typeof createSlot>;

export function createSlot(initial: WorkerConfig, deps: SlotDeps) {
  let config = initial;
  let worker: Worker | null = null;
  let attempt = 0;
  let restarts = 0;
  let healthySince: number | null = null;
  // This launch got through registration (ready or waiting for approval).
  let connected = false;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  let nextRestartAt: number | null = null;
  let lastEnd: WorkerEnd | null = null;
  let endedAt = Date.now();
  let retired = false;
  // Counts of the Worker objects that ended (restarts, a replaced slot); the live one adds its own.
  let totals: WorkerStats = emptyStats();
  const log = deps.log.child(initial.name);

  function launch(): void {
    nextRestartAt = null;
    connected = false;
    const w = startWorker({
      config,
      log,
      version: deps.version,
      startAgent: deps.startAgent,
      relayWindowMs: deps.relayWindowMs,
      onChange: (c) => {
        if (c.to === "ready") healthySince ??= c.at;
        if (c.to === "ready" || c.to === "awaiting_approval") connected = true;
        if (c.to === "errored" || c.to === "needs_reauth" || c.to === "stopping") {
          if (healthySince !== null && c.at - healthySince >= HEALTHY_RESET_MS) attempt = 0;
          healthySince = null;
        }
        deps.onChange();
      },
    });
    worker = w;
    void w.done.then((end) => {
      totals = addStats(totals, w.snapshot().stats);
      lastEnd = end;
      endedAt = Date.now();
      worker = null;
      if (!retired && end.errorClass === "transient") scheduleRestart();
      deps.onChange();
    });
  }

  function scheduleRestart(): void {
    attempt++;
    const delay = backoffDelay(deps.backoff ?? RESTART_BACKOFF, attempt);
    nextRestartAt = Date.now() + delay;
    log.warn(`restarting in ${(delay / 1000).toFixed(1)} s`, { attempt, lastError: lastEnd?.error });
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (retired) return;
      restarts++;
      launch();
    }, delay);
  }

  const retrying = () => attempt > 0 && !connected;

  /** The state people see: a worker waiting to restart shows as errored with its last error. */
  function visibleState(): { state: WorkerState; errorClass: ErrorClass | null } {
    if (worker) {
      const { state, errorClass } = worker.status();
      // A failed worker passes through stopping on its way out; it is still the failure that
      // people (summary, /status, /healthz) need to see, not "stopping".
      if ((state === "stopping" || state === "stopped") && errorClass) {
        return { state: errorClass === "auth" ? "needs_reauth" : "errored", errorClass };
      }
      // A retry of a crash loop stays errored until it gets through: a backend that takes 30 s
      // to time out each attempt must not look like a worker that is merely "registering".
      if (retrying() && (state === "starting" || state === "registering")) {
        return { state: "errored", errorClass: lastEnd?.errorClass ?? "transient" };
      }
      return { state, errorClass };
    }
    if (lastEnd?.after === "needs_reauth" || lastEnd?.errorClass === "auth") return { state: "needs_reauth", errorClass: "auth" };
    if (lastEnd?.errorClass) return { state: "errored", errorClass: lastEnd.errorClass };
    return { state: "stopped", errorClass: null };
  }

  return {
    get key() {
      return workerKey(config);
    },
    get config() {
      return config;
    },
    get worker() {
      return worker;
    },
    start: launch,
    /**
     * Take over the counts of the slot this one replaces (same worker, changed config), so its
     * counters in /status and /metrics carry on instead of dropping back to zero.
     */
    absorb(prev: { stats: WorkerStats; restarts: number }): void {
      totals = addStats(totals, prev.stats);
      restarts += prev.restarts;
    },
    /** The state people see (what snapshot() says), without building the snapshot. */
    state: (): WorkerState => visibleState().state,
    /** Cannot recover without a config change (revoked token, config problem). */
    unrecoverable(): boolean {
      const { state, errorClass } = visibleState();
      return !worker && restartTimer === undefined && (state === "needs_reauth" || errorClass === "config" || errorClass === "auth");
    },
    /** Drain or stop the worker and never restart it. */
    async retire(o: { cancel?: boolean; reason?: string } = {}): Promise<void> {
      retired = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      nextRestartAt = null;
      if (worker) await worker.stop(o);
    },
    drain(): void {
      retired = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      nextRestartAt = null;
      worker?.drain();
    },
    snapshot(): SlotSnapshot {
      const base: WorkerSnapshot = worker?.snapshot() ?? {
        name: config.name,
        state: visibleState().state,
        since: endedAt,
        backendConnected: false,
        lastHeartbeatAt: null,
        turnsRunning: 0,
        turnsQueued: 0,
        lastError: lastEnd?.error ?? null,
        errorClass: visibleState().errorClass,
        opencodePid: null,
        approval: null,
        stats: emptyStats(),
      };
      const live = base.stats;
      return {
        ...base,
        ...(worker && retrying() && visibleState().state === "errored" ? { since: endedAt } : {}),
        state: visibleState().state,
        lastError: base.lastError ?? lastEnd?.error ?? null,
        stats: addStats(totals, live),
        key: workerKey(config),
        restarts,
        nextRestartAt,
        workingDirectory: config.workingDirectory,
        convexUrl: config.convexUrl,
        machineId: config.token.machineId,
        workerId: config.token.workerId,
      };
    },
  };
}
