// What people see of a slot (summary, /status, /healthz, /metrics): its worker's snapshot, or the
// last one's end while it waits to restart, with the counts of every Worker object it launched.
import type { ErrorClass, WorkerState } from "../worker/state.ts";
import type { WorkerSnapshot } from "../worker/worker.ts";
import { workerKey, type SlotSnapshot, type SlotState } from "./slot.ts";
import { addStats, emptyStats } from "./worker-stats.ts";

/** A restart after failures that has not got through registration yet. */
const retrying = (s: SlotState) => s.attempt > 0 && !s.connected;

/** The state people see: a worker waiting to restart shows as errored with its last error. */
export function visibleState(s: SlotState): { state: WorkerState; errorClass: ErrorClass | null } {
  const { worker, lastEnd } = s;
  if (worker) {
    const { state, errorClass } = worker.snapshot();
    // A failed worker passes through stopping on its way out; it is still the failure that
    // people (summary, /status, /healthz) need to see, not "stopping".
    if ((state === "stopping" || state === "stopped") && errorClass) {
      return { state: errorClass === "auth" ? "needs_reauth" : "errored", errorClass };
    }
    // A retry of a crash loop stays errored until it gets through: a backend that takes 30 s
    // to time out each attempt must not look like a worker that is merely "registering".
    if (retrying(s) && (state === "starting" || state === "registering")) {
      return { state: "errored", errorClass: lastEnd?.errorClass ?? "transient" };
    }
    return { state, errorClass };
  }
  if (lastEnd?.after === "needs_reauth" || lastEnd?.errorClass === "auth") return { state: "needs_reauth", errorClass: "auth" };
  if (lastEnd?.errorClass) return { state: "errored", errorClass: lastEnd.errorClass };
  return { state: "stopped", errorClass: null };
}

export function slotSnapshot(s: SlotState): SlotSnapshot {
  const { worker, config, lastEnd } = s;
  const base: WorkerSnapshot = worker?.snapshot() ?? {
    name: config.name,
    state: visibleState(s).state,
    since: s.endedAt,
    backendConnected: false,
    lastHeartbeatAt: null,
    turnsRunning: 0,
    turnsQueued: 0,
    lastError: lastEnd?.error ?? null,
    errorClass: visibleState(s).errorClass,
    opencodePid: null,
    approval: null,
    stats: emptyStats(),
  };
  const live = base.stats;
  return {
    ...base,
    ...(worker && retrying(s) && visibleState(s).state === "errored" ? { since: s.endedAt } : {}),
    state: visibleState(s).state,
    lastError: base.lastError ?? lastEnd?.error ?? null,
    stats: addStats(s.totals, live),
    key: workerKey(config),
    restarts: s.restarts,
    nextRestartAt: s.nextRestartAt,
    workingDirectory: config.workingDirectory,
    convexUrl: config.convexUrl,
    machineId: config.token.machineId,
    workerId: config.token.workerId,
  };
}
