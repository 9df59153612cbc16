// Moving routed sessions off a worker that went away for good: revoked, or offline longer than
// REROUTE_AFTER_MS. Their queued prompts wait again (UNROUTED) and are routed to another worker
// with every tag; the OpenCode session stays behind (context does not move between machines), so
// the session's agent binding is cleared and the moved prompts carry `movedFrom` for the person.
import { makeFunctionReference } from "convex/server";
import { REROUTE_AFTER_MS } from "./constants";
import { queuedOfSession, routeSession, routeWaitingTo, UNROUTED } from "./routing";
import type { Doc, Id, MutationCtx, QueryCtx } from "./server";

const rerouteGoneRef = makeFunctionReference<"mutation", { workerId: string; offlineAt: number }, unknown>("routing:rerouteGone");

/** Unbinds a routed session from `from`; its queued prompts wait for routing again. */
export async function releaseSession(ctx: MutationCtx, session: Doc<"sessions">, from: Doc<"workers">): Promise<void> {
  if (!session.tags || session.workerId !== from.workerId) return;
  await ctx.db.patch(session._id, { workerId: UNROUTED, agentSessionId: undefined, movedFrom: from.name });
  for (const m of await queuedOfSession(ctx, session._id)) {
    await ctx.db.patch(m._id, { workerId: UNROUTED, movedFrom: from.name });
  }
}

/**
 * Of `queued` (messages of `from`), moves those of routed sessions and routes them again;
 * returns the others (sessions addressed to this worker by name), which stay the caller's.
 */
export async function moveRouted(ctx: MutationCtx, from: Doc<"workers">, queued: Doc<"messages">[]): Promise<Doc<"messages">[]> {
  const stay: Doc<"messages">[] = [];
  const moved = new Set<Id<"sessions">>();
  for (const m of queued) {
    if (moved.has(m.sessionId)) continue;
    const session = await ctx.db.get(m.sessionId);
    if (!session?.tags) {
      stay.push(m);
      continue;
    }
    await releaseSession(ctx, session, from);
    moved.add(m.sessionId);
  }
  for (const id of moved) await routeSession(ctx, id);
  return stay;
}

async function lastBeat(ctx: QueryCtx, worker: Doc<"workers">): Promise<number> {
  const row = await ctx.db
    .query("liveness")
    .withIndex("by_workerId", (q) => q.eq("workerId", worker.workerId))
    .unique();
  return row?.lastHeartbeatAt ?? worker.lastHeartbeatAt ?? worker.createdAt;
}

/** The holder of a routed session is gone for good: revoked, deleted, or offline too long. */
export async function holderGone(ctx: QueryCtx, worker: Doc<"workers"> | null, now: number): Promise<boolean> {
  if (!worker || worker.approval === "revoked") return true;
  return worker.status === "offline" && (await lastBeat(ctx, worker)) < now - REROUTE_AFTER_MS;
}

/**
 * The hook of lib/liveness.ts setStatus, run when a worker's status changed: online → it may
 * take waiting sessions; offline → if it still is in REROUTE_AFTER_MS, its routed sessions move.
 */
export async function statusChanged(ctx: MutationCtx, worker: Doc<"workers">, status: Doc<"workers">["status"]): Promise<void> {
  if (status === "online") await routeWaitingTo(ctx, worker._id);
  if (status === "offline" && (worker.tags ?? []).length > 0 && worker.approval === "approved") {
    await ctx.scheduler.runAfter(REROUTE_AFTER_MS, rerouteGoneRef, { workerId: worker.workerId, offlineAt: Date.now() });
  }
}

export { rerouteGoneRef, lastBeat };
