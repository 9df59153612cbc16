// Person-side chat: start a session with a worker, send prompts, cancel, read answers.
// Internal like all person-side functions, so only the admin key can make a worker run a prompt.
import { v } from "convex/values";
import { DEFAULT_SESSION_TITLE, MAX_PROMPT_CHARS, MAX_SESSION_MESSAGES, MAX_TITLE_CHARS } from "./lib/constants";
import { checkText, fail } from "./lib/errors";
import { messageView } from "./lib/messages";
import { checkModel } from "./lib/models";
import { partsSince } from "./lib/parts";
import { resolveWorker } from "./lib/people";
import { findWorker } from "./lib/auth";
import { internalMutation, internalQuery, type Doc, type QueryCtx } from "./lib/server";

async function getSession(ctx: QueryCtx, sessionId: string): Promise<Doc<"sessions">> {
  const id = ctx.db.normalizeId("sessions", sessionId);
  const session = id ? await ctx.db.get(id) : null;
  if (!session) fail("NOT_FOUND", `No chat session ${sessionId}.`);
  return session;
}

async function getMessage(ctx: QueryCtx, messageId: string): Promise<Doc<"messages"> | null> {
  const id = ctx.db.normalizeId("messages", messageId);
  return id ? await ctx.db.get(id) : null;
}

/**
 * A caller that names a worker gets only that worker's sessions and messages: a session id
 * remembered from elsewhere (or reused after a restart) must never reach another worker.
 */
async function requireOwner(ctx: QueryCtx, ref: string | undefined, ownerId: string, what: string): Promise<void> {
  if (ref === undefined) return;
  const named = await resolveWorker(ctx, ref);
  if (named.workerId === ownerId) return;
  const owner = (await findWorker(ctx, ownerId))?.name ?? ownerId;
  fail(
    "WRONG_WORKER",
    `${what} belongs to worker "${owner}", not to worker "${named.name}"; ` +
      `start a new session with "${named.name}", or use this one with "${owner}".`,
    { worker: named.name, owner },
  );
}

const workerArg = v.optional(v.string());

function refuseRevoked(worker: Doc<"workers">): void {
  if (worker.approval === "revoked") fail("WORKER_REVOKED", `Worker "${worker.name}" was revoked; it takes no more work.`);
}

export const createSession = internalMutation({
  args: { worker: v.string(), title: v.optional(v.string()) },
  handler: async (ctx, { worker: ref, title }) => {
    const worker = await resolveWorker(ctx, ref);
    refuseRevoked(worker);
    const clean = title === undefined ? DEFAULT_SESSION_TITLE : checkText("Title", title, MAX_TITLE_CHARS);
    const now = Date.now();
    const sessionId = await ctx.db.insert("sessions", { workerId: worker.workerId, title: clean, createdAt: now, lastActivityAt: now });
    return { sessionId: sessionId as string, workerId: worker.workerId };
  },
});

export const send = internalMutation({
  args: { sessionId: v.string(), text: v.string(), worker: workerArg, model: v.optional(v.string()) },
  handler: async (ctx, { sessionId, text, worker: ref, model }) => {
    const session = await getSession(ctx, sessionId);
    await requireOwner(ctx, ref, session.workerId, `Session ${sessionId}`);
    const worker = await findWorker(ctx, session.workerId);
    if (!worker) fail("NOT_FOUND", `The worker of session ${sessionId} no longer exists.`);
    // A pending worker's messages may wait in the queue until it is approved; a revoked one never runs them.
    refuseRevoked(worker);
    if (text.trim() === "") fail("INVALID", "The message must not be empty.");
    if (text.length > MAX_PROMPT_CHARS) fail("INVALID", `The message is too long (${text.length} characters; the limit is ${MAX_PROMPT_CHARS}).`);
    const chosen = model === undefined ? {} : { model: checkModel(worker, model) };
    const now = Date.now();
    await ctx.db.patch(session._id, { lastActivityAt: now });
    const common = { sessionId: session._id, workerId: worker.workerId, attempts: 0, cancelRequested: false, nextSeq: 0, createdAt: now };
    const userMessageId = await ctx.db.insert("messages", { ...common, role: "user", text });
    const messageId = await ctx.db.insert("messages", {
      ...common,
      role: "assistant",
      text: "",
      replyTo: userMessageId,
      status: "queued",
      ...chosen,
    });
    return { userMessageId: userMessageId as string, messageId: messageId as string };
  },
});

export const cancel = internalMutation({
  args: { messageId: v.string(), worker: workerArg },
  handler: async (ctx, { messageId, worker }) => {
    const message = await getMessage(ctx, messageId);
    if (!message) fail("NOT_FOUND", `No message ${messageId}.`);
    await requireOwner(ctx, worker, message.workerId, `Message ${messageId}`);
    if (message.role !== "assistant" || message.status === undefined) fail("INVALID", "Only an answer (assistant message) can be cancelled.");
    if (message.status === "queued") {
      await ctx.db.patch(message._id, { status: "cancelled", reason: "cancelled before it started", finishedAt: Date.now() });
      return { status: "cancelled" as const };
    }
    // A running answer is stopped by its worker, which sees the request in pendingWork and
    // finishes the message as `cancelled`; if the worker is gone, recovery cancels it instead.
    if (message.status === "running" && !message.cancelRequested) await ctx.db.patch(message._id, { cancelRequested: true });
    return { status: message.status };
  },
});

export const message = internalQuery({
  args: { messageId: v.string(), worker: workerArg },
  handler: async (ctx, { messageId, worker }) => {
    const found = await getMessage(ctx, messageId);
    if (found) await requireOwner(ctx, worker, found.workerId, `Message ${messageId}`);
    return found ? await messageView(ctx, found) : null;
  },
});

export const messages = internalQuery({
  args: { sessionId: v.string(), worker: workerArg },
  handler: async (ctx, { sessionId, worker }) => {
    const session = await getSession(ctx, sessionId);
    await requireOwner(ctx, worker, session.workerId, `Session ${sessionId}`);
    // A session grows without bound; its latest messages are what a person reads back.
    const rows = await ctx.db
      .query("messages")
      .withIndex("by_session", (q) => q.eq("sessionId", session._id))
      .order("desc")
      .take(MAX_SESSION_MESSAGES);
    return await Promise.all(rows.reverse().map((m) => messageView(ctx, m)));
  },
});

export const parts = internalQuery({
  args: { messageId: v.string(), afterSeq: v.number(), worker: workerArg },
  handler: async (ctx, { messageId, afterSeq, worker }) => {
    const found = await getMessage(ctx, messageId);
    if (!found) fail("NOT_FOUND", `No message ${messageId}.`);
    await requireOwner(ctx, worker, found.workerId, `Message ${messageId}`);
    if (!Number.isInteger(afterSeq) || afterSeq < -1) fail("INVALID", `afterSeq must be a whole number ≥ -1, got ${afterSeq}.`);
    return await partsSince(ctx, found, afterSeq);
  },
});
