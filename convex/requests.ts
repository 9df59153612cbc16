// Requests a person answers on a running answer: OpenCode's permission requests and questions,
// and budget requests. The worker raises them and relays the answers (public, worker token);
// people list and answer them (internal, admin key — the `reply` command, chat, the web page).
import { v } from "convex/values";
import { findWorker, requireActiveWorker, workerAuthValidator } from "./lib/auth";
import { MAX_OPEN_REQUESTS, MAX_REQUESTS_PER_MESSAGE, REQUEST_TITLE_CHARS } from "./lib/constants";
import { checkText, fail } from "./lib/errors";
import { resolveWorker } from "./lib/people";
import {
  checkContent,
  checkReply,
  findRequest,
  howSettled,
  newRequestId,
  requestContentValidator,
  requestReplyValidator,
  requestsOf,
  requestView,
} from "./lib/requests";
import { internalMutation, internalQuery, mutation, query, type Doc, type QueryCtx } from "./lib/server";

/** The worker's own assistant message; NOT_FOUND for anyone else's (no probing). */
async function ownMessage(ctx: QueryCtx, worker: Doc<"workers">, messageId: string): Promise<Doc<"messages">> {
  const id = ctx.db.normalizeId("messages", messageId);
  const message = id ? await ctx.db.get(id) : null;
  if (!message || message.role !== "assistant" || message.workerId !== worker.workerId) fail("NOT_FOUND", `No message ${messageId} for this worker.`);
  return message;
}

/** What the worker needs to act on a request: its state and the person's answer, if any. */
function workerView(r: Doc<"requests">) {
  return {
    requestId: r.requestId,
    messageId: r.messageId as string,
    kind: r.kind,
    agentRequestId: r.agentRequestId ?? null,
    status: r.status,
    reply: r.reply ?? null,
    message: r.message ?? null,
    answers: r.answers ?? null,
    reason: r.reason ?? null,
    delivered: r.delivered,
  };
}

// ── Worker side ───────────────────────────────────────────────────────────────────────────

/**
 * Raises a request on a message this process runs. Idempotent by (message, agentRequestId): a
 * retry, or the same OpenCode request seen again after a reconnect, gets the stored request.
 */
export const raise = mutation({
  args: { auth: workerAuthValidator, instanceId: v.string(), messageId: v.string(), agentRequestId: v.optional(v.string()), ...requestContentValidator },
  handler: async (ctx, { auth, instanceId, messageId, agentRequestId, ...content }) => {
    const worker = await requireActiveWorker(ctx, auth);
    const message = await ownMessage(ctx, worker, messageId);
    if (agentRequestId !== undefined) {
      checkText("agentRequestId", agentRequestId, REQUEST_TITLE_CHARS);
      const known = await ctx.db
        .query("requests")
        .withIndex("by_message_agent", (q) => q.eq("messageId", message._id).eq("agentRequestId", agentRequestId))
        .first();
      if (known) return workerView(known);
    }
    if (message.status !== "running" || message.leaseInstanceId !== instanceId) {
      fail("CONFLICT", `Message ${messageId} is ${message.status ?? "not runnable"} and not held by this process.`, { status: message.status ?? "none" });
    }
    checkContent(content);
    if ((await requestsOf(ctx, message._id)).length >= MAX_REQUESTS_PER_MESSAGE) {
      fail("INVALID", `This answer already raised ${MAX_REQUESTS_PER_MESSAGE} requests; no more are taken.`);
    }
    const row = {
      requestId: await newRequestId(ctx),
      messageId: message._id,
      sessionId: message.sessionId,
      workerId: worker.workerId,
      ...(agentRequestId === undefined ? {} : { agentRequestId }),
      ...content,
      title: content.title.trim(),
      status: "pending" as const,
      createdAt: Date.now(),
      delivered: false,
    };
    const id = await ctx.db.insert("requests", row);
    return workerView((await ctx.db.get(id))!);
  },
});

/**
 * The worker's subscription: requests a person answered that it has not handed to OpenCode yet.
 * It reads only those index ranges, so raising a request or a heartbeat does not re-run it.
 */
export const answered = query({
  args: { auth: workerAuthValidator },
  handler: async (ctx, { auth }) => {
    const worker = await requireActiveWorker(ctx, auth);
    const rows = [];
    for (const status of ["answered", "rejected"] as const) {
      rows.push(
        ...(await ctx.db
          .query("requests")
          .withIndex("by_worker_delivered_status", (q) => q.eq("workerId", worker.workerId).eq("delivered", false).eq("status", status))
          .take(MAX_OPEN_REQUESTS)),
      );
    }
    return rows.sort((a, b) => a.createdAt - b.createdAt).map(workerView);
  },
});

/**
 * The worker settles a request: `delivered` once it handed the person's answer to OpenCode;
 * `rejected` (nobody answered in time, the turn is stopping) or `expired` (OpenCode no longer
 * knows it) with a reason. A person's answer that got in first wins over `rejected`: the result
 * carries it, and the worker delivers it instead.
 */
export const settle = mutation({
  args: {
    auth: workerAuthValidator,
    requestId: v.string(),
    outcome: v.union(v.literal("delivered"), v.literal("rejected"), v.literal("expired")),
    reason: v.optional(v.string()),
  },
  handler: async (ctx, { auth, requestId, outcome, reason }) => {
    const worker = await requireActiveWorker(ctx, auth);
    const request = await findRequest(ctx, requestId);
    if (!request || request.workerId !== worker.workerId) fail("NOT_FOUND", `No request ${requestId} for this worker.`);
    if (outcome !== "delivered" && (reason ?? "").trim() === "") fail("INVALID", `A ${outcome} request needs a reason.`);
    const why = reason === undefined ? undefined : checkText("reason", reason, REQUEST_TITLE_CHARS);
    if (outcome === "delivered") {
      if (request.status !== "pending" && !request.delivered) await ctx.db.patch(request._id, { delivered: true });
    } else if (request.status === "pending") {
      await ctx.db.patch(request._id, { status: outcome, reason: why, answeredAt: Date.now(), delivered: true, ...(outcome === "rejected" ? { reply: "reject" as const } : {}) });
    } else if (outcome === "expired" && !request.delivered) {
      // Answered, but OpenCode forgot the request before the answer reached it.
      await ctx.db.patch(request._id, { status: "expired", reason: why, delivered: true });
    }
    return workerView((await ctx.db.get(request._id))!);
  },
});

// ── Person side ───────────────────────────────────────────────────────────────────────────

/** WRONG_WORKER when the caller named a worker that does not own the request's message. */
async function requireOwner(ctx: QueryCtx, ref: string | undefined, ownerId: string, what: string): Promise<void> {
  if (ref === undefined) return;
  const named = await resolveWorker(ctx, ref);
  if (named.workerId === ownerId) return;
  const owner = (await findWorker(ctx, ownerId))?.name ?? ownerId;
  fail("WRONG_WORKER", `${what} belongs to worker "${owner}", not to worker "${named.name}".`, { worker: named.name, owner });
}

export const list = internalQuery({
  args: { messageId: v.string(), worker: v.optional(v.string()) },
  handler: async (ctx, { messageId, worker }) => {
    const id = ctx.db.normalizeId("messages", messageId);
    const message = id ? await ctx.db.get(id) : null;
    if (!message) fail("NOT_FOUND", `No message ${messageId}.`);
    await requireOwner(ctx, worker, message.workerId, `Message ${messageId}`);
    return (await requestsOf(ctx, message._id)).map(requestView);
  },
});

export const pending = internalQuery({
  args: { worker: v.optional(v.string()) },
  handler: async (ctx, { worker: ref }) => {
    const named = ref === undefined ? null : await resolveWorker(ctx, ref);
    const rows = await ctx.db
      .query("requests")
      .withIndex("by_status_worker", (q) => (named ? q.eq("status", "pending").eq("workerId", named.workerId) : q.eq("status", "pending")))
      .take(MAX_OPEN_REQUESTS);
    const names = new Map<string, string>();
    const out = [];
    for (const r of rows.sort((a, b) => a.createdAt - b.createdAt)) {
      if (!names.has(r.workerId)) names.set(r.workerId, (await findWorker(ctx, r.workerId))?.name ?? r.workerId);
      out.push({ ...requestView(r), worker: names.get(r.workerId)!, sessionId: r.sessionId as string });
    }
    return out;
  },
});

export const reply = internalMutation({
  args: {
    requestId: v.string(),
    reply: requestReplyValidator,
    message: v.optional(v.string()),
    answers: v.optional(v.array(v.array(v.string()))),
    worker: v.optional(v.string()),
  },
  handler: async (ctx, { requestId, reply, message, answers, worker }) => {
    const request = await findRequest(ctx, requestId.trim());
    if (!request) fail("NOT_FOUND", `No request ${requestId}. See the pending ones with \`opencode-orchestrator admin list\`.`);
    await requireOwner(ctx, worker, request.workerId, `Request ${requestId}`);
    if (request.status !== "pending") {
      fail("ALREADY_ANSWERED", `Request ${request.requestId} was already ${howSettled(request)}; it takes no other answer.`, { status: request.status });
    }
    const text = message?.trim() === "" ? undefined : message?.trim();
    const status = checkReply(request, reply, text, answers);
    await ctx.db.patch(request._id, {
      status,
      reply,
      answeredAt: Date.now(),
      ...(text === undefined ? {} : { message: text }),
      ...(answers === undefined ? {} : { answers: answers.map((a) => a.map((x) => x.trim())) }),
    });
    return { status };
  },
});
