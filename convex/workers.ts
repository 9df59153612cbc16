// The worker-facing API: the only public functions of the deployment. Each one proves the
// caller holds a worker token (see lib/auth.ts); nothing here lets anyone else start work.
import { v } from "convex/values";
import { requireActiveWorker, authenticateWorker, requireCurrentInstance, workerAuthValidator } from "./lib/auth";
import {
  LEASE_MS,
  MAX_INFO_CHARS,
  MAX_MODELS,
  MAX_OUTPUT_BATCH_CHARS,
  MAX_REASON_CHARS,
  MAX_RUNNING_PER_WORKER,
  PENDING_PROMPT_CHARS,
  PENDING_SCAN,
  PENDING_SESSIONS,
} from "./lib/constants";
import { checkText, fail } from "./lib/errors";
import { isFinal, recoverMessage, runningMessages, storeOutput, type Recovered } from "./lib/messages";
import { checkUpdates, partUpdateValidator, storeParts } from "./lib/parts";
import { closeOpenRequests } from "./lib/requests";
import { setStatus } from "./lib/liveness";
import { checkTags, routeWaitingTo } from "./lib/routing";
import { machineName } from "./lib/people";
import { spentToday } from "./lib/spend";
import { finalOutcomeValidator, modelValidator } from "./schema";
import { mutation, query, type Doc, type QueryCtx } from "./lib/server";

/** Instance ids are chosen by the worker process; bounded so they stay cheap to store and compare. */
function checkInstanceId(instanceId: string): void {
  checkText("instanceId", instanceId, 128);
}

/** An assistant message of this worker, or NOT_FOUND (also for other workers' messages: no probing). */
async function ownMessage(ctx: QueryCtx, worker: Doc<"workers">, messageId: string): Promise<Doc<"messages">> {
  const id = ctx.db.normalizeId("messages", messageId);
  const message = id ? await ctx.db.get(id) : null;
  if (!message || message.role !== "assistant" || message.workerId !== worker.workerId) {
    fail("NOT_FOUND", `No message ${messageId} for this worker.`);
  }
  return message;
}

function requireLease(message: Doc<"messages">, instanceId: string): void {
  if (message.status !== "running" || message.leaseInstanceId !== instanceId) {
    fail("CONFLICT", `Message ${message._id} is ${message.status ?? "not runnable"} and not held by this process.`, {
      status: message.status ?? "none",
    });
  }
}

function routingInfo(routing: { tags: string[]; capacity: number } | undefined) {
  if (!routing) return {};
  const { capacity } = routing;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_RUNNING_PER_WORKER) {
    fail("INVALID", `routing.capacity must be a whole number from 1 to ${MAX_RUNNING_PER_WORKER}, got ${capacity}.`);
  }
  return { tags: checkTags("routing.tags", routing.tags, true), capacity };
}

export const register = mutation({
  args: {
    auth: workerAuthValidator,
    instanceId: v.string(),
    info: v.object({ hostname: v.string(), version: v.string(), directory: v.string(), pid: v.optional(v.number()) }),
    /** Routing (lib/routing.ts): the worker's tags and its max_concurrent_sessions. Older workers send neither. */
    routing: v.optional(v.object({ tags: v.array(v.string()), capacity: v.number() })),
  },
  handler: async (ctx, { auth, instanceId, info, routing }) => {
    const worker = await requireActiveWorker(ctx, auth);
    checkInstanceId(instanceId);
    for (const [key, value] of [["hostname", info.hostname], ["version", info.version], ["directory", info.directory]] as const) {
      checkText(`info.${key}`, value, MAX_INFO_CHARS, true);
    }
    // A different instance means the process that held these messages is gone. The same
    // instance registering again is a reconnect: its runs are still alive, leave them.
    const recovered: Recovered = { requeued: 0, interrupted: 0 };
    for (const message of await runningMessages(ctx, worker.workerId)) {
      if (message.leaseInstanceId !== instanceId) {
        await recoverMessage(ctx, message, "worker restarted while answering", recovered);
      }
    }
    await ctx.db.patch(worker._id, {
      instanceId,
      hostname: info.hostname,
      version: info.version,
      directory: info.directory,
      pid: info.pid,
      ...routingInfo(routing),
    });
    // A pending worker is not available for work until approved, so it stays offline.
    await setStatus(ctx, worker, worker.approval === "approved" ? "online" : "offline", Date.now());
    // Tags or capacity may have changed while it already was online: waiting sessions may fit now.
    await routeWaitingTo(ctx, worker._id);
    return {
      approval: worker.approval,
      machineName: await machineName(ctx, worker.machineId),
      workerName: worker.name,
      recovered,
      spentToday: await spentToday(ctx, worker.workerId, Date.now()),
    };
  },
});

// Revocation is reported here as data rather than an error: this is the view a worker
// subscribes to in order to notice approval and revocation as they happen.
export const self = query({
  args: { auth: workerAuthValidator },
  handler: async (ctx, { auth }) => {
    const worker = await authenticateWorker(ctx, auth);
    return {
      approval: worker.approval,
      status: worker.status,
      machineName: await machineName(ctx, worker.machineId),
      workerName: worker.name,
      drainRequested: worker.drainRequested,
      // The process that registered last: an older one holding the same token sees it was taken over.
      holder: worker.instanceId === undefined ? null : { instanceId: worker.instanceId, hostname: worker.hostname ?? "", pid: worker.pid ?? null },
    };
  },
});

export const heartbeat = mutation({
  args: {
    auth: workerAuthValidator,
    instanceId: v.string(),
    draining: v.boolean(),
    // What the worker believes it runs. Every lease this instance holds is extended anyway,
    // so a list that lags a fresh claim by one beat cannot cost the worker that message.
    runningMessageIds: v.array(v.string()),
  },
  handler: async (ctx, { auth, instanceId, draining }) => {
    const worker = await requireActiveWorker(ctx, auth);
    requireCurrentInstance(worker, instanceId);
    const now = Date.now();
    const leaseExpiresAt = now + LEASE_MS;
    const status = worker.approval !== "approved" ? "offline" : draining ? "draining" : "online";
    await setStatus(ctx, worker, status, now);
    for (const message of await runningMessages(ctx, worker.workerId)) {
      if (message.leaseInstanceId === instanceId) await ctx.db.patch(message._id, { leaseExpiresAt });
    }
    return { approval: worker.approval, leaseExpiresAt };
  },
});

export const goOffline = mutation({
  args: { auth: workerAuthValidator, instanceId: v.string() },
  handler: async (ctx, { auth, instanceId }) => {
    const worker = await requireActiveWorker(ctx, auth);
    // Whatever this process still holds is handed back now instead of after the lease runs out.
    const recovered: Recovered = { requeued: 0, interrupted: 0 };
    for (const message of await runningMessages(ctx, worker.workerId)) {
      if (message.leaseInstanceId === instanceId) {
        await recoverMessage(ctx, message, "worker went offline while answering", recovered);
      }
    }
    // A stale duplicate stopping must not mark the live process offline.
    if (worker.instanceId === instanceId) await setStatus(ctx, worker, "offline");
    return null;
  },
});

export const publishModels = mutation({
  args: { auth: workerAuthValidator, models: v.array(modelValidator) },
  handler: async (ctx, { auth, models }) => {
    const worker = await requireActiveWorker(ctx, auth);
    if (models.length > MAX_MODELS) fail("INVALID", `Too many models (${models.length}; the limit is ${MAX_MODELS}).`);
    // The worker's subscriptions read this row: write it only when the list really changed.
    if (JSON.stringify(models) !== JSON.stringify(worker.models)) await ctx.db.patch(worker._id, { models });
    return null;
  },
});

/**
 * The window pendingWork sends (see PENDING_SESSIONS): the next queued message of each session,
 * oldest first. Rows are read in creation order and reading stops once the window is full, so
 * prompts queued behind it lie outside what the query read and do not re-run it.
 */
async function pendingWindow(ctx: QueryCtx, workerId: string) {
  const window = [];
  const seen = new Set<string>();
  let scanned = 0;
  let promptChars = 0;
  const rows = ctx.db
    .query("messages")
    .withIndex("by_worker_status", (q) => q.eq("workerId", workerId).eq("status", "queued"));
  for await (const message of rows) {
    if (++scanned > PENDING_SCAN) break;
    // The first row met of a session is its next message; later ones wait for it.
    if (seen.has(message.sessionId)) continue;
    seen.add(message.sessionId);
    const prompt = message.replyTo ? await ctx.db.get(message.replyTo) : null;
    const text = prompt?.text ?? "";
    if (window.length > 0 && promptChars + text.length > PENDING_PROMPT_CHARS) break;
    promptChars += text.length;
    const session = await ctx.db.get(message.sessionId);
    window.push({
      messageId: message._id as string,
      sessionId: message.sessionId as string,
      agentSessionId: session?.agentSessionId ?? null,
      sessionTitle: session?.title ?? "",
      prompt: text,
      model: message.model ?? null,
      createdAt: message.createdAt,
      attempt: message.attempts,
    });
    if (window.length >= PENDING_SESSIONS) break;
  }
  return window;
}

export const pendingWork = query({
  args: { auth: workerAuthValidator },
  handler: async (ctx, { auth }) => {
    const worker = await requireActiveWorker(ctx, auth);
    if (worker.approval !== "approved") return { queued: [], cancelRequested: [] };
    const queued = await pendingWindow(ctx, worker.workerId);
    const cancelled = await ctx.db
      .query("messages")
      .withIndex("by_worker_cancel", (q) => q.eq("workerId", worker.workerId).eq("cancelRequested", true).eq("status", "running"))
      .take(MAX_RUNNING_PER_WORKER);
    return { queued, cancelRequested: cancelled.map((m) => m._id as string) };
  },
});

export const claim = mutation({
  args: { auth: workerAuthValidator, instanceId: v.string(), messageId: v.string() },
  handler: async (ctx, { auth, instanceId, messageId }) => {
    const worker = await requireActiveWorker(ctx, auth);
    if (worker.approval !== "approved") return { claimed: false as const, reason: "this worker is not approved yet" };
    requireCurrentInstance(worker, instanceId);
    const message = await ownMessage(ctx, worker, messageId);
    // Mutations are serializable transactions, so of two claims racing here exactly one sees `queued`.
    if (message.status !== "queued") return { claimed: false as const, reason: `the message is ${message.status ?? "not runnable"}` };
    if ((await runningMessages(ctx, worker.workerId)).length >= MAX_RUNNING_PER_WORKER) {
      return { claimed: false as const, reason: `this worker already runs ${MAX_RUNNING_PER_WORKER} answers` };
    }
    const now = Date.now();
    const leaseExpiresAt = now + LEASE_MS;
    await ctx.db.patch(message._id, {
      status: "running",
      leaseInstanceId: instanceId,
      leaseExpiresAt,
      attempts: message.attempts + 1,
      startedAt: now,
    });
    return { claimed: true as const, leaseExpiresAt };
  },
});

export const appendOutput = mutation({
  args: {
    auth: workerAuthValidator,
    instanceId: v.string(),
    messageId: v.string(),
    seq: v.number(),
    text: v.string(),
    parts: v.optional(v.array(partUpdateValidator)),
  },
  handler: async (ctx, { auth, instanceId, messageId, seq, text, parts }) => {
    const worker = await requireActiveWorker(ctx, auth);
    const message = await ownMessage(ctx, worker, messageId);
    requireLease(message, instanceId);
    if (!Number.isInteger(seq) || seq < 0) fail("INVALID", `seq must be a whole number ≥ 0, got ${seq}.`);
    if (text.length > MAX_OUTPUT_BATCH_CHARS) {
      fail("INVALID", `Output batch too long (${text.length} characters; the limit is ${MAX_OUTPUT_BATCH_CHARS}).`);
    }
    // A batch already stored is a retry whose first answer was lost: accept it without storing again.
    if (seq < message.nextSeq) return { nextSeq: message.nextSeq };
    if (seq > message.nextSeq) {
      fail("CONFLICT", `Output batch ${seq} arrived before batch ${message.nextSeq}; send batches in order.`, {
        nextSeq: message.nextSeq,
      });
    }
    if (parts) checkUpdates(parts);
    if (text !== "") await storeOutput(ctx, message, seq, text);
    const partCount = parts?.length ? await storeParts(ctx, message, seq, parts) : message.partCount;
    const nextSeq = seq + 1;
    // Output is proof of life too, so it extends the lease like a heartbeat does.
    await ctx.db.patch(message._id, { nextSeq, partCount, leaseExpiresAt: Date.now() + LEASE_MS });
    return { nextSeq };
  },
});

export const finish = mutation({
  args: {
    auth: workerAuthValidator,
    instanceId: v.string(),
    messageId: v.string(),
    outcome: finalOutcomeValidator,
    reason: v.optional(v.string()),
  },
  handler: async (ctx, { auth, instanceId, messageId, outcome, reason }) => {
    const worker = await requireActiveWorker(ctx, auth);
    const message = await ownMessage(ctx, worker, messageId);
    const needsReason = outcome === "failed" || outcome === "interrupted";
    if (needsReason && (reason ?? "").trim() === "") fail("INVALID", `A ${outcome} message needs a reason.`);
    // Final is final: a repeat is answered with the stored outcome and a late, different
    // outcome (e.g. after a person's cancel or a lease sweep) changes nothing.
    if (message.status !== undefined && isFinal(message.status)) return { status: message.status };
    requireLease(message, instanceId);
    const trimmed = reason?.trim().slice(0, MAX_REASON_CHARS);
    await closeOpenRequests(ctx, message._id, `the answer ended (${outcome}) before anyone answered`);
    await ctx.db.patch(message._id, {
      status: outcome,
      reason: trimmed === "" ? undefined : trimmed,
      finishedAt: Date.now(),
      leaseInstanceId: undefined,
      leaseExpiresAt: undefined,
    });
    // One answer fewer: room for a session waiting for a worker with this one's tags.
    await routeWaitingTo(ctx, worker._id);
    return { status: outcome };
  },
});

export const bindSession = mutation({
  args: { auth: workerAuthValidator, sessionId: v.string(), agentSessionId: v.string() },
  handler: async (ctx, { auth, sessionId, agentSessionId }) => {
    const worker = await requireActiveWorker(ctx, auth);
    checkText("agentSessionId", agentSessionId, 256);
    const id = ctx.db.normalizeId("sessions", sessionId);
    const session = id ? await ctx.db.get(id) : null;
    if (!session || session.workerId !== worker.workerId) fail("NOT_FOUND", `No session ${sessionId} for this worker.`);
    await ctx.db.patch(session._id, { agentSessionId });
    return null;
  },
});
