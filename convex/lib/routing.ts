// Routing: a session addressed to a tag set instead of a worker is bound, when a prompt is sent
// to it, to an approved, online, unpaused worker that has every tag and the most free capacity.
// Free capacity is the capacity the worker reported (its max_concurrent_sessions) minus its open
// sessions — those with a queued or running answer — read from the messages table inside the
// routing mutation. Convex runs mutations as serializable transactions, so routings at the same
// time see each other's writes (or are retried) and never overload one worker while another idles.
//
// A session no worker can take now waits UNROUTED: it and its queued messages carry the workerId
// "", which no worker's pendingWork reads. The mutations that give a worker room — it comes
// online, is resumed, finishes an answer — route waiting sessions to it (routeWaitingTo); nothing
// polls. A routed session stays with its worker, whose OpenCode session holds the conversation.
import { PENDING_SCAN, MAX_RUNNING_PER_WORKER, MAX_TAGS, ROUTE_CANDIDATES, ROUTE_SCAN, TAG_PATTERN } from "./constants";
import { fail } from "./errors";
import type { Doc, Id, MutationCtx, QueryCtx } from "./server";

/** The workerId of a routed session, and of its messages, while no worker has taken it. */
export const UNROUTED = "";

/** Tags as given → deduplicated and sorted, or INVALID naming the bad one. */
export function checkTags(what: string, tags: string[], allowEmpty: boolean): string[] {
  const clean = [...new Set(tags.map((t) => t.trim()))].sort();
  if (!allowEmpty && clean.length === 0) fail("INVALID", `${what} needs at least one tag.`);
  if (clean.length > MAX_TAGS) fail("INVALID", `${what} has too many tags (${clean.length}; the limit is ${MAX_TAGS}).`);
  for (const tag of clean) {
    if (!TAG_PATTERN.test(tag)) {
      fail("INVALID", `${what}: tag "${tag.slice(0, 40)}" may only use letters, digits, ".", "_" and "-" (at most 32, not starting with "." or "-").`);
    }
  }
  return clean;
}

export function hasTags(worker: Doc<"workers">, tags: readonly string[]): boolean {
  const own = worker.tags ?? [];
  return tags.every((t) => own.includes(t));
}

/** May take new routed sessions now: approved, online (not draining, not offline), not paused. */
export function takesWork(worker: Doc<"workers">): boolean {
  return worker.approval === "approved" && worker.status === "online" && !worker.drainRequested;
}

/** Sessions with a queued or running answer on this worker, counted up to `limit`. */
export async function openSessions(ctx: QueryCtx, workerId: string, limit: number): Promise<number> {
  const seen = new Set<string>();
  for (const [status, most] of [["running", MAX_RUNNING_PER_WORKER], ["queued", PENDING_SCAN]] as const) {
    const rows = await ctx.db
      .query("messages")
      .withIndex("by_worker_status", (q) => q.eq("workerId", workerId).eq("status", status))
      .take(most);
    for (const m of rows) {
      seen.add(m.sessionId);
      if (seen.size >= limit) return seen.size;
    }
  }
  return seen.size;
}

export async function freeCapacity(ctx: QueryCtx, worker: Doc<"workers">): Promise<number> {
  const capacity = worker.capacity ?? 1;
  return capacity - (await openSessions(ctx, worker.workerId, capacity));
}

/** The qualifying worker with the most free capacity (ties: by name), or null when none has room. */
export async function pickWorker(ctx: QueryCtx, tags: readonly string[]): Promise<Doc<"workers"> | null> {
  const approved = await ctx.db
    .query("workers")
    .withIndex("by_approval_revoked", (q) => q.eq("approval", "approved"))
    .take(ROUTE_CANDIDATES);
  let best: Doc<"workers"> | null = null;
  let bestFree = 0;
  for (const worker of approved) {
    if (!takesWork(worker) || !hasTags(worker, tags)) continue;
    const free = await freeCapacity(ctx, worker);
    if (free <= 0) continue;
    if (!best || free > bestFree || (free === bestFree && worker.name < best.name)) {
      best = worker;
      bestFree = free;
    }
  }
  return best;
}

/**
 * A session's queued answers (and their prompts), newest first. Answers run in order, so the
 * queued ones are the session's last: the scan stops at the first answer that is not queued.
 */
export async function queuedOfSession(ctx: QueryCtx, sessionId: Id<"sessions">): Promise<Doc<"messages">[]> {
  const out: Doc<"messages">[] = [];
  const rows = await ctx.db
    .query("messages")
    .withIndex("by_session", (q) => q.eq("sessionId", sessionId))
    .order("desc")
    .take(ROUTE_SCAN);
  for (const m of rows) {
    if (m.role === "user") continue;
    if (m.status !== "queued") break;
    out.push(m);
    const prompt = m.replyTo ? await ctx.db.get(m.replyTo) : null;
    if (prompt) out.push(prompt);
  }
  return out;
}

/** Gives a waiting session, with its queued prompts, to `worker`. */
export async function bindTo(ctx: MutationCtx, session: Doc<"sessions">, worker: Doc<"workers">): Promise<void> {
  await ctx.db.patch(session._id, { workerId: worker.workerId });
  for (const m of await queuedOfSession(ctx, session._id)) await ctx.db.patch(m._id, { workerId: worker.workerId });
}

/** Routes one waiting session now if a worker has room; returns that worker's id, else null. */
export async function routeSession(ctx: MutationCtx, sessionId: Id<"sessions">): Promise<string | null> {
  const session = await ctx.db.get(sessionId);
  if (!session || session.workerId !== UNROUTED) return session?.workerId ?? null;
  const worker = await pickWorker(ctx, session.tags ?? []);
  if (!worker) return null;
  await bindTo(ctx, session, worker);
  return worker.workerId;
}

/**
 * Called where a worker may have gained room (online, resumed, an answer ended): gives it the
 * oldest waiting sessions it has every tag for, as many as its free capacity allows.
 */
export async function routeWaitingTo(ctx: MutationCtx, workerDocId: Id<"workers">): Promise<number> {
  const worker = await ctx.db.get(workerDocId);
  if (!worker || !takesWork(worker) || (worker.tags ?? []).length === 0) return 0;
  const waiting = await ctx.db
    .query("messages")
    .withIndex("by_worker_status", (q) => q.eq("workerId", UNROUTED).eq("status", "queued"))
    .take(ROUTE_SCAN);
  if (waiting.length === 0) return 0;
  let free = await freeCapacity(ctx, worker);
  let routed = 0;
  const seen = new Set<string>();
  for (const m of waiting) {
    if (free <= 0) break;
    if (seen.has(m.sessionId)) continue;
    seen.add(m.sessionId);
    const session = await ctx.db.get(m.sessionId);
    if (!session || session.workerId !== UNROUTED || !hasTags(worker, session.tags ?? [])) continue;
    await bindTo(ctx, session, worker);
    routed++;
    free--;
  }
  return routed;
}
