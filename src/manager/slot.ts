// A slot is one configured worker over time: it outlives restarts of its Worker object and
// owns the restart policy (capped exponential backoff with jitter, reset after a healthy spell).
import type { WorkerConfig } from "../config/types.ts";
import { backoffDelay, RESTART_BACKOFF, type BackoffPolicy } from "../util/backoff.ts";
import type { Logger } from "../util/log.ts";
import type { ListModels, StartAgent } from "../worker/agent-types.ts";
import { usageToday } from "../worker/budget-usage.ts";
import { addStats, emptyStats } from "./worker-stats.ts";
import { slotSnapshot, visibleState } from "./slot-view.ts";
import type { WorkerState } from "../worker/state.ts";
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
  listModels?: ListModels;
  backoff?: BackoffPolicy;
  relayWindowMs?: number;
  /** Called when the slot's state may have changed (for summaries and exit decisions). */
  onChange: () => void;
};

export function workerKey(c: WorkerConfig): string {
  return `${c.token.machineId}:${c.token.workerId}`;
}

export type Slot = ReturnType<typeof createSlot>;

/** What a slot remembers across the Worker objects it launches. */
export type SlotState = {
  config: WorkerConfig;
  deps: SlotDeps;
  log: Logger;
  worker: Worker | null;
  /** Failures in a row (the backoff's exponent); reset after a healthy spell. */
  attempt: number;
  restarts: number;
  healthySince: number | null;
  // This launch got through registration (ready or waiting for approval).
  connected: boolean;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
  nextRestartAt: number | null;
  lastEnd: WorkerEnd | null;
  endedAt: number;
  retired: boolean;
  // Counts of the Worker objects that ended (restarts, a replaced slot); the live one adds its own.
  totals: WorkerStats;
};

export function createSlot(initial: WorkerConfig, deps: SlotDeps) {
  const s: SlotState = {
    config: initial,
    deps,
    log: deps.log.child(initial.name),
    worker: null,
    attempt: 0,
    restarts: 0,
    healthySince: null,
    connected: false,
    restartTimer: undefined,
    nextRestartAt: null,
    lastEnd: null,
    endedAt: Date.now(),
    retired: false,
    totals: emptyStats(),
  };
  return {
    get key() {
      return workerKey(s.config);
    },
    get config() {
      return s.config;
    },
    get worker() {
      return s.worker;
    },
    start: () => launch(s),
    /**
     * Take over the counts of the slot this one replaces (same worker, changed config), so its
     * counters in /status and /metrics carry on instead of dropping back to zero.
     */
    absorb(prev: { stats: WorkerStats; restarts: number }): void {
      s.totals = addStats(s.totals, prev.stats);
      s.restarts += prev.restarts;
    },
    /** The state people see (what snapshot() says), without building the snapshot. */
    state: (): WorkerState => visibleState(s).state,
    /** Cannot recover without a config change or a restart (revoked token, config problem, taken over by another process). */
    unrecoverable(): boolean {
      const { state, errorClass } = visibleState(s);
      const final = errorClass === "config" || errorClass === "auth" || errorClass === "taken_over";
      return !s.worker && s.restartTimer === undefined && (state === "needs_reauth" || final);
    },
    /** Lost its worker to another process with the same token; a person's reload starts it again. */
    takenOver(): boolean {
      return !s.worker && s.restartTimer === undefined && visibleState(s).errorClass === "taken_over";
    },
    /** Drain or stop the worker and never restart it. */
    async retire(o: { cancel?: boolean; reason?: string } = {}): Promise<void> {
      stopRestarts(s);
      if (s.worker) await s.worker.stop(o);
    },
    drain(): void {
      stopRestarts(s);
      s.worker?.drain();
    },
    snapshot: (): SlotSnapshot => slotSnapshot(s),
  };
}

function launch(s: SlotState): void {
  s.nextRestartAt = null;
  s.connected = false;
  const { deps } = s;
  const w = startWorker({
    config: s.config,
    log: s.log,
    version: deps.version,
    startAgent: deps.startAgent,
    listModels: deps.listModels,
    spentTodayBefore: () => usageToday(s.totals.usage).cost,
    relayWindowMs: deps.relayWindowMs,
    onChange: (c) => {
      if (c.to === "ready") s.healthySince ??= c.at;
      if (c.to === "ready" || c.to === "awaiting_approval") s.connected = true;
      if (c.to === "errored" || c.to === "needs_reauth" || c.to === "stopping") {
        if (s.healthySince !== null && c.at - s.healthySince >= HEALTHY_RESET_MS) s.attempt = 0;
        s.healthySince = null;
      }
      deps.onChange();
    },
  });
  s.worker = w;
  void w.done.then((end) => {
    s.totals = addStats(s.totals, w.snapshot().stats);
    s.lastEnd = end;
    s.endedAt = Date.now();
    s.worker = null;
    // Only a transient failure is retried; a taken-over worker restarted would take the worker
    // back from the newer process, and the two would knock each other out for ever.
    if (!s.retired && end.errorClass === "transient") scheduleRestart(s);
    deps.onChange();
  });
}

function scheduleRestart(s: SlotState): void {
  s.attempt++;
  const delay = backoffDelay(s.deps.backoff ?? RESTART_BACKOFF, s.attempt);
  s.nextRestartAt = Date.now() + delay;
  s.log.warn(`restarting in ${(delay / 1000).toFixed(1)} s`, { attempt: s.attempt, lastError: s.lastEnd?.error });
  s.restartTimer = setTimeout(() => {
    s.restartTimer = undefined;
    if (s.retired) return;
    s.restarts++;
    launch(s);
  }, delay);
}

/** The slot launches no worker again (retire, drain). */
function stopRestarts(s: SlotState): void {
  s.retired = true;
  if (s.restartTimer) clearTimeout(s.restartTimer);
  s.restartTimer = undefined;
  s.nextRestartAt = null;
}

