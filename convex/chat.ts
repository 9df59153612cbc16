// Person-side chat: start a session with a worker, send prompts, cancel, read answers.
// Internal like all person-side functions, so only the admin key can make a worker run a prompt.
import { v } from "convex/values";
import { DEFAULT_SESSION_TITLE, MAX_PROMPT_CHARS, ROUTE_CANDIDATES, MAX_SESSION_MESSAGES, MAX_TITLE_CHARS } from "./lib/constants";
import { checkText, fail } from "./lib/errors";
import { messageView } from "./lib/messages";
import { checkModel, checkModelForTags } from "./lib/models";
import { partsSince } from "./lib/parts";
import { resolveWorker } from "./lib/people";
import { findWorker } from "./lib/auth";
import { checkTags, routeSession, routeWaitingTo, UNROUTED } from "./lib/routing";
import { holderGone, releaseSession } from "./lib/routing-moves";
import { internalMutation, internalQuery, type Doc, type MutationCtx, type QueryCtx } from "./lib/server";

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
  if (ownerId === UNROUTED) fail("WRONG_WORKER", `${what} waits for a worker with its tags; it does not belong to worker "${named.name}".`, { worker: named.name, owner: "" });
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

/** The worker named, or for `tags` none yet: the session is routed when a prompt is sent (lib/routing.ts). */
async function sessionOwner(ctx: QueryCtx, ref: string | undefined, tags: string[] | undefined) {
  if ((ref === undefined) === (tags === undefined)) fail("INVALID", "Give exactly one of worker and tags.");
  if (tags !== undefined) return { workerId: UNROUTED, tags: checkTags("tags", tags, false) };
  const worker = await resolveWorker(ctx, ref!);
  refuseRevoked(worker);
  return { workerId: worker.workerId };
}

export const createSession = internalMutation({
  args: { worker: v.optional(v.string()), tags: v.optional(v.array(v.string())), title: v.optional(v.string()) },
  handler: async (ctx, { worker: ref, tags, title }) => {
    const owner = await sessionOwner(ctx, ref, tags);
    const clean = title === undefined ? DEFAULT_SESSION_TITLE : checkText("Title", title, MAX_TITLE_CHARS);
    const now = Date.now();
    const sessionId = await ctx.db.insert("sessions", { ...owner, title: clean, createdAt: now, lastActivityAt: now });
    return { sessionId: sessionId as string, workerId: owner.workerId === UNROUTED ? null : owner.workerId };
  },
});

/**
 * Where a routed session's next prompt goes: its worker while that serves; when the worker is
 * gone for good, nowhere yet (the session moves, lib/routing-moves.ts) and the prompt says so.
 */
async function routedTarget(ctx: MutationCtx, session: Doc<"sessions">): Promise<{ workerId: string; movedFrom?: string }> {
  if (session.workerId === UNROUTED) return { workerId: UNROUTED };
  const holder = await findWorker(ctx, session.workerId);
  if (!(await holderGone(ctx, holder, Date.now()))) return { workerId: session.workerId };
  if (holder) await releaseSession(ctx, session, holder);
  return { workerId: UNROUTED, movedFrom: holder?.name ?? session.workerId };
}

async function namedTarget(ctx: QueryCtx, session: Doc<"sessions">): Promise<{ workerId: string; movedFrom?: string }> {
  const worker = await findWorker(ctx, session.workerId);
  if (!worker) fail("NOT_FOUND", `The worker of session ${session._id} no longer exists.`);
  // A pending worker's messages may wait in the queue until it is approved; a revoked one never runs them.
  refuseRevoked(worker);
  return { workerId: worker.workerId };
}

/** The prompt's model, checked against its worker's models, or for a session still waiting, those of every worker with its tags. */
async function checkModelOf(ctx: QueryCtx, workerId: string, session: Doc<"sessions">, model: string): Promise<string> {
  if (workerId !== UNROUTED) {
    const worker = await findWorker(ctx, workerId);
    if (!worker) fail("NOT_FOUND", `The worker of session ${session._id} no longer exists.`);
    return checkModel(worker, model);
  }
  const approved = await ctx.db
    .query("workers")
    .withIndex("by_approval_revoked", (q) => q.eq("approval", "approved"))
    .take(ROUTE_CANDIDATES);
  return checkModelForTags(approved, session.tags ?? [], model);
}

export const send = internalMutation({
  args: { sessionId: v.string(), text: v.string(), worker: workerArg, model: v.optional(v.string()) },
  handler: async (ctx, { sessionId, text, worker: ref, model }) => {
    const session = await getSession(ctx, sessionId);
    await requireOwner(ctx, ref, session.workerId, `Session ${sessionId}`);
    if (text.trim() === "") fail("INVALID", "The message must not be empty.");
    if (text.length > MAX_PROMPT_CHARS) fail("INVALID", `The message is too long (${text.length} characters; the limit is ${MAX_PROMPT_CHARS}).`);
    const worker = session.tags ? await routedTarget(ctx, session) : await namedTarget(ctx, session);
    const chosen = model === undefined ? {} : { model: await checkModelOf(ctx, worker.workerId, session, model) };
    const now = Date.now();
    await ctx.db.patch(session._id, { lastActivityAt: now });
    const moved = worker.movedFrom === undefined ? {} : { movedFrom: worker.movedFrom };
    const common = { sessionId: session._id, workerId: worker.workerId, ...moved, attempts: 0, cancelRequested: false, nextSeq: 0, createdAt: now };
    const userMessageId = await ctx.db.insert("messages", { ...common, role: "user", text });
    const messageId = await ctx.db.insert("messages", {
      ...common,
      role: "assistant",
      text: "",
      replyTo: userMessageId,
      status: "queued",
      ...chosen,
    });
    const routedTo = worker.workerId === UNROUTED ? await routeSession(ctx, session._id) : worker.workerId;
    return { userMessageId: userMessageId as string, messageId: messageId as string, workerId: routedTo };
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
      // Its worker may have room now for a session waiting for its tags.
      const owner = message.workerId === UNROUTED ? null : await findWorker(ctx, message.workerId);
      if (owner) await routeWaitingTo(ctx, owner._id);
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
