// A worker's spend on the current UTC day, counted by the backend from the step usage the worker
// reports with its output (lib/parts.ts storeParts), so max_daily_cost holds across restarts of
// the worker's process: the worker reads it when it registers. One row per worker, started over
// when a new day begins.
import type { MutationCtx, QueryCtx } from "./server";

export type DaySpend = { day: string; cost: number };

/** The UTC day of a time (YYYY-MM-DD): the day max_daily_cost counts. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

async function rowOf(ctx: QueryCtx, workerId: string) {
  return await ctx.db
    .query("spend")
    .withIndex("by_workerId", (q) => q.eq("workerId", workerId))
    .unique();
}

/** Adds a step's cost (or the change of an updated step's cost) to the worker's day. */
export async function addSpend(ctx: MutationCtx, workerId: string, cost: number, now: number): Promise<void> {
  if (!Number.isFinite(cost) || cost === 0) return;
  const day = utcDay(now);
  const row = await rowOf(ctx, workerId);
  if (!row) await ctx.db.insert("spend", { workerId, day, cost });
  else await ctx.db.patch(row._id, { day, cost: row.day === day ? row.cost + cost : cost });
}

export async function spentToday(ctx: QueryCtx, workerId: string, now: number): Promise<DaySpend> {
  const day = utcDay(now);
  const row = await rowOf(ctx, workerId);
  return { day, cost: row?.day === day ? row.cost : 0 };
}

/** With the worker, when retention deletes it. */
export async function deleteSpend(ctx: MutationCtx, workerId: string): Promise<void> {
  const row = await rowOf(ctx, workerId);
  if (row) await ctx.db.delete(row._id);
}
