// What this worker's model calls cost on the current UTC day before its run began, for
// max_daily_cost: the backend's count when the worker registered (every earlier run, whichever
// process ran it, so a restart does not start the day at $0 again); with a backend whose
// functions predate that count, this process's earlier runs of the worker.
import { utcDay, type DaySpend } from "../../convex/lib/spend.ts";

export function daySpendBefore(o: { registered: () => DaySpend | undefined; inProcess?: () => number; now?: () => number }): () => number {
  return () => {
    const counted = o.registered();
    if (!counted) return o.inProcess?.() ?? 0;
    // Counted on an earlier day: nothing of today came before this run.
    return counted.day === utcDay((o.now ?? Date.now)()) ? counted.cost : 0;
  };
}
