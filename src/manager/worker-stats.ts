// A worker's counters over its restarts: one empty value and one sum, so a new counter is
// added in one place. (src/worker/worker.ts starts its own count from an equal literal.)
import type { WorkerStats } from "../worker/worker.ts";

export function emptyStats(): WorkerStats {
  return { turns: { completed: 0, failed: 0, cancelled: 0, interrupted: 0 }, relayBatches: 0, heartbeatsFailed: 0 };
}

export function addStats(a: WorkerStats, b: WorkerStats): WorkerStats {
  return {
    turns: {
      completed: a.turns.completed + b.turns.completed,
      failed: a.turns.failed + b.turns.failed,
      cancelled: a.turns.cancelled + b.turns.cancelled,
      interrupted: a.turns.interrupted + b.turns.interrupted,
    },
    relayBatches: a.relayBatches + b.relayBatches,
    heartbeatsFailed: a.heartbeatsFailed + b.heartbeatsFailed,
  };
}
