// A worker's counters over its restarts: the sum of two counts, so a new counter is added in
// one place. The empty count is the worker's own (src/worker/turns.ts).
import { addUsageStats } from "../worker/budget-usage.ts";
import { emptyStats, type WorkerStats } from "../worker/worker.ts";

export { emptyStats };

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
    usage: addUsageStats(a.usage, b.usage),
  };
}
