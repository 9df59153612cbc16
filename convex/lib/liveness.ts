// A worker's liveness (its last heartbeat) changes every few seconds, so it lives in its own
// table: the worker's subscriptions (`self`, `pendingWork`) read the `workers` row, and on a
// real deployment every write to that row would re-run them. Only the sweep and person-side
// listings read `liveness`.
import { statusChanged } from "./routing-moves";
import type { Doc, MutationCtx, QueryCtx } from "./server";

type Status = Doc<"workers">["status"];

export async function livenessOf(ctx: QueryCtx, workerId: string): Promise<Doc<"liveness"> | null> {
  return await ctx.db
    .query("liveness")
    .withIndex("by_workerId", (q) => q.eq("workerId", workerId))
    .unique();
}

/** The last heartbeat shown to people; rows written before liveness moved keep theirs on the worker. */
export function lastHeartbeatOf(worker: Doc<"workers">, row: Doc<"liveness"> | null): number | null {
  return row?.lastHeartbeatAt ?? worker.lastHeartbeatAt ?? null;
}

/**
 * The one way a worker's status changes. The `workers` row is written only when the status
 * really changes (its subscribers re-run on every write); the liveness row records `beat`
 * when given, and its `live` flag follows the status so the sweep finds silent live workers
 * by index.
 */
export async function setStatus(ctx: MutationCtx, worker: Doc<"workers">, status: Status, beat?: number): Promise<void> {
  const changed = worker.status !== status;
  if (changed || worker.lastHeartbeatAt !== undefined) {
    // Clearing the legacy field moves an older worker's liveness out of its row, once.
    await ctx.db.patch(worker._id, { status, lastHeartbeatAt: undefined });
  }
  const live = status !== "offline";
  const row = await livenessOf(ctx, worker.workerId);
  if (!row) {
    const at = beat ?? worker.lastHeartbeatAt;
    if (at !== undefined) await ctx.db.insert("liveness", { workerId: worker.workerId, lastHeartbeatAt: at, live });
  } else if (beat !== undefined) {
    await ctx.db.patch(row._id, { lastHeartbeatAt: beat, live });
  } else if (row.live !== live) {
    await ctx.db.patch(row._id, { live });
  }
  if (changed) await statusChanged(ctx, worker, status);
}
