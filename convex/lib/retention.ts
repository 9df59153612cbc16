// Retention: what is past the deployment's retention period is deleted in bounded pages, so
// one run never nears a transaction's limits; the caller schedules another run while more is due.
import { MAX_OUTPUT_BATCH_CHARS, RETENTION_BATCH_CHARS, RETENTION_BATCH_DOCS, RETENTION_DAYS_DEFAULT } from "./constants";
import { isFinal } from "./messages";
import type { Doc, MutationCtx, QueryCtx } from "./server";
import { deleteSpend } from "./spend";

const DAY_MS = 24 * 60 * 60_000;

/** Days kept, or null to keep everything. */
export async function retentionDays(ctx: QueryCtx): Promise<number | null> {
  const row = await ctx.db
    .query("settings")
    .withIndex("by_name", (q) => q.eq("name", "retention"))
    .unique();
  return row ? row.retentionDays : RETENTION_DAYS_DEFAULT;
}

export type Deleted = { sessions: number; messages: number; outputChunks: number; turnParts: number; requests: number; workers: number; more: boolean };

type Run = { ctx: MutationCtx; docs: number; chars: number; deleted: Deleted };

const spent = (run: Run) => run.docs <= 0 || run.chars <= 0;

async function remove(run: Run, id: Parameters<MutationCtx["db"]["delete"]>[0], chars: number, what: keyof Omit<Deleted, "more">) {
  await run.ctx.db.delete(id);
  run.docs--;
  run.chars -= chars;
  run.deleted[what]++;
}

function partChars(p: Doc<"turnParts">): number {
  return (p.text?.length ?? 0) + (p.file?.patch.length ?? 0) + (p.tool ? p.tool.input.length + (p.tool.output?.length ?? 0) : 0);
}

/** A message's output, then the message; false when the run's budget ran out first. */
async function deleteMessage(run: Run, message: Doc<"messages">): Promise<boolean> {
  while (!spent(run)) {
    // Pages sized so that even chunks at the largest size stay within the character budget.
    const page = Math.max(1, Math.min(run.docs, Math.floor(run.chars / MAX_OUTPUT_BATCH_CHARS)));
    const chunks = await run.ctx.db
      .query("outputChunks")
      .withIndex("by_message_seq", (q) => q.eq("messageId", message._id))
      .take(page);
    for (const chunk of chunks) await remove(run, chunk._id, chunk.text.length, "outputChunks");
    if (chunks.length === page) continue;
    // Parts are small next to a batch (their texts are capped well below it).
    const parts = await run.ctx.db
      .query("turnParts")
      .withIndex("by_message_seq", (q) => q.eq("messageId", message._id))
      .take(page);
    for (const part of parts) await remove(run, part._id, partChars(part), "turnParts");
    if (parts.length === page) continue;
    // Requests are capped per message and their texts are small, like parts.
    const requests = await run.ctx.db
      .query("requests")
      .withIndex("by_message", (q) => q.eq("messageId", message._id))
      .take(page);
    for (const r of requests) await remove(run, r._id, r.title.length + (r.detail?.length ?? 0), "requests");
    if (requests.length < page) {
      if (spent(run)) return false;
      await remove(run, message._id, message.text.length, "messages");
      return true;
    }
  }
  return false;
}

/** A session's messages (and their output), then the session; false when the budget ran out first. */
async function deleteSession(run: Run, session: Doc<"sessions">): Promise<boolean> {
  while (!spent(run)) {
    const messages = await run.ctx.db
      .query("messages")
      .withIndex("by_session", (q) => q.eq("sessionId", session._id))
      .take(50);
    for (const message of messages) if (!(await deleteMessage(run, message))) return false;
    if (messages.length === 0) {
      await remove(run, session._id, session.title.length, "sessions");
      return true;
    }
  }
  return false;
}

/** When a session was last used: older rows have no lastActivityAt, so their newest message tells. */
async function lastActivity(ctx: QueryCtx, session: Doc<"sessions">): Promise<number> {
  if (session.lastActivityAt !== undefined) return session.lastActivityAt;
  const newest = await ctx.db
    .query("messages")
    .withIndex("by_session", (q) => q.eq("sessionId", session._id))
    .order("desc")
    .first();
  return Math.max(session.createdAt, newest?.createdAt ?? 0, newest?.finishedAt ?? 0);
}

/** Sessions stored before lastActivityAt existed get it, so the index below finds them. */
async function backfillActivity(run: Run): Promise<void> {
  const rows = await run.ctx.db
    .query("sessions")
    .withIndex("by_activity", (q) => q.eq("lastActivityAt", undefined))
    .take(100);
  for (const session of rows) {
    await run.ctx.db.patch(session._id, { lastActivityAt: await lastActivity(run.ctx, session) });
    run.docs--;
  }
}

async function deleteIdleSessions(run: Run, cutoff: number): Promise<void> {
  while (!spent(run)) {
    const idle = await run.ctx.db
      .query("sessions")
      .withIndex("by_activity", (q) => q.gte("lastActivityAt", 0).lt("lastActivityAt", cutoff))
      .take(20);
    if (idle.length === 0) return;
    for (const session of idle) {
      const newest = await run.ctx.db
        .query("messages")
        .withIndex("by_session", (q) => q.eq("sessionId", session._id))
        .order("desc")
        .first();
      // A prompt still waiting for its answer is work, not history: look again a period later.
      if (newest?.role === "assistant" && !isFinal(newest.status)) {
        await run.ctx.db.patch(session._id, { lastActivityAt: Date.now() });
        run.docs--;
      } else if (!(await deleteSession(run, session))) {
        return;
      }
    }
  }
}

/** Revoked long ago: its sessions, liveness, day's spend, the worker and (when it was the last) its machine. */
async function deleteRevokedWorkers(run: Run, cutoff: number): Promise<void> {
  const revoked = await run.ctx.db
    .query("workers")
    .withIndex("by_approval_revoked", (q) => q.eq("approval", "revoked").gte("revokedAt", 0).lt("revokedAt", cutoff))
    .take(20);
  for (const worker of revoked) {
    for (;;) {
      if (spent(run)) return;
      const session = await run.ctx.db
        .query("sessions")
        .withIndex("by_worker", (q) => q.eq("workerId", worker.workerId))
        .first();
      if (!session) break;
      if (!(await deleteSession(run, session))) return;
    }
    const liveness = await run.ctx.db
      .query("liveness")
      .withIndex("by_workerId", (q) => q.eq("workerId", worker.workerId))
      .unique();
    if (liveness) await run.ctx.db.delete(liveness._id);
    await deleteSpend(run.ctx, worker.workerId);
    await remove(run, worker._id, 0, "workers");
    const sibling = await run.ctx.db
      .query("workers")
      .withIndex("by_machine", (q) => q.eq("machineId", worker.machineId))
      .first();
    const machine = await run.ctx.db
      .query("machines")
      .withIndex("by_machineId", (q) => q.eq("machineId", worker.machineId))
      .unique();
    if (!sibling && machine) await run.ctx.db.delete(machine._id);
  }
}

/**
 * Deletes one bounded page of what is past retention: idle sessions first, then revoked
 * workers. `more` says that the budget ran out, so the caller should run again.
 */
export async function deleteExpired(ctx: MutationCtx, maxDocs = RETENTION_BATCH_DOCS): Promise<Deleted> {
  const deleted: Deleted = { sessions: 0, messages: 0, outputChunks: 0, turnParts: 0, requests: 0, workers: 0, more: false };
  const days = await retentionDays(ctx);
  if (days === null) return deleted;
  const run: Run = { ctx, docs: Math.min(maxDocs, RETENTION_BATCH_DOCS), chars: RETENTION_BATCH_CHARS, deleted };
  const cutoff = Date.now() - days * DAY_MS;
  await backfillActivity(run);
  await deleteIdleSessions(run, cutoff);
  if (!spent(run)) await deleteRevokedWorkers(run, cutoff);
  deleted.more = spent(run);
  return deleted;
}
