// Shared rules for assistant messages: how an abandoned run is recovered, how its output is
// stored, and how a message is shown to a person (output assembled from its chunks in order).
import { MAX_ATTEMPTS, MAX_RUNNING_PER_WORKER, OUTPUT_CHUNK_CHARS } from "./constants";
import { closeOpenRequests, pendingCount } from "./requests";
import type { Doc, Id, MutationCtx, QueryCtx } from "./server";

export type FinalStatus = "completed" | "failed" | "cancelled" | "interrupted";
export const FINAL_STATUSES: readonly string[] = ["completed", "failed", "cancelled", "interrupted"];

export function isFinal(status: Doc<"messages">["status"]): boolean {
  return status !== undefined && FINAL_STATUSES.includes(status);
}

export type Recovered = { requeued: number; interrupted: number };

/**
 * Takes a running message away from a holder that is gone (lease expired, process restarted,
 * worker went offline). A message that produced no output yet is safe to run again, so it is
 * requeued while attempts remain; otherwise it ends `interrupted` with `why`, so it is never
 * left running forever and never answered twice. A pending cancel request wins over a requeue.
 */
export async function recoverMessage(ctx: MutationCtx, message: Doc<"messages">, why: string, into: Recovered): Promise<void> {
  const now = Date.now();
  const lease = { leaseInstanceId: undefined, leaseExpiresAt: undefined };
  // Whatever OpenCode asked on this run, no agent waits for the answer any more.
  await closeOpenRequests(ctx, message._id, why);
  if (message.cancelRequested) {
    // Counted with the interrupted ones: it ends without an answer and is not run again.
    await ctx.db.patch(message._id, { ...lease, status: "cancelled", reason: "cancelled while its worker was gone", finishedAt: now });
    into.interrupted++;
  } else if (message.nextSeq === 0 && message.attempts < MAX_ATTEMPTS) {
    await ctx.db.patch(message._id, { ...lease, status: "queued", startedAt: undefined });
    into.requeued++;
  } else {
    const reason = message.nextSeq === 0 ? `${why} (gave up after ${message.attempts} attempts)` : why;
    await ctx.db.patch(message._id, { ...lease, status: "interrupted", reason, finishedAt: now });
    into.interrupted++;
  }
}

/** Running messages of one worker, whoever holds them; `claim` keeps them within the limit. */
export async function runningMessages(ctx: QueryCtx, workerId: string): Promise<Doc<"messages">[]> {
  return await ctx.db
    .query("messages")
    .withIndex("by_worker_status", (q) => q.eq("workerId", workerId).eq("status", "running"))
    .take(MAX_RUNNING_PER_WORKER);
}

export async function outputChunks(ctx: QueryCtx, messageId: Id<"messages">): Promise<Doc<"outputChunks">[]> {
  return await ctx.db
    .query("outputChunks")
    .withIndex("by_message_seq", (q) => q.eq("messageId", messageId))
    .collect();
}

/**
 * Batches arrive every fraction of a second for as long as an answer streams; stored one per
 * document, a long answer would outgrow what one query may read. Small batches are appended
 * to the answer's last chunk instead, up to OUTPUT_CHUNK_CHARS.
 */
export async function storeOutput(ctx: MutationCtx, message: Doc<"messages">, seq: number, text: string): Promise<void> {
  const last = await ctx.db
    .query("outputChunks")
    .withIndex("by_message_seq", (q) => q.eq("messageId", message._id))
    .order("desc")
    .first();
  if (last && last.text.length + text.length <= OUTPUT_CHUNK_CHARS) {
    await ctx.db.patch(last._id, { seq, text: last.text + text });
  } else {
    await ctx.db.insert("outputChunks", { messageId: message._id, seq, text });
  }
}

export type ChatMessageView = {
  messageId: string;
  sessionId: string;
  role: "user" | "assistant";
  status: NonNullable<Doc<"messages">["status"]> | null;
  text: string;
  reason: string | null;
  createdAt: number;
  finishedAt: number | null;
  outputBatches: number;
  /** The worker answering (null while a session routed by tags waits for one). */
  workerId: string | null;
  /** The worker this prompt's routed session moved away from (it went away for good). */
  movedFrom: string | null;
  /** The model chosen for this answer (`chat --model`), or null for the worker's default. */
  model: string | null;
  /** Requests (permission, question, budget) waiting for a person; a follower lists them with requests:list. */
  pendingRequests: number;
};

export async function messageView(ctx: QueryCtx, message: Doc<"messages">): Promise<ChatMessageView> {
  const chunks = message.role === "assistant" ? await outputChunks(ctx, message._id) : [];
  return {
    messageId: message._id,
    sessionId: message.sessionId,
    role: message.role,
    status: message.status ?? null,
    text: message.role === "assistant" ? chunks.map((c) => c.text).join("") : message.text,
    reason: message.reason ?? null,
    createdAt: message.createdAt,
    finishedAt: message.finishedAt ?? null,
    outputBatches: message.role === "assistant" ? message.nextSeq : 0,
    // "" is lib/routing.ts's UNROUTED.
    workerId: message.workerId === "" ? null : message.workerId,
    movedFrom: message.movedFrom ?? null,
    model: message.model ?? null,
    pendingRequests: message.role === "assistant" ? await pendingCount(ctx, message._id) : 0,
  };
}
