// Routing's scheduled half: moving routed sessions off a worker that stayed offline too long.
// The rules live in lib/routing.ts (choosing a worker) and lib/routing-moves.ts (moving away).
import { v } from "convex/values";
import { ROUTE_SCAN } from "./lib/constants";
import { findWorker } from "./lib/auth";
import { lastBeat, moveRouted, rerouteGoneRef } from "./lib/routing-moves";
import { internalMutation } from "./lib/server";

/**
 * Scheduled REROUTE_AFTER_MS after a tagged worker went offline (lib/routing-moves.ts). A worker
 * that beat since, or is no longer offline, is left alone: its next going offline schedules anew.
 */
export const rerouteGone = internalMutation({
  args: { workerId: v.string(), offlineAt: v.number() },
  handler: async (ctx, { workerId, offlineAt }) => {
    const worker = await findWorker(ctx, workerId);
    if (!worker || worker.status !== "offline" || (await lastBeat(ctx, worker)) > offlineAt) return { moved: 0 };
    const queued = await ctx.db
      .query("messages")
      .withIndex("by_worker_status", (q) => q.eq("workerId", workerId).eq("status", "queued"))
      .take(ROUTE_SCAN);
    const stay = await moveRouted(ctx, worker, queued);
    // A full page that moved something may hide more routed prompts behind it: go on at once.
    if (queued.length === ROUTE_SCAN && stay.length < queued.length) await ctx.scheduler.runAfter(0, rerouteGoneRef, { workerId, offlineAt });
    return { moved: queued.length - stay.length };
  },
});
